package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap/ldaptest"
)

// The abuse-limit rules of DESIGN.md ("Part 2 — Abuse limits"), each
// proved through the real binary over HTTP, as an attacker would meet them.

// abuseUsers are the flat-file users of abuseServer, with their passwords.
var abuseUsers = map[string]string{
	"admin": "admin-password", "svc": "svc-password", "carol": "carol-password",
	"dave": "dave-password", "frank": "frank-password", "joe": "joe-password",
}

// abuseServer starts `gatehouse serve` on a flat file of abuseUsers (bcrypt
// cost 10, as `gatehouse htpasswd set` writes), svc a service account and
// admin an admin. authExtra is added to the auth section (indented), tail
// to the end of the configuration.
func abuseServer(t *testing.T, authExtra, tail string) *process {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "htpasswd")
	for u, pw := range abuseUsers {
		if err := htpasswd.SetUser(file, u, pw, 10); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, conf, fmt.Sprintf(`auth:
  host: 127.0.0.1
  port: 0
  backend: flat_file
  backend_kwargs: {file_path: %s}
  admin_users: [admin]
  service_users: [svc]
%sdatabase:
  url: sqlite:%s
%s`, file, authExtra, filepath.Join(dir, "gatehouse.db"), tail))
	return startGatehouse(t, dir, nil, "serve", "--config", conf)
}

// basicRoute is one route that accepts HTTP Basic, and how to call it.
type basicRoute struct {
	method, path, contentType, body string
}

// basicRoutes are every route that checks a password (DESIGN.md).
var basicRoutes = []basicRoute{
	{"POST", "/auth/v1/tokens", "", ""},
	{"POST", "/auth/v1/introspect", "application/x-www-form-urlencoded", "token=x"},
	{"POST", "/auth/v1/revoke", "application/x-www-form-urlencoded", "token=x"},
	{"POST", "/auth/v1/tokens/validate", "application/json", `{"token": "x"}`},
	{"GET", "/auth/v1/me", "", ""},
	{"GET", "/api/v1/apikeys", "", ""},
	{"POST", "/api/v1/apikeys", "application/json", `{}`},
}

// reply is a response read whole.
type reply struct {
	code   int
	header http.Header
	body   string
}

// send calls route as user:password, from client (X-Forwarded-For, which
// the default auth.proxy_trusted_cidrs believes from loopback; "" for the
// peer's own address).
func send(t *testing.T, base string, rt basicRoute, user, password, client string) reply {
	t.Helper()
	var body io.Reader
	if rt.body != "" {
		body = strings.NewReader(rt.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), rt.method, base+rt.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rt.contentType != "" {
		req.Header.Set("Content-Type", rt.contentType)
	}
	req.SetBasicAuth(user, password)
	if client != "" {
		req.Header.Set("X-Forwarded-For", client)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// auditCount counts the audit lines of event with outcome in p's log,
// where route (a route pattern, "" for any) carried it.
func auditCount(t *testing.T, p *process, event, outcome, route string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(p.Stderr(), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil || e["log"] != "audit" {
			continue
		}
		if e["event"] == event && e["outcome"] == outcome && (route == "" || e["route"] == route) {
			n++
		}
	}
	return n
}

// settledAuditCount is auditCount once the log has caught up: an audit
// line is written before its answer, but the test reads the log through a
// pipe, so the last lines may arrive just after the answer does. It waits
// (at most 2 s) until the count stops changing.
func settledAuditCount(t *testing.T, p *process, event, outcome, route string) int {
	t.Helper()
	n := auditCount(t, p, event, outcome, route)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		m := auditCount(t, p, event, outcome, route)
		if m == n {
			return n
		}
		n = m
	}
	return n
}

const lockedBody = `{"faultstring":"Too many failed attempts. Try again later."}`

// TestBasicOnEveryRouteSharesTheLockout (issue 10, item 1): HTTP Basic on
// introspect, revoke, validate, /me and the API key routes goes through the
// same throttle as POST /auth/v1/tokens: guesses there are counted and
// audited, and a locked account gets the same 429, right password or not,
// before any password is checked.
func TestBasicOnEveryRouteSharesTheLockout(t *testing.T) {
	p := abuseServer(t, "", "")
	// Guessing through revoke is counted: the 11th guess is a 429.
	for i := range 10 {
		r := send(t, p.URL, basicRoutes[2], "dave", fmt.Sprintf("guess%d", i), "")
		if r.code != http.StatusUnauthorized {
			t.Fatalf("revoke guess %d: %d %s", i+1, r.code, r.body)
		}
	}
	if n := settledAuditCount(t, p, "login", "invalid", "/auth/v1/revoke"); n != 10 {
		t.Errorf("10 wrong passwords on revoke left %d audit lines", n)
	}
	if r := send(t, p.URL, basicRoutes[2], "dave", abuseUsers["dave"], ""); r.code != http.StatusTooManyRequests {
		t.Fatalf("dave's right password after 10 guesses on revoke: %d %s", r.code, r.body)
	}

	// carol is locked through the token route; every route refuses her
	// right password with the same 429 and costs no password check.
	for range 10 {
		send(t, p.URL, basicRoutes[0], "carol", "wrong", "")
	}
	checks := settledAuditCount(t, p, "login", "invalid", "") + settledAuditCount(t, p, "login", "success", "")
	for _, rt := range basicRoutes {
		r := send(t, p.URL, rt, "carol", abuseUsers["carol"], "")
		if r.code != http.StatusTooManyRequests || r.body != lockedBody || r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s, locked carol's right password: %d %s (Retry-After %q)",
				rt.method, rt.path, r.code, r.body, r.header.Get("Retry-After"))
		}
	}
	if n := settledAuditCount(t, p, "login", "invalid", "") + settledAuditCount(t, p, "login", "success", ""); n != checks {
		t.Errorf("429s cost %d password checks", n-checks)
	}
	if n := settledAuditCount(t, p, "login", "throttled", ""); n < len(basicRoutes)+1 {
		t.Errorf("%d throttled audit lines, want at least %d", n, len(basicRoutes)+1)
	}
	// Someone else's right password works on every route.
	for _, rt := range basicRoutes {
		r := send(t, p.URL, rt, "admin", abuseUsers["admin"], "")
		if r.code >= 400 {
			t.Errorf("%s %s as admin: %d %s", rt.method, rt.path, r.code, r.body)
		}
	}
}

