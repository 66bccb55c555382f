package oidc_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

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
		wantFault(t, e.get("/auth/v1/oidc/callback?"+q.Encode()), http.StatusUnauthorized)
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
		wantFault(t, e.get("/auth/v1/oidc/callback?error=access_denied&state="+url.QueryEscape(cb.Query().Get("state"))), http.StatusUnauthorized)
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
		wantFault(t, e.get("/auth/v1/oidc/callback?code=x&state=guess"+strconv.Itoa(i)), http.StatusUnauthorized)
	}
	resp := e.finishBrowser(good)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a good callback after 3 refusals: %d %s", resp.StatusCode, body(resp))
	}
	if n := strings.Count(e.logs.String(), `"event":"login","outcome":"invalid","user":""`); n != 3 {
		t.Fatalf("%d audit lines of refused single sign-on logins, want 3:\n%s", n, e.logs.String())
	}
}
