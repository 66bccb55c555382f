package oidc_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc/hydratest"
)

// TestRefusals: each check of the callback refuses what it exists for,
// with a 401 (403 for allowed_groups) and no session.
func TestRefusals(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil)

	t.Run("BadState", func(t *testing.T) {
		cb := e.atProvider(e.beginBrowser("/ui/"))
		q := cb.Query()
		q.Set("state", "not-a-state-we-sent")
		wantFault(t, e.callback(q.Encode(), e.bindings[cb.Query().Get("state")]), http.StatusUnauthorized)
		// The real state still works: a wrong guess consumed nothing.
		if resp := e.finishBrowser(cb); resp.StatusCode != http.StatusFound {
			t.Fatalf("the real state after a bad one: %d %s", resp.StatusCode, body(resp))
		}
	})
	t.Run("ReplayedState", func(t *testing.T) {
		cb := e.atProvider(e.beginBrowser("/ui/"))
		if resp := e.finishBrowser(cb); resp.StatusCode != http.StatusFound {
			t.Fatalf("first use: %d %s", resp.StatusCode, body(resp))
		}
		wantFault(t, e.finishBrowser(cb), http.StatusUnauthorized)
	})
	t.Run("NoCode", func(t *testing.T) {
		cb := e.atProvider(e.beginBrowser("/ui/"))
		state := cb.Query().Get("state")
		wantFault(t, e.callback("error=access_denied&state="+url.QueryEscape(state), e.bindings[state]), http.StatusUnauthorized)
	})
	t.Run("WrongNonce", func(t *testing.T) {
		// The provider is asked with this login's state and PKCE
		// challenge but another login's nonce: the ID token it signs
		// carries a nonce this login never sent.
		first, _ := url.Parse(e.beginBrowser("/ui/"))
		other, _ := url.Parse(e.beginBrowser("/ui/"))
		q := first.Query()
		q.Set("nonce", other.Query().Get("nonce"))
		first.RawQuery = q.Encode()
		wantFault(t, e.finishBrowser(e.atProvider(first.String())), http.StatusUnauthorized)
	})
	t.Run("WrongVerifier", func(t *testing.T) {
		// Another login's PKCE challenge: the provider refuses the code
		// exchange with this login's verifier.
		first, _ := url.Parse(e.beginBrowser("/ui/"))
		other, _ := url.Parse(e.beginBrowser("/ui/"))
		q := first.Query()
		q.Set("code_challenge", other.Query().Get("code_challenge"))
		first.RawQuery = q.Encode()
		wantFault(t, e.finishBrowser(e.atProvider(first.String())), http.StatusUnauthorized)
	})
	t.Run("AnotherAudience", func(t *testing.T) {
		// A code issued to another client of the same provider.
		other := e.hydra.CreateClient("http://" + e.gw.Listener.Addr().String() + "/auth/v1/oidc/callback")
		u, _ := url.Parse(e.beginBrowser("/ui/"))
		q := u.Query()
		q.Set("client_id", other.ID)
		u.RawQuery = q.Encode()
		wantFault(t, e.finishBrowser(e.atProvider(u.String())), http.StatusUnauthorized)
	})
	t.Run("TerminalLoginAtBrowserCallback", func(t *testing.T) {
		cb := e.atProvider(e.beginTerminal("http://127.0.0.1:45679/callback"))
		wantFault(t, e.finishBrowser(cb), http.StatusUnauthorized)
	})
	t.Run("BrowserLoginAtTokenRoute", func(t *testing.T) {
		cb := e.atProvider(e.beginBrowser("/ui/"))
		wantFault(t, e.finishTerminal(cb), http.StatusUnauthorized)
	})
	t.Run("OpenRedirect", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "/\\evil.example", "https://evil.example/", "evil.example",
			"/\r\nSet-Cookie:x", "/\tfoo", "javascript:alert(1)"} {
			resp := e.get("/auth/v1/oidc/login?next=" + url.QueryEscape(next))
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("next=%q: %d %s, want 400", next, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})
	t.Run("NotLoopback", func(t *testing.T) {
		for _, ru := range []string{"http://localhost:1234/callback", "https://127.0.0.1:1234/callback",
			"http://evil.example:1234/callback", "http://127.0.0.1:1234/other", "http://127.0.0.1/callback?x=1",
			"http://10.0.0.1:1234/callback"} {
			resp := e.get("/auth/v1/oidc/login?redirect_uri=" + url.QueryEscape(ru))
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("redirect_uri=%q: %d, want 400", ru, resp.StatusCode)
			}
		}
	})
}

// TestExpiredCode: a code past the provider's lifetime is refused.
func TestExpiredCode(t *testing.T) {
	e := newEnv(t, hydratest.Options{CodeTTL: time.Second}, nil)
	cb := e.atProvider(e.beginBrowser("/ui/"))
	time.Sleep(2 * time.Second)
	wantFault(t, e.finishBrowser(cb), http.StatusUnauthorized)
}

