package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
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

// TestBodyIsReadAsJSONWhateverItsContentType: a body that parses as JSON is
// read as JSON, whatever its Content-Type says (curl -d labels everything a
// form, and used to lose the ttl of -d '{"ttl": 60}' silently, issue 17); a
// form stays a form; anything else is a 400 that says what was expected.
func TestBodyIsReadAsJSONWhateverItsContentType(t *testing.T) {
	h := newHarness(t)
	joe := basic("joe", testUsers["joe"])
	const form = "application/x-www-form-urlencoded"
	const expected = "expected a JSON object or an application/x-www-form-urlencoded form"
	issued := []struct {
		name, contentType, body string
		ttl                     time.Duration
	}{
		{"JSON labelled a form (curl -d)", form, `{"ttl": 60}`, time.Minute},
		{"JSON labelled a form, with spaces", form, "\n {\"ttl\": 60}\n", time.Minute},
		{"JSON labelled multipart", "multipart/form-data", `{"ttl": 60}`, time.Minute},
		{"JSON labelled text", "text/plain", `{"ttl": 60}`, time.Minute},
		{"JSON with a broken Content-Type", "application/json;;;=", `{"ttl": 60}`, time.Minute},
		{"JSON with no Content-Type", "", `{"ttl": 60}`, time.Minute},
		{"empty text body", "text/plain", "", 24 * time.Hour},
		{"form", form, "foo=bar", 24 * time.Hour},
	}
	for _, tt := range issued {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Authorization": joe}
			if tt.contentType != "" {
				hdr["Content-Type"] = tt.contentType
			}
			r := h.do(req{method: "POST", path: "/auth/v1/tokens", header: hdr, body: tt.body})
			if r.status != http.StatusCreated {
				t.Fatalf("%d %s", r.status, r.body)
			}
			exp, _ := time.Parse(time.RFC3339Nano, r.json(t)["expiry"].(string))
			if d := time.Until(exp); d > tt.ttl || d < tt.ttl-time.Minute {
				t.Errorf("token lives %s, want %s", d, tt.ttl)
			}
		})
	}
	refused := []struct{ name, contentType, body, fault string }{
		{"a form stays a form", form, "ttl=60", "['60'] is not of type 'integer', 'null'"},
		{"broken JSON labelled a form", form, `{"ttl": 60`, "Failed to parse request body: invalid JSON"},
		{"JSON that is not an object, labelled a form", form, `[60]`, "[60] is not of type 'object'"},
		{"form labelled text", "text/plain", "ttl=60", `Failed to parse request body: Unsupported Content-Type: "text/plain"; ` + expected},
		{"form with no Content-Type", "", "ttl=60", "Failed to parse request body: " + expected},
		{"form with a broken Content-Type", "application/json;;;=", "ttl=60", `Failed to parse request body: Unsupported Content-Type: "application/json;;;="; ` + expected},
		{"not JSON labelled JSON", "application/json", "ttl=60", "Failed to parse request body: invalid JSON at offset"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Authorization": joe}
			if tt.contentType != "" {
				hdr["Content-Type"] = tt.contentType
			}
			r := h.hostile(req{method: "POST", path: "/auth/v1/tokens", header: hdr, body: tt.body})
			if r.status != http.StatusBadRequest || !strings.HasPrefix(r.fault(t), tt.fault) {
				t.Errorf("got %d %s, want 400 %q", r.status, r.body, tt.fault)
			}
		})
	}
	t.Run("validate and API keys", func(t *testing.T) {
		tok := h.tokenFor("joe")
		hdr := map[string]string{"X-Auth-Token": tok, "Content-Type": form}
		r := h.do(req{method: "POST", path: "/auth/v1/tokens/validate", header: hdr, body: mustJSON(map[string]string{"token": tok})})
		if r.status != http.StatusOK || r.json(t)["valid"] != true {
			t.Errorf("validate: %d %s", r.status, r.body)
		}
		r = h.do(req{method: "POST", path: "/api/v1/apikeys", header: hdr, body: `{"metadata": {"app": "ci"}}`})
		if r.status != http.StatusCreated || mustJSON(r.json(t)["metadata"]) != `{"app":"ci"}` {
			t.Errorf("create key: %d %s", r.status, r.body)
		}
	})
}

// TestRFCEndpointsTakeJSON: introspection and revocation take a JSON
// object with the form's fields as well as the form.
func TestRFCEndpointsTakeJSON(t *testing.T) {
	h := newHarness(t)
	svc := basic("svc", testUsers["svc"])
	post := func(path, contentType, body string) response {
		t.Helper()
		hdr := map[string]string{"Authorization": svc}
		if contentType != "" {
			hdr["Content-Type"] = contentType
		}
		return h.hostile(req{method: "POST", path: path, header: hdr, body: body})
	}
	tok := h.tokenFor("joe")
	key := h.createKey(tok, `{}`)["key"].(string)
	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", ""} {
		r := post("/auth/v1/introspect", ct, mustJSON(map[string]string{"token": tok}))
		if r.status != http.StatusOK || r.json(t)["active"] != true || r.json(t)["token_type"] != "access_token" {
			t.Errorf("introspect, JSON as %q: %d %s", ct, r.status, r.body)
		}
	}
	r := post("/auth/v1/introspect", "application/json", mustJSON(map[string]string{"token": key, "token_type_hint": "api_key"}))
	if r.status != http.StatusOK || r.json(t)["token_type"] != "api_key" {
		t.Errorf("introspect a key with a hint: %d %s", r.status, r.body)
	}
	for _, tt := range []struct{ name, contentType, body, want string }{
		{"token not a string", "application/json", `{"token": 5}`, "The token parameter must be a string."},
		{"hint not a string", "application/json", `{"token": "x", "token_type_hint": ["api_key"]}`, "The token_type_hint parameter must be a string."},
		{"no token", "application/json", `{"token_type_hint": "api_key"}`, "The token parameter is required."},
		{"null token", "application/json", `{"token": null}`, "The token parameter is required."},
		{"not an object", "application/json", `["x"]`, "['x'] is not of type 'object'"},
		{"repeated token", "application/json", `{"token": "a", "token": "b"}`, `Failed to parse request body: duplicate key "token"`},
		{"broken JSON", "application/x-www-form-urlencoded", `{"token": "a"`, "Failed to parse request body: invalid JSON"},
		{"form labelled text", "text/plain", "token=" + tok, "The body must be a JSON object or an application/x-www-form-urlencoded form."},
		{"form with no Content-Type", "", "token=" + tok, "The body must be a JSON object or an application/x-www-form-urlencoded form."},
		{"empty form", "application/x-www-form-urlencoded", "", "The token parameter is required."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := post("/auth/v1/introspect", tt.contentType, tt.body)
			if r.status != http.StatusBadRequest || r.json(t)["error"] != "invalid_request" ||
				!strings.HasPrefix(r.json(t)["error_description"].(string), tt.want) {
				t.Errorf("got %d %s, want 400 %q", r.status, r.body, tt.want)
			}
		})
	}
	if r := post("/auth/v1/revoke", "application/json", mustJSON(map[string]string{"token": tok})); r.status != http.StatusOK {
		t.Fatalf("revoke with JSON: %d %s", r.status, r.body)
	}
	if r := post("/auth/v1/introspect", "application/json", mustJSON(map[string]string{"token": tok})); mustJSON(r.json(t)) != `{"active":false}` {
		t.Errorf("after a JSON revoke: %d %s", r.status, r.body)
	}
}
