package authn_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// e2eUsers are the real Gatehouse's users; svc is a service account.
var e2eUsers = map[string]string{"joe": "joe:pass word", "svc": "svc-pass", "admin": "admin-pass"}

// startGatehouse serves a real Gatehouse over SQLite and an htpasswd file.
func startGatehouse(t *testing.T) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "htpasswd")
	for user, pw := range e2eUsers {
		if err := htpasswd.SetUser(pwFile, user, pw, 4); err != nil {
			t.Fatal(err)
		}
	}
	st, err := storeopen.Open(t.Context(), "sqlite:"+filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	b, err := htpasswd.New(htpasswd.Config{FilePath: pwFile}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{Store: st, Backend: b, Logger: log,
		AdminUsers: []string{"admin"}, ServiceUsers: []string{"svc"}}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv
}

// call sends one request to the real Gatehouse and decodes a JSON answer.
func call(t *testing.T, srv *httptest.Server, method, path string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// login returns a fresh token of user.
func login(t *testing.T, srv *httptest.Server, user string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/auth/v1/tokens", nil)
	req.SetBasicAuth(user, e2eUsers[user])
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("login %s: %d %v", user, resp.StatusCode, err)
	}
	return m["token"].(string)
}

// apiKey makes an API key for the holder of tok.
func apiKey(t *testing.T, srv *httptest.Server, tok string) string {
	t.Helper()
	status, m := call(t, srv, "POST", "/api/v1/apikeys",
		map[string]string{"X-Auth-Token": tok, "Content-Type": "application/json"}, "{}")
	if status != http.StatusCreated {
		t.Fatalf("create key: %d %v", status, m)
	}
	return m["key"].(string)
}

func TestEndToEnd(t *testing.T) {
	srv := startGatehouse(t)
	svcKey := apiKey(t, srv, login(t, srv, "svc"))
	const ttl = 100 * time.Millisecond
	var logs logBuffer
	mw, err := authn.New(authn.Config{URL: srv.URL, APIKey: svcKey, CacheTTL: ttl, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	joeTok := login(t, srv, "joe")
	joeKey := apiKey(t, srv, joeTok)

	t.Run("token", func(t *testing.T) {
		res := serve(mw, get(t, "/thing", "X-Auth-Token", joeTok))
		if res.status != http.StatusOK || res.id.Username != "joe" || res.id.TokenType != "access_token" {
			t.Fatalf("status %d identity %+v: %s", res.status, res.id, res.body)
		}
		if d := time.Until(res.id.ExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
			t.Errorf("expires in %v, want about 24 h", d)
		}
	})
	t.Run("api key in the query", func(t *testing.T) {
		res := serve(mw, get(t, "/hook?st2-api-key="+joeKey))
		if res.status != http.StatusOK || res.id.Username != "joe" || res.id.TokenType != "api_key" ||
			!res.id.ExpiresAt.IsZero() || res.id.Credential.Location != authn.InQuery {
			t.Fatalf("status %d identity %+v: %s", res.status, res.id, res.body)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		wantFault(t, serve(mw, get(t, "/thing", "X-Auth-Token", "no-such-token")), http.StatusUnauthorized, "Unauthorized")
	})
	t.Run("revoked token", func(t *testing.T) {
		tok := login(t, srv, "joe")
		if res := serve(mw, get(t, "/thing", "X-Auth-Token", tok)); res.status != http.StatusOK {
			t.Fatalf("before logout: %d %s", res.status, res.body)
		}
		if status, m := call(t, srv, "DELETE", "/auth/v1/tokens/current", map[string]string{"X-Auth-Token": tok}, ""); status != http.StatusNoContent {
			t.Fatalf("logout: %d %v", status, m)
		}
		time.Sleep(ttl + 50*time.Millisecond)
		wantFault(t, serve(mw, get(t, "/thing", "X-Auth-Token", tok)), http.StatusUnauthorized, "Unauthorized")
	})
	t.Run("not a service account", func(t *testing.T) {
		joeAsService := newMiddleware(t, srv.URL, func(c *authn.Config) { c.APIKey = joeKey })
		wantFault(t, serve(joeAsService, get(t, "/thing", "X-Auth-Token", joeTok)),
			http.StatusServiceUnavailable, "Authentication service unavailable.")
	})
	t.Run("service by password", func(t *testing.T) {
		basic := newMiddleware(t, srv.URL, func(c *authn.Config) {
			c.APIKey, c.Username, c.Password = "", "svc", e2eUsers["svc"]
		})
		if res := serve(basic, get(t, "/thing", "X-Auth-Token", joeTok)); res.status != http.StatusOK {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
	})
	t.Run("Gatehouse unreachable", func(t *testing.T) {
		down := newMiddleware(t, closedURL(t), func(c *authn.Config) { c.APIKey = svcKey })
		wantFault(t, serve(down, get(t, "/thing", "X-Auth-Token", joeTok)),
			http.StatusServiceUnavailable, "Authentication service unavailable.")
	})
	for _, secret := range []string{svcKey, joeTok, joeKey} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a credential was logged: %s", logs.String())
		}
	}
}
