package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// countingStore counts credential lookups that reach the database.
type countingStore struct {
	store.Store
	lookups atomic.Int64
}

func (c *countingStore) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	c.lookups.Add(1)
	return c.Store.TokenByHash(ctx, hash)
}

func (c *countingStore) APIKeyByHash(ctx context.Context, hash string) (store.APIKey, error) {
	c.lookups.Add(1)
	return c.Store.APIKeyByHash(ctx, hash)
}

// countingBackend counts password checks.
type countingBackend struct {
	backend.Backend
	calls atomic.Int64
}

func (c *countingBackend) Authenticate(ctx context.Context, user, password string) (backend.Identity, error) {
	c.calls.Add(1)
	return c.Backend.Authenticate(ctx, user, password)
}

func form(tok, hint string) string {
	v := url.Values{"token": {tok}}
	if hint != "" {
		v.Set("token_type_hint", hint)
	}
	return v.Encode()
}

func (h *harness) introspect(caller map[string]string, body string) response {
	h.t.Helper()
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range caller {
		hdr[k] = v
	}
	return h.do(req{method: "POST", path: "/auth/v1/introspect", header: hdr, body: body})
}

func TestIntrospectActive(t *testing.T) {
	h := newHarness(t)
	svc, joe := asToken(h.tokenFor("svc")), h.login("joe")
	joeTok := joe["token"].(string)
	key := h.createKey(joeTok, `{"metadata": {"ci": true}}`)["key"].(string)

	r := h.introspect(svc, form(joeTok, ""))
	m := r.json(t)
	exp, _ := time.Parse(time.RFC3339Nano, joe["expiry"].(string))
	if r.status != 200 || m["active"] != true || m["username"] != "joe" || m["sub"] != "joe" ||
		m["token_type"] != "access_token" || int64(m["exp"].(float64)) != exp.Unix() || mustJSON(m["groups"]) != "[]" {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("no Cache-Control: no-store")
	}
	for _, hint := range []string{"", "api_key", "access_token"} {
		r = h.introspect(svc, form(key, hint))
		m = r.json(t)
		if r.status != 200 || m["active"] != true || m["token_type"] != "api_key" || m["exp"] != nil ||
			mustJSON(m["metadata"]) != `{"ci":true}` {
			t.Fatalf("key with hint %q: %d %s", hint, r.status, r.body)
		}
	}
	if r := h.introspect(svc, form(joeTok, "api_key")); r.json(t)["active"] != true {
		t.Fatalf("wrong hint did not find the token: %s", r.body)
	}
}

func TestIntrospectInactiveIsOneAnswer(t *testing.T) {
	h := newHarness(t)
	svc := asToken(h.tokenFor("svc"))
	joeTok := h.tokenFor("joe")
	short := h.do(req{method: "POST", path: "/tokens", body: `{"ttl": 1}`,
		header: map[string]string{"Authorization": basic("joe", testUsers["joe"])}}).json(t)["token"].(string)
	if r := h.introspect(svc, form(short, "")); r.json(t)["active"] != true {
		t.Fatalf("short token not active at first: %s", r.body) // and now cached
	}
	revoked := h.tokenFor("joe")
	if r := h.do(req{method: "DELETE", path: "/auth/v1/tokens/current", header: asToken(revoked)}); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	created := h.createKey(joeTok, `{}`)
	disabled := created["key"].(string)
	h.do(req{method: "PUT", path: "/api/v1/apikeys/" + created["id"].(string), header: asToken(joeTok), body: `{"enabled": false}`})
	h.clock.Advance(2 * time.Second)
	cases := map[string]string{
		"unknown":         "0123456789abcdef0123456789abcdef",
		"expired":         short,
		"revoked":         revoked,
		"disabled key":    disabled,
		"garbage":         "not a token at all \x00\xff",
		"SQL":             "' OR '1'='1",
		"LDAP":            "*)(uid=*))(|(uid=*",
		"huge":            strings.Repeat("a", 10000),
		"key as hint key": "nope",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			r := h.introspect(svc, form(tok, "api_key"))
			if r.status != 200 || string(r.body) != `{"active":false}` {
				t.Fatalf("%d %q", r.status, r.body)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Error("no Cache-Control: no-store")
			}
		})
	}
}