// TestParallelGuessesCostAtMostTheLimit (issue 10, item 4): the throttle
// reserves each attempt before its password is checked, so N concurrent
// wrong passwords for one account from one address cost at most
// login_failures (10) password checks, whatever N.
func TestParallelGuessesCostAtMostTheLimit(t *testing.T) {
	p := abuseServer(t, "", "")
	for i, n := range []int{40, 100} {
		user := []string{"carol", "dave"}[i]
		before := settledAuditCount(t, p, "login", "invalid", "")
		codes := map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for j := range n {
			wg.Go(func() {
				r := send(t, p.URL, basicRoutes[j%len(basicRoutes)], user, fmt.Sprintf("wrong%d", j), "")
				mu.Lock()
				codes[r.code]++
				mu.Unlock()
			})
		}
		wg.Wait()
		checks := settledAuditCount(t, p, "login", "invalid", "") - before
		t.Logf("%d parallel wrong passwords for %s: %d password checks, answers %v", n, user, checks, codes)
		if checks > 10 || codes[http.StatusUnauthorized] > 10 {
			t.Errorf("%d parallel wrong passwords cost %d password checks (%v); the limit is 10", n, checks, codes)
		}
		if codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != n {
			t.Errorf("answers %v, want only 401 and 429", codes)
		}
	}
}

