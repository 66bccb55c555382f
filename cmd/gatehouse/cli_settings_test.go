package main_test

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// write puts a file under the user's home directory.
func (u *cliUser) write(rel, content string) {
	u.t.Helper()
	path := filepath.Join(u.home, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		u.t.Fatal(err)
	}
	writeFile(u.t, path, content)
}

// server is the server `gatehouse whoami` reports with env.
func (u *cliUser) server(env ...string) string {
	u.t.Helper()
	r := u.run("", env, "whoami")
	m := regexp.MustCompile(`(?m)^server +(\S+)$`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		u.t.Fatalf("whoami %v: %+v", env, r)
	}
	return m[1]
}

// TestCLILoginChecksPassword (issue 17, item 2): a password is always
// checked by the server, so a locked account cannot "log in" on its cached
// token, and the lockout says how long to wait.
func TestCLILoginChecksPassword(t *testing.T) {
	t.Parallel()
	p, password := cliServerEnv(t, []string{"GATEHOUSE_THROTTLE_LOGIN_FAILURES=2"})
	u := newCLIUser(t, p.URL)
	u.ok("", "login", "admin", "-p", password)
	tok := u.cached("admin").Token
	for range 2 {
		u.fails(`login failed: Invalid or missing credentials`, "", "login", "admin", "-p", "totallywrong")
	}
	wait := `login failed: too many failed attempts; try again in 1[45]m\d+s`
	u.fails(wait, "", "login", "admin", "-p", "totallywrong")
	u.fails(wait, password+"\n", "login", "admin")
	// No password at all: the cached token, which the lockout leaves alone.
	if out := u.ok("", "login", "admin"); !strings.HasPrefix(out, "Logged in as admin; the cached token") || u.cached("admin").Token != tok {
		t.Fatalf("login without a password: %q", out)
	}
}

// TestCLIRemembersServer (issue 17, item 6): login --url records the
// server, and tokens are cached per server, so a second server does not
// break the first.
func TestCLIRemembersServer(t *testing.T) {
	t.Parallel()
	a, pwA := cliServer(t)
	b, pwB := cliServer(t)
	u := newCLIUser(t, "")
	u.fails(`not logged in; run: gatehouse login USER .*`, "", "whoami")

	r := u.run("", nil, "login", "admin", "-p", pwA, "--url", a.URL)
	config := filepath.Join(u.config, "gatehouse", "config")
	if r.code != 0 || r.stderr != "Remembered "+a.URL+" as the server in "+config+".\n" {
		t.Fatalf("login --url: %+v", r)
	}
	if got := u.server(); got != a.URL {
		t.Fatalf("after login --url A: %s", got)
	}
	if fi, err := os.Stat(config); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("settings file: %v %v", fi, err)
	}
	u.ok("", "login", "admin", "-p", pwB, "--url", b.URL)
	if got := u.server(); got != b.URL {
		t.Fatalf("after login --url B: %s", got)
	}
	// A's token is still cached and still used for A.
	u.ok("", "whoami", "--url", a.URL)
	if _, err := os.Stat(u.serverCacheFile(a.URL, "admin")); err != nil {
		t.Fatal(err)
	}
	// Logging out of B leaves A alone.
	u.ok("", "logout")
	u.fails(`not logged in; run: gatehouse login USER .*`, "", "whoami")
	u.ok("", "whoami", "--url", a.URL)

	// The file keeps what the user wrote in it.
	data, _ := os.ReadFile(config)
	writeFile(t, config, "# mine\n"+strings.Replace(string(data), "[general]", "[general]\n; keep me", 1)+"\n[credentials]\nusername = admin\n")
	u.ok("", "login", "admin", "-p", pwA, "--url", a.URL)
	data, _ = os.ReadFile(config)
	if !strings.HasPrefix(string(data), "# mine\n") || !strings.Contains(string(data), "; keep me\nurl = "+a.URL+"\n") ||
		strings.Contains(string(data), b.URL) || !strings.Contains(string(data), "username = admin") {
		t.Fatalf("settings file after a second --url:\n%s", data)
	}
}

// TestCLISettingsPrecedence (issue 17, item 6): flag > environment >
// Gatehouse's settings file > st2's ~/.st2/config > default, for the server.
func TestCLISettingsPrecedence(t *testing.T) {
	t.Parallel()
	a, pwA := cliServer(t)
	b, pwB := cliServer(t)
	u := newCLIUser(t, "")
	u.ok("", "login", "admin", "-p", pwA, "--url", a.URL)
	u.ok("", "login", "admin", "-p", pwB, "--url", b.URL) // the settings file names B
	u.write(".st2/config", "[auth]\nurl = "+a.URL+"\n")
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"settings file over st2's", nil, b.URL},
		{"GATEHOUSE_URL over the file", []string{"GATEHOUSE_URL=" + a.URL}, a.URL},
		{"ST2_AUTH_URL over the file", []string{"ST2_AUTH_URL=" + a.URL}, a.URL},
		{"GATEHOUSE_URL over ST2_AUTH_URL", []string{"GATEHOUSE_URL=" + b.URL, "ST2_AUTH_URL=" + a.URL}, b.URL},
	} {
		if got := u.server(tc.env...); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if r := u.run("", []string{"GATEHOUSE_URL=" + a.URL}, "whoami", "--url", b.URL); !strings.Contains(r.stdout, b.URL) {
		t.Errorf("--url over GATEHOUSE_URL: %+v", r)
	}
	if err := os.Remove(filepath.Join(u.config, "gatehouse", "config")); err != nil {
		t.Fatal(err)
	}
	if got := u.server(); got != a.URL {
		t.Errorf("st2's [auth] url: %s", got)
	}
	if err := os.Remove(filepath.Join(u.home, ".st2", "config")); err != nil {
		t.Fatal(err)
	}
	// The default server, where admin never logged in.
	u.fails(`not logged in; run: gatehouse login USER .*`, "", "whoami")
}

