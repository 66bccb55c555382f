package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/internal/testlog"
)

func trustedProxies(prefixes ...string) option {
	return withConfig(func(c *httpapi.Config) {
		c.TrustedProxies = nil
		for _, p := range prefixes {
			c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(p))
		}
	})
}

func proxyMode(c *httpapi.Config) { c.Mode = httpapi.ModeProxy }

func TestProxyModeTrustedPeer(t *testing.T) {
	h := newHarness(t, withConfig(proxyMode), trustedProxies("127.0.0.0/8", "::1/128"))
	tests := []struct {
		name   string
		header map[string]string
		status int
		user   string
	}{
		{"Remote-User", map[string]string{"Remote-User": "alice"}, 201, "alice"},
		{"X-Forwarded-User", map[string]string{"X-Forwarded-User": "bob"}, 201, "bob"},
		{"Remote-User wins", map[string]string{"Remote-User": "alice", "X-Forwarded-User": "bob"}, 201, "alice"},
		{"Basic user part, password not checked", map[string]string{"Authorization": basic("carol", "anything")}, 201, "carol"},
		{"nothing", nil, 401, ""},
		{"too long", map[string]string{"X-Forwarded-User": strings.Repeat("e", 300)}, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(req{method: "POST", path: "/auth/v1/tokens", header: tt.header})
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if tt.status == 201 && r.json(t)["user"] != tt.user {
				t.Errorf("user %v, want %s", r.json(t)["user"], tt.user)
			}
		})
	}
}

func TestProxyModeUntrustedPeerIsIgnored(t *testing.T) {
	h := newHarness(t, withConfig(proxyMode), trustedProxies("10.0.0.0/8"))
	for _, hdr := range []map[string]string{
		{"Remote-User": "alice"},
		{"X-Forwarded-User": "alice"},
		{"Authorization": basic("joe", testUsers["joe"])},
		{"X-Forwarded-User": "alice", "X-Forwarded-For": "10.1.2.3"},
	} {
		r := h.do(req{method: "POST", path: "/auth/v1/tokens", header: hdr})
		if r.status != 401 || r.fault(t) != "Invalid or missing credentials" {
			t.Errorf("%v from an untrusted peer: %d %s", hdr, r.status, r.body)
		}
	}
}

func TestStandaloneIgnoresProxyHeaders(t *testing.T) {
	h := newHarness(t)
	r := h.do(req{method: "POST", path: "/auth/v1/tokens", header: map[string]string{"Remote-User": "admin", "X-Forwarded-User": "admin"}})
	if r.status != 401 {
		t.Fatalf("standalone believed a proxy header: %d %s", r.status, r.body)
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) {
		c.AllowedOrigins = []string{"https://ui.example.com", "http://127.0.0.1:3000"}
	}))
	send := func(method, origin string) *http.Response {
		t.Helper()
		r, _ := http.NewRequestWithContext(t.Context(), method, h.srv.URL+"/auth/v1/tokens", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		r.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := h.srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	pre := send("OPTIONS", "https://ui.example.com")
	if pre.StatusCode != 200 || pre.Header.Get("Access-Control-Allow-Origin") != "https://ui.example.com" ||
		pre.Header.Get("Access-Control-Allow-Methods") != "GET,POST,PUT,DELETE,OPTIONS" ||
		pre.Header.Get("Access-Control-Allow-Headers") != "Content-Type,Authorization,X-Auth-Token,St2-Api-Key,X-CSRF-Token,X-Request-ID" ||
		pre.Header.Get("Access-Control-Allow-Credentials") != "true" || pre.Header.Get("X-Request-ID") == "" {
		t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	if got := send("OPTIONS", "https://evil.example.net").Header.Get("Access-Control-Allow-Origin"); got != "https://ui.example.com" {
		t.Errorf("unknown origin got %q; must never be echoed", got)
	}
	if got := send("POST", "http://127.0.0.1:3000").Header; got.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:3000" ||
		got.Get("Access-Control-Expose-Headers") != "Content-Type,X-Limit,X-Total-Count,X-Request-ID" {
		t.Errorf("actual request: %v", got)
	}
	star := newHarness(t, withConfig(func(c *httpapi.Config) { c.AllowedOrigins = []string{"*"} }))
	h = star
	if got := send("OPTIONS", "https://anything.example").Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("configured * gave %q", got)
	}
}

func TestAllowedHosts(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) { c.AllowedHosts = []string{"auth.example.com"} }))
	send := func(host, path string) int {
		r, _ := http.NewRequestWithContext(t.Context(), "GET", h.srv.URL+path, nil)
		r.Host = host
		resp, err := h.srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send("auth.example.com", "/auth/v1/me"); got != 401 {
		t.Errorf("allowed host: %d", got)
	}
	if got := send("auth.example.com:9100", "/auth/v1/me"); got != 401 {
		t.Errorf("allowed host with port: %d", got)
	}
	if got := send("evil.example.net", "/auth/v1/me"); got != 400 {
		t.Errorf("other host: %d", got)
	}
	if got := send("10.0.0.5", "/healthz"); got != 200 {
		t.Errorf("health with an IP host: %d", got)
	}
}

