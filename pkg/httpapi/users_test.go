package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
)

func adminHeader(extra ...string) map[string]string {
	h := map[string]string{"Authorization": basic("admin", testUsers["admin"]), "Content-Type": "application/json"}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

// TestLocalUserLifecycle creates, reads, lists, changes and deletes a
// local user through HTTP on both stores, and checks that deleting and
// disabling cut the user's tokens and keys off and that no answer holds
// a hash.
func TestLocalUserLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []option
	}{
		{"sqlite", []option{withLocal}},
		{"postgres", []option{withLocal, onPostgres}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			r := h.do(req{method: "POST", path: "/auth/v1/users", header: adminHeader(),
				body: `{"name": "kim", "password": "kim-secret-1", "groups": ["ops"], "extra": {"team": "a"}}`})
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "secret") {
				t.Fatalf("create answer holds a secret: %s", r.body)
			}
			u := r.json(t)
			if u["name"] != "kim" || u["active"] != true || u["must_change_password"] != false {
				t.Fatalf("created user: %v", u)
			}
			if r := h.do(req{method: "POST", path: "/auth/v1/users", header: adminHeader(),
				body: `{"name": "kim", "password": "kim-secret-2"}`}); r.status != http.StatusConflict {
				t.Fatalf("create twice: %d %s", r.status, r.body)
			}
			if r := h.do(req{method: "POST", path: "/auth/v1/users", header: adminHeader(),
				body: `{"name": "short", "password": "abc"}`}); r.status != http.StatusBadRequest || !strings.Contains(r.fault(t), "at least 8") {
				t.Fatalf("short password: %d %s", r.status, r.body)
			}
			kim := map[string]string{"Authorization": basic("kim", "kim-secret-1")}
			r = h.do(req{method: "POST", path: "/auth/v1/tokens", header: kim})
			if r.status != http.StatusCreated {
				t.Fatalf("kim login: %d %s", r.status, r.body)
			}
			tok := r.json(t)["token"].(string)
			if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)}); r.json(t)["backend"] != "local" {
				t.Fatalf("/me does not name the local backend: %s", r.body)
			}
			key := h.createKey(tok, `{}`)["key"].(string)
			if r := h.do(req{method: "GET", path: "/auth/v1/users/kim", header: asToken(tok)}); r.status != 200 {
				t.Fatalf("kim reads herself: %d %s", r.status, r.body)
			}
			if r := h.do(req{method: "GET", path: "/auth/v1/users/admin", header: asToken(tok)}); r.status != http.StatusForbidden {
				t.Fatalf("kim reads another: %d %s", r.status, r.body)
			}
			if r := h.do(req{method: "GET", path: "/auth/v1/users", header: asToken(tok)}); r.status != http.StatusForbidden {
				t.Fatalf("kim lists: %d %s", r.status, r.body)
			}
			r = h.do(req{method: "GET", path: "/auth/v1/users?limit=10", header: adminHeader()})
			if r.status != 200 || r.header.Get("X-Total-Count") != "1" || r.json0(t)["name"] != "kim" {
				t.Fatalf("list: %d %v %s", r.status, r.header, r.body)
			}
			r = h.do(req{method: "PUT", path: "/auth/v1/users/kim", header: adminHeader(), body: `{"active": false}`})
			if r.status != 200 || r.json(t)["active"] != false {
				t.Fatalf("disable: %d %s", r.status, r.body)
			}
			if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)}); r.status != http.StatusUnauthorized {
				t.Fatalf("token of a disabled user: %d %s", r.status, r.body)
			}
			if r := h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{"St2-Api-Key": key}}); r.status != http.StatusUnauthorized {
				t.Fatalf("key of a disabled user: %d %s", r.status, r.body)
			}
			if r := h.do(req{method: "POST", path: "/auth/v1/tokens", header: kim}); r.status != http.StatusUnauthorized {
				t.Fatalf("disabled user logs in: %d %s", r.status, r.body)
			}
			r = h.do(req{method: "PUT", path: "/auth/v1/users/kim", header: adminHeader(),
				body: `{"active": true, "password": "kim-secret-2"}`})
			if r.status != 200 {
				t.Fatalf("enable: %d %s", r.status, r.body)
			}
			if r := h.do(req{method: "GET", path: "/auth/v1/me", header: map[string]string{"St2-Api-Key": key}}); r.status != http.StatusUnauthorized {
				t.Fatalf("re-enabling revived a key: %d %s", r.status, r.body)
			}
			kim2 := map[string]string{"Authorization": basic("kim", "kim-secret-2")}
			tok2 := h.do(req{method: "POST", path: "/auth/v1/tokens", header: kim2}).json(t)["token"].(string)
			if r := h.do(req{method: "DELETE", path: "/auth/v1/users/kim", header: adminHeader()}); r.status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.status, r.body)
			}
			if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok2)}); r.status != http.StatusUnauthorized {
				t.Fatalf("token of a deleted user: %d %s", r.status, r.body)
			}
			if r := h.do(req{method: "GET", path: "/auth/v1/users/kim", header: adminHeader()}); r.status != http.StatusNotFound {
				t.Fatalf("deleted user: %d %s", r.status, r.body)
			}
		})
	}
}

