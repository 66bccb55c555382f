package authn_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// Credentials the fake Gatehouse knows. They look like secrets so that a
// test can search logs and errors for them.
const (
	svcKey   = "svc-key-SECRET-5f0c7d1e"
	joeToken = "tok-joe-SECRET-8a1b2c3d"
	joeKey   = "key-joe-SECRET-4e5f6a7b"
	badToken = "tok-bad-SECRET-00000000"
)

// introCall is what one introspection request asked.
type introCall struct{ token, hint string }

// fakeGatehouse fakes POST /auth/v1/introspect. It checks every request's
// shape and the service's credential, and counts the calls.
type fakeGatehouse struct {
	t      *testing.T
	srv    *httptest.Server
	calls  atomic.Int64
	mu     sync.Mutex
	asked  []introCall
	caller func(r *http.Request) bool
	answer func(tok, hint string) (int, any)
}

type fakeOption func(*fakeGatehouse)

// wantCaller replaces the check of the service credential.
func wantCaller(f func(r *http.Request) bool) fakeOption {
	return func(g *fakeGatehouse) { g.caller = f }
}

// answering replaces the answers.
func answering(f func(tok, hint string) (int, any)) fakeOption {
	return func(g *fakeGatehouse) { g.answer = f }
}

func newFake(t *testing.T, opts ...fakeOption) *fakeGatehouse {
	t.Helper()
	g := &fakeGatehouse{t: t, answer: knownCredentials(time.Now()),
		caller: func(r *http.Request) bool { return r.Header.Get("St2-Api-Key") == svcKey }}
	for _, o := range opts {
		o(g)
	}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGatehouse) serve(w http.ResponseWriter, r *http.Request) {
	g.calls.Add(1)
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost || r.URL.Path != "/auth/v1/introspect" || r.URL.RawQuery != "" {
		g.t.Errorf("fake Gatehouse got %s %s", r.Method, r.URL)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		g.t.Errorf("Content-Type %q", ct)
	}
	if !g.caller(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if err := r.ParseForm(); err != nil {
		g.t.Errorf("form: %v", err)
	}
	tok, hint := r.PostForm.Get("token"), r.PostForm.Get("token_type_hint")
	if tok == "" || (hint != "" && hint != "access_token" && hint != "api_key") { // no hint: a Bearer value
		g.t.Errorf("form %q", r.PostForm.Encode())
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	g.mu.Lock()
	g.asked = append(g.asked, introCall{tok, hint})
	g.mu.Unlock()
	status, body := g.answer(tok, hint)
	writeJSON(w, status, body)
}

// lastCall is the latest request's form.
func (g *fakeGatehouse) lastCall() introCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.asked) == 0 {
		return introCall{}
	}
	return g.asked[len(g.asked)-1]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if s, ok := v.(string); ok { // raw body
		io.WriteString(w, s)
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

// knownCredentials answers as Gatehouse would for joe's token and key.
func knownCredentials(now time.Time) func(tok, hint string) (int, any) {
	return func(tok, _ string) (int, any) {
		switch tok {
		case joeToken:
			return 200, activeToken("joe", now.Add(time.Hour), now.Add(-time.Minute))
		case joeKey:
			return 200, map[string]any{"active": true, "username": "joe", "sub": "joe",
				"token_type": "api_key", "iat": now.Add(-time.Hour).Unix(),
				"groups": []string{}, "metadata": map[string]any{}}
		}
		return 200, map[string]any{"active": false}
	}
}

func activeToken(user string, exp, iat time.Time) map[string]any {
	return map[string]any{"active": true, "username": user, "sub": user,
		"token_type": "access_token", "exp": exp.Unix(), "iat": iat.Unix(),
		"groups":   []string{"ops", "dev"},
		"metadata": map[string]any{"team": map[string]any{"name": "blue"}}}
}

// logBuffer is a debug-level logger whose output a test can search.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newMiddleware builds a middleware for g with the service's API key;
// edit changes the config first.
func newMiddleware(t *testing.T, url string, edit ...func(*authn.Config)) *authn.Middleware {
	t.Helper()
	cfg := authn.Config{URL: url, APIKey: svcKey}
	for _, e := range edit {
		e(&cfg)
	}
	mw, err := authn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

// result is what one request through the middleware got.
type result struct {
	status int
	header http.Header
	body   string
	called bool
	id     authn.Identity
	hasID  bool
}

// serve sends r through mw to a handler that records what it saw.
func serve(mw *authn.Middleware, r *http.Request) result {
	var res result
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res.called = true
		res.id, res.hasID = authn.FromContext(r.Context())
		io.WriteString(w, "ok")
	})
	rec := httptest.NewRecorder()
	mw.Handler(next).ServeHTTP(rec, r)
	res.status, res.header, res.body = rec.Code, rec.Header(), rec.Body.String()
	return res
}

// get builds a GET of target with headers given as name, value pairs.
func get(t *testing.T, target string, header ...string) *http.Request {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

func withToken(t *testing.T, tok string) *http.Request {
	return get(t, "/thing", "X-Auth-Token", tok)
}

// wantFault checks an error answer of the middleware.
func wantFault(t *testing.T, res result, status int, fault string) {
	t.Helper()
	if res.status != status {
		t.Errorf("status %d, want %d (body %s)", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(res.body), &body); err != nil || len(body) != 1 || body["faultstring"] != fault {
		t.Errorf("body %s, want {\"faultstring\": %q}", res.body, fault)
	}
	if res.called {
		t.Error("next handler was called")
	}
	if res.hasID {
		t.Error("identity in context")
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// noSecrets fails if s holds any test credential.
func noSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{svcKey, joeToken, joeKey, badToken, "SECRET"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds a secret (%q): %s", what, secret, s)
		}
	}
}