func withLog(buf *testlog.Buffer) option {
	return withConfig(func(c *httpapi.Config) { c.Logger = slog.New(slog.NewJSONHandler(buf, nil)) })
}

func TestMetricsMove(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) { c.BackendName = "flat_file" }))
	scrape := func() string {
		r := h.do(req{method: "GET", path: "/metrics"})
		if r.status != 200 {
			t.Fatalf("metrics: %d", r.status)
		}
		return string(r.body)
	}
	value := func(text, series string) float64 {
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, series+" ") {
				v, _ := strconv.ParseFloat(strings.TrimPrefix(line, series+" "), 64)
				return v
			}
		}
		return 0
	}
	before := scrape()
	tok := h.tokenFor("joe")
	h.do(req{method: "POST", path: "/tokens", header: map[string]string{"Authorization": basic("joe", "wrong")}})
	for range 3 {
		h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)})
	}
	h.do(req{method: "DELETE", path: "/auth/v1/tokens/current", header: asToken(tok)})
	h.createKey(h.tokenFor("admin"), `{}`)
	after := scrape()
	for series, want := range map[string]float64{
		`gatehouse_logins_total{backend="flat_file",outcome="success"}`:                   2,
		`gatehouse_logins_total{backend="flat_file",outcome="invalid"}`:                   1,
		`gatehouse_tokens_issued_total`:                                                   2,
		`gatehouse_tokens_revoked_total`:                                                  1,
		`gatehouse_api_keys_total{action="created"}`:                                      1,
		`gatehouse_http_requests_total{code="200",method="GET",route="/auth/v1/me"}`:      3,
		`gatehouse_http_requests_total{code="401",method="POST",route="/tokens"}`:         1,
		`gatehouse_http_request_duration_seconds_count{method="GET",route="/auth/v1/me"}`: 3,
		`gatehouse_validation_cache_requests_total{result="hit"}`:                         2,
	} {
		if got := value(after, series) - value(before, series); got < want {
			t.Errorf("%s moved by %v, want at least %v", series, got, want)
		}
	}
	for _, series := range []string{`gatehouse_db_pool_connections{state="max"}`, "gatehouse_validation_cache_trusted", "go_goroutines"} {
		if value(after, series) <= 0 {
			t.Errorf("%s missing or zero", series)
		}
	}
}

func TestAuditLogHasEventsAndNoSecrets(t *testing.T) {
	buf := &testlog.Buffer{}
	h := newHarness(t, withLog(buf))
	login := h.login("joe")
	tok := login["token"].(string)
	h.do(req{method: "POST", path: "/tokens", header: map[string]string{"Authorization": basic("joe", "wrong-password-xyz")}})
	created := h.createKey(tok, `{}`)
	key, id := created["key"].(string), created["id"].(string)
	h.do(req{method: "PUT", path: "/api/v1/apikeys/" + id, header: asToken(tok), body: `{"enabled": false}`})
	h.do(req{method: "PUT", path: "/api/v1/apikeys/" + id, header: asToken(tok), body: `{"enabled": true}`})
	h.do(req{method: "GET", path: "/auth/v1/me?st2-api-key=" + key})
	h.do(req{method: "GET", path: "/api/v1/apikeys/" + key, header: asToken(tok)})
	h.do(req{method: "DELETE", path: "/api/v1/apikeys/" + id, header: asToken(tok)})
	h.do(req{method: "DELETE", path: "/auth/v1/tokens/current", header: asToken(tok)})

	events := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not one JSON object: %q", line)
		}
		if m["log"] == "audit" {
			events[m["event"].(string)+"/"+m["outcome"].(string)] = m
		}
	}
	for _, want := range []string{"login/success", "login/invalid", "token_issued/success", "apikey_created/success",
		"apikey_disabled/success", "apikey_enabled/success", "apikey_deleted/success", "token_revoked/success"} {
		e, ok := events[want]
		if !ok {
			t.Errorf("no audit event %s", want)
			continue
		}
		if e["user"] != "joe" || e["remote"] != "127.0.0.1" || e["request_id"] == "" {
			t.Errorf("%s lacks user, remote or request id: %v", want, e)
		}
	}
	for _, secret := range []string{tok, key, testUsers["joe"], "wrong-password-xyz"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the log holds a secret %q", secret)
		}
	}
}
