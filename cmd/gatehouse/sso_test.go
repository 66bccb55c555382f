package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/oidc/hydratest"
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
	tok := u.cached("dana").Token
	if code, body := whoami(t, p.URL, "X-Auth-Token", tok); code != 200 || body != "dana" {
		t.Fatalf("the cached token at /me: %d %s", code, body)
	}
	if strings.Contains(p.Stderr(), tok) {
		t.Fatal("the token reached the server's log")
	}
	runST2ClientJSToken(t, p.URL, "dana", tok)
}

// runST2ClientJSToken runs scripts/st2client/check-token.js: st2client.js,
// unchanged, uses a token it did not log in for.
func runST2ClientJSToken(t *testing.T, url, user, tok string) {
	t.Helper()
	dir, _ := filepath.Abs("../../scripts/st2client")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "st2client")); err != nil {
		requireIntegration(t, "st2client.js is not installed (npm ci --prefix scripts/st2client)")
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "check-token.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GATEHOUSE_URL="+url, "ST2_USER="+user, "ST2_TOKEN="+tok)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("st2client.js: %v\n%s", err, out)
	}
}