// TestLockoutIsPerAccountAndAddress (issue 10, item 6): an attacker locks
// an account only for their own address; IPv6 is counted per /64; one
// name's failures never count against another spelling on flat_file; and
// account_failures bounds one account over all addresses.
func TestLockoutIsPerAccountAndAddress(t *testing.T) {
	p := abuseServer(t, "", "throttle:\n  account_failures: 25\n")
	tokens := basicRoutes[0]
	guess := func(user, client string, n int) {
		t.Helper()
		for range n {
			if r := send(t, p.URL, tokens, user, "wrong", client); r.code != http.StatusUnauthorized {
				t.Fatalf("%s from %s: %d %s", user, client, r.code, r.body)
			}
		}
	}
	expect := func(user, client string, want int) {
		t.Helper()
		if r := send(t, p.URL, tokens, user, abuseUsers[user], client); r.code != want {
			t.Errorf("%s from %s: %d %s, want %d", user, client, r.code, r.body, want)
		}
	}
	guess("frank", "203.0.113.5", 10)
	expect("frank", "203.0.113.5", http.StatusTooManyRequests)
	expect("frank", "198.51.100.7", http.StatusCreated) // the victim elsewhere

	guess("FRANK", "198.51.100.8", 10) // no such user on flat_file
	expect("frank", "198.51.100.8", http.StatusCreated)

	guess("joe", "2001:db8:1:2::1", 10)
	expect("joe", "2001:db8:1:2:ffff::9", http.StatusTooManyRequests) // same /64
	expect("joe", "2001:db8:1:3::1", http.StatusCreated)              // another /64

	// Distributed guessing: 25 failures over three addresses lock carol
	// everywhere.
	guess("carol", "192.0.2.1", 9)
	guess("carol", "192.0.2.2", 9)
	guess("carol", "192.0.2.3", 7)
	expect("carol", "192.0.2.200", http.StatusTooManyRequests)
}

// TestServiceAccountsMayNotImpersonateAdmins (issue 10, item 2).
func TestServiceAccountsMayNotImpersonateAdmins(t *testing.T) {
	p := abuseServer(t, "", "")
	ask := func(base, user string) reply {
		return send(t, base, basicRoute{"POST", "/auth/v1/tokens", "application/json", `{"user": "` + user + `"}`},
			"svc", abuseUsers["svc"], "")
	}
	r := ask(p.URL, "admin")
	if r.code != http.StatusForbidden || r.body != `{"faultstring":"Service accounts may not impersonate admin users."}` {
		t.Fatalf("svc asks for admin: %d %s", r.code, r.body)
	}
	r = ask(p.URL, "joe")
	var tok struct {
		Token, User string
		Metadata    map[string]any
	}
	if err := json.Unmarshal([]byte(r.body), &tok); r.code != http.StatusCreated || err != nil ||
		tok.User != "joe" || tok.Metadata["impersonated_by"] != "svc" {
		t.Fatalf("svc asks for joe: %d %s", r.code, r.body)
	}
	me := call(t, "GET", p.URL+"/auth/v1/me", map[string]string{"X-Auth-Token": tok.Token})
	if !strings.Contains(me.body, `"metadata":{"impersonated_by":"svc"}`) {
		t.Errorf("/me of an impersonated token: %s", me.body)
	}
	in := send(t, p.URL, basicRoute{"POST", "/auth/v1/introspect", "application/x-www-form-urlencoded",
		url.Values{"token": {tok.Token}}.Encode()}, "admin", abuseUsers["admin"], "")
	if !strings.Contains(in.body, `"metadata":{"impersonated_by":"svc"}`) {
		t.Errorf("introspection of an impersonated token: %s", in.body)
	}
	if !strings.Contains(p.Stderr(), `"impersonated_by":"svc"`) {
		t.Error("no audit line names the impersonating service account")
	}

	// auth.impersonate_admins turns the rule off, for those who need it.
	allowed := abuseServer(t, "  impersonate_admins: true\n", "")
	if r := ask(allowed.URL, "admin"); r.code != http.StatusCreated || !strings.Contains(r.body, `"impersonated_by":"svc"`) {
		t.Errorf("with auth.impersonate_admins: %d %s", r.code, r.body)
	}
}

