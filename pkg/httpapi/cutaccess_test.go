package httpapi_test

// Security review, issue 10, items 8 to 10: removing a user cuts access,
// a locked key stays off until an admin turns it on, and only admins import
// or backdate keys. Every test runs on SQLite and on PostgreSQL.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
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

// TestRevokeUserTokensDisablesAPIKeys: DELETE /auth/v1/users/{user}/tokens
// leaves keys alone unless ?apikeys=true, which disables and locks them.
func TestRevokeUserTokensDisablesAPIKeys(t *testing.T) {
	onEachStore(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		admin := h.tokenFor("admin")
		joeKey := h.createKey(h.tokenFor("joe"), `{}`)
		adminKey := h.createKey(admin, `{}`)["key"].(string)
		key, id := joeKey["key"].(string), joeKey["id"].(string)
		if r := h.me("St2-Api-Key", key); r.status != 200 { // now cached
			t.Fatalf("key: %d", r.status)
		}
		r := h.do(req{method: "DELETE", path: "/auth/v1/users/joe/tokens", header: asToken(admin)})
		if r.status != 200 || mustJSON(r.json(t)) != `{"revoked":1,"user":"joe"}` {
			t.Fatalf("revoke tokens: %d %s", r.status, r.body)
		}
		if r := h.me("St2-Api-Key", key); r.status != 200 {
			t.Fatalf("key disabled without ?apikeys=true: %d", r.status)
		}
		joe := h.tokenFor("joe")
		r = h.do(req{method: "DELETE", path: "/auth/v1/users/joe/tokens?apikeys=true", header: asToken(admin)})
		if r.status != 200 || mustJSON(r.json(t)) != `{"apikeys_disabled":1,"revoked":1,"user":"joe"}` {
			t.Fatalf("revoke tokens and keys: %d %s", r.status, r.body)
		}
		if r := h.me("St2-Api-Key", key); r.status != 401 || r.fault(t) != "Unauthorized - API key is disabled." {
			t.Fatalf("key after ?apikeys=true: %d %s", r.status, r.body)
		}
		if r := h.me("X-Auth-Token", joe); r.status != 401 {
			t.Fatalf("token after revoke: %d", r.status)
		}
		if r := h.putKey(h.tokenFor("joe"), id, `{"enabled": true}`); r.status != 403 {
			t.Fatalf("owner re-enabled a key an admin disabled: %d %s", r.status, r.body)
		}
		if r := h.me("St2-Api-Key", adminKey); r.status != 200 {
			t.Fatalf("another user's key was disabled: %d", r.status)
		}
	})
}

// TestRemovedFlatFileUserLosesAccess deletes a user from the htpasswd file
// the server reads: within a few seconds her tokens and keys are refused,
// and re-adding the name brings none of them back. A name that was never in
// the file keeps its key (admins make keys for any name).
func TestRemovedFlatFileUserLosesAccess(t *testing.T) {
	onEachStore(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		admin := h.tokenFor("admin")
		tok := h.tokenFor("joe")
		key := h.createKey(tok, `{}`)
		ghost := h.createKey(admin, `{"user": "ghost"}`)["key"].(string)
		for _, c := range [][2]string{{"X-Auth-Token", tok}, {"St2-Api-Key", key["key"].(string)}} {
			if r := h.me(c[0], c[1]); r.status != 200 { // now cached
				t.Fatalf("%s before removal: %d", c[0], r.status)
			}
		}
		if found, err := htpasswd.DeleteUser(h.htpasswd, "joe"); err != nil || !found {
			t.Fatalf("DeleteUser: %v %v", found, err)
		}
		start := time.Now()
		h.waitRefused("X-Auth-Token", tok, 15*time.Second)
		h.waitRefused("St2-Api-Key", key["key"].(string), 15*time.Second)
		t.Logf("refused %s after the removal", time.Since(start).Round(time.Millisecond))

		if err := htpasswd.SetUser(h.htpasswd, "joe", testUsers["joe"], testCost); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second) // a few background rounds with joe back
		newTok := h.tokenFor("joe")
		if r := h.me("X-Auth-Token", tok); r.status != 401 {
			t.Errorf("old token revived by re-adding joe: %d", r.status)
		}
		if r := h.me("St2-Api-Key", key["key"].(string)); r.status != 401 {
			t.Errorf("old key revived by re-adding joe: %d", r.status)
		}
		if r := h.putKey(newTok, key["id"].(string), `{"enabled": true}`); r.status != 403 {
			t.Errorf("re-added joe re-enabled the old key: %d %s", r.status, r.body)
		}
		if r := h.me("X-Auth-Token", newTok); r.status != 200 {
			t.Errorf("re-added joe's new token: %d", r.status)
		}
		if r := h.me("St2-Api-Key", ghost); r.status != 200 {
			t.Errorf("key of a user never in the file was disabled: %d %s", r.status, r.body)
		}
	})
}

// waitRefused polls /me with one credential until it gets 401, failing the
// test after within.
func (h *harness) waitRefused(header, value string, within time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := h.me(header, value)
		if r.status == http.StatusUnauthorized {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s still answered %d %s after %s", header, r.status, r.body, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// failingKeyStore fails DisableUserAPIKeys a given number of times.
type failingKeyStore struct {
	store.Store
	failures atomic.Int64
}

func (f *failingKeyStore) DisableUserAPIKeys(ctx context.Context, user string) ([]store.APIKey, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, fmt.Errorf("injected: %w", store.ErrUnavailable)
	}
	return f.Store.DisableUserAPIKeys(ctx, user)
}

// TestRemovalRetriedAfterStoreFailure: a removal whose revocation fails
// (the database is down) is not forgotten but tried again.
func TestRemovalRetriedAfterStoreFailure(t *testing.T) {
	fs := &failingKeyStore{}
	fs.failures.Store(2)
	h := newHarness(t, func(h *harness) {
		h.wrapStore = func(s store.Store) store.Store { fs.Store = s; return fs }
	})
	key := h.createKey(h.tokenFor("joe"), `{}`)["key"].(string)
	if _, err := htpasswd.DeleteUser(h.htpasswd, "joe"); err != nil {
		t.Fatal(err)
	}
	h.waitRefused("St2-Api-Key", key, 20*time.Second)
	if n := fs.failures.Load(); n >= 0 {
		t.Errorf("the store was asked %d times too few", n+1)
	}
}
