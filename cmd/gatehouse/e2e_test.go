package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/testproc"
)

// binary is the gatehouse binary built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gatehouse:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running `gatehouse serve`.
type process struct {
	cmd    *exec.Cmd
	URL    string
	mu     sync.Mutex
	stderr strings.Builder
}

func (p *process) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

var servingRe = regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)

// startGatehouse runs the binary in dir with args and env and waits until
// it logs its address. It is stopped with SIGTERM at the end of the test.
func startGatehouse(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	// No drain delay on SIGTERM unless a test asks for one: the tests stop
	// many servers. make faults checks the drain with the default.
	cmd.Env = append(append(os.Environ(), "GATEHOUSE_AUTH_SHUTDOWN_DELAY=0"), env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := testproc.Start(cmd); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	addr := make(chan string, 1)
	go p.readLog(pipe, addr)
	t.Cleanup(func() { p.stop(t) })
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("gatehouse did not start; stderr:\n%s", p.Stderr())
	}
	return p
}

func (p *process) readLog(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sent := false
	for sc.Scan() {
		p.mu.Lock()
		p.stderr.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		if m := servingRe.FindStringSubmatch(sc.Text()); m != nil && !sent {
			addr <- m[1]
			sent = true
		}
	}
}

// stop ends the server's process group with SIGTERM (SIGKILL after 30 s)
// unless the test already reaped it.
func (p *process) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		testproc.Forget(p.cmd)
		return
	}
	var err error
	if serr := testproc.Stop(p.cmd, syscall.SIGTERM, 30*time.Second, func() { err = p.cmd.Wait() }); serr != nil {
		t.Errorf("gatehouse: %v", serr)
	}
	if err != nil {
		t.Errorf("gatehouse exited with %v; stderr:\n%s", err, p.Stderr())
	}
}

func postToken(t *testing.T, url, user, password string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", url+"/auth/v1/tokens", nil)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

var firstRunRe = regexp.MustCompile(`password:\n\n    (\S+)\n`)

// TestFirstRunThenST2Client starts gatehouse with no configuration at all,
// as `make run` does, takes the admin password it prints once, and drives it
// with StackStorm's own JavaScript client.
func TestFirstRunThenST2Client(t *testing.T) {
	dir := t.TempDir()
	p := startGatehouse(t, dir, nil, "serve", "--port", "0")
	m := firstRunRe.FindStringSubmatch(p.Stderr())
	if m == nil {
		t.Fatalf("no first-run password on stderr:\n%s", p.Stderr())
	}
	password := m[1]
	if fi, err := os.Stat(filepath.Join(dir, "data", "htpasswd")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("data/htpasswd: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "gatehouse.db")); err != nil {
		t.Fatal(err)
	}
	if code, body := postToken(t, p.URL, "admin", password); code != 201 || body["user"] != "admin" {
		t.Fatalf("login: %d %v", code, body)
	}
	runST2ClientJS(t, p.URL, "admin", password)

	// A second start must not make a new password.
	p.stop(t)
	p2 := startGatehouse(t, dir, nil, "serve", "--port", "0")
	if strings.Contains(p2.Stderr(), "First run") {
		t.Fatal("second start printed a new password")
	}
	if code, _ := postToken(t, p2.URL, "admin", password); code != 201 {
		t.Fatalf("login after restart: %d", code)
	}
	if strings.Contains(p.Stderr()+p2.Stderr(), `"`+password+`"`) {
		t.Fatal("the password appears in a log line")
	}
}

// runST2ClientJS runs scripts/st2client/check.js (npm st2client 1.2.6).
func runST2ClientJS(t *testing.T, url, user, password string) {
	t.Helper()
	out := runST2ClientScript(t, "check.js", "GATEHOUSE_URL="+url, "ST2_USER="+user, "ST2_PASSWORD="+password)
	t.Logf("%s", out)
}

// runST2ClientScript runs one of scripts/st2client's checks with node and
// env added to the environment, and fails the test when it fails.
func runST2ClientScript(t *testing.T, script string, env ...string) []byte {
	t.Helper()
	dir, _ := filepath.Abs("../../scripts/st2client")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "st2client")); err != nil {
		requireIntegration(t, "st2client.js is not installed (npm ci --prefix scripts/st2client)")
		return nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("st2client.js: %v\n%s", err, out)
	}
	return out
}

