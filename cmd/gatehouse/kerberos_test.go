package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/kerberos/kdctest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
)

// kerberosServer starts `gatehouse serve` with the kerberos backend on
// k's realm; extra is added to its kwargs (YAML flow mapping entries).
// dbURL "" is a SQLite file of its own.
func kerberosServer(t *testing.T, k *kdctest.KDC, dbURL, extra string) *process {
	t.Helper()
	dir := t.TempDir()
	if dbURL == "" {
		dbURL = "sqlite:" + filepath.Join(dir, "gatehouse.db")
	}
	if extra != "" {
		extra = ", " + extra
	}
	conf := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, conf, fmt.Sprintf(`auth:
  host: 127.0.0.1
  port: 0
  backend: kerberos
  backend_kwargs: {keytab: %q, service_principal: %q, kdcs: [%q], timeout: 2%s}
database:
  url: %s
`, k.Keytab, kdctest.Service, k.Addr, extra, dbURL))
	return startGatehouse(t, dir, nil, "serve", "--config", conf)
}

// localURL is p's URL with the host name the service principal names
// (HTTP/localhost), as a user would type it.
func localURL(p *process) string { return strings.Replace(p.URL, "127.0.0.1", "localhost", 1) }

// curlResult is what curl got: the final status, headers and body, and
// the Authorization header it sent last (from -v), if any.
type curlResult struct {
	status        int
	header, body  string
	authorization string
	stderr        string
}

var (
	curlAuthRe   = regexp.MustCompile(`(?m)^> Authorization: (Negotiate \S+)\r?$`)
	curlStatusRe = regexp.MustCompile(`(?m)^HTTP/[0-9.]+ (\d+)`)
)

// curl runs the real curl with k's krb5.conf and ccache, and args.
func curl(t *testing.T, k *kdctest.KDC, ccache string, args ...string) curlResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", append([]string{"-sS", "-v", "-i", "-X", "POST"}, args...)...)
	cmd.Env = k.Env(ccache)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, stderr.String())
	}
	var r curlResult
	r.stderr = stderr.String()
	out := stdout.String()
	// -i prints every response of the exchange (the 401 offering
	// Negotiate, then the answer): keep the last.
	last := strings.LastIndex(out, "\r\n\r\n")
	if last < 0 {
		t.Fatalf("curl printed no response:\n%s", out)
	}
	r.body = out[last+4:]
	head := out[:last]
	if i := strings.LastIndex(head, "HTTP/"); i >= 0 {
		head = head[i:]
	}
	r.header = head
	if m := curlStatusRe.FindStringSubmatch(head); m != nil {
		fmt.Sscan(m[1], &r.status)
	}
	if m := curlAuthRe.FindAllStringSubmatch(r.stderr, -1); len(m) > 0 {
		r.authorization = m[len(m)-1][1]
	}
	return r
}

func curlNegotiate(t *testing.T, k *kdctest.KDC, ccache, url string) curlResult {
	t.Helper()
	return curl(t, k, ccache, "--negotiate", "-u", ":", url+"/auth/v1/tokens")
}

