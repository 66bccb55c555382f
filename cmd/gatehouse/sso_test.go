package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/oidc/hydratest"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc/optest"
)

// ssoServer starts Hydra and a gatehouse serve whose only login method is
// oidc at it, on a port chosen here so that the callback URL is known
// before the provider's client is registered.
func ssoServer(t *testing.T, tune func(kwargs map[string]any)) (*process, *hydratest.Server) {
	t.Helper()
	hydra := hydratest.Start(t, hydratest.Options{})
	port := closedPort(t)
	callback := fmt.Sprintf("http://127.0.0.1:%s/auth/v1/oidc/callback", port)
	c := hydra.CreateClient(callback, "http://127.0.0.1/callback")
	kwargs := map[string]any{"issuer": hydra.Issuer, "client_id": c.ID, "client_secret": c.Secret,
		"redirect_url": callback, "timeout": 2}
	if tune != nil {
		tune(kwargs)
	}
	backends, _ := json.Marshal([]map[string]any{{"name": "oidc", "kwargs": kwargs}})
	p := startGatehouse(t, t.TempDir(), []string{"GATEHOUSE_AUTH_BACKENDS=" + string(backends)},
		"serve", "--port", port)
	return p, hydra
}

var providerURLRe = regexp.MustCompile(`^\s+(http://127\.0\.0\.1:\d+/oauth2/auth\?\S+)$`)

// TestCLILoginSSO: `gatehouse login --sso` through a real provider, with
// the test as the user's browser: the token is cached and used by the
// next command, and it is an ordinary token with the provider's groups.
func TestCLILoginSSO(t *testing.T) {
	p, hydra := ssoServer(t, nil)
	hydra.SetUser("dana", "ops", "st2-users")
	u := newCLIUser(t, p.URL)
	cmd := exec.CommandContext(t.Context(), binary, "login", "--sso", "--no-browser")
	cmd.Env = u.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	authURL := make(chan string, 1)
	var errText strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errText.WriteString(sc.Text() + "\n")
			if m := providerURLRe.FindStringSubmatch(sc.Text()); m != nil {
				authURL <- m[1]
			}
		}
	}()
	var signIn string
	select {
	case signIn = <-authURL:
	case <-time.After(30 * time.Second):
		t.Fatalf("no sign-in URL from gatehouse login --sso")
	}
	// Another process on this machine reaches the loopback listener
	// first: a bare /callback (to abort the login) and a code of its own
	// login (to slip its identity in) are answered 400 and the command
	// keeps waiting for the provider's answer with its own state.
	sign, err := url.Parse(signIn)
	if err != nil {
		t.Fatal(err)
	}
	listener := sign.Query().Get("redirect_uri")
	for _, q := range []string{"", "?code=injected&state=another-login", "?error=access_denied&state=another-login",
		"?state=" + url.QueryEscape(sign.Query().Get("state"))} {
		resp, err := http.Get(listener + q)
		if err != nil {
			t.Fatalf("the listener after a foreign request: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("the listener answered %q with %d, want 400", q, resp.StatusCode)
		}
	}
	// The user's browser: through the provider's login and consent, and
	// back to the command's loopback listener.
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(signIn)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), "http://127.0.0.1:") || resp.Request.URL.Path != "/callback" {
		t.Fatalf("the browser ended at %d %s", resp.StatusCode, resp.Request.URL.Redacted())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gatehouse login --sso: %v\nstdout: %s\nstderr: %s\nserver: %s", err, stdout.String(), errText.String(), p.Stderr())
	}
	if !strings.HasPrefix(stdout.String(), "Logged in as dana;") {
		t.Fatalf("stdout %q", stdout.String())
	}
	if out := u.ok("", "whoami"); !strings.Contains(out, "dana") || !strings.Contains(out, "st2-users") {
		t.Fatalf("whoami after login --sso: %q", out)
	}
	tok := cachedTokenWorks(t, u, p, "dana")
	runST2ClientJSToken(t, p.URL, "dana", tok)
}

