package oidc_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/internal/testlog"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc/hydratest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/sqlite"
)

// env is a Gatehouse API with the oidc method in front of a private Hydra.
type env struct {
	t      *testing.T
	hydra  *hydratest.Server
	client hydratest.Client
	gw     *httptest.Server
	logs   *testlog.Buffer
	// bindings are the login-binding cookies browser logins were begun
	// with, by state: the browser that began a login brings its own.
	bindings map[string]string
}

// newEnv starts Hydra and Gatehouse; tune may change the method's config,
// api the API's.
func newEnv(t *testing.T, opts hydratest.Options, tune func(*oidc.Config), api ...func(*httpapi.Config)) *env {
	t.Helper()
	e := newGatewayEnv(t)
	e.hydra, e.bindings = hydratest.Start(t, opts), map[string]string{}
	callback := "http://" + e.gw.Listener.Addr().String() + "/auth/v1/oidc/callback"
	e.client = e.hydra.CreateClient(callback, "http://127.0.0.1/callback")
	e.startGateway(oidc.Config{Issuer: e.hydra.Issuer, ClientID: e.client.ID, ClientSecret: e.client.Secret, RedirectURL: callback},
		tune, api...)
	return e
}

// newGatewayEnv is an env whose Gatehouse is not started yet (e.gw listens
// but serves nothing), and whose log is shown when the test fails.
func newGatewayEnv(t *testing.T) *env {
	e := &env{t: t, logs: &testlog.Buffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gatehouse log:\n%s", e.logs)
		}
	})
	e.gw = httptest.NewUnstartedServer(nil)
	return e
}

// startGateway starts e.gw serving the API on an in-memory SQLite store
// with the oidc method of cfg; tune may change the method's config, api
// the API's.
func (e *env) startGateway(cfg oidc.Config, tune func(*oidc.Config), api ...func(*httpapi.Config)) {
	t := e.t
	t.Helper()
	if tune != nil {
		tune(&cfg)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, nil))
	p, err := oidc.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	apiCfg := httpapi.Config{
		Store: st, Logger: log, SSO: p, BackendName: "oidc",
		Throttle: httpapi.Throttle{LoginFailures: 10, AddressFailures: 50, AccountFailures: 100},
	}
	for _, f := range api {
		f(&apiCfg)
	}
	e.gw.Config.Handler = httpapi.NewServer(apiCfg)
	e.gw.Start()
	t.Cleanup(e.gw.Close)
}

// noFollow is a client that does not follow redirects.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get fetches a Gatehouse path without following redirects.
func (e *env) get(path string) *http.Response {
	e.t.Helper()
	resp, err := noFollow.Get(e.gw.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// beginBrowser starts a browser login and returns the provider's URL;
// the login-binding cookie it set is kept for finishBrowser.
func (e *env) beginBrowser(next string) string {
	e.t.Helper()
	resp := e.get("/auth/v1/oidc/login?next=" + url.QueryEscape(next))
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("login: %d %s", resp.StatusCode, body(resp))
	}
	loc, err := resp.Location()
	if err != nil {
		e.t.Fatal(err)
	}
	c := bindingCookie(resp)
	if c == nil || c.Value == "" {
		e.t.Fatalf("a browser login set no binding cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	e.bindings[loc.Query().Get("state")] = c.Value
	return loc.String()
}

// bindingCookie is the gatehouse_oidc cookie resp sets, or nil.
func bindingCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == "gatehouse_oidc" {
			return c
		}
	}
	return nil
}

// beginTerminal starts a terminal login for a loopback redirect URI.
func (e *env) beginTerminal(redirectURI string) string {
	e.t.Helper()
	resp := e.get("/auth/v1/oidc/login?redirect_uri=" + url.QueryEscape(redirectURI))
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("terminal login: %d %s", resp.StatusCode, body(resp))
	}
	var out struct {
		URL string `json:"authorization_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatal(err)
	}
	return out.URL
}

// atProvider plays the user's browser at the provider: it follows the
// redirects through Hydra and the login and consent app until the
// provider sends it back to a redirect URI (Gatehouse's callback or a
// loopback /callback), and returns that URL, with its code and state.
func (e *env) atProvider(authURL string) *url.URL {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/callback" || req.URL.Path == "/auth/v1/oidc/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		e.t.Fatalf("the provider did not send the browser back (%d): %s", resp.StatusCode, body(resp))
	}
	return loc
}

// finishBrowser brings the provider's answer to Gatehouse's callback, as
// the browser that began the login (with its binding cookie).
func (e *env) finishBrowser(cb *url.URL) *http.Response {
	e.t.Helper()
	return e.callback(cb.RawQuery, e.bindings[cb.Query().Get("state")])
}

// callback calls Gatehouse's callback with query and, unless it is "",
// the binding cookie binding.
func (e *env) callback(query, binding string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.gw.URL+"/auth/v1/oidc/callback?"+query, nil)
	if binding != "" {
		req.AddCookie(&http.Cookie{Name: "gatehouse_oidc", Value: binding})
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// finishTerminal posts a loopback redirect's code and state.
func (e *env) finishTerminal(cb *url.URL) *http.Response {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"code": cb.Query().Get("code"), "state": cb.Query().Get("state")})
	resp, err := http.Post(e.gw.URL+"/auth/v1/oidc/token", "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// me asks /auth/v1/me with a token.
func (e *env) me(tok string) (string, []string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.gw.URL+"/auth/v1/me", nil)
	req.Header.Set("X-Auth-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("/me: %d %s", resp.StatusCode, body(resp))
	}
	var out struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatal(err)
	}
	return out.Username, out.Groups
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// wantFault checks a status and that the body is a faultstring.
func wantFault(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	b := body(resp)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, b)
	}
	var f struct {
		Fault string `json:"faultstring"`
	}
	if err := json.Unmarshal([]byte(b), &f); err != nil || f.Fault == "" {
		t.Fatalf("body %q is not a faultstring", b)
	}
	if c := resp.Header.Get("Set-Cookie"); c != "" {
		t.Fatalf("a refused login set a cookie: %q", c)
	}
}