// replay sends a captured Authorization header again.
func replay(t *testing.T, url, authorization string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", url+"/auth/v1/tokens", nil)
	req.Header.Set("Authorization", authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Faultstring string `json:"faultstring"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Faultstring, resp.Header
}

func wantFault(t *testing.T, what string, r curlResult, status int, fault string) {
	t.Helper()
	if r.status != status || !strings.Contains(r.body, fault) {
		t.Errorf("%s: %d %s; want %d with %q", what, r.status, r.body, status, fault)
	}
}

// TestKerberosNegotiateWithCurl is the README's path: kinit, then curl
// --negotiate gets a token, with the mutual-authentication reply; the
// refusals say what is wrong.
func TestKerberosNegotiateWithCurl(t *testing.T) {
	k := kdctest.Start(t)
	p := kerberosServer(t, k, "", "")
	cc := k.Kinit(t, "alice")

	r := curlNegotiate(t, k, cc, localURL(p))
	if r.status != http.StatusCreated {
		t.Fatalf("curl --negotiate: %d %s\n%s", r.status, r.body, r.stderr)
	}
	var tok struct{ User, Token string }
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil || tok.User != "alice" || tok.Token == "" {
		t.Fatalf("body %s: user %q, want alice (%v)", r.body, tok.User, err)
	}
	m := regexp.MustCompile(`(?mi)^WWW-Authenticate: (Negotiate \S+)\r?$`).FindStringSubmatch(r.header)
	if m == nil {
		t.Fatalf("no mutual-authentication reply in the 201:\n%s", r.header)
	}
	kdctest.CheckMutualReply(t, cc, r.authorization, m[1])
	if me := call(t, "GET", p.URL+"/auth/v1/me", map[string]string{"X-Auth-Token": tok.Token}); me.code != 200 ||
		!strings.Contains(me.body, `"backend":"kerberos"`) || !strings.Contains(me.body, `"username":"alice"`) {
		t.Errorf("/me with the token: %d %s; want alice, backend kerberos", me.code, me.body)
	}
	if !strings.Contains(p.Stderr(), `"user":"alice"`) {
		t.Errorf("no audit line for alice:\n%s", p.Stderr())
	}

	// The same authenticator again: a replay.
	code, fault, hdr := replay(t, p.URL, r.authorization)
	if code != http.StatusUnauthorized || !strings.Contains(fault, "replayed") || hdr.Get("WWW-Authenticate") != "Negotiate" {
		t.Errorf("replayed authenticator: %d %q %q", code, fault, hdr.Get("WWW-Authenticate"))
	}

	// A ticket for another service: curl asks for HTTP/127.0.0.1.
	wantFault(t, "ticket for HTTP/127.0.0.1", curlNegotiate(t, k, cc, p.URL), http.StatusUnauthorized, "not for this service")

	// No credentials: 401 offering Negotiate.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", p.URL+"/auth/v1/tokens", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "Negotiate" {
		t.Errorf("no credentials: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// Passwords through the same backend are checked by the KDC.
	wantFault(t, "Basic, wrong password", curl(t, k, "", "-u", "alice:wrong", localURL(p)+"/auth/v1/tokens"),
		http.StatusUnauthorized, "Invalid or missing credentials")
	if r := curl(t, k, "", "-u", "bob:"+kdctest.Password("bob"), localURL(p)+"/auth/v1/tokens"); r.status != 201 || !strings.Contains(r.body, `"user":"bob"`) {
		t.Errorf("Basic, right password: %d %s", r.status, r.body)
	}
	if strings.Contains(p.Stderr(), kdctest.Password("bob")) || strings.Contains(p.Stderr(), strings.TrimPrefix(r.authorization, "Negotiate ")) {
		t.Error("a password or ticket is in the log")
	}
}

// TestKerberosRefusals: a realm that is not allowed, and an expired
// ticket, each with a reason.
func TestKerberosRefusals(t *testing.T) {
	k := kdctest.Start(t)
	other := kerberosServer(t, k, "", "allowed_realms: [OTHER.TEST]")
	cc := k.Kinit(t, "alice")
	wantFault(t, "realm not allowed", curlNegotiate(t, k, cc, localURL(other)), http.StatusUnauthorized,
		"principals of the realm GATEHOUSE.TEST are not allowed")

	strict := kerberosServer(t, k, "", "max_clock_skew: 1")
	short := k.Kinit(t, "bob", "-l", "3s")
	r := curlNegotiate(t, k, short, localURL(strict))
	if r.status != http.StatusCreated {
		t.Fatalf("bob's fresh ticket: %d %s", r.status, r.body)
	}
	time.Sleep(5 * time.Second) // past the ticket's end and the 1 s skew
	code, fault, _ := replay(t, strict.URL, r.authorization)
	if code != http.StatusUnauthorized || !strings.Contains(fault, "the ticket expired at") {
		t.Errorf("expired ticket: %d %q", code, fault)
	}
}

// TestKerberosReplayAcrossReplicas: an authenticator accepted by one
// replica is refused by another sharing the database.
func TestKerberosReplayAcrossReplicas(t *testing.T) {
	k := kdctest.Start(t)
	db := pgtest.URL(t)
	a := kerberosServer(t, k, db, "")
	b := kerberosServer(t, k, db, "")
	r := curlNegotiate(t, k, k.Kinit(t, "alice"), localURL(a))
	if r.status != http.StatusCreated || r.authorization == "" {
		t.Fatalf("replica a: %d %s", r.status, r.body)
	}
	code, fault, _ := replay(t, b.URL, r.authorization)
	if code != http.StatusUnauthorized || !strings.Contains(fault, "replayed") {
		t.Errorf("replica b took a replayed authenticator: %d %q", code, fault)
	}
}

// TestKerberosKDCStopped: with the KDC down, a password login is 503
// within the timeout while a ticket already held still works; once the
// KDC is back, passwords work again without restarting Gatehouse.
func TestKerberosKDCStopped(t *testing.T) {
	k := kdctest.Start(t)
	p := kerberosServer(t, k, "", "")
	cc := k.Kinit(t, "alice")
	if r := curlNegotiate(t, k, cc, localURL(p)); r.status != 201 {
		t.Fatalf("before: %d %s", r.status, r.body)
	}
	k.Stop()
	start := time.Now()
	code, _ := postToken(t, p.URL, "bob", kdctest.Password("bob"))
	if code != http.StatusServiceUnavailable || time.Since(start) > 3*time.Second {
		t.Errorf("password with the KDC stopped: %d after %v; want 503 within the 2 s timeout", code, time.Since(start))
	}
	// curl has alice's service ticket in her cache: no KDC needed.
	if r := curlNegotiate(t, k, cc, localURL(p)); r.status != 201 {
		t.Errorf("ticket with the KDC stopped: %d %s", r.status, r.body)
	}
	k.Restart()
	if code, body := postToken(t, p.URL, "bob", kdctest.Password("bob")); code != http.StatusCreated {
		t.Errorf("password after the KDC is back: %d %v", code, body)
	}
}

// TestCLILoginKerberos: gatehouse login --kerberos gets a token with the
// ticket kinit left, no password, and caches it.
func TestCLILoginKerberos(t *testing.T) {
	k := kdctest.Start(t)
	p := kerberosServer(t, k, "", "")
	u := newCLIUser(t, localURL(p))
	cc := k.Kinit(t, "alice")
	krbEnv := []string{"KRB5_CONFIG=" + k.Config, "KRB5CCNAME=FILE:" + cc}
	r := u.run("", krbEnv, "login", "--kerberos")
	if r.code != 0 || !strings.Contains(r.stdout, "Logged in as alice") {
		t.Fatalf("login --kerberos: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := u.run("", krbEnv, "whoami"); r.code != 0 || !strings.Contains(r.stdout, "alice") {
		t.Errorf("whoami after login --kerberos: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// A server that takes the ticket but cannot prove it read it (an
	// impostor without the keytab) gets no trust: its token is not cached.
	impostor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"6b1316491693e095fa7c460a","user":"alice","token":"0123456789abcdef0123456789abcdef","expiry":"2099-01-01T00:00:00.000000Z","metadata":{},"service":false}`)
	}))
	defer impostor.Close()
	r = u.run("", krbEnv, "login", "--kerberos", "--url", strings.Replace(impostor.URL, "127.0.0.1", "localhost", 1))
	if r.code == 0 || !strings.Contains(r.stderr, "failed Kerberos mutual authentication") {
		t.Errorf("impostor: exit %d %s", r.code, r.stderr)
	}
	r = u.run("", []string{"KRB5_CONFIG=" + k.Config, "KRB5CCNAME=FILE:" + filepath.Join(t.TempDir(), "none")}, "login", "--kerberos")
	if r.code == 0 || !strings.Contains(r.stderr, "run kinit first") {
		t.Errorf("no credential cache: exit %d %s", r.code, r.stderr)
	}
}

