package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// Users of every fixture; bcrypt at cost 4 keeps the tests fast.
var users = map[string]string{"joe": "joe:pass word", "admin": "admin-pass", "svc": "svc-pass"}

// fixture is a Service over a real SQLite store and a real htpasswd file.
type fixture struct {
	svc     *auth.Service
	store   store.Store
	backend *countingBackend
	clock   *clock
	log     *syncBuffer
}

func newFixture(t *testing.T, edit func(*auth.Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "htpasswd")
	for user, pw := range users {
		if err := htpasswd.SetUser(path, user, pw, 4); err != nil {
			t.Fatal(err)
		}
	}
	st, err := storeopen.Open(t.Context(), "sqlite:"+filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st, clock: &clock{}, log: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(f.log, nil))
	b, err := htpasswd.New(htpasswd.Config{FilePath: path}, logger)
	if err != nil {
		t.Fatal(err)
	}
	f.backend = &countingBackend{Backend: b}
	cfg := auth.Config{Store: st, Backend: f.backend, BackendName: "flat_file", Logger: logger, Now: f.clock.Now,
		AdminUsers: []string{"admin"}, ServiceUsers: []string{"svc"}}
	if edit != nil {
		edit(&cfg)
	}
	f.svc = auth.New(cfg)
	return f
}

// from is a context of a request from addr, as a transport makes it.
func (f *fixture) from(t *testing.T, addr string) context.Context {
	rq := &auth.Request{ID: "req-" + addr, ClientAddr: netip.MustParseAddr(addr), Route: "/test"}
	return f.svc.WithRequest(t.Context(), rq)
}

// token logs user in and issues a token.
func (f *fixture) token(t *testing.T, user string) auth.Issued {
	t.Helper()
	ctx := f.from(t, "192.0.2.1")
	id, err := f.svc.Login(ctx, user, users[user])
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	issued, err := f.svc.Issue(ctx, id, auth.TokenRequest{})
	if err != nil {
		t.Fatalf("issue for %s: %v", user, err)
	}
	return issued
}

func (f *fixture) principal(t *testing.T, user string) auth.Principal {
	t.Helper()
	p, err := f.svc.Check(t.Context(), authn.Credential{Kind: authn.KindToken, Value: f.token(t, user).Secret})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type countingBackend struct {
	backend.Backend
	calls atomic.Int64
}

func (c *countingBackend) Authenticate(ctx context.Context, user, password string) (backend.Identity, error) {
	c.calls.Add(1)
	return c.Backend.Authenticate(ctx, user, password)
}

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

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// audits returns the audit lines logged so far.
func (s *syncBuffer) audits(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["log"] == "audit" {
			out = append(out, m)
		}
	}
	return out
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"domain error", auth.Errorf(auth.EINVALID, "bad %s", "ttl"), auth.EINVALID},
		{"wrapped domain error", fmt.Errorf("issuing: %w", auth.Errorf(auth.EFORBIDDEN, "no")), auth.EFORBIDDEN},
		{"own code over its cause", &auth.Error{Code: auth.EUNAVAILABLE, Err: store.ErrNotFound}, auth.EUNAVAILABLE},
		{"store not found", fmt.Errorf("sqlite: %w", store.ErrNotFound), auth.ENOTFOUND},
		{"store conflict", store.ErrAlreadyExists, auth.ECONFLICT},
		{"store unavailable", store.Unavailable(io.ErrUnexpectedEOF), auth.EUNAVAILABLE},
		{"wrong password", backend.ErrInvalidCredentials, auth.EINVALIDCREDS},
		{"backend down", fmt.Errorf("ldap: dial: %w", backend.ErrUnavailable), auth.EUNAVAILABLE},
		{"backend busy", backend.ErrBusy, auth.EUNAVAILABLE},
		{"deadline", context.DeadlineExceeded, auth.EUNAVAILABLE},
		{"cancelled", context.Canceled, auth.EUNAVAILABLE},
		{"anything else", errors.New("boom"), auth.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.ErrorCode(tt.err); got != tt.want {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorIs(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code, another message", auth.Errorf(auth.EEXPIRED, "gone"), auth.ErrExpired, true},
		{"wrapped", fmt.Errorf("checking: %w", auth.ErrDisabled), auth.ErrDisabled, true},
		{"another code", auth.ErrExpired, auth.ErrUnknown, false},
		{"the cause still counts", &auth.Error{Code: auth.ETHROTTLED, Err: auth.ErrLoginLocked}, auth.ErrLoginLocked, true},
		{"not a domain error", store.ErrNotFound, auth.ErrUnknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v", tt.err, tt.target, got)
			}
		})
	}
}