func TestIntrospectCaller(t *testing.T) {
	var be *countingBackend
	h := newHarness(t, func(h *harness) {
		h.wrapBackend = func(b backend.Backend) backend.Backend { be = &countingBackend{Backend: b}; return be }
	})
	tok := h.tokenFor("joe")
	adminKey := h.createKey(h.tokenFor("admin"), `{}`)["key"].(string)
	tests := []struct {
		name   string
		caller map[string]string
		body   string
		status int
		code   string
	}{
		{"no credential", nil, form(tok, ""), 401, "invalid_client"},
		{"bad token", asToken("0123456789abcdef0123456789abcdef"), form(tok, ""), 401, "invalid_client"},
		{"bad password", map[string]string{"Authorization": basic("svc", "nope")}, form(tok, ""), 401, "invalid_client"},
		{"not privileged", asToken(tok), form(tok, ""), 403, "insufficient_scope"},
		{"admin key", map[string]string{"St2-Api-Key": adminKey}, form(tok, ""), 200, ""},
		{"service by Basic", map[string]string{"Authorization": basic("svc", testUsers["svc"])}, form(tok, ""), 200, ""},
		{"missing token", asToken(h.tokenFor("svc")), "", 400, "invalid_request"},
		{"JSON body", map[string]string{"X-Auth-Token": h.tokenFor("svc"), "Content-Type": "application/json"}, `{"token": "x"}`, 200, ""},
		{"text body", map[string]string{"X-Auth-Token": h.tokenFor("svc"), "Content-Type": "text/plain"}, "token=x", 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.introspect(tt.caller, tt.body)
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tt.code != "" && r.json(t)["error"] != tt.code {
				t.Errorf("error %v, want %s", r.json(t)["error"], tt.code)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Error("no Cache-Control: no-store")
			}
		})
	}
	before := be.calls.Load()
	for range 20 {
		if r := h.introspect(map[string]string{"Authorization": basic("svc", testUsers["svc"])}, form(tok, "")); r.status != 200 {
			t.Fatal(r.status)
		}
	}
	if n := be.calls.Load() - before; n != 0 {
		t.Errorf("20 Basic introspections cost %d password checks, want 0 (remembered)", n)
	}
}

func TestValidTokenIsAnsweredFromCache(t *testing.T) {
	var st *countingStore
	h := newHarness(t, func(h *harness) {
		h.wrapStore = func(s store.Store) store.Store { st = &countingStore{Store: s}; return st }
	})
	tok := h.tokenFor("joe")
	get := func() int { return h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)}).status }
	if get() != 200 {
		t.Fatal("me")
	}
	before := st.lookups.Load()
	for range 50 {
		if get() != 200 {
			t.Fatal("me")
		}
	}
	if n := st.lookups.Load() - before; n != 0 {
		t.Errorf("50 validations of a cached token made %d database lookups", n)
	}
	// Expiry is checked on every read: a cached token is refused once expired.
	h.clock.Advance(24*time.Hour + time.Second)
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)}); r.status != 401 || r.fault(t) != "Unauthorized - Token has expired." {
		t.Fatalf("expired cached token: %d %s", r.status, r.body)
	}
}

