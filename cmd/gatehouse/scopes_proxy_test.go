package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scopedSetup is a Gatehouse with an admin token, a read token, a key
// limited to /hooks/a, and an upstream that echoes what it was sent.
type scopedSetup struct {
	gh                *process
	upstream          *httptest.Server
	write, read, hook string
}

func newScopedSetup(t *testing.T, dir string, env []string) scopedSetup {
	t.Helper()
	gh := startGatehouse(t, dir, env, "serve", "--port", "0")
	password := firstRunRe.FindStringSubmatch(gh.Stderr())[1]
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s user=%s scope=%s groups=%q", r.Method, r.URL.Path, r.Header.Get("X-Auth-User"),
			r.Header.Get("X-Auth-Scope"), r.Header.Get("X-Auth-Groups"))
	}))
	t.Cleanup(upstream.Close)
	s := scopedSetup{gh: gh, upstream: upstream}
	_, body := postToken(t, gh.URL, "admin", password)
	s.write = body["token"].(string)
	req, _ := newJSONRequest(t, "POST", gh.URL+"/auth/v1/tokens", `{"scope": "read"}`)
	req.SetBasicAuth("admin", password)
	s.read = jsonField(t, req, 201, "token")
	req, _ = newJSONRequest(t, "POST", gh.URL+"/api/v1/apikeys", `{"scope": "path:/hooks/a"}`)
	req.Header.Set("X-Auth-Token", s.write)
	s.hook = jsonField(t, req, 201, "key")
	return s
}

// jsonField sends req and returns a string member of its JSON answer.
func jsonField(t *testing.T, req *http.Request, want int, field string) string {
	t.Helper()
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != want {
		t.Fatalf("%s %s: %d %v %v", req.Method, req.URL.Path, resp.StatusCode, m, err)
	}
	v, _ := m[field].(string)
	return v
}

// scopeCases are what a client gets through a proxy in front of the
// setup: what the contract promises whichever proxy it is.
func (s scopedSetup) scopeCases() []struct {
	name, method, path string
	header             map[string]string
	status             int
	body               string
} {
	return []struct {
		name, method, path string
		header             map[string]string
		status             int
		body               string
	}{
		{"read token GETs", "GET", "/app", map[string]string{"X-Auth-Token": s.read}, 200, "GET /app user=admin scope=read"},
		{"read token HEADs", "HEAD", "/app", map[string]string{"X-Auth-Token": s.read}, 200, ""},
		{"read token POSTs", "POST", "/app", map[string]string{"X-Auth-Token": s.read}, 403, ""},
		{"read token POSTs, client sends X-Original-Method: GET", "POST", "/app",
			map[string]string{"X-Auth-Token": s.read, "X-Original-Method": "GET"}, 403, ""},
		{"read token POSTs, client sends X-Forwarded-Method: GET", "POST", "/app",
			map[string]string{"X-Auth-Token": s.read, "X-Forwarded-Method": "GET"}, 403, ""},
		{"read token as Bearer GETs", "GET", "/app", map[string]string{"Authorization": "Bearer " + s.read}, 200, "GET /app user=admin scope=read"},
		{"read token as Bearer DELETEs", "DELETE", "/app", map[string]string{"Authorization": "Bearer " + s.read}, 403, ""},
		{"write token as Bearer POSTs", "POST", "/app", map[string]string{"Authorization": "Bearer " + s.write}, 200, "POST /app user=admin scope=write"},
		{"hook key on its path", "POST", "/hooks/a/x?st2-api-key=" + s.hook, nil, 200, "POST /hooks/a/x user=admin scope=path:/hooks/a"},
		{"hook key on another path", "POST", "/hooks/b?st2-api-key=" + s.hook, nil, 403, ""},
		{"hook key, dot-dot out of its path", "POST", "/hooks/a/%2e%2e/b?st2-api-key=" + s.hook, nil, 403, ""},
		{"hook key elsewhere, client names its path in X-Original-URI", "POST", "/hooks/b",
			map[string]string{"St2-Api-Key": s.hook, "X-Original-URI": "/hooks/a"}, 403, ""},
		{"hook key elsewhere, client names its path in X-Forwarded-Uri", "POST", "/hooks/b",
			map[string]string{"St2-Api-Key": s.hook, "X-Forwarded-Uri": "/hooks/a"}, 403, ""},
		// The report of issue 13: a client choosing the URI whose query is read.
		{"client's URI header with a good token in its query", "GET", "/?x-auth-token=garbage",
			map[string]string{"X-Original-URI": "/elsewhere?x-auth-token=" + s.write, "X-Forwarded-Uri": "/elsewhere?x-auth-token=" + s.write}, 401, ""},
		{"forged identity headers are replaced", "GET", "/app",
			map[string]string{"X-Auth-Token": s.read, "X-Auth-User": "root", "X-Auth-Scope": "write", "X-Auth-Groups": "admins"}, 200,
			`GET /app user=admin scope=read groups=""`},
	}
}