// TestJunkNeverBlocksAGoodCredential (issue 10, item 3): 2,000 junk tokens
// sent through a consumer service within a minute use up its service
// account's scanning allowance (600), yet a never-seen valid token or key
// is still accepted at once by the pkg/authn middleware in front of it.
func TestJunkNeverBlocksAGoodCredential(t *testing.T) {
	p := abuseServer(t, "", "") // the default scan limit: 600 a minute
	svcToken := tokenOf(t, p.URL, "svc")
	mw, err := authn.New(authn.Config{URL: p.URL, Token: svcToken, CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	app := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := authn.FromContext(r.Context())
		fmt.Fprint(w, id.Username)
	}))
	through := func(header, value string) int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://consumer.example/", nil)
		req.Header.Set(header, value)
		rec := &statusRecorder{header: http.Header{}}
		app.ServeHTTP(rec, req)
		return rec.code
	}
	codes := map[int]int{}
	junkStart := time.Now()
	for i := range 2000 {
		codes[through("X-Auth-Token", fmt.Sprintf("junk%d", i))]++
	}
	junkTook := time.Since(junkStart)
	if codes[http.StatusServiceUnavailable] != 0 {
		t.Errorf("junk made the consumer answer 503: %v", codes)
	}
	if junkTook > time.Minute {
		t.Fatalf("2,000 junk lookups took %v, more than the one-minute scan window", junkTook)
	}
	tok, key := tokenOf(t, p.URL, "joe"), createKey(t, p.URL, tokenOf(t, p.URL, "joe"))
	start := time.Now()
	if c := through("X-Auth-Token", tok); c != http.StatusOK {
		t.Errorf("a never-seen valid token after 2,000 junk ones: %d", c)
	}
	tookToken := time.Since(start)
	if c := through("St2-Api-Key", key); c != http.StatusOK {
		t.Errorf("a never-seen valid key after 2,000 junk ones: %d", c)
	}
	t.Logf("2,000 junk tokens through pkg/authn in %v: answers %v; then a never-seen token accepted in %v, a never-seen key in %v",
		junkTook.Round(time.Millisecond), codes, tookToken.Round(time.Microsecond), (time.Since(start) - tookToken).Round(time.Microsecond))
}

func tokenOf(t *testing.T, base, user string) string {
	t.Helper()
	code, body := postToken(t, base, user, abuseUsers[user])
	if code != http.StatusCreated {
		t.Fatalf("login %s: %d %v", user, code, body)
	}
	return body["token"].(string)
}

// statusRecorder is the smallest http.ResponseWriter.
type statusRecorder struct {
	header http.Header
	code   int
}

func (r *statusRecorder) Header() http.Header { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return len(b), nil
}
func (r *statusRecorder) WriteHeader(code int) { r.code = code }

// TestLDAPLockoutSpellings (issue 10, item 5): the directory matches
// " alice", "alice ", "  alice" and "ALICE " to alice, so they share her
// throttle counter: once alice is locked, no spelling logs in.
func TestLDAPLockoutSpellings(t *testing.T) {
	s := ldaptest.Start(t)
	dir := t.TempDir()
	p := startGatehouse(t, dir, nil, "serve", "--config", ldapST2Conf(t, dir, s, nil))
	if code, body := postToken(t, p.URL, " ALICE ", "alice-password"); code != http.StatusCreated || body["user"] != "alice" {
		t.Fatalf("the directory matches ' ALICE ' to alice: %d %v", code, body)
	}
	spellings := []string{"alice", " alice", "alice ", "  alice", "ALICE ", "a l i c e"}
	for i := range 10 {
		postToken(t, p.URL, spellings[i%4], "wrong")
	}
	for _, name := range spellings[:5] {
		if code, body := postToken(t, p.URL, name, "alice-password"); code != http.StatusTooManyRequests {
			t.Errorf("%q after 10 failures over its spellings: %d %v", name, code, body)
		}
	}
	if code, _ := postToken(t, p.URL, "bob", "bob-password"); code == http.StatusTooManyRequests {
		t.Error("another LDAP user is locked too")
	}
}

