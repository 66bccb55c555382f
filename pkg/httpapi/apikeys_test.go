package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

var keyRe = regexp.MustCompile(`^[0-9A-Za-z]{86}$`)

func TestAPIKeyCreateShape(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor("joe")
	for _, path := range []string{"/api/v1/apikeys", "/v1/apikeys", "/auth/v1/apikeys", "/v1/apikeys/"} {
		t.Run(path, func(t *testing.T) {
			r := h.do(req{method: "POST", path: path, header: asToken(tok), body: `{"metadata": {"team": "ops"}}`})
			if r.status != http.StatusCreated {
				t.Fatalf("%d %s", r.status, r.body)
			}
			m := r.json(t)
			key, _ := m["key"].(string)
			if !keyRe.MatchString(key) || m["uid"] != "api_key:"+token.HashAPIKey(key) {
				t.Errorf("key/uid wrong: %s", r.body)
			}
			if m["user"] != "joe" || m["enabled"] != true || mustJSON(m["metadata"]) != `{"team":"ops"}` {
				t.Errorf("body %s", r.body)
			}
			if !expiryRe.MatchString(m["created_at"].(string)) || !idRe.MatchString(m["id"].(string)) {
				t.Errorf("created_at or id malformed: %s", r.body)
			}
			if _, has := m["key_hash"]; has {
				t.Error("create response shows key_hash")
			}
		})
	}
}

func TestAPIKeyReadsAreMasked(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor("joe")
	created := h.createKey(tok, `{}`)
	key, id := created["key"].(string), created["id"].(string)
	for _, path := range []string{"/api/v1/apikeys/" + id, "/api/v1/apikeys/" + key} {
		r := h.do(req{method: "GET", path: path, header: asToken(tok)})
		m := r.json(t)
		if r.status != 200 || m["key_hash"] != "********" || m["uid"] != "********" || m["id"] != id {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		if _, has := m["key"]; has {
			t.Fatal("read shows the key")
		}
	}
	r := h.do(req{method: "GET", path: "/api/v1/apikeys", header: asToken(tok)})
	if r.status != 200 || string(r.body) == "" {
		t.Fatalf("list %d", r.status)
	}
	if mustJSON(r.json0(t)["key_hash"]) != `"********"` {
		t.Errorf("list not masked: %s", r.body)
	}
}

func TestAPIKeyPagination(t *testing.T) {
	h := newHarness(t)
	tok, admin := h.tokenFor("joe"), h.tokenFor("admin")
	for range 7 {
		h.createKey(tok, `{}`)
	}
	h.createKey(admin, `{}`)
	tests := []struct {
		name, query, caller string
		status, count       int
		total, limit        string
	}{
		{"default", "", tok, 200, 7, "7", "50"},
		{"limit", "?limit=3", tok, 200, 3, "7", "3"},
		{"offset", "?limit=3&offset=6", tok, 200, 1, "7", "3"},
		{"offset past end", "?offset=100", tok, 200, 0, "7", "50"},
		{"limit 100", "?limit=100", tok, 200, 7, "7", "100"},
		{"limit 101 refused", "?limit=101", tok, 403, 0, "", ""},
		{"limit -1 refused", "?limit=-1", tok, 403, 0, "", ""},
		{"limit -2", "?limit=-2", tok, 400, 0, "", ""},
		{"limit text", "?limit=ten", tok, 400, 0, "", ""},
		{"offset negative", "?offset=-1", tok, 400, 0, "", ""},
		{"admin sees all", "", admin, 200, 8, "8", "50"},
		{"admin limit -1", "?limit=-1", admin, 200, 8, "8", "-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(req{method: "GET", path: "/api/v1/apikeys" + tt.query, header: asToken(tt.caller)})
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tt.status != 200 {
				return
			}
			if n := len(r.list(t)); n != tt.count {
				t.Errorf("%d keys, want %d", n, tt.count)
			}
			if r.header.Get("X-Total-Count") != tt.total || r.header.Get("X-Limit") != tt.limit {
				t.Errorf("X-Total-Count %q X-Limit %q", r.header.Get("X-Total-Count"), r.header.Get("X-Limit"))
			}
		})
	}
	if got := listQuery(t, h, "limit=-2").fault(t); got != `Limit, "-2" specified, must be a positive number.` {
		t.Errorf("limit=-2 message %q", got)
	}
	if got := listQuery(t, h, "limit=1000").fault(t); got != `Limit "1000" specified, maximum value is "100"` {
		t.Errorf("limit=1000 message %q", got)
	}
}

func listQuery(t *testing.T, h *harness, q string) response {
	return h.do(req{method: "GET", path: "/api/v1/apikeys?" + q, header: asToken(h.tokenFor("joe"))})
}