func runScopeCases(t *testing.T, front string, s scopedSetup) {
	for _, tc := range s.scopeCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, tc.method, front+tc.path, tc.header)
			if r.code != tc.status || !strings.HasPrefix(r.body, tc.body) {
				t.Fatalf("got %d %q, want %d %q…", r.code, r.body, tc.status, tc.body)
			}
			var fault struct{ Faultstring string }
			if tc.status == 403 && tc.method != "HEAD" &&
				(json.Unmarshal([]byte(r.body), &fault) != nil || !strings.Contains(fault.Faultstring, "scope")) {
				t.Errorf("403 body %q is not JSON saying why", r.body)
			}
		})
	}
}

// TestScopesThroughNginx: the shipped nginx example in front of an
// upstream, Gatehouse with the default auth.forward_auth_headers (nginx).
func TestScopesThroughNginx(t *testing.T) {
	nginx := findNginx(t)
	dir := t.TempDir()
	s := newScopedSetup(t, dir, nil)
	front := startNginx(t, nginx, dir, strings.TrimPrefix(s.gh.URL, "http://"), strings.TrimPrefix(s.upstream.URL, "http://"))
	runScopeCases(t, front, s)
}

// TestScopesThroughCaddy: Debian's Caddy with the shipped Caddyfile
// (forward_auth) in front of an upstream, Gatehouse with
// auth.forward_auth_headers: forwarded.
func TestScopesThroughCaddy(t *testing.T) {
	caddy := findCaddy(t)
	dir := t.TempDir()
	s := newScopedSetup(t, dir, []string{"GATEHOUSE_AUTH_FORWARD_AUTH_HEADERS=forwarded"})
	front := startCaddy(t, caddy, dir, strings.TrimPrefix(s.gh.URL, "http://"), strings.TrimPrefix(s.upstream.URL, "http://"))
	runScopeCases(t, front, s)
}

func findCaddy(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("caddy"); err == nil {
		return p
	}
	requireIntegration(t, "caddy is not installed (apt-get install caddy)")
	return ""
}

// startCaddy runs configs/caddy/Caddyfile, addresses changed only, on a
// free loopback port.
func startCaddy(t *testing.T, caddy, dir, gatehouse, upstream string) string {
	t.Helper()
	text, err := os.ReadFile("../../configs/caddy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := strings.NewReplacer("127.0.0.1:9100", gatehouse, "127.0.0.1:8080", upstream,
		":8000 {", "http://127.0.0.1:"+port+" {").Replace(string(text))
	path := filepath.Join(dir, "Caddyfile")
	writeFile(t, path, conf)
	cmd := exec.Command(caddy, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	startProxy(t, "caddy", dir, cmd)
	front := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(front + "/"); err == nil {
			resp.Body.Close()
			return front
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "caddy.out"))
			t.Fatalf("caddy did not start:\n%s", log)
		}
	}
}