// TestAllowedGroups: a user the provider vouches for but in none of
// allowed_groups gets 403 and no session; one in them gets in.
func TestAllowedGroups(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, func(c *oidc.Config) { c.AllowedGroups = []string{"st2-users"} })
	e.hydra.SetUser("mallory", "dev")
	wantFault(t, e.finishBrowser(e.atProvider(e.beginBrowser("/ui/"))), http.StatusForbidden)
	e.hydra.SetUser("carol", "dev", "st2-users")
	if resp := e.finishBrowser(e.atProvider(e.beginBrowser("/ui/"))); resp.StatusCode != http.StatusFound {
		t.Fatalf("a user in allowed_groups: %d %s", resp.StatusCode, body(resp))
	}
}

// TestPrivilegedNames: a provider's user named like an admin or a service
// account (any case) is refused, 403 with no session and an audit line,
// unless allow_privileged_names is set; other users sign in as before.
func TestPrivilegedNames(t *testing.T) {
	privileged := func(c *httpapi.Config) { c.AdminUsers, c.ServiceUsers = []string{"admin"}, []string{"st2svc"} }
	e := newEnv(t, hydratest.Options{}, nil, privileged)
	for _, name := range []string{"admin", "st2svc", "Admin"} {
		e.hydra.SetUser(name, "ops")
		resp := e.finishBrowser(e.atProvider(e.beginBrowser("/ui/")))
		b := body(resp)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(b, `"faultstring":`) || !strings.Contains(b, "administrator") {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, b)
		}
		if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
			t.Fatalf("%s: a refused login set cookies: %q", name, c)
		}
	}
	if n := strings.Count(e.logs.String(), `"event":"login","outcome":"forbidden"`); n != 3 {
		t.Fatalf("%d audit lines of refused privileged names, want 3:\n%s", n, e.logs.String())
	}
	e.hydra.SetUser("carol", "ops")
	if resp := e.finishBrowser(e.atProvider(e.beginBrowser("/ui/"))); resp.StatusCode != http.StatusFound {
		t.Fatalf("an ordinary user: %d %s", resp.StatusCode, body(resp))
	}

	allowed := newEnv(t, hydratest.Options{}, func(c *oidc.Config) { c.AllowPrivilegedNames = true }, privileged)
	allowed.hydra.SetUser("admin", "ops")
	if resp := allowed.finishBrowser(allowed.atProvider(allowed.beginBrowser("/ui/"))); resp.StatusCode != http.StatusFound {
		t.Fatalf("admin with allow_privileged_names: %d %s", resp.StatusCode, body(resp))
	}
}

// TestStartsLimited: single sign-on starts are unauthenticated and each
// costs a pending-login row (and a discovery, or for a device login a
// request to the provider): one client address may start SSOStartLimit
// a minute, browser and terminal together; past it, 429 with Retry-After
// and the usual body, and nothing is stored or asked.
func TestStartsLimited(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil)
	e.hydra.SetUser("erin", "ops")
	var first string
	for i := range auth.SSOStartLimit {
		if i == 0 {
			first = e.beginBrowser("/ui/")
		} else if i%2 == 0 {
			e.beginBrowser("/ui/")
		} else {
			e.beginTerminal("http://127.0.0.1:45679/callback")
		}
	}
	for _, path := range []string{"/auth/v1/oidc/login?next=/ui/", "/auth/v1/oidc/login?redirect_uri=" + url.QueryEscape("http://127.0.0.1:45679/callback")} {
		resp := e.get(path)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("start %d: %d %s", auth.SSOStartLimit+1, resp.StatusCode, body(resp))
		}
		if secs, _ := strconv.Atoi(resp.Header.Get("Retry-After")); secs < 1 || secs > 60 {
			t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		wantFault(t, resp, http.StatusTooManyRequests)
	}
	if resp := e.post("/auth/v1/oidc/device", nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a device start past the limit: %d %s", resp.StatusCode, body(resp))
	}
	// A login under way still finishes: the limit is on starts.
	if resp := e.finishBrowser(e.atProvider(first)); resp.StatusCode != http.StatusFound {
		t.Fatalf("a login begun before the limit: %d %s", resp.StatusCode, body(resp))
	}
}

