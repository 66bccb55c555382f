package main_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
)

// twoReplicas starts two gatehouse processes on one new PostgreSQL
// database, with a flat file holding joe (joe-password); authExtra is added
// to the auth section (indented). It returns once the second listens for
// revocations.
func twoReplicas(t *testing.T, authExtra string) (a, b *process) {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	set := exec.Command(binary, "htpasswd", "set", "joe", "--file", users, "--cost", "4")
	set.Stdin = strings.NewReader("joe-password\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	cfg := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, cfg, fmt.Sprintf("auth:\n  port: 0\n  backend_kwargs: {file_path: %s}\n%s", users, authExtra))
	env := []string{"GATEHOUSE_DATABASE_URL=" + pgtest.URL(t)}
	a = startGatehouse(t, dir, env, "serve", "--config", cfg)
	b = startGatehouse(t, dir, env, "serve", "--config", cfg)
	waitFor(t, b, "listening for revocations")
	return a, b
}

// TestRevocationReachesEveryReplica runs two gatehouse processes on one
// PostgreSQL. A token or key revoked on one must be refused by the other
// within one second, even though the other had it in its cache.
func TestRevocationReachesEveryReplica(t *testing.T) {
	a, b := twoReplicas(t, "")

	me := func(p *process, header map[string]string) int {
		return call(t, "GET", p.URL+"/auth/v1/me", header).code
	}
	refusedWithin := func(what string, header map[string]string, revoke func()) {
		t.Helper()
		for _, p := range []*process{a, b} { // both replicas now have it cached
			if code := me(p, header); code != 200 {
				t.Fatalf("%s before revocation: %d", what, code)
			}
		}
		revoke()
		start := time.Now()
		for me(b, header) == 200 {
			if time.Since(start) > time.Second {
				t.Fatalf("%s still accepted by the other replica after %s", what, time.Since(start))
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s refused by the other replica %s after revocation", what, time.Since(start))
	}

	_, body := postToken(t, a.URL, "joe", "joe-password")
	tok := map[string]string{"X-Auth-Token": body["token"].(string)}
	refusedWithin("logged-out token", tok, func() {
		if code := call(t, "DELETE", a.URL+"/auth/v1/tokens/current", tok).code; code != 204 {
			t.Fatalf("logout: %d", code)
		}
	})

	_, body = postToken(t, a.URL, "joe", "joe-password")
	owner := body["token"].(string)
	key := map[string]string{"St2-Api-Key": createKey(t, a.URL, owner)}
	refusedWithin("disabled key", key, func() {
		req := call(t, "GET", a.URL+"/api/v1/apikeys", map[string]string{"X-Auth-Token": owner})
		id := req.body[strings.Index(req.body, `"id":"`)+6:][:24]
		if code := callBody(t, "PUT", a.URL+"/api/v1/apikeys/"+id, owner, `{"enabled": false}`); code != 200 {
			t.Fatalf("disable: %d", code)
		}
	})
}

// waitFor waits until the process has logged msg.
func waitFor(t *testing.T, p *process, msg string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.Stderr(), msg); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", msg, p.Stderr())
		}
	}
}

func callBody(t *testing.T, method, url, tok, body string) int {
	t.Helper()
	req, _ := newJSONRequest(t, method, url, body)
	req.Header.Set("X-Auth-Token", tok)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