// TestKerberosThrottle: bad tickets count against the client address
// before any ticket is looked at, like wrong passwords; past the limit
// the address gets the same 429 whether it sends tickets or passwords.
func TestKerberosThrottle(t *testing.T) {
	k := kdctest.Start(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, conf, fmt.Sprintf(`auth:
  host: 127.0.0.1
  port: 0
  backend: kerberos
  backend_kwargs: {keytab: %q, service_principal: %q, kdcs: [%q]}
throttle:
  address_failures: 3
database:
  url: sqlite:%s
`, k.Keytab, kdctest.Service, k.Addr, filepath.Join(dir, "gatehouse.db")))
	p := startGatehouse(t, dir, nil, "serve", "--config", conf)
	for i := range 3 {
		if code, fault, _ := replay(t, p.URL, "Negotiate Z2FyYmFnZQ=="); code != http.StatusUnauthorized {
			t.Fatalf("bad ticket %d: %d %q", i, code, fault)
		}
	}
	code, fault, hdr := replay(t, p.URL, "Negotiate Z2FyYmFnZQ==")
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Errorf("4th bad ticket: %d %q Retry-After %q; want 429", code, fault, hdr.Get("Retry-After"))
	}
	pcode, body := postToken(t, p.URL, "alice", kdctest.Password("alice"))
	if pcode != http.StatusTooManyRequests || body["faultstring"] != fault {
		t.Errorf("password from the locked address: %d %v; want 429 %q", pcode, body, fault)
	}
	// A good ticket from the locked address is refused too, unread.
	r := curlNegotiate(t, k, k.Kinit(t, "alice"), localURL(p))
	if r.status != http.StatusTooManyRequests {
		t.Errorf("good ticket from the locked address: %d %s", r.status, r.body)
	}
	if n := strings.Count(p.Stderr(), `"outcome":"throttled"`); n < 3 {
		t.Errorf("%d throttled audit lines, want 3:\n%s", n, p.Stderr())
	}
}