func TestVerify(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor("joe")
	key := h.createKey(tok, `{}`)["key"].(string)
	revoked := h.tokenFor("joe")
	h.do(req{method: "DELETE", path: "/auth/v1/tokens/current", header: asToken(revoked)})
	tests := []struct {
		name, method string
		header       map[string]string
		status       int
		fault        string
	}{
		{"header token", "GET", asToken(tok), 200, ""},
		{"header key", "GET", map[string]string{"St2-Api-Key": key}, 200, ""},
		{"nginx original URI", "GET", map[string]string{"X-Original-URI": "/hooks/x?st2-api-key=" + url.QueryEscape(key)}, 200, ""},
		// auth.forward_auth_headers is nginx by default: Traefik's header
		// could come from a client behind nginx, and is not read.
		{"forwarded URI not read in nginx mode", "GET", map[string]string{"X-Forwarded-Uri": "/app?x-auth-token=" + tok}, 401, "Unauthorized - One of Token or API key required."},
		{"bearer", "GET", map[string]string{"Authorization": "Bearer " + tok}, 200, ""},
		{"bearer key", "GET", map[string]string{"Authorization": "Bearer " + key}, 200, ""},
		{"original method POST", "POST", asToken(tok), 200, ""},
		{"nothing", "GET", map[string]string{"X-Original-URI": "/app?foo=bar"}, 401, "Unauthorized - One of Token or API key required."},
		{"revoked", "GET", asToken(revoked), 401, "Unauthorized"},
		{"header beats URI", "GET", map[string]string{"X-Auth-Token": revoked, "X-Original-URI": "/?x-auth-token=" + tok}, 401, "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(req{method: tt.method, path: "/auth/v1/verify", header: tt.header})
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tt.status == 200 && (r.header.Get("X-Auth-User") != "joe" || r.header.Get("X-Auth-Groups") != "") {
				t.Errorf("headers %v", r.header)
			}
			if tt.fault != "" && r.fault(t) != tt.fault {
				t.Errorf("faultstring %q", r.fault(t))
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	h := newHarness(t)
	joe, admin := h.tokenFor("joe"), h.tokenFor("admin")
	alive := func(tok string) bool {
		return h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)}).status == 200
	}
	revoke := func(caller, tok string) {
		t.Helper()
		r := h.do(req{method: "POST", path: "/auth/v1/revoke", body: form(tok, ""), header: map[string]string{
			"X-Auth-Token": caller, "Content-Type": "application/x-www-form-urlencoded"}})
		if r.status != 200 || string(r.body) != "{}" {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
	}
	mine := h.tokenFor("joe")
	revoke(joe, mine)
	if alive(mine) {
		t.Error("own token alive after revoke")
	}
	adminsOther := h.tokenFor("admin")
	revoke(joe, adminsOther) // 200, but not joe's to revoke
	if !alive(adminsOther) {
		t.Error("joe revoked admin's token")
	}
	revoke(admin, joe) // admins may revoke anyone's
	if alive(joe) {
		t.Error("admin could not revoke joe's token")
	}
	revoke(admin, "0123456789abcdef0123456789abcdef") // unknown: still 200
	key := h.createKey(admin, `{}`)["key"].(string)
	revoke(admin, key)
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{"St2-Api-Key": key}}); r.fault(t) != "Unauthorized - API key is disabled." {
		t.Errorf("revoked key: %d %s", r.status, r.body)
	}
}

func TestLogoutAndRevokeUser(t *testing.T) {
	h := newHarness(t)
	admin := h.tokenFor("admin")
	key := h.createKey(admin, `{}`)["key"].(string)
	if r := h.do(req{method: "DELETE", path: "/auth/v1/tokens/current", header: map[string]string{"St2-Api-Key": key}}); r.status != 400 {
		t.Errorf("logout with a key: %d %s", r.status, r.body)
	}
	joes := []string{h.tokenFor("joe"), h.tokenFor("joe"), h.tokenFor("joe")}
	if r := h.do(req{method: "DELETE", path: "/auth/v1/users/joe/tokens", header: asToken(joes[0])}); r.status != 403 {
		t.Errorf("joe revoked everyone's tokens: %d", r.status)
	}
	r := h.do(req{method: "DELETE", path: "/auth/v1/users/joe/tokens", header: asToken(admin)})
	if r.status != 200 || mustJSON(r.json(t)) != `{"revoked":3,"user":"joe"}` {
		t.Fatalf("revoke user: %d %s", r.status, r.body)
	}
	for _, tok := range joes {
		if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)}); r.status != 401 {
			t.Errorf("joe's token alive after revoking all: %d", r.status)
		}
	}
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(admin)}); r.status != 200 {
		t.Errorf("admin's token revoked too: %d", r.status)
	}
}

