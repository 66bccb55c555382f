package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
)

// scopedToken logs user in asking for scope and returns the token.
func (h *harness) scopedToken(user, scope string) string {
	h.t.Helper()
	r := h.do(req{method: "POST", path: "/auth/v1/tokens", body: `{"scope": "` + scope + `"}`,
		header: map[string]string{"Authorization": basic(user, testUsers[user])}})
	if r.status != http.StatusCreated || r.json(h.t)["scope"] != scope {
		h.t.Fatalf("token with scope %q: %d %s", scope, r.status, r.body)
	}
	return r.json(h.t)["token"].(string)
}

// TestVerifyScopes: forward auth enforces scope against the original
// request read from the configured headers only.
func TestVerifyScopes(t *testing.T) {
	for _, mode := range []string{httpapi.ForwardAuthNginx, httpapi.ForwardAuthForwarded} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, withConfig(func(c *httpapi.Config) { c.ForwardAuthHeaders = mode }))
			methodH, uriH, otherMethodH, otherURIH := "X-Original-Method", "X-Original-URI", "X-Forwarded-Method", "X-Forwarded-Uri"
			if mode == httpapi.ForwardAuthForwarded {
				methodH, uriH, otherMethodH, otherURIH = otherMethodH, otherURIH, methodH, uriH
			}
			read := h.scopedToken("joe", "read")
			write := h.tokenFor("joe")
			hook := h.createKey(write, `{"scope": "path:/hooks/a"}`)["key"].(string)
			for _, tc := range []struct {
				name   string
				header map[string]string
				status int
				scope  string
			}{
				{"read GET", map[string]string{"X-Auth-Token": read, methodH: "GET", uriH: "/x"}, 200, "read"},
				{"read POST", map[string]string{"X-Auth-Token": read, methodH: "POST", uriH: "/x"}, 403, ""},
				{"read POST, client adds the other proxy's method", map[string]string{"X-Auth-Token": read, methodH: "POST", otherMethodH: "GET", uriH: "/x"}, 403, ""},
				{"read without the method header", map[string]string{"X-Auth-Token": read, otherMethodH: "GET"}, 403, ""},
				{"write POST without headers", map[string]string{"X-Auth-Token": write}, 200, "write"},
				{"hook key on its path", map[string]string{"St2-Api-Key": hook, methodH: "POST", uriH: "/hooks/a/x"}, 200, "path:/hooks/a"},
				{"hook key as Bearer", map[string]string{"Authorization": "Bearer " + hook, methodH: "POST", uriH: "/hooks/a"}, 200, "path:/hooks/a"},
				{"hook key elsewhere", map[string]string{"St2-Api-Key": hook, methodH: "POST", uriH: "/hooks/b"}, 403, ""},
				{"hook key, dot-dot", map[string]string{"St2-Api-Key": hook, methodH: "POST", uriH: "/hooks/a/../b"}, 403, ""},
				{"hook key, client adds the other proxy's URI", map[string]string{"St2-Api-Key": hook, uriH: "/hooks/b", otherURIH: "/hooks/a"}, 403, ""},
				{"hook key in the query of the configured URI", map[string]string{uriH: "/hooks/a/x?st2-api-key=" + hook, methodH: "POST"}, 200, "path:/hooks/a"},
				{"credential in the query of the other URI header", map[string]string{otherURIH: "/hooks/a/x?st2-api-key=" + hook}, 401, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := h.do(req{method: "GET", path: "/auth/v1/verify", header: tc.header})
					if r.status != tc.status {
						t.Fatalf("%d %s", r.status, r.body)
					}
					if tc.status == 200 && r.header.Get("X-Auth-Scope") != tc.scope {
						t.Errorf("X-Auth-Scope %q, want %q", r.header.Get("X-Auth-Scope"), tc.scope)
					}
					if tc.status == 403 && r.header.Get("X-Auth-Error") == "" {
						t.Error("403 without X-Auth-Error")
					}
				})
			}
		})
	}
}

// TestScopesInGatehouse: a read token changes nothing but revoking
// itself; a path key is refused on Gatehouse's own routes; no one
// creates a wider credential.
func TestScopesInGatehouse(t *testing.T) {
	h := newHarness(t)
	read := h.scopedToken("joe", "read")
	write := h.tokenFor("joe")
	if r := h.do(req{method: "GET", path: "/api/v1/apikeys", header: asToken(read)}); r.status != 200 {
		t.Fatalf("read lists keys: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "POST", path: "/api/v1/apikeys", body: `{}`, header: asToken(read)}); r.status != 403 {
		t.Fatalf("read creates a key: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "POST", path: "/auth/v1/tokens", body: `{"scope": "admin"}`,
		header: map[string]string{"Authorization": basic("joe", testUsers["joe"])}}); r.status != 400 {
		t.Fatalf("unknown scope: %d %s", r.status, r.body)
	}
	hook := h.createKey(write, `{"scope": "path:/hooks/a"}`)["key"].(string)
	if r := h.do(req{method: "POST", path: "/api/v1/apikeys", body: `{}`, header: map[string]string{"St2-Api-Key": hook}}); r.status != 403 {
		t.Fatalf("path key on /api/v1/apikeys: %d %s", r.status, r.body)
	}
	readKey := h.createKey(write, `{"scope": "read"}`)
	if readKey["scope"] != "read" || readKey["expires_at"] != nil || readKey["last_used_at"] != nil {
		t.Fatalf("read key body %v", readKey)
	}
	if r := h.do(req{method: "DELETE", path: "/auth/v1/tokens/current", header: asToken(read)}); r.status != 204 {
		t.Fatalf("read logs out: %d %s", r.status, r.body)
	}
}

// TestKeyExpiryRotationHTTP: expiring keys, rotation with grace, and the
// st2 round trip of GET then PUT with the new members.
func TestKeyExpiryRotationHTTP(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testKeyExpiryRotation(t, newHarness(t)) })
	t.Run("postgres", func(t *testing.T) { testKeyExpiryRotation(t, newHarness(t, onPostgres)) })
}