func TestLoginRefusals(t *testing.T) {
	tests := []struct {
		name, user, password string
		asksBackend          bool
	}{
		{"wrong password", "joe", "wrong", true},
		{"unknown user", "ghost", "joe:pass word", true},
		{"unreadable credentials", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			_, err := f.svc.Login(f.from(t, "192.0.2.1"), tt.user, tt.password)
			if code := auth.ErrorCode(err); code != auth.EINVALIDCREDS {
				t.Fatalf("code %q (%v), want %q", code, err, auth.EINVALIDCREDS)
			}
			if asked := f.backend.calls.Load() > 0; asked != tt.asksBackend {
				t.Errorf("backend asked: %v, want %v", asked, tt.asksBackend)
			}
			a := f.log.audits(t)
			if len(a) != 1 || a[0]["event"] != "login" || a[0]["outcome"] != "invalid" || a[0]["user"] != tt.user ||
				a[0]["remote"] != "192.0.2.1" || a[0]["route"] != "/test" || a[0]["backend"] != "flat_file" {
				t.Errorf("audit %v", a)
			}
		})
	}
}

// TestLoginReservation: attempts reserve their place before the password
// is checked, so N concurrent wrong passwords cost at most the limit's
// checks, and a locked account is refused before any check, with
// ErrLoginLocked and a wait; only from the address that locked it.
func TestLoginReservation(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.Throttle = auth.Throttle{LoginFailures: 3} })
	ctx := f.from(t, "192.0.2.1")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _, _ = f.svc.Login(ctx, "joe", "wrong") })
	}
	wg.Wait()
	if n := f.backend.calls.Load(); n > 3 {
		t.Fatalf("20 concurrent wrong passwords cost %d checks, want at most 3", n)
	}
	before := f.backend.calls.Load()
	_, err := f.svc.Login(ctx, "joe", users["joe"])
	if auth.ErrorCode(err) != auth.ETHROTTLED || !errors.Is(err, auth.ErrLoginLocked) {
		t.Fatalf("right password on a locked account: %v", err)
	}
	if wait := auth.ErrorRetryAfter(err); wait <= 0 || wait > auth.DefaultThrottle().LoginWindow {
		t.Errorf("RetryAfter %v", wait)
	}
	if f.backend.calls.Load() != before {
		t.Error("a locked account's password was checked")
	}
	if _, err := f.svc.Login(f.from(t, "192.0.2.2"), "joe", users["joe"]); err != nil {
		t.Errorf("another address: %v", err)
	}
	f.clock.Advance(auth.DefaultThrottle().LoginWindow + time.Second)
	if _, err := f.svc.Login(ctx, "joe", users["joe"]); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestCheckAndLookup(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.TokenTTL = time.Hour })
	issued := f.token(t, "joe")
	cred := authn.Credential{Kind: authn.KindToken, Location: authn.InQuery, Value: issued.Secret}
	p, err := f.svc.Check(t.Context(), cred)
	if err != nil || p.User != "joe" || p.Location != authn.InQuery || p.TokenHash != issued.Token.Hash {
		t.Fatalf("Check: %+v, %v", p, err)
	}
	if p, err := f.svc.Lookup(t.Context(), issued.Secret, auth.HintAPIKey); err != nil || p.User != "joe" {
		t.Fatalf("Lookup with the wrong hint: %+v, %v", p, err)
	}
	unknown := authn.Credential{Kind: authn.KindToken, Value: "no-such-token"}
	if _, err := f.svc.Check(t.Context(), unknown); !errors.Is(err, auth.ErrUnknown) {
		t.Errorf("unknown token: %v", err)
	}
	if _, err := f.svc.Lookup(t.Context(), strings.Repeat("x", 5000), ""); err != auth.ErrInactive {
		t.Errorf("a value no one was ever given: %v", err)
	}
	f.clock.Advance(time.Hour + time.Second)
	if _, err := f.svc.Check(t.Context(), cred); auth.ErrorCode(err) != auth.EEXPIRED {
		t.Errorf("expired token: %v", err)
	}
	if _, err := f.svc.Lookup(t.Context(), issued.Secret, ""); err != auth.ErrInactive {
		t.Errorf("Lookup of an expired token: %v", err)
	}
}

func TestIssueOnBehalf(t *testing.T) {
	tests := []struct {
		name, caller, user string
		impersonateAdmins  bool
		wantCode           string
	}{
		{"service for a user", "svc", "joe", false, ""},
		{"service for an admin", "svc", "admin", false, auth.EFORBIDDEN},
		{"service for an admin, allowed", "svc", "admin", true, ""},
		{"not a service", "joe", "admin", false, auth.EINVALID},
		{"not a service, for itself", "joe", "joe", false, auth.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *auth.Config) { c.ImpersonateAdmins = tt.impersonateAdmins })
			issued, err := f.svc.Issue(t.Context(), backend.Identity{Username: tt.caller}, auth.TokenRequest{User: tt.user})
			if code := auth.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("code %q (%v), want %q", code, err, tt.wantCode)
			}
			if err == nil && (issued.Token.User != tt.user || issued.Token.Metadata["impersonated_by"] != tt.caller) {
				t.Errorf("token %+v", issued.Token)
			}
		})
	}
}

