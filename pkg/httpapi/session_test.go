package httpapi_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
)

// sessionCookie logs user in through POST /auth/v1/session and returns the
// cookie it set.
func (h *harness) sessionCookie(user string) *http.Cookie {
	h.t.Helper()
	form := url.Values{"username": {user}, "password": {testUsers[user]}}.Encode()
	r := h.do(req{method: "POST", path: "/auth/v1/session", body: form,
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if r.status != http.StatusNoContent {
		h.t.Fatalf("session login: %d %s", r.status, r.body)
	}
	resp := http.Response{Header: r.header}
	for _, c := range resp.Cookies() {
		if c.Name == authn.CookieSession {
			return c
		}
	}
	h.t.Fatalf("no session cookie in %q", r.header.Values("Set-Cookie"))
	return nil
}

func TestSessionCookie(t *testing.T) {
	h := newHarness(t)
	c := h.sessionCookie("joe")
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Errorf("cookie attributes: %+v (want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP)", c)
	}
	cookie := map[string]string{"Cookie": c.Name + "=" + c.Value}

	me := h.do(req{method: "GET", path: "/auth/v1/me", header: cookie})
	if me.status != 200 {
		t.Fatalf("me with cookie: %d %s", me.status, me.body)
	}
	body := me.json(t)
	csrf, _ := body["csrf_token"].(string)
	if body["username"] != "joe" || csrf == "" {
		t.Fatalf("me = %v, want joe with a csrf_token", body)
	}
	if loc := body["authentication"].(map[string]any)["location"]; loc != "cookie" {
		t.Errorf("location = %v, want cookie", loc)
	}
	// A token caller gets no csrf_token: it needs none.
	tok := h.tokenFor("joe")
	if b := h.do(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)}).json(t); b["csrf_token"] != nil {
		t.Errorf("csrf_token for a header token: %v", b)
	}

	v := h.do(req{method: "GET", path: "/auth/v1/verify", header: map[string]string{
		"Cookie": cookie["Cookie"], "X-Original-Method": "GET"}})
	if v.status != 200 || v.header.Get("X-Auth-User") != "joe" {
		t.Errorf("verify with cookie: %d %q", v.status, v.header.Get("X-Auth-User"))
	}

	// Creating a key with the cookie alone needs the CSRF token…
	keyReq := func(extra map[string]string) response {
		hd := map[string]string{"Cookie": cookie["Cookie"], "Content-Type": "application/json"}
		for k, v := range extra {
			hd[k] = v
		}
		return h.do(req{method: "POST", path: "/api/v1/apikeys", body: `{}`, header: hd})
	}
	if r := keyReq(nil); r.status != http.StatusForbidden || !strings.Contains(r.fault(t), "X-CSRF-Token") {
		t.Errorf("key without CSRF token: %d %s", r.status, r.body)
	}
	if r := keyReq(map[string]string{"X-CSRF-Token": csrf + "x"}); r.status != http.StatusForbidden {
		t.Errorf("key with a wrong CSRF token: %d %s", r.status, r.body)
	}
	if r := keyReq(map[string]string{"X-CSRF-Token": csrf, "Origin": "https://evil.example"}); r.status != http.StatusForbidden {
		t.Errorf("key from another origin: %d %s", r.status, r.body)
	}
	if r := keyReq(map[string]string{"X-CSRF-Token": csrf, "Origin": h.srv.URL}); r.status != http.StatusCreated {
		t.Errorf("key with the CSRF token, same origin: %d %s", r.status, r.body)
	}

	// Logging out needs it too, then the cookie is dead and cleared.
	if r := h.do(req{method: "DELETE", path: "/auth/v1/session", header: cookie}); r.status != http.StatusForbidden {
		t.Errorf("logout without CSRF token: %d %s", r.status, r.body)
	}
	out := h.do(req{method: "DELETE", path: "/auth/v1/session",
		header: map[string]string{"Cookie": cookie["Cookie"], "X-CSRF-Token": csrf}})
	if out.status != http.StatusNoContent || !strings.Contains(out.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %q", out.status, out.header.Get("Set-Cookie"))
	}
	if r := h.do(req{method: "GET", path: "/auth/v1/me", header: cookie}); r.status != http.StatusUnauthorized {
		t.Errorf("me after logout: %d %s", r.status, r.body)
	}
}