func TestMe(t *testing.T) {
	h := newHarness(t)
	login := h.login("joe")
	tok := login["token"].(string)
	key := h.createKey(tok, `{}`)["key"].(string)
	exp, _ := time.Parse(time.RFC3339Nano, login["expiry"].(string))
	r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)})
	want := fmt.Sprintf(`{"authentication":{"location":"header","method":"authentication token","token_expire":%q},"groups":[],"metadata":{},"scope":"write","username":"joe"}`,
		exp.UTC().Format("2006-01-02T15:04:05Z"))
	if got := mustJSON(r.json(t)); r.status != 200 || got != want {
		t.Fatalf("token: %d\n got %s\nwant %s", r.status, got, want)
	}
	r = h.do(req{method: "GET", path: "/auth/v1/me?st2-api-key=" + key})
	want = `{"authentication":{"location":"query","method":"API key"},"groups":[],"metadata":{},"scope":"write","username":"joe"}`
	if got := mustJSON(r.json(t)); r.status != 200 || got != want {
		t.Fatalf("key: %d\n got %s\nwant %s", r.status, got, want)
	}
	r = h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{"Authorization": basic("joe", testUsers["joe"])}})
	want = `{"authentication":{"location":"header","method":"password"},"groups":[],"metadata":{},"scope":"write","username":"joe"}`
	if got := mustJSON(r.json(t)); r.status != 200 || got != want {
		t.Fatalf("basic: %d\n got %s\nwant %s", r.status, got, want)
	}
	if r := h.do(req{method: "GET", path: "/auth/v1/me"}); r.status != http.StatusUnauthorized {
		t.Fatalf("no credential: %d", r.status)
	}
}

func TestRFCEndpointEdges(t *testing.T) {
	h := newHarness(t)
	r := h.introspect(map[string]string{"Authorization": basic("svc", "wrong")}, form("x", ""))
	if r.status != 401 || r.header.Get("WWW-Authenticate") != `Basic realm="gatehouse"` {
		t.Errorf("Basic failure: %d %v", r.status, r.header)
	}
	big := "token=" + strings.Repeat("a", 70<<10)
	r = h.introspect(asToken(h.tokenFor("svc")), big)
	if r.status != 413 || r.json(t)["error"] != "invalid_request" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("oversized: %d %s %v", r.status, r.body, r.header)
	}
	if r := h.do(req{method: "DELETE", path: "/auth/v1/users//tokens", header: asToken(h.tokenFor("admin"))}); r.status != 404 {
		t.Errorf("empty user: %d %s", r.status, r.body)
	}
}

// TestExpiredTokensArePurged: the background loop deletes expired tokens
// (and old throttle counts) without anyone asking.
func TestExpiredTokensArePurged(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) { c.PurgeInterval = 20 * time.Millisecond }))
	short := h.do(req{method: "POST", path: "/tokens", body: `{"ttl": 1}`,
		header: map[string]string{"Authorization": basic("joe", testUsers["joe"])}}).json(t)["token"].(string)
	long := h.tokenFor("joe")
	h.clock.Advance(2 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := h.store.TokenByHash(t.Context(), token.HashToken(short))
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired token still stored: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := h.store.TokenByHash(t.Context(), token.HashToken(long)); err != nil {
		t.Fatalf("a live token was purged: %v", err)
	}
}
