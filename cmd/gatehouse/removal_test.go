package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
)

// removalWait bounds how long a removed user's credentials may keep
// working in these tests: the contract says 60 s, the default settings
// give a few seconds.
const removalWait = 30 * time.Second

// htpasswdCLI runs `gatehouse htpasswd ARGS --file file` with stdin.
func htpasswdCLI(t *testing.T, file, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command(binary, append(append([]string{"htpasswd"}, args...), "--file", file, "--cost", "4")...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gatehouse htpasswd %v: %v %s", args, err, out)
	}
}

// removalServer writes an htpasswd file with admin and grace and a config
// using it, and returns the file and the config.
func removalServer(t *testing.T, dir string) (users, cfg string) {
	t.Helper()
	users = filepath.Join(dir, "users")
	htpasswdCLI(t, users, "admin-password\n", "set", "admin")
	htpasswdCLI(t, users, "grace-password\n", "set", "grace")
	cfg = filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, cfg, fmt.Sprintf("auth:\n  port: 0\n  admin_users: [admin]\n  backend_kwargs: {file_path: %s}\ndatabase:\n  url: sqlite:%s/db\n", users, dir))
	return users, cfg
}

// graceCredentials logs grace in on p, makes her a key, and checks both
// work (so p has them cached). It returns the token and key headers.
func graceCredentials(t *testing.T, p *process, password string) (tok, key map[string]string) {
	t.Helper()
	code, body := postToken(t, p.URL, "grace", password)
	if code != 201 {
		t.Fatalf("grace login: %d %v", code, body)
	}
	tok = map[string]string{"X-Auth-Token": body["token"].(string)}
	key = map[string]string{"St2-Api-Key": createKey(t, p.URL, body["token"].(string))}
	for _, h := range []map[string]string{tok, key} {
		if a := call(t, "GET", p.URL+"/auth/v1/me", h); a.code != 200 {
			t.Fatalf("grace's credential before removal: %d %s", a.code, a.body)
		}
	}
	return tok, key
}

// waitRefused polls /me on p with each credential until it is refused.
func waitRefused(t *testing.T, p *process, creds ...map[string]string) time.Duration {
	t.Helper()
	start := time.Now()
	for _, h := range creds {
		for a := call(t, "GET", p.URL+"/auth/v1/me", h); a.code != 401; a = call(t, "GET", p.URL+"/auth/v1/me", h) {
			if time.Since(start) > removalWait {
				t.Fatalf("%s still answered %d %s %s after the removal", credName(h), a.code, a.body, removalWait)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return time.Since(start)
}

// credName names a credential header map without its secret.
func credName(h map[string]string) string {
	for name := range h {
		return name
	}
	return "no credential"
}

// TestRemovingAUserCutsAccess deletes grace with the real CLI while the
// real server runs: her token and API key stop working within seconds, and
// putting her back in the file revives neither. An admin's
// DELETE /auth/v1/users/grace/tokens?apikeys=true cuts her new ones too.
func TestRemovingAUserCutsAccess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	users, cfg := removalServer(t, dir)
	p := startGatehouse(t, dir, nil, "serve", "--config", cfg)
	tok, key := graceCredentials(t, p, "grace-password")

	htpasswdCLI(t, users, "", "delete", "grace")
	t.Logf("token and key refused %s after htpasswd delete", waitRefused(t, p, tok, key).Round(time.Millisecond))
	if !strings.Contains(p.Stderr(), `"event":"user_removed"`) {
		t.Errorf("no user_removed audit line:\n%s", p.Stderr())
	}

	htpasswdCLI(t, users, "grace-password-2\n", "set", "grace")
	time.Sleep(3 * time.Second) // the background loop sees grace back
	code, body := postToken(t, p.URL, "grace", "grace-password-2")
	if code != 201 {
		t.Fatalf("grace login after re-adding: %d %v", code, body)
	}
	for _, h := range []map[string]string{tok, key} {
		if a := call(t, "GET", p.URL+"/auth/v1/me", h); a.code != 401 {
			t.Errorf("%s revived by re-adding grace: %d %s", credName(h), a.code, a.body)
		}
	}
	keyID := call(t, "GET", p.URL+"/api/v1/apikeys", map[string]string{"X-Auth-Token": body["token"].(string)}).body
	keyID = keyID[strings.Index(keyID, `"id":"`)+6:][:24]
	if code := callBody(t, "PUT", p.URL+"/api/v1/apikeys/"+keyID, body["token"].(string), `{"enabled": true}`); code != 403 {
		t.Errorf("re-added grace re-enabled her old key: %d", code)
	}
	newCLIUser(t, p.URL).fails(`This API key was disabled by an admin, by revocation or by the removal of its user; only an admin may enable it again\.`,
		"", "apikey", "enable", keyID, "--token", body["token"].(string))

	tok, key = graceCredentials(t, p, "grace-password-2")
	_, admin := postToken(t, p.URL, "admin", "admin-password")
	a := call(t, "DELETE", p.URL+"/auth/v1/users/grace/tokens?apikeys=true", map[string]string{"X-Auth-Token": admin["token"].(string)})
	if a.code != 200 || !strings.Contains(a.body, `"apikeys_disabled":1`) {
		t.Fatalf("admin revoke with apikeys=true: %d %s", a.code, a.body)
	}
	for _, h := range []map[string]string{tok, key} {
		if a := call(t, "GET", p.URL+"/auth/v1/me", h); a.code != 401 {
			t.Errorf("%s after the admin's revoke: %d %s", credName(h), a.code, a.body)
		}
	}
}

// TestRemovingAUserReachesEveryReplica runs two replicas on one PostgreSQL,
// each with its own copy of the htpasswd file, as hosts do. Grace is
// removed from replica A's copy only: replica B, which has her token and
// key cached and still finds her in its own file, must refuse both.
func TestRemovingAUserReachesEveryReplica(t *testing.T) {
	t.Parallel()
	dirA, dirB := t.TempDir(), t.TempDir()
	usersA, cfgA := removalServer(t, dirA)
	usersB, cfgB := removalServer(t, dirB)
	data, err := os.ReadFile(usersA)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, usersB, string(data))
	env := []string{"GATEHOUSE_DATABASE_URL=" + pgtest.URL(t)}
	a := startGatehouse(t, dirA, env, "serve", "--config", cfgA)
	b := startGatehouse(t, dirB, env, "serve", "--config", cfgB)
	waitFor(t, b, "listening for revocations")
	tok, key := graceCredentials(t, b, "grace-password")

	htpasswdCLI(t, usersA, "", "delete", "grace")
	t.Logf("replica B refused them %s after the removal on A", waitRefused(t, b, tok, key).Round(time.Millisecond))
	if strings.Contains(b.Stderr(), `"event":"user_removed"`) {
		t.Errorf("replica B saw a removal from a file that still has grace:\n%s", b.Stderr())
	}
	if !strings.Contains(a.Stderr(), `"event":"user_removed"`) {
		t.Errorf("no user_removed audit line on replica A:\n%s", a.Stderr())
	}
}
