package authn_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

func TestMissingCredential(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func(t *testing.T) *http.Request
	}{
		{"nothing", func(t *testing.T) *http.Request { return get(t, "/thing") }},
		{"empty header", func(t *testing.T) *http.Request { return get(t, "/thing", "X-Auth-Token", "") }},
		{"empty query", func(t *testing.T) *http.Request { return get(t, "/thing?x-auth-token=&st2-api-key=") }},
		{"upper-case query name", func(t *testing.T) *http.Request { return get(t, "/thing?X-Auth-Token="+joeToken) }},
		{"Authorization Basic", func(t *testing.T) *http.Request {
			return get(t, "/thing", "Authorization", "Basic am9lOnNlY3JldA==")
		}},
		{"Authorization Bearer without a value", func(t *testing.T) *http.Request {
			return get(t, "/thing", "Authorization", "Bearer ")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake(t)
			res := serve(newMiddleware(t, g.srv.URL), tc.req(t))
			wantFault(t, res, http.StatusUnauthorized, "Unauthorized - One of Token or API key required.")
			if n := g.calls.Load(); n != 0 {
				t.Errorf("%d introspection calls, want 0", n)
			}
		})
	}
}

func TestCredentialSources(t *testing.T) {
	for _, tc := range []struct {
		name     string
		req      func(t *testing.T) *http.Request
		want     introCall
		kind     authn.Kind
		location authn.Location
	}{
		{"header token", func(t *testing.T) *http.Request { return get(t, "/thing", "X-Auth-Token", joeToken) },
			introCall{joeToken, "access_token"}, authn.KindToken, authn.InHeader},
		{"header key", func(t *testing.T) *http.Request { return get(t, "/thing", "St2-Api-Key", joeKey) },
			introCall{joeKey, "api_key"}, authn.KindAPIKey, authn.InHeader},
		{"query token", func(t *testing.T) *http.Request { return get(t, "/thing?x-auth-token="+joeToken) },
			introCall{joeToken, "access_token"}, authn.KindToken, authn.InQuery},
		{"query key", func(t *testing.T) *http.Request { return get(t, "/thing?st2-api-key="+joeKey) },
			introCall{joeKey, "api_key"}, authn.KindAPIKey, authn.InQuery},
		{"header token before header key", func(t *testing.T) *http.Request {
			return get(t, "/thing", "X-Auth-Token", joeToken, "St2-Api-Key", joeKey)
		}, introCall{joeToken, "access_token"}, authn.KindToken, authn.InHeader},
		{"header key before query token", func(t *testing.T) *http.Request {
			return get(t, "/thing?x-auth-token="+joeToken, "St2-Api-Key", joeKey)
		}, introCall{joeKey, "api_key"}, authn.KindAPIKey, authn.InHeader},
		{"query token before query key", func(t *testing.T) *http.Request {
			return get(t, "/thing?st2-api-key="+joeKey+"&x-auth-token="+joeToken)
		}, introCall{joeToken, "access_token"}, authn.KindToken, authn.InQuery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake(t)
			res := serve(newMiddleware(t, g.srv.URL), tc.req(t))
			if res.status != http.StatusOK || !res.called || !res.hasID {
				t.Fatalf("status %d called %v identity %v: %s", res.status, res.called, res.hasID, res.body)
			}
			if got := g.lastCall(); got != tc.want {
				t.Errorf("asked %+v, want %+v", got, tc.want)
			}
			want := authn.Credential{Kind: tc.kind, Location: tc.location}
			if res.id.Credential != want {
				t.Errorf("identity credential %+v, want %+v (no Value)", res.id.Credential, want)
			}
		})
	}
}

func TestServiceCredential(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    func(*authn.Config)
		caller func(r *http.Request) bool
	}{
		{"api key", func(c *authn.Config) { c.APIKey = "svc-key" },
			func(r *http.Request) bool {
				return r.Header.Get("St2-Api-Key") == "svc-key" && r.Header.Get("X-Auth-Token") == ""
			}},
		{"token", func(c *authn.Config) { c.APIKey, c.Token = "", "svc-token" },
			func(r *http.Request) bool {
				return r.Header.Get("X-Auth-Token") == "svc-token" && r.Header.Get("St2-Api-Key") == ""
			}},
		{"basic", func(c *authn.Config) { c.APIKey, c.Username, c.Password = "", "svc", "pass: word" },
			func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "svc" && p == "pass: word"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake(t, wantCaller(tc.caller))
			res := serve(newMiddleware(t, g.srv.URL, tc.cfg), withToken(t, joeToken))
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
		})
	}
}

