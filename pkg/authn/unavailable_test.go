package authn_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// TestUnavailable: whatever goes wrong with Gatehouse is a 503, never a
// pass, and neither the answer nor the log shows a credential.
func TestUnavailable(t *testing.T) {
	fixed := func(status int, body any) func(*testing.T) string {
		return func(t *testing.T) string {
			return newFake(t, answering(func(string, string) (int, any) { return status, body })).srv.URL
		}
	}
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string // Gatehouse's URL
		cfg  func(*authn.Config)
	}{
		{"500", fixed(500, map[string]string{"faultstring": "Internal Server Error"}), nil},
		{"502 from a proxy", fixed(502, "<html>Bad Gateway</html>"), nil},
		{"503 database down", fixed(503, map[string]string{"faultstring": "Database unavailable."}), nil},
		{"400 invalid_request", fixed(400, map[string]string{"error": "invalid_request"}), nil},
		{"404 wrong URL", fixed(404, map[string]string{"faultstring": "Not Found"}), nil},
		{"200 not JSON", fixed(200, "<html>welcome</html>"), nil},
		{"200 without active", fixed(200, map[string]any{"username": "joe"}), nil},
		{"200 active as a string", fixed(200, `{"active": "true", "username": "joe"}`), nil},
		{"200 active without user", fixed(200, map[string]any{"active": true}), nil},
		{"200 active with a bad exp", fixed(200, `{"active": true, "username": "joe", "exp": "soon"}`), nil},
		{"401 bad service credential", func(t *testing.T) string { return newFake(t).srv.URL },
			func(c *authn.Config) { c.APIKey = "wrong-SECRET" }},
		{"403 not a service account", fixed(403, map[string]string{"error": "insufficient_scope"}), nil},
		{"redirect", func(t *testing.T) string {
			srv := httptest.NewServer(http.RedirectHandler("https://example.org/", http.StatusFound))
			t.Cleanup(srv.Close)
			return srv.URL
		}, nil},
		{"timeout", func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body) // so that the client's hang-up cancels r's context
				select {
				case <-time.After(2 * time.Second):
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		}, func(c *authn.Config) { c.Client = &http.Client{Timeout: 100 * time.Millisecond} }},
		{"closed port", closedURL, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			mw := newMiddleware(t, tc.url(t), func(c *authn.Config) {
				c.Logger = logs.logger()
				if tc.cfg != nil {
					tc.cfg(c)
				}
			})
			for _, req := range []*http.Request{withToken(t, joeToken), get(t, "/x?st2-api-key="+joeKey)} {
				wantFault(t, serve(mw, req), http.StatusServiceUnavailable, "Authentication service unavailable.")
			}
			if authn.CacheLen(mw) != 0 {
				t.Error("a failure was cached")
			}
			_, err := mw.Introspect(t.Context(), authn.Credential{Kind: authn.KindToken, Value: joeToken})
			if !errors.Is(err, authn.ErrUnavailable) || errors.Is(err, authn.ErrInvalid) {
				t.Errorf("Introspect: %v, want ErrUnavailable", err)
			}
			noSecrets(t, "error", err.Error())
			noSecrets(t, "log", logs.String())
			if logs.String() == "" {
				t.Error("nothing logged")
			}
		})
	}
}

func TestDefaultClient(t *testing.T) {
	mw := newMiddleware(t, "http://127.0.0.1:9100")
	c := authn.ClientOf(mw)
	if c.Timeout != 2*time.Second {
		t.Errorf("timeout %v, want 2s", c.Timeout)
	}
	if c.CheckRedirect == nil {
		t.Error("default client follows redirects")
	}
}

// TestNoSecretsLogged runs the refusals at debug level and searches the log.
func TestNoSecretsLogged(t *testing.T) {
	var logs logBuffer
	g := newFake(t)
	mw := newMiddleware(t, g.srv.URL, func(c *authn.Config) { c.Logger = logs.logger() })
	serve(mw, withToken(t, joeToken))
	serve(mw, withToken(t, badToken))
	serve(mw, get(t, "/x?x-auth-token="+badToken))
	serve(mw, get(t, "/x", "St2-Api-Key", joeKey))
	if logs.String() == "" {
		t.Fatal("nothing logged at debug level")
	}
	noSecrets(t, "log", logs.String())
}

func TestIntrospectErrors(t *testing.T) {
	g := newFake(t)
	mw := newMiddleware(t, g.srv.URL)
	for _, tc := range []struct {
		name string
		cred authn.Credential
		want error
	}{
		{"empty", authn.Credential{Kind: authn.KindToken}, authn.ErrNoCredential},
		{"inactive", authn.Credential{Kind: authn.KindToken, Value: badToken}, authn.ErrInvalid},
		{"active", authn.Credential{Kind: authn.KindAPIKey, Location: authn.InQuery, Value: joeKey}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := mw.Introspect(t.Context(), tc.cred)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err != nil {
				noSecrets(t, "error", err.Error())
				return
			}
			if id.Credential.Value != "" || id.Credential.Kind != tc.cred.Kind || id.Credential.Location != tc.cred.Location {
				t.Errorf("identity credential %+v", id.Credential)
			}
		})
	}
	if !errors.Is(authn.ErrExpired, authn.ErrInvalid) {
		t.Error("ErrExpired is not ErrInvalid")
	}
}
