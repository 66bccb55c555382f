// Package optest runs the OpenID provider of github.com/zitadel/oidc/v3
// (its example server: a certified OpenID Connect library's own provider,
// no one here wrote it) for tests of device authorization (RFC 8628),
// which Ory Hydra (package hydratest) does not offer: one private process
// per test on a loopback port, with one confidential device-flow client
// and the users the test gives.
//
// scripts/oidc-op-up.sh builds the binary once and prints
// GATEHOUSE_TEST_OIDC_OP=<path>. Without it the test is skipped, or failed
// when GATEHOUSE_REQUIRE_INTEGRATION=1 (make test).
//
// The provider's device client signs the user in with subject = user name
// and puts no profile claims in the ID token (they are at its userinfo
// endpoint), so Gatehouse is configured with username_claim: sub.
package optest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/internal/integration"
	"github.com/gatehouse-auth/gatehouse/pkg/internal/testlog"
	"github.com/gatehouse-auth/gatehouse/pkg/testproc"
)

// Server is one running provider.
type Server struct {
	// Issuer is the provider's issuer URL.
	Issuer string
	// ClientID and ClientSecret are its device-flow client.
	ClientID, ClientSecret string

	tb  testing.TB
	cmd *exec.Cmd
	log testlog.Buffer // what the provider printed
}

// User is a user the provider knows.
type User struct {
	Name, Password string
}

// Start runs a new provider with these users and stops it when the test
// ends.
func Start(tb testing.TB, users ...User) *Server {
	tb.Helper()
	bin := os.Getenv("GATEHOUSE_TEST_OIDC_OP")
	if bin == "" {
		integration.Unavailable(tb, "optest: GATEHOUSE_TEST_OIDC_OP is not set (run scripts/oidc-op-up.sh)")
	}
	store := map[string]map[string]any{}
	for _, u := range users {
		// ID = user name: the device page signs in with subject = name.
		store[u.Name] = map[string]any{"ID": u.Name, "Username": u.Name, "Password": u.Password,
			"Email": u.Name + "@example.test", "EmailVerified": true}
	}
	b, _ := json.Marshal(store)
	usersFile := filepath.Join(tb.TempDir(), "users.json")
	if err := os.WriteFile(usersFile, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{tb: tb, Issuer: "http://" + addr + "/", ClientID: "gatehouse-device",
		ClientSecret: fmt.Sprintf("device-secret-%d", time.Now().UnixNano())}
	s.cmd = exec.Command(bin, "-addr", addr, "-users", usersFile, "-client", s.ClientID, "-secret", s.ClientSecret)
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		integration.Unavailable(tb, "optest: start %s: %v", bin, err)
	}
	tb.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case a test froze it
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		if tb.Failed() {
			tb.Logf("optest: provider log:\n%s", s.Log())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.Issuer + ".well-known/openid-configuration")
		if err == nil {
			var doc struct {
				Issuer string `json:"issuer"`
				Device string `json:"device_authorization_endpoint"`
			}
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if err == nil && resp.StatusCode == 200 {
				if doc.Device == "" || doc.Issuer != s.Issuer {
					tb.Fatalf("optest: discovery says issuer %q, device endpoint %q", doc.Issuer, doc.Device)
				}
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("optest: the provider did not become ready; its log:\n%s", s.Log())
	return nil
}

// Log is what the provider printed.
func (s *Server) Log() string { return s.log.String() }

// Freeze stops the provider's process (SIGSTOP): it accepts connections
// but answers nothing, like a hung server. It returns once the process is
// stopped. Thaw resumes it.
func (s *Server) Freeze() {
	if err := testproc.Freeze(s.cmd.Process.Pid, 5*time.Second); err != nil {
		s.tb.Fatalf("freeze: %v", err)
	}
}

// Thaw resumes a frozen provider.
func (s *Server) Thaw() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }

// Approve plays the user at the provider's device page with a browser of
// its own (a cookie jar): it opens verificationURI (with the user code
// filled in or not), submits the code with the user's name and password
// through the page's form, and allows the device (or denies it, when
// allow is false). It fails the test when a page is not what the provider
// shows a user who got everything right.
func (s *Server) Approve(tb testing.TB, verificationURI, userCode string, u User, allow bool) {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	page := func(want string) func(*http.Response, error) string {
		return func(resp *http.Response, err error) string {
			tb.Helper()
			if err != nil {
				tb.Fatalf("optest: %v", err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
				tb.Fatalf("optest: %s %s: %d, want a page with %q:\n%s", resp.Request.Method, resp.Request.URL, resp.StatusCode, want, b)
			}
			return string(b)
		}
	}
	// The page that asks for the user code; with the code in the URL, the
	// sign-in form that carries it.
	p := page("<form")(c.Get(verificationURI))
	if !strings.Contains(p, `name="user_code"`) {
		tb.Fatalf("optest: the device page has no user_code field:\n%s", p)
	}
	form := url.Values{"user_code": {userCode}, "username": {u.Name}, "password": {u.Password}}
	base, _ := url.Parse(verificationURI)
	login := base.ResolveReference(&url.URL{Path: "/device/login"})
	page("Welcome back " + u.Name)(c.PostForm(login.String(), form))
	action := "allowed"
	if !allow {
		action = "denied"
	}
	confirm := base.ResolveReference(&url.URL{Path: "/device/confirm", RawQuery: "action=" + action})
	page("Device authorization " + action)(c.Get(confirm.String()))
}