// requireIntegration fails under `make test` and skips elsewhere.
func requireIntegration(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("GATEHOUSE_REQUIRE_INTEGRATION") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// TestSIGTERMFinishesInFlightRequests sends SIGTERM while a slow login (bcrypt
// cost 14) is in flight: the login still gets its 201 and the process exits 0.
func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	dir := t.TempDir()
	htpasswdPath := filepath.Join(dir, "users")
	set := exec.Command(binary, "htpasswd", "set", "slow", "--file", htpasswdPath, "--cost", "14")
	set.Stdin = strings.NewReader("slow-password\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("htpasswd set: %v %s", err, out)
	}
	cfg := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, cfg, fmt.Sprintf("auth:\n  port: 0\n  backend_kwargs: {file_path: %s}\ndatabase:\n  url: sqlite:%s/db\n", htpasswdPath, dir))
	p := startGatehouse(t, dir, nil, "serve", "--config", cfg)

	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", p.URL+"/auth/v1/tokens", nil)
		req.SetBasicAuth("slow", "slow-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{code: resp.StatusCode}
	}()
	time.Sleep(200 * time.Millisecond) // the login is hashing now
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.code != http.StatusCreated {
		t.Fatalf("in-flight login: %d %v; stderr:\n%s", r.code, r.err, p.Stderr())
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if !strings.Contains(p.Stderr(), "shutting down") {
		t.Errorf("no shutdown log:\n%s", p.Stderr())
	}
}

// TestRefusesBadConfiguration checks that every problem is reported at once,
// each with its key, and that the service does not start.
func TestRefusesBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	writeFile(t, cfg, "auth:\n  backend: nosuch\n  token_ttl: 0\n  use_ssl: true\n  cert: /nonexistent.pem\n  key: /nonexistent.key\n")
	out, err := exec.Command(binary, "serve", "--config", cfg).CombinedOutput()
	if err == nil {
		t.Fatal("started with a bad configuration")
	}
	for _, want := range []string{"auth.backend", "nosuch", "auth.token_ttl", "auth.cert"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	kw := filepath.Join(dir, "kw.yaml")
	writeFile(t, kw, "auth:\n  backend_kwargs: {file_path: x, colour: red}\n")
	out, err = exec.Command(binary, "serve", "--config", kw).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "colour") {
		t.Errorf("unknown backend kwarg accepted: %v\n%s", err, out)
	}
}

