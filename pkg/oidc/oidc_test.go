package oidc_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/oidc/hydratest"
)

// TestBrowserLogin: the whole browser login through a real provider ends
// with a session cookie that is an ordinary token, with the provider's
// groups, and a redirect to next.
func TestBrowserLogin(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil)
	e.hydra.SetUser("alice", "ops", "st2-users")
	cb := e.atProvider(e.beginBrowser("/ui/keys?tab=1"))
	resp := e.finishBrowser(cb)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/keys?tab=1" {
		t.Fatalf("callback: %d to %q: %s", resp.StatusCode, resp.Header.Get("Location"), body(resp))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "gatehouse_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
		t.Fatalf("session cookie %+v", session)
	}
	user, groups := e.me(session.Value)
	if user != "alice" || !slices.Equal(groups, []string{"ops", "st2-users"}) {
		t.Fatalf("/me: %q %v", user, groups)
	}
	// The cookie alone is a credential, as for a password session: forward
	// auth answers with the provider's groups.
	req, _ := http.NewRequest("GET", e.gw.URL+"/auth/v1/verify", nil)
	req.AddCookie(session)
	req.Header.Set("X-Original-Method", "GET") // as the nginx example sends it
	vr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	vr.Body.Close()
	if vr.StatusCode != 200 || vr.Header.Get("X-Auth-User") != "alice" || vr.Header.Get("X-Auth-Groups") != "ops,st2-users" {
		t.Fatalf("verify with the cookie: %d %q %q", vr.StatusCode, vr.Header.Get("X-Auth-User"), vr.Header.Get("X-Auth-Groups"))
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"event":"login","outcome":"success","user":"alice"`) {
		t.Fatalf("no audit line for the login:\n%s", logs)
	}
	for _, secret := range []string{cb.Query().Get("code"), cb.Query().Get("state"), session.Value} {
		if strings.Contains(logs, secret) {
			t.Fatal("a code, state or token reached the log")
		}
	}
}

// TestTerminalLogin: a terminal's loopback login, driven as gatehouse
// login --sso does it, gives the same 201 body as POST /auth/v1/tokens.
func TestTerminalLogin(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil)
	e.hydra.SetUser("bob", "dev")
	cb := e.atProvider(e.beginTerminal("http://127.0.0.1:45678/callback"))
	if cb.Host != "127.0.0.1:45678" || cb.Path != "/callback" {
		t.Fatalf("the provider sent the code to %s", cb.Redacted())
	}
	resp := e.finishTerminal(cb)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("token: %d %s", resp.StatusCode, body(resp))
	}
	var tok map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "user", "token", "expiry", "metadata", "service"} {
		if _, ok := tok[k]; !ok {
			t.Fatalf("token body %v has no %q", tok, k)
		}
	}
	if tok["user"] != "bob" || resp.Header.Get("X-API-URL") == "" {
		t.Fatalf("token body %v", tok)
	}
	if user, groups := e.me(tok["token"].(string)); user != "bob" || !slices.Equal(groups, []string{"dev"}) {
		t.Fatalf("/me: %q %v", user, groups)
	}
}