func TestAPIKeyUpdateAndDelete(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor("joe")
	created := h.createKey(tok, `{}`)
	key, id := created["key"].(string), created["id"].(string)
	tests := []struct {
		name, ref, body string
		status          int
		fault           string
	}{
		{"disable by id", id, `{"enabled": false}`, 200, ""},
		{"enable by key", key, `{"enabled": true, "metadata": {"a": 1}}`, 200, ""},
		{"masked hash is unchanged", id, `{"key_hash": "********", "uid": "********", "enabled": true}`, 200, ""},
		{"same hash is unchanged", id, fmt.Sprintf(`{"key_hash": %q}`, token.HashAPIKey(key)), 200, ""},
		{"hash change refused", id, fmt.Sprintf(`{"key_hash": %q}`, token.HashAPIKey("other")), 400, "Update of key_hash is not allowed."},
		{"unknown field", id, `{"colour": "red"}`, 400, "Additional properties are not allowed ('colour' was unexpected)"},
		{"enabled not bool", id, `{"enabled": "no"}`, 400, "'no' is not of type 'boolean'"},
		{"give to other user refused", id, `{"user": "admin"}`, 403, ""},
		{"unknown", "abcdefabcdefabcdefabcdef", `{"enabled": false}`, 404, "ApiKey with key or id=abcdefabcdefabcdefabcdef not found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(req{method: "PUT", path: "/api/v1/apikeys/" + tt.ref, header: asToken(tok), body: tt.body})
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tt.fault != "" && r.fault(t) != tt.fault {
				t.Errorf("faultstring %q, want %q", r.fault(t), tt.fault)
			}
		})
	}
	if m := h.do(req{method: "GET", path: "/api/v1/apikeys/" + id, header: asToken(tok)}).json(t); mustJSON(m["metadata"]) != `{"a":1}` {
		t.Errorf("metadata not kept: %v", m)
	}
	r := h.do(req{method: "DELETE", path: "/api/v1/apikeys/" + id, header: asToken(tok)})
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("delete: %d %q", r.status, r.body)
	}
	r = h.do(req{method: "DELETE", path: "/api/v1/apikeys/" + id, header: asToken(tok)})
	if r.status != 404 || r.fault(t) != "ApiKey with key or id="+id+" not found." {
		t.Fatalf("second delete: %d %s", r.status, r.body)
	}
	r = h.do(req{method: "GET", path: "/api/v1/apikeys/" + id, header: asToken(tok)})
	if r.status != 404 || r.fault(t) != "ApiKey matching "+id+" for reference and id not found." {
		t.Fatalf("get deleted: %d %s", r.status, r.body)
	}
	if r := h.do(req{method: "GET", path: "/api/v1/apikeys", header: map[string]string{"St2-Api-Key": key}}); r.status != 401 {
		t.Fatalf("deleted key still works: %d", r.status)
	}
}

func TestAPIKeyOwnership(t *testing.T) {
	h := newHarness(t)
	joe, admin := h.tokenFor("joe"), h.tokenFor("admin")
	adminKey := h.createKey(admin, `{}`)["id"].(string)
	for _, r := range []req{
		{method: "GET", path: "/api/v1/apikeys/" + adminKey},
		{method: "PUT", path: "/api/v1/apikeys/" + adminKey, body: `{"enabled": false}`},
		{method: "DELETE", path: "/api/v1/apikeys/" + adminKey},
	} {
		r.header = asToken(joe)
		if got := h.do(r); got.status != 404 {
			t.Errorf("joe %s another's key: %d %s", r.method, got.status, got.body)
		}
	}
	if got := h.do(req{method: "POST", path: "/api/v1/apikeys", header: asToken(joe), body: `{"user": "admin"}`}); got.status != 403 {
		t.Errorf("joe made a key for admin: %d", got.status)
	}
	m := h.createKey(admin, `{"user": "joe"}`)
	if m["user"] != "joe" {
		t.Fatalf("admin made key for %v", m["user"])
	}
	joeKey := m["id"].(string)
	if got := h.do(req{method: "GET", path: "/api/v1/apikeys/" + joeKey, header: asToken(joe)}); got.status != 200 {
		t.Errorf("joe cannot see own key made by admin: %d", got.status)
	}
	if got := h.do(req{method: "PUT", path: "/api/v1/apikeys/" + joeKey, header: asToken(admin), body: `{"enabled": false}`}); got.status != 200 {
		t.Errorf("admin cannot disable joe's key: %d", got.status)
	}
}