// refuse runs the binary with args, env and no other GATEHOUSE_* variable
// in a scratch directory, expects exit status 1, and returns the output's
// lines. A binary that starts serving instead is killed after 20 s.
func refuse(t *testing.T, env []string, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if ctx.Err() != nil || !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("%v: %v (timed out: %v), want exit status 1; output:\n%s", args, err, ctx.Err() != nil, out)
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// TestRefusesWithEveryProblemAndItsSource: type errors, unknown keys, rule
// errors and the backend's own objections, from the file, the environment
// and the flags, come out in one run, one a line, each naming the key,
// where it was set and what is wrong in words (no strconv messages).
func TestRefusesWithEveryProblemAndItsSource(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "gatehouse.yaml")
	writeFile(t, cfg, "auth:\n  port: 70000\n  token_ttl: abc\n  token_tll: 60\n  backend_kwargs: {file_path: users, colour: red}\n")
	got := refuse(t, []string{"GATEHOUSE_AUTH_SERVICE_TOKEN_TTL=xyz"}, "serve", "--config", cfg, "--mode", "nope")
	want := []string{
		"gatehouse: invalid configuration, 6 problems:",
		"  auth.backend_kwargs (" + cfg + ":5): htpasswd: 'backend_kwargs' has invalid keys: colour",
		`  auth.mode (flag --mode): Invalid auth mode "nope" specified in the config. Valid modes are: proxy, standalone`,
		"  auth.port (" + cfg + ":2): must be between 0 (any free port) and 65535, got 70000",
		`  auth.service_token_ttl (environment variable GATEHOUSE_AUTH_SERVICE_TOKEN_TTL): "xyz" is not a whole number of seconds`,
		"  auth.token_tll (" + cfg + ":4): unknown key (did you mean auth.token_ttl?)",
		"  auth.token_ttl (" + cfg + `:3): "abc" is not a whole number of seconds`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRefusesUnknownKeysInBothFormats: the same typo stops the start from
// an st2-style INI file as from YAML, while st2's own [auth] options and
// sections beside it pass; migrate refuses it too.
func TestRefusesUnknownKeysInBothFormats(t *testing.T) {
	dir := t.TempDir()
	ini := filepath.Join(dir, "st2.conf")
	writeFile(t, ini, "[api]\nhost = 0.0.0.0\nport = 9101\n\n[auth]\nlogging = /etc/st2/logging.auth.conf\n"+
		"sso = False\nsso_backend = noop\ntoken_tll = 60\n\n[rbac]\nenable = False\n")
	yml := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, yml, "auth:\n  token_tll: 60\n")
	for _, tc := range []struct {
		args []string
		line string
	}{
		{[]string{"serve", "--config", ini}, ini + ":9"},
		{[]string{"migrate", "--config", ini}, ini + ":9"},
		{[]string{"serve", "--config", yml}, yml + ":2"},
	} {
		got := refuse(t, nil, tc.args...)
		want := []string{
			"gatehouse: invalid configuration, 1 problem:",
			"  auth.token_tll (" + tc.line + "): unknown key (did you mean auth.token_ttl?)",
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v:\n%s\nwant:\n%s", tc.args, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// waitLog waits until p has logged a line containing want.
func (p *process) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.Stderr(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", want, p.Stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantOneWarning checks that p's log so far has exactly one line above
// INFO: a WARN whose message is want.
func (p *process) wantOneWarning(t *testing.T, want string) {
	t.Helper()
	var loud []string
	for line := range strings.Lines(p.Stderr()) {
		var rec struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level != "INFO" && rec.Level != "DEBUG" {
			loud = append(loud, rec.Level+" "+rec.Msg)
		}
	}
	if len(loud) != 1 || loud[0] != "WARN "+want {
		t.Errorf("log lines above INFO:\n  %s\nwant only:\n  WARN %s", strings.Join(loud, "\n  "), want)
	}
}

// TestMissingHtpasswdFileWarnsOnce: a configured htpasswd file that does
// not exist (not the first-run default, which is created) gives one
// warning that says what is wrong and what logins get, and no error line;
// logins get 503 until the file is created, then work without a restart.
func TestMissingHtpasswdFileWarnsOnce(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "htpasswd")
	cfg := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, cfg, fmt.Sprintf("auth:\n  port: 0\n  backend_kwargs: {file_path: %s}\ndatabase:\n  url: sqlite:%s/db\n", users, dir))
	p := startGatehouse(t, dir, nil, "serve", "--config", cfg)
	warning := "flat_file backend cannot check passwords: htpasswd file " + users +
		" does not exist (create it with: gatehouse htpasswd set USER --file " + users +
		"); logins will fail with 503 until it can, no restart needed"
	p.waitLog(t, "htpasswd file")
	p.wantOneWarning(t, warning)

	if code, body := postToken(t, p.URL, "joe", "joe-password"); code != http.StatusServiceUnavailable {
		t.Errorf("login without the file: %d %v, want 503", code, body)
	}
	set := exec.Command(binary, "htpasswd", "set", "joe", "--file", users, "--cost", "4")
	set.Stdin = strings.NewReader("joe-password\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("htpasswd set: %v %s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for code, _ := postToken(t, p.URL, "joe", "joe-password"); code != http.StatusCreated; code, _ = postToken(t, p.URL, "joe", "joe-password") {
		if time.Now().After(deadline) {
			t.Fatalf("login after creating the file: %d; log:\n%s", code, p.Stderr())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := strings.Count(p.Stderr(), "does not exist"); n != 1 {
		t.Errorf("the missing file was reported %d times:\n%s", n, p.Stderr())
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "gatehouse ") {
		t.Fatalf("%v %s", err, out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