func TestSessionLoginRefusals(t *testing.T) {
	h := newHarness(t)
	form := url.Values{"username": {"joe"}, "password": {"wrong"}}.Encode()
	r := h.do(req{method: "POST", path: "/auth/v1/session", body: form,
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if r.status != http.StatusUnauthorized || r.header.Get("Set-Cookie") != "" {
		t.Errorf("wrong password: %d, Set-Cookie %q", r.status, r.header.Get("Set-Cookie"))
	}
	form = url.Values{"username": {"joe"}, "password": {testUsers["joe"]}}.Encode()
	r = h.do(req{method: "POST", path: "/auth/v1/session", body: form, header: map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}})
	if r.status != http.StatusForbidden || r.header.Get("Set-Cookie") != "" {
		t.Errorf("cross-site login: %d, Set-Cookie %q", r.status, r.header.Get("Set-Cookie"))
	}
	r = h.do(req{method: "POST", path: "/auth/v1/session", body: `{"username":"joe","password":"` + testUsers["joe"] + `"}`,
		header: map[string]string{"Content-Type": "application/json"}})
	if r.status != http.StatusNoContent {
		t.Errorf("JSON login: %d %s", r.status, r.body)
	}
}

func TestSessionCookieSecureBehindTrustedProxy(t *testing.T) {
	h := newHarness(t, withConfig(func(c *httpapi.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}))
	form := url.Values{"username": {"joe"}, "password": {testUsers["joe"]}}.Encode()
	r := h.do(req{method: "POST", path: "/auth/v1/session", body: form, header: map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-Proto": "https"}})
	if r.status != http.StatusNoContent || !strings.Contains(r.header.Get("Set-Cookie"), "; Secure") {
		t.Errorf("behind a trusted TLS proxy: %d, Set-Cookie %q", r.status, r.header.Get("Set-Cookie"))
	}
}

// TestSessionCookieSentTwice: a gatehouse_session cookie sent twice with
// different values (one planted by a sibling domain, say) is no
// credential at all, on the API and on the page, in either order; the
// same value twice is still the session.
func TestSessionCookieSentTwice(t *testing.T) {
	h := newHarness(t)
	joe := h.sessionCookie("joe")
	ann := h.sessionCookie("admin")
	for _, tc := range []struct {
		name, cookie string
		ok           bool
	}{
		{"same value twice", joe.Value + "; " + authn.CookieSession + "=" + joe.Value, true},
		{"two sessions", joe.Value + "; " + authn.CookieSession + "=" + ann.Value, false},
		{"two sessions, other order", ann.Value + "; " + authn.CookieSession + "=" + joe.Value, false},
		{"a session and junk", joe.Value + "; " + authn.CookieSession + "=junk", false},
		{"a session and empty", joe.Value + "; " + authn.CookieSession + "=", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cookie := map[string]string{"Cookie": authn.CookieSession + "=" + tc.cookie}
			verify := h.do(req{method: "GET", path: "/auth/v1/verify", header: map[string]string{
				"Cookie": cookie["Cookie"], "X-Original-Method": "GET"}})
			me := h.do(req{method: "GET", path: "/auth/v1/me", header: cookie})
			page := getPage(t, h.srv.URL+"/ui/", cookie["Cookie"])
			if tc.ok {
				if verify.status != 200 || verify.header.Get("X-Auth-User") != "joe" || me.status != 200 || page.StatusCode != 200 {
					t.Fatalf("verify %d %q, me %d, page %d: want the session", verify.status,
						verify.header.Get("X-Auth-User"), me.status, page.StatusCode)
				}
				return
			}
			if verify.status != http.StatusUnauthorized || me.status != http.StatusUnauthorized {
				t.Errorf("verify %d, me %d: want 401 (no credential)", verify.status, me.status)
			}
			if f := me.fault(t); f != "Unauthorized - One of Token or API key required." {
				t.Errorf("me says %q, want the no-credential answer", f)
			}
			if page.StatusCode != http.StatusSeeOther || !strings.HasPrefix(page.Header.Get("Location"), "/ui/login") {
				t.Errorf("page: %d to %q, want the login form", page.StatusCode, page.Header.Get("Location"))
			}
		})
	}
}

// getPage fetches a web page with a Cookie header, not following
// redirects (the page is not in api/openapi.yaml).
func getPage(t *testing.T, url, cookie string) *http.Response {
	t.Helper()
	r, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	r.Header.Set("Cookie", cookie)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestVerifyCookieNeedsCSRFToChange: forward auth gives an app behind the
// proxy the same CSRF protection as Gatehouse's own routes: a session
// cookie alone lets the original request read, but a change needs the
// session's X-CSRF-Token (passed on from the original request) and no
// cross-site browser; without the method header it may be a change.
func TestVerifyCookieNeedsCSRFToChange(t *testing.T) {
	h := newHarness(t)
	c := h.sessionCookie("joe")
	csrf := authn.CSRFToken(c.Value)
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"GET", map[string]string{"X-Original-Method": "GET"}, http.StatusOK},
		{"POST without the token", map[string]string{"X-Original-Method": "POST"}, http.StatusForbidden},
		{"POST with a wrong token", map[string]string{"X-Original-Method": "POST", "X-CSRF-Token": csrf + "x"}, http.StatusForbidden},
		{"POST with the token", map[string]string{"X-Original-Method": "POST", "X-CSRF-Token": csrf}, http.StatusOK},
		{"DELETE with the token from another site",
			map[string]string{"X-Original-Method": "DELETE", "X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"no method header", map[string]string{}, http.StatusForbidden},
		{"no method header, with the token", map[string]string{"X-CSRF-Token": csrf}, http.StatusOK},
	} {
		hd := map[string]string{"Cookie": c.Name + "=" + c.Value, "X-Original-URI": "/app/x"}
		for k, v := range tc.header {
			hd[k] = v
		}
		r := h.do(req{method: "GET", path: "/auth/v1/verify", header: hd})
		if r.status != tc.want {
			t.Errorf("%s: %d %s (X-Auth-Error %q), want %d", tc.name, r.status, r.body, r.header.Get("X-Auth-Error"), tc.want)
		}
		if r.status == http.StatusForbidden && !strings.Contains(r.header.Get("X-Auth-Error"), "X-CSRF-Token") {
			t.Errorf("%s: X-Auth-Error %q does not say what is missing", tc.name, r.header.Get("X-Auth-Error"))
		}
	}
	// A token in a header needs nothing of the kind.
	tok := h.tokenFor("joe")
	hd := asToken(tok)
	hd["X-Original-Method"] = "POST"
	if r := h.do(req{method: "GET", path: "/auth/v1/verify", header: hd}); r.status != http.StatusOK {
		t.Errorf("POST with X-Auth-Token: %d %s", r.status, r.body)
	}
}