// TestUserRoutesNeedLocalBackend: without a local backend the user
// routes are 404 with a clear text.
func TestUserRoutesNeedLocalBackend(t *testing.T) {
	h := newHarness(t)
	r := h.do(req{method: "GET", path: "/auth/v1/users", header: adminHeader()})
	if r.status != http.StatusNotFound || !strings.Contains(r.fault(t), "Local users are not enabled") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = h.do(req{method: "POST", path: "/auth/v1/password", header: adminHeader(), body: `{"new_password": "a-new-password"}`})
	if r.status != http.StatusBadRequest || r.fault(t) != "Password changes are only possible for local users." {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// TestMustChangePassword: a right password of a user who must change it
// gets 403 and no token, on POST /auth/v1/tokens and on Basic elsewhere;
// POST /auth/v1/password lets them change it, and the other tokens go.
func TestMustChangePassword(t *testing.T) {
	h := newHarness(t, withLocal)
	r := h.do(req{method: "POST", path: "/auth/v1/users", header: adminHeader(),
		body: `{"name": "lee", "password": "lee-first-pw"}`})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	lee := map[string]string{"Authorization": basic("lee", "lee-first-pw"), "Content-Type": "application/json"}
	old := h.do(req{method: "POST", path: "/auth/v1/tokens", header: lee}).json(t)["token"].(string)
	h.do(req{method: "PUT", path: "/auth/v1/users/lee", header: adminHeader(), body: `{"must_change_password": true}`})
	for _, path := range []string{"/auth/v1/tokens", "/auth/v1/me"} {
		method := "POST"
		if path == "/auth/v1/me" {
			method = "GET"
		}
		r := h.do(req{method: method, path: path, header: lee})
		if r.status != http.StatusForbidden || r.fault(t) != "Password change required." {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	r = h.do(req{method: "POST", path: "/auth/v1/password", header: lee, body: `{"new_password": "lee"}`})
	if r.status != http.StatusBadRequest {
		t.Fatalf("weak new password: %d %s", r.status, r.body)
	}
	r = h.do(req{method: "POST", path: "/auth/v1/password", header: lee, body: `{"new_password": "lee-second-pw"}`})
	if r.status != http.StatusNoContent {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(old)}); r.status != http.StatusUnauthorized {
		t.Fatalf("old token after a password change: %d %s", r.status, r.body)
	}
	lee2 := map[string]string{"Authorization": basic("lee", "lee-second-pw"), "Content-Type": "application/json"}
	r = h.do(req{method: "POST", path: "/auth/v1/tokens", header: lee2})
	if r.status != http.StatusCreated {
		t.Fatalf("login after change: %d %s", r.status, r.body)
	}
	tok := r.json(t)["token"].(string)
	r = h.do(req{method: "POST", path: "/auth/v1/password", header: map[string]string{"X-Auth-Token": tok},
		body: `{"new_password": "lee-third-pw"}`})
	if r.status != http.StatusNoContent {
		t.Fatalf("change with a token: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)}); r.status != 200 {
		t.Fatalf("the caller's own token after its change: %d %s", r.status, r.body)
	}
	r = h.do(req{method: "POST", path: "/auth/v1/password", header: map[string]string{"Authorization": basic("joe", testUsers["joe"])},
		body: `{"new_password": "joe-new-password"}`})
	if r.status != http.StatusBadRequest || r.fault(t) != "Password changes are only possible for local users." {
		t.Fatalf("flat_file user: %d %s", r.status, r.body)
	}
}

// TestAdminUnlock: ten wrong passwords lock an account; an admin's unlock
// lets the right password in at once. Setting the password through PUT
// clears the lockout too.
func TestAdminUnlock(t *testing.T) {
	h := newHarness(t, withLocal, withConfig(func(c *httpapi.Config) {
		c.Throttle = httpapi.Throttle{LoginFailures: 10, LoginWindow: time.Hour}
	}))
	h.do(req{method: "POST", path: "/auth/v1/users", header: adminHeader(), body: `{"name": "max", "password": "max-secret-1"}`})
	lock := func() {
		for range 10 {
			h.do(req{method: "POST", path: "/auth/v1/tokens", header: map[string]string{"Authorization": basic("max", "wrong-pw")}})
		}
		r := h.do(req{method: "POST", path: "/auth/v1/tokens", header: map[string]string{"Authorization": basic("max", "max-secret-1")}})
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("after 10 failures: %d %s", r.status, r.body)
		}
	}
	lock()
	if r := h.do(req{method: "DELETE", path: "/auth/v1/throttle/users/max", header: map[string]string{"Authorization": basic("joe", testUsers["joe"])}}); r.status != http.StatusForbidden {
		t.Fatalf("non-admin unlock: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "DELETE", path: "/auth/v1/throttle/users/max", header: adminHeader()}); r.status != http.StatusNoContent {
		t.Fatalf("unlock: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "POST", path: "/auth/v1/tokens", header: map[string]string{"Authorization": basic("max", "max-secret-1")}}); r.status != http.StatusCreated {
		t.Fatalf("after unlock: %d %s", r.status, r.body)
	}
	lock()
	h.do(req{method: "PUT", path: "/auth/v1/users/max", header: adminHeader(), body: `{"password": "max-secret-2"}`})
	if r := h.do(req{method: "POST", path: "/auth/v1/tokens", header: map[string]string{"Authorization": basic("max", "max-secret-2")}}); r.status != http.StatusCreated {
		t.Fatalf("after a new password: %d %s", r.status, r.body)
	}
}
