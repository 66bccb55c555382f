package httpapi_test

// Security review, issue 10, items 8 to 10: removing a user cuts access,
// a locked key stays off until an admin turns it on, and only admins import
// or backdate keys. Every test runs on SQLite and on PostgreSQL.

import (
	"net/http"
	"strings"
	"testing"
)

// onEachStore runs fn once on SQLite and once on a fresh PostgreSQL schema.
func onEachStore(t *testing.T, fn func(t *testing.T, opts ...option)) {
	t.Run("sqlite", func(t *testing.T) { fn(t) })
	t.Run("postgres", func(t *testing.T) { fn(t, onPostgres) })
}

// me is the status of GET /auth/v1/me with one credential header.
func (h *harness) me(header, value string) response {
	h.t.Helper()
	return h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{header: value}})
}

// putKey sends PUT /api/v1/apikeys/{id} with body as the holder of tok.
func (h *harness) putKey(tok, id, body string) response {
	h.t.Helper()
	return h.do(req{method: "PUT", path: "/api/v1/apikeys/" + id, header: asToken(tok), body: body})
}

const lockedFault = "This API key was disabled by an admin, by revocation or by the removal of its user; only an admin may enable it again."

// TestOnlyAdminReenablesLockedKey: a key disabled by an admin or revoked
// through RFC 7009 cannot be switched back on by its owner (403); an admin
// can, and that unlocks it. A key its owner disabled stays theirs to enable.
func TestOnlyAdminReenablesLockedKey(t *testing.T) {
	onEachStore(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		joe, admin := h.tokenFor("joe"), h.tokenFor("admin")
		lockWays := map[string]func(key, id string){
			"admin disables": func(_, id string) {
				if r := h.putKey(admin, id, `{"enabled": false}`); r.status != 200 {
					t.Fatalf("admin disable: %d %s", r.status, r.body)
				}
			},
			"owner revokes": func(key, _ string) { h.revokeAs(joe, key) },
			"admin revokes": func(key, _ string) { h.revokeAs(admin, key) },
		}
		for name, lock := range lockWays {
			t.Run(name, func(t *testing.T) {
				created := h.createKey(joe, `{}`)
				key, id := created["key"].(string), created["id"].(string)
				lock(key, id)
				r := h.putKey(joe, id, `{"enabled": true}`)
				if r.status != http.StatusForbidden || r.fault(t) != lockedFault {
					t.Fatalf("owner re-enabled a locked key: %d %s", r.status, r.body)
				}
				if r := h.me("St2-Api-Key", key); r.status != 401 {
					t.Fatalf("locked key works: %d %s", r.status, r.body)
				}
				if r := h.putKey(joe, id, `{"enabled": false, "metadata": {"note": "x"}}`); r.status != 200 {
					t.Errorf("owner cannot edit a locked key's metadata: %d %s", r.status, r.body)
				}
				if r := h.putKey(admin, id, `{"enabled": true}`); r.status != 200 {
					t.Fatalf("admin enable: %d %s", r.status, r.body)
				}
				if r := h.me("St2-Api-Key", key); r.status != 200 {
					t.Fatalf("key enabled by an admin refused: %d %s", r.status, r.body)
				}
				// Unlocked by the admin: the owner may switch it off and on.
				for _, body := range []string{`{"enabled": false}`, `{"enabled": true}`} {
					if r := h.putKey(joe, id, body); r.status != 200 {
						t.Fatalf("owner %s after admin enable: %d %s", body, r.status, r.body)
					}
				}
			})
		}
		t.Run("owner disables", func(t *testing.T) {
			id := h.createKey(joe, `{}`)["id"].(string)
			for _, body := range []string{`{"enabled": false}`, `{"enabled": true}`} {
				if r := h.putKey(joe, id, body); r.status != 200 {
					t.Fatalf("owner %s: %d %s", body, r.status, r.body)
				}
			}
		})
	})
}

// revokeAs revokes tok (a token or key) through RFC 7009 as the holder of caller.
func (h *harness) revokeAs(caller, tok string) {
	h.t.Helper()
	r := h.do(req{method: "POST", path: "/auth/v1/revoke", body: form(tok, ""), header: map[string]string{
		"X-Auth-Token": caller, "Content-Type": "application/x-www-form-urlencoded"}})
	if r.status != 200 {
		h.t.Fatalf("revoke: %d %s", r.status, r.body)
	}
}

// TestOnlyAdminsImportOrBackdateKeys: key_hash lets a caller choose the key
// (say sha512("saltnpepper"+"hunter2")) and created_at rewrites history;
// both are for admins migrating from st2.
func TestOnlyAdminsImportOrBackdateKeys(t *testing.T) {
	onEachStore(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		joe, admin := h.tokenFor("joe"), h.tokenFor("admin")
		weak := `"` + strings.Repeat("ab", 64) + `"`
		tests := []struct {
			name, caller, body string
			status             int
			fault              string
		}{
			{"user imports a hash", joe, `{"key_hash": ` + weak + `}`, 403, "Only admins may create an API key with key_hash (st2 import)."},
			{"user imports for self by name", joe, `{"user": "joe", "key_hash": ` + weak + `}`, 403, "Only admins may create an API key with key_hash (st2 import)."},
			{"user backdates", joe, `{"created_at": "2001-01-01T00:00:00Z"}`, 403, "Only admins may set created_at of an API key."},
			{"user empty key_hash and created_at", joe, `{"key_hash": "", "created_at": ""}`, 201, ""},
			{"admin imports and backdates", admin, `{"key_hash": ` + weak + `, "created_at": "2001-01-01T00:00:00Z"}`, 201, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.do(req{method: "POST", path: "/api/v1/apikeys", header: asToken(tt.caller), body: tt.body})
				if r.status != tt.status || (tt.fault != "" && r.fault(t) != tt.fault) {
					t.Fatalf("%d %s", r.status, r.body)
				}
			})
		}
		r := h.do(req{method: "GET", path: "/api/v1/apikeys?user=joe", header: asToken(admin)})
		if n := r.header.Get("X-Total-Count"); n != "1" {
			t.Errorf("joe has %s keys, want only the generated one: %s", n, r.body)
		}
	})
}