// runST2ClientJSToken runs scripts/st2client/check-token.js: st2client.js,
// unchanged, uses a token it did not log in for.
// cachedTokenWorks returns the token the CLI cached for user after a
// single sign-on, having checked that /me answers it as user and that it
// never reached the server's log.
func cachedTokenWorks(t *testing.T, u *cliUser, p *process, user string) string {
	t.Helper()
	tok := u.cached(user).Token
	if code, body := whoami(t, p.URL, "X-Auth-Token", tok); code != 200 || body != user {
		t.Fatalf("the cached token at /me: %d %s", code, body)
	}
	if strings.Contains(p.Stderr(), tok) {
		t.Fatal("the token reached the server's log")
	}
	return tok
}

func runST2ClientJSToken(t *testing.T, url, user, tok string) {
	t.Helper()
	runST2ClientScript(t, "check-token.js", "GATEHOUSE_URL="+url, "ST2_USER="+user, "ST2_TOKEN="+tok)
}

// deviceServer starts zitadel/oidc's provider, which offers device
// authorization, and a gatehouse serve whose only login method is oidc at
// it.
func deviceServer(t *testing.T, users ...optest.User) (*process, *optest.Server) {
	t.Helper()
	op := optest.Start(t, users...)
	port := closedPort(t)
	kwargs := map[string]any{"issuer": op.Issuer, "client_id": op.ClientID, "client_secret": op.ClientSecret,
		"redirect_url": fmt.Sprintf("http://127.0.0.1:%s/auth/v1/oidc/callback", port), "timeout": 2,
		"username_claim": "sub"}
	backends, _ := json.Marshal([]map[string]any{{"name": "oidc", "kwargs": kwargs}})
	p := startGatehouse(t, t.TempDir(), []string{"GATEHOUSE_AUTH_BACKENDS=" + string(backends)},
		"serve", "--port", port)
	return p, op
}

var deviceCodeRe = regexp.MustCompile(`^To sign in, open (http://127\.0\.0\.1:\d+/device) and enter the code (\S+)$`)

// startDeviceLogin runs `gatehouse login --sso --no-browser` and returns
// it running, with the verification URI and user code it printed.
func startDeviceLogin(t *testing.T, u *cliUser) (cmd *exec.Cmd, stdout, stderr *strings.Builder, uri, code string) {
	t.Helper()
	cmd = exec.CommandContext(t.Context(), binary, "login", "--sso", "--no-browser")
	cmd.Env = u.env
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr = &strings.Builder{}, &strings.Builder{}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := make(chan []string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if m := deviceCodeRe.FindStringSubmatch(sc.Text()); m != nil {
				got <- m
			}
		}
	}()
	t.Cleanup(func() { <-done })
	select {
	case m := <-got:
		return cmd, stdout, stderr, m[1], m[2]
	case <-time.After(30 * time.Second):
		t.Fatalf("no code from gatehouse login --sso")
	}
	return
}

// TestCLILoginSSODevice: `gatehouse login --sso` at a provider that offers
// device authorization prints a URL and a code instead of listening on
// loopback; the test, as the user on another device, enters the code at
// the provider; the command gets an ordinary token and caches it. A user
// who denies leaves the command failing, with nothing cached.
func TestCLILoginSSODevice(t *testing.T) {
	alice := optest.User{Name: "alice", Password: "alice-password-1"}
	p, op := deviceServer(t, alice)
	u := newCLIUser(t, p.URL)

	cmd, stdout, stderr, uri, code := startDeviceLogin(t, u)
	op.Approve(t, uri, code, alice, true)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gatehouse login --sso: %v\nstdout: %s\nstderr: %s\nserver: %s", err, stdout, stderr, p.Stderr())
	}
	if !strings.HasPrefix(stdout.String(), "Logged in as alice;") {
		t.Fatalf("stdout %q", stdout.String())
	}
	if strings.Contains(stderr.String(), "/callback") {
		t.Fatalf("the device login used a loopback redirect:\n%s", stderr)
	}
	tok := cachedTokenWorks(t, u, p, "alice")

	cmd, stdout, stderr, uri, code = startDeviceLogin(t, u)
	op.Approve(t, uri, code, alice, false)
	err := cmd.Wait()
	if err == nil || !strings.Contains(stderr.String(), "login failed") {
		t.Fatalf("a denied device login: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	if u.cached("alice").Token != tok {
		t.Fatal("a denied login changed the cached token")
	}
}
