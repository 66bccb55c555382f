package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestDuplicateKeysAreRefused: a JSON body holding the same key twice in
// one object, at any depth, is a 400 that names the key (issue 10, item
// 12b: {"ttl":999999999,"ttl":1} passed, and which value counts depends
// on the parser). The same key in different objects is fine.
func TestDuplicateKeysAreRefused(t *testing.T) {
	h := newHarness(t)
	joe := basic("joe", testUsers["joe"])
	tok := h.tokenFor("joe")
	const fault = `Failed to parse request body: duplicate key `
	refused := []struct{ name, path, body, key string }{
		{"ttl twice", "/auth/v1/tokens", `{"ttl":999999999,"ttl":1}`, `"ttl"`},
		{"ttl twice, last good", "/tokens", `{"ttl": 0, "ttl": 60}`, `"ttl"`},
		{"escaped spelling", "/auth/v1/tokens", `{"ttl": 60, "t\u0074l": 60}`, `"ttl"`},
		{"unknown key twice", "/auth/v1/tokens", `{"x": 1, "ttl": 60, "x": 1}`, `"x"`},
		{"token twice", "/auth/v1/tokens/validate", `{"token": "a", "token": "b"}`, `"token"`},
		{"nested in metadata", "/api/v1/apikeys", `{"metadata": {"a": 1, "b": {"c": 1, "c": 2}}}`, `"c"`},
		{"in an object in a list", "/api/v1/apikeys", `{"metadata": {"l": [1, {"k": 1, "k": 1}]}}`, `"k"`},
		{"enabled twice", "/api/v1/apikeys", `{"enabled": true, "enabled": false}`, `"enabled"`},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Content-Type": "application/json", "Authorization": joe}
			if tt.path != "/auth/v1/tokens" && tt.path != "/tokens" {
				hdr = map[string]string{"Content-Type": "application/json", "X-Auth-Token": tok}
			}
			r := h.hostile(req{method: "POST", path: tt.path, header: hdr, body: tt.body})
			if r.status != http.StatusBadRequest || r.fault(t) != fault+tt.key {
				t.Errorf("got %d %s, want 400 %q", r.status, r.body, fault+tt.key)
			}
		})
	}
	for _, body := range []string{
		`{"metadata": {"a": {"k": 1}, "b": {"k": 2}}}`,
		`{"metadata": {"l": [{"k": 1}, {"k": 2}], "k": 3}}`,
		`{"metadata": {"K": 1, "k": 2}}`,
	} {
		r := h.hostile(req{method: "POST", path: "/api/v1/apikeys", body: body,
			header: map[string]string{"Content-Type": "application/json", "X-Auth-Token": tok}})
		if r.status != http.StatusCreated {
			t.Errorf("%s: got %d %s, want 201", body, r.status, r.body)
		}
	}
	long := strings.Repeat("k", 1000)
	r := h.hostile(req{method: "POST", path: "/auth/v1/tokens", body: `{"` + long + `": 1, "` + long + `": 2}`,
		header: map[string]string{"Content-Type": "application/json", "Authorization": joe}})
	if r.status != http.StatusBadRequest || len(r.fault(t)) > 200 {
		t.Errorf("1000-character key twice: %d, faultstring of %d bytes", r.status, len(r.fault(t)))
	}
}