func TestActive(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name string
		req  func(t *testing.T) *http.Request
		want authn.Identity
	}{
		{"token", func(t *testing.T) *http.Request { return withToken(t, joeToken) }, authn.Identity{
			Username: "joe", Groups: []string{"ops", "dev"}, TokenType: "access_token",
			ExpiresAt: time.Unix(now.Add(time.Hour).Unix(), 0), IssuedAt: time.Unix(now.Add(-time.Minute).Unix(), 0),
			Metadata: map[string]any{"team": map[string]any{"name": "blue"}}, Scope: "write",
			Credential: authn.Credential{Kind: authn.KindToken, Location: authn.InHeader},
		}},
		{"token as Bearer", func(t *testing.T) *http.Request {
			return get(t, "/thing", "Authorization", "bearer "+joeToken)
		}, authn.Identity{
			Username: "joe", Groups: []string{"ops", "dev"}, TokenType: "access_token",
			ExpiresAt: time.Unix(now.Add(time.Hour).Unix(), 0), IssuedAt: time.Unix(now.Add(-time.Minute).Unix(), 0),
			Metadata: map[string]any{"team": map[string]any{"name": "blue"}}, Scope: "write",
			Credential: authn.Credential{Kind: authn.KindToken, Location: authn.InHeader},
		}},
		{"api key", func(t *testing.T) *http.Request { return get(t, "/thing?st2-api-key="+joeKey) }, authn.Identity{
			Username: "joe", Groups: []string{}, TokenType: "api_key",
			IssuedAt: time.Unix(now.Add(-time.Hour).Unix(), 0), Metadata: map[string]any{}, Scope: "write",
			Credential: authn.Credential{Kind: authn.KindAPIKey, Location: authn.InQuery},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake(t, answering(knownCredentials(now)))
			res := serve(newMiddleware(t, g.srv.URL), tc.req(t))
			if res.status != http.StatusOK || res.body != "ok" || !res.hasID {
				t.Fatalf("status %d identity %v: %s", res.status, res.hasID, res.body)
			}
			if !reflect.DeepEqual(res.id, tc.want) {
				t.Errorf("identity\n got %+v\nwant %+v", res.id, tc.want)
			}
		})
	}
}

func TestActiveUsesSubWithoutUsername(t *testing.T) {
	g := newFake(t, answering(func(string, string) (int, any) {
		return 200, map[string]any{"active": true, "sub": "joe", "token_type": "api_key"}
	}))
	res := serve(newMiddleware(t, g.srv.URL), withToken(t, joeToken))
	if res.status != http.StatusOK || res.id.Username != "joe" {
		t.Fatalf("status %d user %q", res.status, res.id.Username)
	}
}

func TestInactive(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func(t *testing.T) *http.Request
	}{
		{"unknown token", func(t *testing.T) *http.Request { return withToken(t, badToken) }},
		{"unknown key", func(t *testing.T) *http.Request { return get(t, "/thing", "St2-Api-Key", badToken) }},
		{"bad token next to a good key", func(t *testing.T) *http.Request {
			return get(t, "/thing", "X-Auth-Token", badToken, "St2-Api-Key", joeKey)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake(t)
			mw := newMiddleware(t, g.srv.URL)
			for i := range 2 {
				wantFault(t, serve(mw, tc.req(t)), http.StatusUnauthorized, "Unauthorized")
				if n := g.calls.Load(); n != int64(i+1) {
					t.Errorf("after %d requests %d calls: inactive answers must not be cached", i+1, n)
				}
			}
			if n := authn.CacheLen(mw); n != 0 {
				t.Errorf("cache holds %d entries", n)
			}
		})
	}
}

