package main_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/testproc"
)

// TestNginxAuthRequest puts a real nginx, configured with the shipped
// configs/nginx/gatehouse-auth-request.conf (addresses changed only), in
// front of a small upstream, and checks what clients get through it.
func TestNginxAuthRequest(t *testing.T) {
	nginx := findNginx(t)
	dir := t.TempDir()
	gh := startGatehouse(t, dir, nil, "serve", "--port", "0")
	password := firstRunRe.FindStringSubmatch(gh.Stderr())[1]

	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s groups=%q", r.Header.Get("X-Auth-User"), r.Header.Get("X-Auth-Groups"))
	}))
	t.Cleanup(upstream.Close)
	front := startNginx(t, nginx, dir, strings.TrimPrefix(gh.URL, "http://"), strings.TrimPrefix(upstream.URL, "http://"))

	_, tokBody := postToken(t, gh.URL, "admin", password)
	tok := tokBody["token"].(string)
	key := createKey(t, gh.URL, tok)
	_, revokedBody := postToken(t, gh.URL, "admin", password)
	revoked := revokedBody["token"].(string)
	if code := call(t, "DELETE", gh.URL+"/auth/v1/tokens/current", map[string]string{"X-Auth-Token": revoked}).code; code != 204 {
		t.Fatalf("logout: %d", code)
	}

	tests := []struct {
		name   string
		path   string
		header map[string]string
		status int
		body   string
	}{
		{"token header", "/app", map[string]string{"X-Auth-Token": tok}, 200, `hello admin groups=""`},
		{"key in query (webhook)", "/hooks/x?st2-api-key=" + key, nil, 200, `hello admin groups=""`},
		{"no credential", "/app", nil, 401, `{"faultstring": "Unauthorized - One of Token or API key required."}`},
		{"revoked token", "/app", map[string]string{"X-Auth-Token": revoked}, 401, `{"faultstring": "Unauthorized"}`},
		{"forged identity header", "/app", map[string]string{"X-Auth-Token": tok, "X-Auth-User": "root"}, 200, `hello admin groups=""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, "GET", front+tt.path, tt.header)
			if r.code != tt.status || r.body != tt.body {
				t.Fatalf("got %d %q, want %d %q", r.code, r.body, tt.status, tt.body)
			}
		})
	}
	// The example's log format drops query strings: the webhook's key is
	// in no log, nginx's or Gatehouse's.
	access, err := os.ReadFile(filepath.Join(dir, "access.log"))
	if err != nil || !strings.Contains(string(access), "/hooks/x") {
		t.Fatalf("nginx access log: %v %q", err, access)
	}
	if strings.Contains(string(access)+gh.Stderr(), key) {
		t.Error("the webhook's API key was logged")
	}
}

// startNginx runs nginx in the foreground on a free loopback port with the
// shipped example, pointed at gatehouse and upstream.
func startNginx(t *testing.T, nginx, dir, gatehouse, upstream string) string {
	t.Helper()
	return startNginxWith(t, nginx, dir, "gatehouse-auth-request.conf", "listen 8000;",
		"127.0.0.1:9100", gatehouse, "127.0.0.1:8080", upstream)
}

// startNginxWith runs the shipped configs/nginx/EXAMPLE with the given
// old, new replacements and its listen directive moved to a free port.
func startNginxWith(t *testing.T, nginx, dir, example, listen string, replacements ...string) string {
	t.Helper()
	text, err := os.ReadFile("../../configs/nginx/" + example)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	replacements = append(replacements, listen, "listen 127.0.0.1:"+port+";",
		"/var/log/nginx/access.log", filepath.Join(dir, "access.log"))
	site := strings.NewReplacer(replacements...).Replace(string(text))
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/nginx-error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
%[3]s
}
`, user, dir, site)
	path := filepath.Join(dir, "nginx.conf")
	writeFile(t, path, conf)
	cmd := exec.Command(nginx, "-p", dir, "-c", path, "-g", "daemon off;")
	// nginx forks its workers: stop the whole process group, or they
	// outlive the test, still listening.
	startProxy(t, "nginx", dir, cmd)
	addr := "127.0.0.1:" + port
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "nginx.out"))
			elog, _ := os.ReadFile(filepath.Join(dir, "nginx-error.log"))
			t.Fatalf("nginx did not start:\n%s\n%s", log, elog)
		}
	}
}

// startProxy starts cmd (a proxy: nginx, Caddy) as the leader of a process
// group of its own, with its output in dir/name.out, and stops the whole
// group with SIGTERM when the test ends.
func startProxy(t *testing.T, name, dir string, cmd *exec.Cmd) {
	t.Helper()
	out, _ := os.Create(filepath.Join(dir, name+".out"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := testproc.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testproc.Stop(cmd, syscall.SIGTERM, 10*time.Second, func() { _ = cmd.Wait() }); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

type answer struct {
	code int
	body string
}

func call(t *testing.T, method, url string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}

func createKey(t *testing.T, base, tok string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/api/v1/apikeys", strings.NewReader(`{}`))
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	i := strings.Index(string(b), `"key":"`)
	if resp.StatusCode != 201 || i < 0 {
		t.Fatalf("create key: %d %s", resp.StatusCode, b)
	}
	return string(b[i+7 : i+7+86])
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func newJSONRequest(t *testing.T, method, url, body string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, err
}

// findNginx returns nginx's path; without it the test fails under make test.
func findNginx(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	requireIntegration(t, "nginx is not installed (apt-get install nginx)")
	return ""
}
