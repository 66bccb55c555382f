package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/chain"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// testCost keeps bcrypt fast in tests; the benchmarks use cost 10.
const testCost = 4

// Users every harness has. Passwords hold a colon and a space on purpose.
var testUsers = map[string]string{
	"joe":   "joe:pass word",
	"admin": "admin-pass",
	"svc":   "svc-pass",
}

// harness is a real Gatehouse API over a real store and a real htpasswd file.
type harness struct {
	t        *testing.T
	srv      *httptest.Server
	api      *httpapi.Server
	store    store.Store
	dbURL    string
	htpasswd string
	cfg      httpapi.Config
	clock    *clock
	// wrapStore and wrapBackend, when set, wrap the real ones (to count calls).
	wrapStore   func(store.Store) store.Store
	wrapBackend func(backend.Backend) backend.Backend
	stopRun     func()
	// local chains a local backend (over the store) before the htpasswd
	// file, as "local" then "flat_file", and enables the user routes.
	local bool
}

// withLocal configures a local backend in front of the htpasswd file.
func withLocal(h *harness) { h.local = true }

// clock is a settable time source.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type option func(*harness)

// onPostgres makes the harness use a fresh PostgreSQL schema.
func onPostgres(h *harness) { h.dbURL = pgtest.URL(h.t) }

func withConfig(f func(*httpapi.Config)) option {
	return func(h *harness) { f(&h.cfg) }
}

func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, htpasswd: filepath.Join(dir, "htpasswd"), clock: &clock{},
		dbURL: "sqlite:" + filepath.Join(dir, "gatehouse.db")}
	for user, pw := range testUsers {
		if err := htpasswd.SetUser(h.htpasswd, user, pw, testCost); err != nil {
			t.Fatal(err)
		}
	}
	h.cfg = httpapi.Config{
		TokenTTL:        24 * time.Hour,
		ServiceTokenTTL: 24 * time.Hour,
		APIURL:          "http://127.0.0.1:9101",
		AdminUsers:      []string{"admin"},
		ServiceUsers:    []string{"svc"},
		Now:             h.clock.Now,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(h)
	}
	h.start()
	return h
}

// start opens the store and backend and serves; restart calls it again.
func (h *harness) start() {
	t := h.t
	st, err := storeopen.Open(t.Context(), h.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := htpasswd.New(htpasswd.Config{FilePath: h.htpasswd}, h.cfg.Logger)
	if err != nil {
		t.Fatal(err)
	}
	h.store = st
	h.cfg.Store, h.cfg.Backend = st, b
	if h.local {
		h.cfg.Backend, h.cfg.Local = h.localChain(st, b)
	}
	if h.wrapStore != nil {
		h.cfg.Store = h.wrapStore(st)
	}
	if h.wrapBackend != nil {
		h.cfg.Backend = h.wrapBackend(b)
	}
	h.api = httpapi.NewServer(h.cfg)
	h.srv = httptest.NewServer(h.api)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.api.Run(ctx) }()
	h.stopRun = func() { stop(); <-done }
	t.Cleanup(func() { h.srv.Close(); h.stopRun(); st.Close() })
}

// restart stops the server and closes the store, then opens both anew on
// the same database, as a process restart would.
func (h *harness) restart() {
	h.srv.Close()
	h.stopRun()
	if err := h.store.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.start()
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (r response) fault(t *testing.T) string {
	t.Helper()
	f, _ := r.json(t)["faultstring"].(string)
	return f
}

// req describes one request.
type req struct {
	method, path string
	header       map[string]string
	body         string
}

// do sends r, checks the invariants every response must hold, validates the
// response against api/openapi.yaml and returns it.
func (h *harness) do(r req) response {
	h.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequestWithContext(h.t.Context(), r.method, h.srv.URL+r.path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := h.srv.Client().Do(hr)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	h.checkInvariants(resp, b)
	validateAgainstSpec(h.t, hr, resp, b)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (h *harness) checkInvariants(resp *http.Response, body []byte) {
	h.t.Helper()
	if resp.Header.Get("X-Request-ID") == "" {
		h.t.Errorf("%s %s: no X-Request-ID", resp.Request.Method, resp.Request.URL.Path)
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
		h.t.Errorf("%s %s: status %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body)
	}
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			h.t.Errorf("error with Content-Type %q", ct)
		}
		var f map[string]any
		err := json.Unmarshal(body, &f)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests && string(body) == `{"faultstring":"Too many failed attempts. Try again later."}`:
			// A locked account or address: the same body on every route.
		case isRFCEndpoint(resp.Request.URL.Path) && resp.StatusCode < 500 && resp.StatusCode != 404:
			if err != nil || f["error"] == nil {
				h.t.Errorf("RFC error body %q is not {\"error\": …}", body)
			}
		case err != nil || len(f) != 1 || f["faultstring"] == nil:
			h.t.Errorf("error body %q is not {\"faultstring\": …}", body)
		}
	}
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// login gets a token for a test user and returns the whole 201 body.
func (h *harness) login(user string) map[string]any {
	h.t.Helper()
	r := h.do(req{method: "POST", path: "/auth/v1/tokens",
		header: map[string]string{"Authorization": basic(user, testUsers[user])}})
	if r.status != http.StatusCreated {
		h.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	return r.json(h.t)
}

// tokenFor returns a fresh token of user.
func (h *harness) tokenFor(user string) string {
	h.t.Helper()
	return h.login(user)["token"].(string)
}

// createKey makes an API key as the holder of token and returns the 201 body.
func (h *harness) createKey(tok string, body string) map[string]any {
	h.t.Helper()
	r := h.do(req{method: "POST", path: "/api/v1/apikeys", body: body,
		header: map[string]string{"X-Auth-Token": tok, "Content-Type": "application/json"}})
	if r.status != http.StatusCreated {
		h.t.Fatalf("create key: %d %s", r.status, r.body)
	}
	return r.json(h.t)
}

func asToken(tok string) map[string]string { return map[string]string{"X-Auth-Token": tok} }

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(bytes.TrimSpace(b))
}

func (r response) list(t *testing.T) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("body %q is not a JSON array: %v", r.body, err)
	}
	return l
}

// json0 is the first element of a list body.
func (r response) json0(t *testing.T) map[string]any {
	t.Helper()
	l := r.list(t)
	if len(l) == 0 {
		t.Fatalf("empty list")
	}
	return l[0]
}

// isRFCEndpoint: introspection and revocation answer errors in RFC 6749's
// shape, {"error": …, "error_description": …}.
func isRFCEndpoint(path string) bool {
	return path == "/auth/v1/introspect" || path == "/auth/v1/revoke"
}

// localChain puts a local backend over st (cheap argon2id) before the
// htpasswd backend b.
func (h *harness) localChain(st store.Store, b backend.Backend) (backend.Backend, httpapi.Hasher) {
	cfg := local.DefaultConfig()
	cfg.Params = local.Params{Memory: 64, Iterations: 1, Parallelism: 1}
	lb, err := local.New(cfg, st, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := chain.New([]chain.Link{{Name: "local", Backend: lb}, {Name: "flat_file", Backend: b}}, nil, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return c, lb
}