// TestAPIKeyImportFromST2 loads a key the way `st2 apikey load` does, by its
// hash, then calls with the original key.
func TestAPIKeyImportFromST2(t *testing.T) {
	h := newHarness(t)
	admin := h.tokenFor("admin")
	const original = "1234"
	const st2Hash = "ec81d4a56f5987b0ae1cff6e152459986e873d6604637fc70d85c0a0daf131b0a830ccd5b6454cc0c95c0ba6e6655933c993325eb3a28bc43af6c1d801a7c1e8"
	r := h.do(req{method: "POST", path: "/api/v1/apikeys", header: asToken(admin), body: fmt.Sprintf(
		`{"id": "5c5b8e6a9c51d3f5a2d1e0f1", "user": "joe", "key_hash": %q, "metadata": {"used_by": "ci"}, "created_at": "2019-02-07T01:02:03.456789Z", "enabled": true}`, st2Hash)})
	if r.status != 201 || r.json(t)["key"] != nil || r.json(t)["created_at"] != "2019-02-07T01:02:03.456789Z" {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	r = h.do(req{method: "GET", path: "/api/v1/apikeys", header: map[string]string{"St2-Api-Key": original}})
	if r.status != 200 || r.header.Get("X-Total-Count") != strconv.Itoa(1) {
		t.Fatalf("call with imported key: %d %s", r.status, r.body)
	}
	r = h.do(req{method: "POST", path: "/api/v1/apikeys", header: asToken(admin), body: fmt.Sprintf(`{"key_hash": %q}`, st2Hash)})
	if r.status != http.StatusConflict {
		t.Fatalf("duplicate import: %d %s", r.status, r.body)
	}
	r = h.do(req{method: "POST", path: "/api/v1/apikeys", header: asToken(admin), body: `{"key_hash": "nothex"}`})
	if r.status != http.StatusBadRequest {
		t.Fatalf("bad hash: %d %s", r.status, r.body)
	}
}

func TestAPIKeyListUserFilterAndShowSecrets(t *testing.T) {
	h := newHarness(t)
	joe, admin := h.tokenFor("joe"), h.tokenFor("admin")
	joeKey := h.createKey(joe, `{}`)["key"].(string)
	h.createKey(admin, `{}`)
	tests := []struct {
		name, query, caller string
		status, count       int
		wantHash            string
	}{
		{"admin filters by user", "?user=joe", admin, 200, 1, "********"},
		{"joe names himself", "?user=joe", joe, 200, 1, "********"},
		{"joe names admin", "?user=admin", joe, 403, 0, ""},
		{"admin shows secrets", "?user=joe&show_secrets=True", admin, 200, 1, token.HashAPIKey(joeKey)},
		{"joe cannot show secrets", "?show_secrets=true", joe, 200, 1, "********"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(req{method: "GET", path: "/v1/apikeys" + tt.query, header: asToken(tt.caller)})
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tt.status != 200 {
				return
			}
			l := r.list(t)
			if len(l) != tt.count || l[0]["key_hash"] != tt.wantHash {
				t.Fatalf("got %s", r.body)
			}
		})
	}
}

// TestST2CLIWireFormat replays the requests the st2 Python CLI makes
// (st2client/commands/auth.py, resource.py): `st2 login` posts JSON {} or
// {"ttl": N}; `st2 apikey create -m` posts {"metadata": …}; `st2 apikey
// disable` GETs the key and PUTs the whole object back with enabled false;
// `st2 apikey load` posts {user, key_hash, metadata, enabled}.
func TestST2CLIWireFormat(t *testing.T) {
	h := newHarness(t)
	login := h.do(req{method: "POST", path: "/tokens", body: `{"ttl": 3600}`, header: map[string]string{
		"Authorization": basic("admin", testUsers["admin"]), "Content-Type": "application/json"}})
	if login.status != 201 {
		t.Fatalf("st2 login: %d %s", login.status, login.body)
	}
	tok := asToken(login.json(t)["token"].(string))
	created := h.do(req{method: "POST", path: "/v1/apikeys", header: tok, body: `{"metadata": {"used_by": "ci"}}`})
	if created.status != 201 {
		t.Fatalf("st2 apikey create: %d %s", created.status, created.body)
	}
	id := created.json(t)["id"].(string)
	got := h.do(req{method: "GET", path: "/v1/apikeys/" + id, header: tok}).json(t)
	got["enabled"] = false
	if r := h.do(req{method: "PUT", path: "/v1/apikeys/" + id, header: tok, body: mustJSON(got)}); r.status != 200 || r.json(t)["enabled"] != false {
		t.Fatalf("st2 apikey disable: %d %s", r.status, r.body)
	}
	load := fmt.Sprintf(`{"user": "joe", "key_hash": %q, "metadata": {}, "enabled": false}`, token.HashAPIKey("exported"))
	if r := h.do(req{method: "POST", path: "/v1/apikeys", header: tok, body: load}); r.status != 201 || r.json(t)["enabled"] != false {
		t.Fatalf("st2 apikey load: %d %s", r.status, r.body)
	}
}