// TestLockedKey: a key an admin disables for its owner is locked; the
// owner may not enable it again, an admin may.
func TestLockedKey(t *testing.T) {
	f := newFixture(t, nil)
	joe, admin := f.principal(t, "joe"), f.principal(t, "admin")
	k, secret, err := f.svc.CreateAPIKey(t.Context(), joe, auth.NewAPIKey{})
	if err != nil || secret == nil {
		t.Fatalf("create: %v", err)
	}
	off, on := false, true
	if k, err = f.svc.UpdateAPIKey(t.Context(), admin, k.ID, auth.APIKeyUpdate{Enabled: &off}); err != nil || !k.Locked {
		t.Fatalf("admin disables: %+v, %v", k, err)
	}
	keyCred := authn.Credential{Kind: authn.KindAPIKey, Value: *secret}
	if _, err := f.svc.Check(t.Context(), keyCred); auth.ErrorCode(err) != auth.EDISABLED {
		t.Errorf("disabled key: %v", err)
	}
	if _, err := f.svc.UpdateAPIKey(t.Context(), joe, k.ID, auth.APIKeyUpdate{Enabled: &on}); auth.ErrorCode(err) != auth.EFORBIDDEN {
		t.Errorf("owner enables a locked key: %v", err)
	}
	if k, err = f.svc.UpdateAPIKey(t.Context(), admin, k.ID, auth.APIKeyUpdate{Enabled: &on}); err != nil || k.Locked || !k.Enabled {
		t.Fatalf("admin enables: %+v, %v", k, err)
	}
	other := f.principal(t, "svc")
	if _, err := f.svc.APIKey(t.Context(), other, k.ID); auth.ErrorCode(err) != auth.ENOTFOUND {
		t.Errorf("another user's key: %v", err)
	}
}

// TestAuditOutsideARequest: work the Service does by itself has audit
// lines without a client address or request id; a request's have both.
func TestAuditOutsideARequest(t *testing.T) {
	f := newFixture(t, nil)
	admin := f.principal(t, "admin")
	f.token(t, "joe")
	if _, err := f.svc.RevokeUser(f.from(t, "2001:db8::1"), admin, "joe", true); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Logout(context.Background(), admin); err != nil {
		t.Fatal(err)
	}
	var revokedAll, loggedOut map[string]any
	for _, a := range f.log.audits(t) {
		switch {
		case a["event"] == "token_revoked" && a["how"] == "all":
			revokedAll = a
		case a["event"] == "token_revoked" && a["how"] == "logout":
			loggedOut = a
		}
	}
	if revokedAll["remote"] != "2001:db8::1" || revokedAll["request_id"] != "req-2001:db8::1" || revokedAll["count"] != 1.0 {
		t.Errorf("revoke all in a request: %v", revokedAll)
	}
	if _, ok := loggedOut["remote"]; ok || loggedOut["user"] != "admin" {
		t.Errorf("logout outside a request: %v", loggedOut)
	}
	if _, ok := loggedOut["request_id"]; ok {
		t.Errorf("logout outside a request has a request id: %v", loggedOut)
	}
}

// downBackend is a directory that does not answer: every check blocks
// until release is closed, then reports the backend unavailable.
type downBackend struct {
	backend.Backend
	entered chan struct{}
	release chan struct{}
	calls   atomic.Int64
}

func (d *downBackend) Authenticate(ctx context.Context, user, password string) (backend.Identity, error) {
	d.calls.Add(1)
	d.entered <- struct{}{}
	<-d.release
	return backend.Identity{}, fmt.Errorf("no answer: %w", backend.ErrUnavailable)
}

// An attempt that waited for in-flight ones and is woken because they
// found the backend down is answered 503 at once: a check of its own would
// add the backend's whole timeout to the time it already waited (make
// faults, LDAP frozen, caught logins taking the wait plus network_timeout).
func TestWaiterGivesUpWhenTheBackendIsDown(t *testing.T) {
	down := &downBackend{entered: make(chan struct{}, 8), release: make(chan struct{})}
	f := newFixture(t, func(c *auth.Config) {
		c.Throttle = auth.Throttle{LoginFailures: 2}
		down.Backend = c.Backend
		c.Backend = down
	})
	ctx := f.from(t, "192.0.2.1")
	errs := make(chan error, 3)
	for range 2 {
		go func() { _, err := f.svc.Login(ctx, "joe", users["joe"]); errs <- err }()
		<-down.entered
	}
	// Both places are held: a third attempt waits for them.
	go func() { _, err := f.svc.Login(ctx, "joe", users["joe"]); errs <- err }()
	for f.svc.LoginsWaiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(down.release)
	for range 3 {
		if err := <-errs; auth.ErrorCode(err) != auth.EUNAVAILABLE {
			t.Errorf("login while the backend is down: %v, want EUNAVAILABLE", err)
		}
	}
	if n := down.calls.Load(); n != 2 {
		t.Errorf("the backend was asked %d times, want 2: the waiter ran a check of its own", n)
	}
}