func testKeyExpiryRotation(t *testing.T, h *harness) {
	tok := h.tokenFor("joe")
	k := h.createKey(tok, `{"ttl": 60}`)
	if k["expires_at"] == nil {
		t.Fatalf("no expires_at: %v", k)
	}
	key := k["key"].(string)
	id := k["id"].(string)
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{"St2-Api-Key": key}}); r.status != 200 {
		t.Fatalf("fresh key: %d %s", r.status, r.body)
	}
	got := h.do(req{method: "GET", path: "/api/v1/apikeys/" + id, header: asToken(tok)})
	body := strings.Replace(string(got.body), `"enabled":true`, `"enabled":false`, 1)
	if r := h.do(req{method: "PUT", path: "/api/v1/apikeys/" + id, body: body, header: asToken(tok)}); r.status != 200 {
		t.Fatalf("PUT of the GET body: %d %s", r.status, r.body)
	}
	body = strings.Replace(body, `"enabled":false`, `"enabled":true`, 1)
	if r := h.do(req{method: "PUT", path: "/api/v1/apikeys/" + id, body: body, header: asToken(tok)}); r.status != 200 {
		t.Fatalf("PUT back: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "PUT", path: "/api/v1/apikeys/" + id, body: `{"scope": "read"}`, header: asToken(tok)}); r.status != 400 {
		t.Fatalf("PUT changing the scope: %d %s", r.status, r.body)
	}
	h.clock.Advance(61 * time.Second)
	r := h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{"St2-Api-Key": key}})
	if r.status != 401 || r.fault(t) != "Unauthorized - API key has expired." {
		t.Fatalf("expired key: %d %s", r.status, r.body)
	}

	old := h.createKey(tok, `{}`)
	r = h.do(req{method: "POST", path: "/api/v1/apikeys/" + old["id"].(string) + "/rotate", body: `{"grace": 30}`, header: asToken(tok)})
	if r.status != 200 || r.json(t)["id"] != old["id"] || r.json(t)["key"] == old["key"] {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	fresh := r.json(t)["key"].(string)
	for _, k := range []string{old["key"].(string), fresh} {
		if r := h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{"St2-Api-Key": k}}); r.status != 200 {
			t.Fatalf("during grace: %d %s", r.status, r.body)
		}
	}
	h.clock.Advance(31 * time.Second)
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{"St2-Api-Key": old["key"].(string)}}); r.status != 401 {
		t.Fatalf("old key after grace: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{"St2-Api-Key": fresh}}); r.status != 200 {
		t.Fatalf("new key after grace: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "POST", path: "/api/v1/apikeys/" + old["id"].(string) + "/rotate", body: `{"grace": -1}`, header: asToken(tok)}); r.status != 400 {
		t.Fatalf("negative grace: %d %s", r.status, r.body)
	}
}

// TestTokenListRenewHTTP: list, revoke by id, renew.
func TestTokenListRenewHTTP(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) { c.TokenTTL, c.TokenMaxLifetime = time.Hour, 90*time.Minute }))
	first := h.login("joe")
	second := h.login("joe")
	r := h.do(req{method: "GET", path: "/auth/v1/tokens", header: asToken(first["token"].(string))})
	list := r.list(t)
	if r.status != 200 || len(list) != 2 || list[1]["id"] != second["id"] || strings.Contains(string(r.body), second["token"].(string)) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "GET", path: "/auth/v1/tokens?user=admin", header: asToken(first["token"].(string))}); r.status != 403 {
		t.Fatalf("joe lists admin's: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "DELETE", path: "/auth/v1/tokens/" + second["id"].(string), header: asToken(first["token"].(string))}); r.status != 204 {
		t.Fatalf("revoke by id: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(second["token"].(string))}); r.status != 401 {
		t.Fatalf("revoked token: %d %s", r.status, r.body)
	}
	h.clock.Advance(50 * time.Minute)
	r = h.do(req{method: "POST", path: "/auth/v1/tokens/renew", body: `{}`, header: asToken(first["token"].(string))})
	if r.status != 200 {
		t.Fatalf("renew: %d %s", r.status, r.body)
	}
	exp, _ := time.Parse(time.RFC3339Nano, r.json(t)["expiry"].(string))
	created, _ := time.Parse(time.RFC3339Nano, first["expiry"].(string))
	created = created.Add(-time.Hour)
	if d := exp.Sub(created); d < 89*time.Minute || d > 90*time.Minute {
		t.Errorf("renewed to issue + %v, want the 90 min cap", d)
	}
	if r := h.do(req{method: "POST", path: "/auth/v1/tokens/renew", header: asToken(second["token"].(string))}); r.status != 401 {
		t.Fatalf("renew a revoked token: %d %s", r.status, r.body)
	}
}
