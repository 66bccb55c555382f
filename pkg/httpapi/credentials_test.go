package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestCredentialSourcesAndOrder uses GET /api/v1/apikeys as the protected
// route: it answers 200 for any authenticated caller.
func TestCredentialSourcesAndOrder(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor("joe")
	key := h.createKey(tok, `{}`)["key"].(string)
	const bogus = "0123456789abcdef0123456789abcdef"
	q := func(k, v string) string { return "/api/v1/apikeys?" + url.Values{k: {v}}.Encode() }
	tests := []struct {
		name   string
		path   string
		header map[string]string
		status int
		fault  string
	}{
		{"header token", "/api/v1/apikeys", map[string]string{"X-Auth-Token": tok}, 200, ""},
		{"header token lower-case name", "/api/v1/apikeys", map[string]string{"x-auth-token": tok}, 200, ""},
		{"header key", "/api/v1/apikeys", map[string]string{"St2-Api-Key": key}, 200, ""},
		{"query token", q("x-auth-token", tok), nil, 200, ""},
		{"query key", q("st2-api-key", key), nil, 200, ""},
		{"nothing", "/api/v1/apikeys", nil, 401, "Unauthorized - One of Token or API key required."},
		{"empty header is absent", "/api/v1/apikeys", map[string]string{"X-Auth-Token": ""}, 401, "Unauthorized - One of Token or API key required."},
		{"query name is case-sensitive", q("X-Auth-Token", tok), nil, 401, "Unauthorized - One of Token or API key required."},
		{"unknown token", "/api/v1/apikeys", map[string]string{"X-Auth-Token": bogus}, 401, "Unauthorized"},
		{"unknown key", "/api/v1/apikeys", map[string]string{"St2-Api-Key": "nope"}, 401, "Unauthorized"},
		{"token wins over key", "/api/v1/apikeys", map[string]string{"X-Auth-Token": tok, "St2-Api-Key": "nope"}, 200, ""},
		{"bad token, good key: token still wins", "/api/v1/apikeys", map[string]string{"X-Auth-Token": bogus, "St2-Api-Key": key}, 401, "Unauthorized"},
		{"header key wins over query token", q("x-auth-token", bogus), map[string]string{"St2-Api-Key": key}, 200, ""},
		{"query token wins over query key", "/api/v1/apikeys?x-auth-token=" + bogus + "&st2-api-key=" + key, nil, 401, "Unauthorized"},
		{"SQL in token", "/api/v1/apikeys", map[string]string{"X-Auth-Token": "' OR 1=1 --"}, 401, "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(req{method: "GET", path: tt.path, header: tt.header})
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.fault != "" && r.fault(t) != tt.fault {
				t.Errorf("faultstring %q, want %q", r.fault(t), tt.fault)
			}
		})
	}
}

func TestExpiredTokenAndDisabledKey(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor("joe")
	created := h.createKey(tok, `{}`)
	key, id := created["key"].(string), created["id"].(string)
	r := h.do(req{method: "PUT", path: "/api/v1/apikeys/" + id, header: asToken(tok), body: `{"enabled": false}`})
	if r.status != 200 || r.json(t)["enabled"] != false {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	r = h.do(req{method: "GET", path: "/api/v1/apikeys", header: map[string]string{"St2-Api-Key": key}})
	if r.status != http.StatusUnauthorized || r.fault(t) != "Unauthorized - API key is disabled." {
		t.Fatalf("disabled key: %d %s", r.status, r.body)
	}
	h.clock.Advance(24*time.Hour + time.Second)
	r = h.do(req{method: "GET", path: "/api/v1/apikeys", header: asToken(tok)})
	if r.status != http.StatusUnauthorized || r.fault(t) != "Unauthorized - Token has expired." {
		t.Fatalf("expired token: %d %s", r.status, r.body)
	}
}