func TestCache(t *testing.T) {
	g := newFake(t)
	mw := newMiddleware(t, g.srv.URL, func(c *authn.Config) { c.CacheTTL = 50 * time.Millisecond })
	steps := []struct {
		name      string
		sleep     time.Duration
		req       func(t *testing.T) *http.Request
		wantCalls int64
	}{
		{"first token request asks", 0, func(t *testing.T) *http.Request { return withToken(t, joeToken) }, 1},
		{"second within TTL does not", 0, func(t *testing.T) *http.Request { return withToken(t, joeToken) }, 1},
		{"same token from the query does not", 0, func(t *testing.T) *http.Request {
			return get(t, "/thing?x-auth-token="+joeToken)
		}, 1},
		{"same value as an API key does", 0, func(t *testing.T) *http.Request {
			return get(t, "/thing", "St2-Api-Key", joeToken)
		}, 2},
		{"after the TTL asks again", 80 * time.Millisecond, func(t *testing.T) *http.Request {
			return withToken(t, joeToken)
		}, 3},
		{"and then does not", 0, func(t *testing.T) *http.Request { return withToken(t, joeToken) }, 3},
	}
	for _, s := range steps {
		time.Sleep(s.sleep)
		res := serve(mw, s.req(t))
		if n := g.calls.Load(); n != s.wantCalls {
			t.Errorf("%s: %d calls, want %d", s.name, n, s.wantCalls)
		}
		if s.name == "same token from the query does not" && res.id.Credential.Location != authn.InQuery {
			t.Errorf("cached answer reports location %q, want this request's", res.id.Credential.Location)
		}
	}
}

func TestCacheOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*authn.Config)
	}{
		{"negative TTL", func(c *authn.Config) { c.CacheTTL = -1 }},
		{"negative size", func(c *authn.Config) { c.CacheSize = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake(t)
			mw := newMiddleware(t, g.srv.URL, tc.cfg)
			serve(mw, withToken(t, joeToken))
			serve(mw, withToken(t, joeToken))
			if n := g.calls.Load(); n != 2 {
				t.Errorf("%d calls, want 2", n)
			}
		})
	}
}

func TestCachedIdentityIsACopy(t *testing.T) {
	g := newFake(t)
	mw := newMiddleware(t, g.srv.URL)
	first := serve(mw, withToken(t, joeToken))
	first.id.Groups[0] = "root"
	first.id.Metadata["team"].(map[string]any)["name"] = "red"
	second := serve(mw, withToken(t, joeToken))
	if g.calls.Load() != 1 {
		t.Fatalf("second request was not served from the cache")
	}
	if second.id.Groups[0] != "ops" || second.id.Metadata["team"].(map[string]any)["name"] != "blue" {
		t.Errorf("a handler's change reached the cache: %+v", second.id)
	}
}

func TestExpired(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name string
		exp  time.Time
	}{
		{"exp passed", now.Add(-time.Minute)},
		{"exp just passed", now.Add(-time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake(t, answering(func(string, string) (int, any) {
				return 200, activeToken("joe", tc.exp, now.Add(-time.Hour))
			}))
			mw := newMiddleware(t, g.srv.URL)
			for i := range 2 {
				wantFault(t, serve(mw, withToken(t, joeToken)), http.StatusUnauthorized,
					"Unauthorized - Token has expired.")
				if n := g.calls.Load(); n != int64(i+1) {
					t.Errorf("after %d requests %d calls: expired answers must not be cached", i+1, n)
				}
			}
		})
	}
}

