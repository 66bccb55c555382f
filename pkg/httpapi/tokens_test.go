package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
)

var (
	tokenRe  = regexp.MustCompile(`^[0-9a-f]{32}$`)
	idRe     = regexp.MustCompile(`^[0-9a-f]{24}$`)
	expiryRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
)

func TestIssueTokenShapeOnEveryRoute(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/auth/v1/tokens", "/auth/tokens", "/v1/tokens", "/tokens", "/tokens/", "/auth/v1/tokens/"} {
		t.Run(path, func(t *testing.T) {
			before := time.Now().UTC()
			r := h.do(req{method: "POST", path: path, header: map[string]string{"Authorization": basic("joe", testUsers["joe"])}})
			if r.status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := r.header.Get("X-API-URL"); got != "http://127.0.0.1:9101" {
				t.Errorf("X-API-URL = %q", got)
			}
			m := r.json(t)
			if len(m) != 7 || m["scope"] != "write" { // st2's six and Gatehouse's scope
				t.Errorf("body has %d keys, want 7 with scope write: %s", len(m), r.body)
			}
			if m["user"] != "joe" || m["service"] != false || mustJSON(m["metadata"]) != "{}" {
				t.Errorf("body %s", r.body)
			}
			if !tokenRe.MatchString(m["token"].(string)) || !idRe.MatchString(m["id"].(string)) {
				t.Errorf("token or id malformed: %s", r.body)
			}
			exp := m["expiry"].(string)
			if !expiryRe.MatchString(exp) {
				t.Fatalf("expiry %q", exp)
			}
			e, _ := time.Parse(time.RFC3339Nano, exp)
			if d := e.Sub(before); d < 24*time.Hour-time.Minute || d > 24*time.Hour+time.Minute {
				t.Errorf("expiry %s is not 24h from now", exp)
			}
		})
	}
}

func TestIssueTokenBodies(t *testing.T) {
	h := newHarness(t)
	auth := basic("joe", testUsers["joe"])
	tests := []struct {
		name, contentType, body string
		wantTTL                 time.Duration
	}{
		{"no body", "", "", 24 * time.Hour},
		{"empty object", "application/json", "{}", 24 * time.Hour},
		{"empty JSON body", "application/json", "", 24 * time.Hour},
		{"empty form body (st2client.js)", "application/x-www-form-urlencoded", "", 24 * time.Hour},
		{"ttl", "application/json", `{"ttl": 60}`, time.Minute},
		{"ttl null", "application/json", `{"ttl": null}`, 24 * time.Hour},
		{"ttl max", "application/json", `{"ttl": 86400}`, 24 * time.Hour},
		{"ttl 1", "application/json", `{"ttl": 1}`, time.Second},
		{"extra keys ignored", "application/json", `{"ttl": 120, "foo": [1, 2]}`, 2 * time.Minute},
		{"json with charset", "application/json; charset=utf-8", `{"ttl": 60}`, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Authorization": auth}
			if tt.contentType != "" {
				hdr["Content-Type"] = tt.contentType
			}
			r := h.do(req{method: "POST", path: "/tokens", header: hdr, body: tt.body})
			if r.status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			exp, _ := time.Parse(time.RFC3339Nano, r.json(t)["expiry"].(string))
			if d := time.Until(exp); d > tt.wantTTL || d < tt.wantTTL-time.Minute {
				t.Errorf("token lives %s, want %s", d, tt.wantTTL)
			}
		})
	}
}