// TestCLIST2Config (issue 17, item 6): st2's ~/.st2/config [credentials]
// log in as st2's CLI does, its [api] url takes the API key calls, and
// st2's ST2_AUTH_TOKEN and ST2_API_KEY are credentials.
func TestCLIST2Config(t *testing.T) {
	t.Parallel()
	p, password := cliServer(t)
	var mu sync.Mutex
	var seen []string
	st2api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" token="+r.Header.Get("X-Auth-Token"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[]`))
	}))
	t.Cleanup(st2api.Close)
	u := newCLIUser(t, "")
	u.url = p.URL // for cached()
	u.write(".st2/config", "[general]\nbase_url = http://127.0.0.1\n\n[credentials]\nusername = admin\npassword = "+password+
		"\n\n[auth]\nurl = "+p.URL+"/\n\n[api]\nurl = "+st2api.URL+"/api/v1\n")

	// No login: the [credentials] get a token, which is cached.
	if out := u.ok("", "whoami"); !regexp.MustCompile(`(?m)^username +admin$`).MatchString(out) {
		t.Fatalf("whoami with st2's credentials: %q", out)
	}
	tok := u.cached("admin").Token
	u.ok("", "whoami")
	if u.cached("admin").Token != tok {
		t.Fatal("the cached token was not reused")
	}
	// API keys go where st2 sends them, with the token.
	if out := u.ok("", "apikey", "list"); out != "No API keys.\n" {
		t.Fatalf("apikey list: %q", out)
	}
	mu.Lock()
	got := strings.Join(seen, "\n")
	mu.Unlock()
	if got != "GET /api/v1/apikeys token="+tok {
		t.Fatalf("st2 API saw %q", got)
	}
	// Gatehouse's own URL takes them to Gatehouse.
	if out := u.ok("", "apikey", "list", "--url", p.URL); !strings.Contains(out, "No API keys.") {
		t.Fatalf("apikey list --url: %q", out)
	}
	// login with no USER is the [credentials] user, and their password is
	// checked by the server.
	if out := u.ok("", "login"); !strings.HasPrefix(out, "Logged in as admin; the token expires") {
		t.Fatalf("login: %q", out)
	}
	key := strings.TrimSpace(u.ok("", "apikey", "create", "-k", "--url", p.URL))
	fresh := newCLIUser(t, p.URL)
	for _, env := range [][]string{{"ST2_AUTH_TOKEN=" + tok}, {"ST2_API_KEY=" + key}} {
		if r := fresh.run("", env, "whoami", "-a", "username"); r.code != 0 || r.stdout != "username  admin\n" {
			t.Errorf("%v: %+v", env, r)
		}
	}
	fresh.fails(`missing user name; usage: gatehouse login \[USER\] \[flags\]`, "", "login")
}

// TestCLIOldCacheLayout (issue 17, item 6): a cache written before tokens
// were kept per server still works, and is moved to the new layout.
func TestCLIOldCacheLayout(t *testing.T) {
	t.Parallel()
	p, password := cliServer(t)
	u := newCLIUser(t, p.URL)
	u.ok("", "login", "admin", "-p", password)
	tok := u.cached("admin").Token
	dir := filepath.Join(u.config, "gatehouse")
	if err := os.RemoveAll(filepath.Join(dir, "servers")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "token-admin"), `{"token": "`+tok+`", "expire_timestamp": 4102444800, "user": "admin", "url": "`+p.URL+`"}`)
	writeFile(t, filepath.Join(dir, "current-user"), "admin\n")
	if out := u.ok("", "whoami", "-a", "username"); out != "username  admin\n" {
		t.Fatalf("whoami with the old cache: %q", out)
	}
	if u.cached("admin").Token != tok {
		t.Fatal("the token was not moved")
	}
	for _, old := range []string{"token-admin", "current-user"} {
		if _, err := os.Stat(filepath.Join(dir, old)); err == nil {
			t.Errorf("%s is still there", old)
		}
	}
}

// TestCLISettingsFile (issue 17, item 6): login --cacert is remembered
// with its absolute path, and a damaged settings file is reported by line,
// never by quoting it (it may hold a password).
func TestCLISettingsFile(t *testing.T) {
	t.Parallel()
	p, password := cliServer(t)
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ca.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})))
	u := newCLIUser(t, "")
	cmd := exec.Command(binary, "login", "admin", "-p", password, "--url", p.URL, "--cacert", "ca.pem")
	cmd.Dir, cmd.Env = dir, u.env
	out, err := cmd.CombinedOutput()
	config := filepath.Join(u.config, "gatehouse", "config")
	if err != nil || !strings.Contains(string(out), "Remembered url = "+p.URL+", cacert = "+filepath.Join(dir, "ca.pem")+" in "+config+".\n") {
		t.Fatalf("login --cacert: %v\n%s", err, out)
	}
	u.ok("", "whoami") // reads the file, CA file included

	u.write(".st2/config", "[credentials]\nusername = admin\npassword hunter2\n")
	line := u.fails(`.*/\.st2/config: not a valid INI file \(ini line 3\)`, "", "whoami")
	if strings.Contains(line, "hunter2") {
		t.Fatalf("the password was printed: %s", line)
	}
}