// TestLockoutHasAWayOut (issue 17, item 1): a locked account is unlocked
// by an admin with `gatehouse user unlock`, and by setting its password
// with `gatehouse htpasswd set`; the CLI says how long to wait meanwhile.
func TestLockoutHasAWayOut(t *testing.T) {
	p := abuseServer(t, "", "")
	lock := func(user string) {
		t.Helper()
		for range 10 {
			postToken(t, p.URL, user, "wrong")
		}
		if code, _ := postToken(t, p.URL, user, abuseUsers[user]); code != http.StatusTooManyRequests {
			t.Fatalf("%s not locked: %d", user, code)
		}
	}
	lock("carol")
	u := newCLIUser(t, p.URL)
	if r := u.run("", nil, "login", "carol", "-p", abuseUsers["carol"]); r.code == 0 || !strings.Contains(r.stderr, "too many failed attempts; try again in ") {
		t.Errorf("the CLI's answer for a locked account: exit %d, %q", r.code, r.stderr)
	}
	u.ok("", "login", "admin", "-p", abuseUsers["admin"])
	u.ok("", "user", "unlock", "carol")
	if code, body := postToken(t, p.URL, "carol", abuseUsers["carol"]); code != http.StatusCreated {
		t.Fatalf("carol after the admin's unlock: %d %v", code, body)
	}
	if !strings.Contains(p.Stderr(), `"event":"throttle_cleared"`) {
		t.Errorf("no audit line for the unlock:\n%s", p.Stderr())
	}

	lock("dave")
	htpasswdCLI(t, filepath.Join(p.cmd.Dir, "htpasswd"), "dave-new-password\n", "set", "dave")
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := postToken(t, p.URL, "dave", "dave-new-password")
		if code == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dave still %d 10 s after his password was set", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// formRoute is a route that takes a user name and password in a form
// (the browser's logins), and what its refusals look like.
type formRoute struct {
	path string
	json bool // answers JSON (the API) rather than the web page's HTML
}

// formRoutes are the routes that check a password sent in a form rather
// than with HTTP Basic: the session login of the API and the web page's.
var formRoutes = []formRoute{{"/auth/v1/session", true}, {"/ui/login", false}}

// sendForm posts user and password to rt as a browser on the same site
// would (Sec-Fetch-Site: same-origin), from client ("" for the peer).
func sendForm(t *testing.T, base string, rt formRoute, user, password, client string) reply {
	t.Helper()
	form := url.Values{"username": {user}, "password": {password}}.Encode()
	req, err := http.NewRequestWithContext(t.Context(), "POST", base+rt.path, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if client != "" {
		req.Header.Set("X-Forwarded-For", client)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// noRedirects answers with the redirect itself, whose Set-Cookie the test
// reads.
var noRedirects = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestFormLoginsShareTheLockout (issues 10 and 14): the browser's logins
// (POST /auth/v1/session and the web page's form) go through the same
// throttle as HTTP Basic: guesses there are counted and audited and lock
// the account on every route, and a locked account gets 429 there too,
// right password or not, with no password checked and no cookie set.
func TestFormLoginsShareTheLockout(t *testing.T) {
	p := abuseServer(t, "", "")
	// dave guesses 5 times through each form: 10 counted failures.
	for _, rt := range formRoutes {
		for i := range 5 {
			r := sendForm(t, p.URL, rt, "dave", fmt.Sprintf("guess%d", i), "")
			if r.code != http.StatusUnauthorized || r.header.Get("Set-Cookie") != "" {
				t.Fatalf("%s guess %d: %d (Set-Cookie %q) %s", rt.path, i+1, r.code, r.header.Get("Set-Cookie"), r.body)
			}
		}
		if n := settledAuditCount(t, p, "login", "invalid", rt.path); n != 5 {
			t.Errorf("5 wrong passwords on %s left %d audit lines", rt.path, n)
		}
	}
	if r := send(t, p.URL, basicRoutes[0], "dave", abuseUsers["dave"], ""); r.code != http.StatusTooManyRequests {
		t.Errorf("dave's right password with Basic after 10 guesses through the forms: %d %s", r.code, r.body)
	}

	// carol is locked through HTTP Basic; both forms refuse her right
	// password without checking it.
	for range 10 {
		send(t, p.URL, basicRoutes[0], "carol", "wrong", "")
	}
	checks := settledAuditCount(t, p, "login", "invalid", "") + settledAuditCount(t, p, "login", "success", "")
	for _, rt := range formRoutes {
		r := sendForm(t, p.URL, rt, "carol", abuseUsers["carol"], "")
		if r.code != http.StatusTooManyRequests || r.header.Get("Set-Cookie") != "" {
			t.Errorf("%s, locked carol's right password: %d (Set-Cookie %q)", rt.path, r.code, r.header.Get("Set-Cookie"))
		}
		if rt.json && r.body != lockedBody {
			t.Errorf("%s, locked carol: body %s, want %s", rt.path, r.body, lockedBody)
		}
	}
	if n := settledAuditCount(t, p, "login", "invalid", "") + settledAuditCount(t, p, "login", "success", ""); n != checks {
		t.Errorf("429s on the forms cost %d password checks", n-checks)
	}
	// Someone else's right password works through both forms.
	for _, rt := range formRoutes {
		r := sendForm(t, p.URL, rt, "admin", abuseUsers["admin"], "")
		if r.code >= 400 || !strings.Contains(r.header.Get("Set-Cookie"), "gatehouse_session=") {
			t.Errorf("%s as admin: %d (Set-Cookie %q) %s", rt.path, r.code, r.header.Get("Set-Cookie"), r.body)
		}
	}
}