func TestIssueTokenBadTTL(t *testing.T) {
	h := newHarness(t)
	huge := "1" + strings.Repeat("0", 399)
	tests := []struct {
		name, contentType, body, want string
	}{
		{"zero", "application/json", `{"ttl": 0}`, "0 is less than the minimum of 1"},
		{"negative", "application/json", `{"ttl": -1}`, "-1 is less than the minimum of 1"},
		{"fraction", "application/json", `{"ttl": 1.5}`, "1.5 is not of type 'integer', 'null'"},
		{"float integer", "application/json", `{"ttl": 60.0}`, "60.0 is not of type 'integer', 'null'"},
		{"exponent", "application/json", `{"ttl": 1e2}`, "1e2 is not of type 'integer', 'null'"},
		{"string", "application/json", `{"ttl": "60"}`, "'60' is not of type 'integer', 'null'"},
		{"bool", "application/json", `{"ttl": true}`, "True is not of type 'integer', 'null'"},
		{"list", "application/json", `{"ttl": [60]}`, "[60] is not of type 'integer', 'null'"},
		{"max+1", "application/json", `{"ttl": 86401}`, "TTL specified 86401 is greater than max allowed 86400."},
		{"400 digits", "application/json", `{"ttl": ` + huge + `}`, "TTL specified " + huge + " is greater than max allowed 86400."},
		{"400 digits negative", "application/json", `{"ttl": -` + huge + `}`, "-" + huge + " is less than the minimum of 1"},
		{"form ttl", "application/x-www-form-urlencoded", "ttl=60", "['60'] is not of type 'integer', 'null'"},
		{"not an object", "application/json", `[1]`, "[1] is not of type 'object'"},
		{"invalid JSON", "application/json", `{"ttl":`, "Failed to parse request body: invalid JSON"},
		{"text/plain", "text/plain", `ttl=60`, `Failed to parse request body: Unsupported Content-Type: "text/plain"; expected a JSON object or an application/x-www-form-urlencoded form`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(req{method: "POST", path: "/auth/v1/tokens", body: tt.body, header: map[string]string{
				"Authorization": basic("joe", testUsers["joe"]), "Content-Type": tt.contentType}})
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := r.fault(t); !strings.HasPrefix(got, tt.want) {
				t.Errorf("faultstring %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIssueTokenBadCredentials(t *testing.T) {
	h := newHarness(t)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, header string
	}{
		{"no header", ""},
		{"other scheme", "Bearer " + b64("joe:"+testUsers["joe"])},
		{"bad base64", "Basic !!!not-base64"},
		{"no colon", "Basic " + b64("joe")},
		{"scheme only", "Basic"},
		{"two spaces", "Basic  " + b64("joe:"+testUsers["joe"])},
		{"wrong password", basic("joe", "nope")},
		{"password prefix", basic("joe", "joe")},
		{"unknown user", basic("nobody", testUsers["joe"])},
		{"empty password", basic("joe", "")},
		{"empty user", basic("", testUsers["joe"])},
		{"NUL in user", basic("jo\x00e", testUsers["joe"])},
		{"CRLF in user", basic("joe\r\nX-Evil: 1", testUsers["joe"])},
		{"NUL in password", basic("joe", testUsers["joe"]+"\x00")},
		{"invalid UTF-8", "Basic " + b64("jo\xffe:"+testUsers["joe"])},
		{"oversized", "Basic " + strings.Repeat("A", 8000)},
		{"SQL in user", basic("joe' OR '1'='1", "x")},
	}
	var bodies []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.header != "" {
				hdr["Authorization"] = tt.header
			}
			r := h.do(req{method: "POST", path: "/auth/v1/tokens", header: hdr})
			if r.status != http.StatusUnauthorized || r.fault(t) != "Invalid or missing credentials" {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			if r.header.Get("WWW-Authenticate") != "" {
				t.Error("st2 never sends WWW-Authenticate")
			}
			bodies = append(bodies, string(r.body))
		})
	}
	for _, b := range bodies {
		if b != bodies[0] {
			t.Errorf("bodies differ: %q vs %q", b, bodies[0])
		}
	}
}

func TestIssueTokenBasicVariants(t *testing.T) {
	h := newHarness(t)
	b64 := base64.StdEncoding.EncodeToString([]byte("joe:" + testUsers["joe"]))
	for _, scheme := range []string{"Basic", "basic", "BASIC"} {
		t.Run(scheme, func(t *testing.T) {
			r := h.do(req{method: "POST", path: "/tokens", header: map[string]string{"Authorization": scheme + " " + b64}})
			if r.status != http.StatusCreated {
				t.Fatalf("status %d %s", r.status, r.body)
			}
		})
	}
}

func TestTokenIsStoredHashedAndUsable(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor("joe")
	r := h.do(req{method: "POST", path: "/auth/v1/tokens/validate", header: asToken(tok),
		body: fmt.Sprintf(`{"token": %q}`, tok)})
	if r.status != http.StatusOK || mustJSON(r.json(t)) != `{"valid":true}` {
		t.Fatalf("validate: %d %s", r.status, r.body)
	}
}

func TestValidate(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor("joe")
	short := h.do(req{method: "POST", path: "/tokens", body: `{"ttl": 1}`,
		header: map[string]string{"Authorization": basic("joe", testUsers["joe"])}}).json(t)["token"].(string)
	h.clock.Advance(2 * time.Second)
	tests := []struct {
		name, path, body string
		header           map[string]string
		status           int
		want             string
	}{
		{"valid", "/auth/v1/tokens/validate", fmt.Sprintf(`{"token": %q}`, tok), asToken(tok), 200, `{"valid":true}`},
		{"v1 form", "/v1/tokens/validate", fmt.Sprintf(`{"token": %q}`, tok), asToken(tok), 200, `{"valid":true}`},
		{"bare form", "/tokens/validate", fmt.Sprintf(`{"token": %q}`, tok), asToken(tok), 200, `{"valid":true}`},
		{"auth form", "/auth/tokens/validate", fmt.Sprintf(`{"token": %q}`, tok), asToken(tok), 200, `{"valid":true}`},
		{"unknown", "/tokens/validate", `{"token": "0123456789abcdef0123456789abcdef"}`, asToken(tok), 200, `{"valid":false}`},
		{"expired", "/tokens/validate", fmt.Sprintf(`{"token": %q}`, short), asToken(tok), 200, `{"valid":false}`},
		{"missing", "/tokens/validate", `{}`, asToken(tok), 400, `{"faultstring":"Token is not provided."}`},
		{"empty", "/tokens/validate", `{"token": ""}`, asToken(tok), 400, `{"faultstring":"Token is not provided."}`},
		{"null", "/tokens/validate", `{"token": null}`, asToken(tok), 400, `{"faultstring":"Token is not provided."}`},
		{"number", "/tokens/validate", `{"token": 5}`, asToken(tok), 400, `{"faultstring":"5 is not of type 'string', 'null'"}`},
		{"no caller", "/tokens/validate", fmt.Sprintf(`{"token": %q}`, tok), nil, 401,
			`{"faultstring":"Unauthorized - One of Token or API key required."}`},
		{"expired caller", "/tokens/validate", fmt.Sprintf(`{"token": %q}`, tok), asToken(short), 401,
			`{"faultstring":"Unauthorized - Token has expired."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(req{method: "POST", path: tt.path, header: tt.header, body: tt.body})
			if r.status != tt.status || string(r.body) != tt.want {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.want)
			}
		})
	}
}

func TestNotFoundAndWrongMethod(t *testing.T) {
	h := newHarness(t)
	for _, r := range []req{
		{method: "GET", path: "/nope"},
		{method: "PUT", path: "/auth/v1/tokens"},
		{method: "GET", path: "/tokens"},
		{method: "DELETE", path: "/tokens"},
		{method: "PATCH", path: "/api/v1/apikeys"},
		{method: "POST", path: "/tokens//"},
	} {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			got := h.do(r)
			if got.status != 404 || string(got.body) != `{"faultstring":"The resource could not be found."}` {
				t.Fatalf("got %d %s", got.status, got.body)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	r := h.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "abc-123"}})
	if got := r.header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("X-Request-ID %q not echoed", got)
	}
	r = h.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "bad id\twith tab"}})
	if got := r.header.Get("X-Request-ID"); strings.ContainsAny(got, " \t") || got == "" {
		t.Errorf("unsafe X-Request-ID %q echoed", got)
	}
}

func TestBodyTooLarge(t *testing.T) {
	h := newHarness(t)
	big := `{"ttl": 60, "pad": "` + strings.Repeat("x", 70<<10) + `"}`
	r := h.do(req{method: "POST", path: "/tokens", body: big, header: map[string]string{
		"Authorization": basic("joe", testUsers["joe"]), "Content-Type": "application/json"}})
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestHealth(t *testing.T) {
	h := newHarness(t)
	if r := h.do(req{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := h.do(req{method: "GET", path: "/readyz"}); r.status != 200 {
		t.Fatalf("readyz %d", r.status)
	}
	h.api.StartDraining()
	if r := h.do(req{method: "GET", path: "/readyz"}); r.status != 503 {
		t.Fatalf("readyz while draining %d", r.status)
	}
}

func TestImpersonation(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) { c.ServiceTokenTTL = 48 * time.Hour }))
	tests := []struct {
		name, user, body string
		status           int
		wantUser, fault  string
		service          bool
		ttl              time.Duration
	}{
		{"service for other", "svc", `{"user": "joe"}`, 201, "joe", "", false, 24 * time.Hour},
		{"service own token", "svc", `{}`, 201, "svc", "", true, 48 * time.Hour},
		{"service may exceed token_ttl", "svc", `{"ttl": 172800}`, 201, "svc", "", true, 48 * time.Hour},
		{"user for other", "joe", `{"user": "admin"}`, 400, "", "Current user is not a service and cannot request impersonated tokens", false, 0},
		{"user names self", "joe", `{"user": "joe"}`, 400, "", "Current user is not a service and cannot request impersonated tokens", false, 0},
		{"user null is absent", "joe", `{"user": null}`, 201, "joe", "", false, 24 * time.Hour},
		{"user not a string", "svc", `{"user": 5}`, 400, "", "5 is not of type 'string'", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(req{method: "POST", path: "/auth/v1/tokens", body: tt.body, header: map[string]string{
				"Authorization": basic(tt.user, testUsers[tt.user]), "Content-Type": "application/json"}})
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tt.status != 201 {
				if r.fault(t) != tt.fault {
					t.Errorf("faultstring %q", r.fault(t))
				}
				return
			}
			m := r.json(t)
			if m["user"] != tt.wantUser || m["service"] != tt.service {
				t.Errorf("body %s", r.body)
			}
			exp, _ := time.Parse(time.RFC3339Nano, m["expiry"].(string))
			if d := time.Until(exp); d > tt.ttl || d < tt.ttl-time.Minute {
				t.Errorf("lives %s, want %s", d, tt.ttl)
			}
		})
	}
}