// TestKerberosChainWithBreakGlass: kerberos before a break-glass file.
// A principal of the realm is checked by the KDC only; a name the realm
// does not have goes on to the file; with the KDC down only the
// break-glass user logs in, everyone else gets 503.
func TestKerberosChainWithBreakGlass(t *testing.T) {
	k := kdctest.Start(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "breakglass")
	htpasswdCLI(t, file, "breakglass-password\n", "set", "breakglass")
	htpasswdCLI(t, file, "file-alice-password\n", "set", "alice")
	conf := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, conf, fmt.Sprintf(`auth:
  host: 127.0.0.1
  port: 0
  backends:
    - name: kerberos
      kwargs: {keytab: %q, service_principal: %q, kdcs: [%q], timeout: 2}
    - name: flat_file
      kwargs: {file_path: %q}
  break_glass_users: [breakglass]
database:
  url: sqlite:%s
`, k.Keytab, kdctest.Service, k.Addr, file, filepath.Join(dir, "gatehouse.db")))
	p := startGatehouse(t, dir, nil, "serve", "--config", conf)
	wantLogin(t, p, "alice", kdctest.Password("alice"), http.StatusCreated)
	wantLogin(t, p, "alice", "file-alice-password", http.StatusUnauthorized) // the realm's alice: final
	wantLogin(t, p, "breakglass", "breakglass-password", http.StatusCreated)
	k.Stop()
	wantLogin(t, p, "breakglass", "breakglass-password", http.StatusCreated)
	wantLogin(t, p, "alice", kdctest.Password("alice"), http.StatusServiceUnavailable)
	k.Restart()
	wantLogin(t, p, "alice", kdctest.Password("alice"), http.StatusCreated)
}