// TestLoginCSRF (RFC 6749 §10.12): an attacker begins a login, signs in
// at the provider as themselves and stops before the callback; the
// callback URL, sent to a victim, must not sign the victim's browser in as
// the attacker. The victim's browser has no binding cookie, or another
// login's, or a made-up one: each is a 401 with no session. The browser
// that began the login finishes it, and the cookie is forgotten then.
func TestLoginCSRF(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil)
	e.hydra.SetUser("mallory", "ops")
	begin := e.get("/auth/v1/oidc/login?next=/ui/")
	c := bindingCookie(begin)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/auth/v1/oidc/" || c.MaxAge != 600 || c.Secure ||
		len(c.Value) < 22 {
		t.Fatalf("binding cookie %+v (Set-Cookie %q)", c, begin.Header.Values("Set-Cookie"))
	}

	// No cookie: refused, and nothing consumed (a link clicked elsewhere
	// does not spoil the login of the browser that began it).
	first := e.atProvider(e.beginBrowser("/ui/"))
	wantFault(t, e.callback(first.RawQuery, ""), http.StatusUnauthorized)
	if resp := e.finishBrowser(first); resp.StatusCode != http.StatusFound {
		t.Fatalf("the browser's own login after a cookieless try: %d %s", resp.StatusCode, body(resp))
	}
	// The victim is in the middle of a login of their own: its cookie is
	// not the attacker's login's.
	attacker := e.atProvider(e.beginBrowser("/ui/"))
	victim, _ := url.Parse(e.beginBrowser("/ui/"))
	wantFault(t, e.callback(attacker.RawQuery, e.bindings[victim.Query().Get("state")]), http.StatusUnauthorized)
	// A made-up cookie.
	other := e.atProvider(e.beginBrowser("/ui/"))
	wantFault(t, e.callback(other.RawQuery, "bm90LXRoZS1jb29raWUtc2V0"), http.StatusUnauthorized)

	if n := strings.Count(e.logs.String(), `"event":"login","outcome":"invalid"`); n != 3 {
		t.Fatalf("%d audit lines of refused callbacks, want 3:\n%s", n, e.logs.String())
	}
	// The browser that began a login finishes it; the cookie is cleared.
	own := e.atProvider(e.beginBrowser("/ui/"))
	resp := e.finishBrowser(own)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("the browser's own login: %d %s", resp.StatusCode, body(resp))
	}
	if c := bindingCookie(resp); c == nil || c.MaxAge >= 0 {
		t.Fatalf("the binding cookie was not cleared after the login: %q", resp.Header.Values("Set-Cookie"))
	}
}

// TestProviderDown: a hung provider is a 503 within the configured
// timeout, at start-up or later, and logins work again once it answers,
// with no restart.
func TestProviderDown(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, func(c *oidc.Config) { c.Timeout = 2 })
	down := func(what string) {
		t.Helper()
		start := time.Now()
		resp := e.get("/auth/v1/oidc/login?next=/ui/")
		if took := time.Since(start); resp.StatusCode != http.StatusServiceUnavailable || took > 5*time.Second {
			t.Fatalf("%s: %d after %v, want 503 within the 2 s timeout", what, resp.StatusCode, took)
		}
	}
	e.hydra.Freeze() // before the first login: discovery never succeeded
	down("down from the start")
	e.hydra.Thaw()
	if resp := e.finishBrowser(e.atProvider(e.beginBrowser("/ui/"))); resp.StatusCode != http.StatusFound {
		t.Fatalf("after recovery: %d %s", resp.StatusCode, body(resp))
	}
	// Down between the redirect and the callback: the code exchange is
	// a 503 too, and the tokens already issued still work.
	cb := e.atProvider(e.beginBrowser("/ui/"))
	e.hydra.Freeze()
	start := time.Now()
	if resp := e.finishBrowser(cb); resp.StatusCode != http.StatusServiceUnavailable || time.Since(start) > 5*time.Second {
		t.Fatalf("callback while down: %d after %v", resp.StatusCode, time.Since(start))
	}
	down("down later")
	e.hydra.Thaw()
	if resp := e.finishBrowser(e.atProvider(e.beginBrowser("/ui/"))); resp.StatusCode != http.StatusFound {
		t.Fatalf("after the second recovery: %d %s", resp.StatusCode, body(resp))
	}
}

// TestCallbackThrottled: refused callbacks count against the client
// address like wrong passwords; past the limit even a good one is 429
// until the window frees up, and every refusal is audited.
func TestCallbackThrottled(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil, func(c *httpapi.Config) {
		c.Throttle = httpapi.Throttle{AddressFailures: 3}
	})
	good := e.atProvider(e.beginBrowser("/ui/"))
	for i := range 3 {
		wantFault(t, e.callback("code=x&state=guess"+strconv.Itoa(i), "a-browser-cookie"), http.StatusUnauthorized)
	}
	resp := e.finishBrowser(good)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a good callback after 3 refusals: %d %s", resp.StatusCode, body(resp))
	}
	if n := strings.Count(e.logs.String(), `"event":"login","outcome":"invalid","user":""`); n != 3 {
		t.Fatalf("%d audit lines of refused single sign-on logins, want 3:\n%s", n, e.logs.String())
	}
}