// TestCachedTokenExpires: an entry never outlives the token, whatever the
// TTL; the token past its exp is asked about again, then refused.
func TestCachedTokenExpires(t *testing.T) {
	start := time.Now()
	exp := start.Add(10 * time.Second)
	g := newFake(t, answering(func(string, string) (int, any) {
		return 200, activeToken("joe", exp, start)
	}))
	mw := newMiddleware(t, g.srv.URL, func(c *authn.Config) { c.CacheTTL = time.Hour })
	clock := start
	authn.SetNow(mw, func() time.Time { return clock })

	if res := serve(mw, withToken(t, joeToken)); res.status != http.StatusOK {
		t.Fatalf("fresh token: %d %s", res.status, res.body)
	}
	clock = start.Add(5 * time.Second)
	if res := serve(mw, withToken(t, joeToken)); res.status != http.StatusOK || g.calls.Load() != 1 {
		t.Fatalf("within exp: status %d, %d calls", res.status, g.calls.Load())
	}
	clock = start.Add(11 * time.Second)
	wantFault(t, serve(mw, withToken(t, joeToken)), http.StatusUnauthorized, "Unauthorized - Token has expired.")
	if n := g.calls.Load(); n != 2 {
		t.Errorf("%d calls: an expired entry must not answer", n)
	}
}

func TestCacheBounded(t *testing.T) {
	g := newFake(t, answering(func(tok, _ string) (int, any) {
		return 200, activeToken(tok, time.Now().Add(time.Hour), time.Now())
	}))
	mw := newMiddleware(t, g.srv.URL, func(c *authn.Config) { c.CacheSize = 3 })
	for i := range 10 {
		tok := "tok-" + string(rune('a'+i))
		if res := serve(mw, withToken(t, tok)); res.status != http.StatusOK || res.id.Username != tok {
			t.Fatalf("%s: %d %q", tok, res.status, res.id.Username)
		}
		if n := authn.CacheLen(mw); n > 3 {
			t.Fatalf("cache holds %d entries, want at most 3", n)
		}
	}
	if n := authn.CacheLen(mw); n != 3 {
		t.Errorf("cache holds %d entries, want 3", n)
	}
	calls := g.calls.Load()
	serve(mw, withToken(t, "tok-j")) // the most recent stays
	if g.calls.Load() != calls {
		t.Error("the most recent credential was evicted")
	}
	serve(mw, withToken(t, "tok-a")) // the oldest went
	if g.calls.Load() != calls+1 {
		t.Error("the oldest credential is still cached")
	}
}

// TestSessionCookieNeedsCSRFToChange: with only the session cookie, a
// method that changes state needs the session's X-CSRF-Token and a
// same-site browser, as on Gatehouse's own routes; reads need neither.
// Refusals cost no introspection.
func TestSessionCookieNeedsCSRFToChange(t *testing.T) {
	g := newFake(t, answering(knownCredentials(time.Now())))
	mw := newMiddleware(t, g.srv.URL, func(c *authn.Config) { c.CacheTTL = -1 })
	csrf := authn.CSRFToken(joeToken)
	for _, tc := range []struct {
		name   string
		method string
		header []string
		want   int
	}{
		{"read", http.MethodGet, nil, http.StatusOK},
		{"change without the token", http.MethodPost, nil, http.StatusForbidden},
		{"change with a wrong token", http.MethodDelete, []string{"X-CSRF-Token", authn.CSRFToken("other")}, http.StatusForbidden},
		{"change with the token", http.MethodPost, []string{"X-CSRF-Token", csrf}, http.StatusOK},
		{"change with the token from another site", http.MethodPut,
			[]string{"X-CSRF-Token", csrf, "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"change with the token from a sibling site", http.MethodPut,
			[]string{"X-CSRF-Token", csrf, "Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(t.Context(), tc.method, "/thing", nil)
			r.AddCookie(&http.Cookie{Name: authn.CookieSession, Value: joeToken})
			for i := 0; i+1 < len(tc.header); i += 2 {
				r.Header.Set(tc.header[i], tc.header[i+1])
			}
			before := g.calls.Load()
			res := serve(mw, r)
			if res.status != tc.want {
				t.Fatalf("%s: %d %s, want %d", tc.name, res.status, res.body, tc.want)
			}
			if tc.want == http.StatusForbidden && g.calls.Load() != before {
				t.Errorf("a refusal asked Gatehouse")
			}
		})
	}
	// A token in a header is no browser's: no CSRF token needed.
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/thing", nil)
	r.Header.Set("X-Auth-Token", joeToken)
	if res := serve(mw, r); res.status != http.StatusOK {
		t.Errorf("POST with X-Auth-Token: %d %s", res.status, res.body)
	}
}
