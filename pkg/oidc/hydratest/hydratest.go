// Package hydratest runs Ory Hydra v2.3.0, a real OpenID Connect provider
// no one here wrote, for tests: one private process per test (a database
// file of its own, loopback ports), with the smallest login and consent app in
// front of it, which signs in whichever user the test chose.
//
// scripts/hydra-up.sh builds the binary once and prints
// GATEHOUSE_TEST_HYDRA=<path>. Without it the test is skipped, or failed
// when GATEHOUSE_REQUIRE_INTEGRATION=1 (make test).
package hydratest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/internal/integration"
	"github.com/gatehouse-auth/gatehouse/pkg/internal/testlog"
	"github.com/gatehouse-auth/gatehouse/pkg/testproc"
)

// Options tune one provider.
type Options struct {
	// CodeTTL is how long an authorization code lives (Hydra's default
	// is 10 minutes).
	CodeTTL time.Duration
}

// Server is one running Hydra and its login and consent app.
type Server struct {
	// Issuer is the provider's issuer URL, as its discovery says it.
	Issuer string
	// Admin is the base URL of Hydra's admin API.
	Admin string

	tb  testing.TB
	cmd *exec.Cmd
	app *httptest.Server
	log testlog.Buffer // what hydra printed

	mu     sync.Mutex
	user   string
	groups []string
}

// Client is an OAuth client registered at the provider.
type Client struct {
	ID, Secret string
}

// freePort is a loopback port nothing listens on now.
func freePort(tb testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs a new Hydra and stops it when the test ends. The user it
// signs in is "alice" in group "ops" until SetUser says otherwise.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin := os.Getenv("GATEHOUSE_TEST_HYDRA")
	if bin == "" {
		integration.Unavailable(tb, "hydratest: GATEHOUSE_TEST_HYDRA is not set (run scripts/hydra-up.sh)")
	}
	s := &Server{tb: tb, user: "alice", groups: []string{"ops"}}
	s.app = httptest.NewServer(http.HandlerFunc(s.serveApp))
	tb.Cleanup(s.app.Close)
	pub, adm := freePort(tb), freePort(tb)
	s.Issuer = fmt.Sprintf("http://127.0.0.1:%d/", pub)
	s.Admin = fmt.Sprintf("http://127.0.0.1:%d", adm)
	// A database file of the test's own, migrated first: with DSN=memory
	// every new connection of Hydra's pool opens a new, empty database, so
	// once the pool replaced an idle connection (after a test froze Hydra)
	// its clients were gone ("Unable to locate the table").
	dsn := "DSN=sqlite://" + filepath.Join(tb.TempDir(), "hydra.sqlite") + "?_fk=true&mode=rwc"
	migrate := exec.Command(bin, "migrate", "sql", "up", "-e", "--yes")
	migrate.Env = append(os.Environ(), dsn)
	if out, err := migrate.CombinedOutput(); err != nil {
		integration.Unavailable(tb, "hydratest: %s migrate sql up: %v\n%s", bin, err, out)
	}
	s.cmd = exec.Command(bin, "serve", "all", "--dev")
	s.cmd.Env = append(os.Environ(),
		dsn, "SECRETS_SYSTEM=hydratest-system-secret-0123456789",
		"URLS_SELF_ISSUER="+s.Issuer, "URLS_LOGIN="+s.app.URL+"/login", "URLS_CONSENT="+s.app.URL+"/consent",
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT="+strconv.Itoa(pub),
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT="+strconv.Itoa(adm),
		"LOG_LEVEL=warn", "OAUTH2_EXPOSE_INTERNAL_ERRORS=true")
	if opts.CodeTTL > 0 {
		s.cmd.Env = append(s.cmd.Env, "TTL_AUTH_CODE="+opts.CodeTTL.String())
	}
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		integration.Unavailable(tb, "hydratest: start %s: %v", bin, err)
	}
	tb.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case a test froze it
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	})
	s.waitReady()
	return s
}

// waitReady waits until the discovery document is served.
func (s *Server) waitReady() {
	s.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.Issuer + ".well-known/openid-configuration")
		if err == nil {
			var doc struct {
				Issuer string `json:"issuer"`
			}
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if err == nil && resp.StatusCode == 200 {
				s.Issuer = doc.Issuer
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("hydratest: hydra did not become ready; its log:\n%s", s.log.String())
}

// SetUser chooses who the login app signs in next, and the groups in
// that user's ID token.
func (s *Server) SetUser(user string, groups ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.groups = user, groups
}

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

// CreateClient registers a confidential client with these redirect URIs
// and returns its id and secret.
func (s *Server) CreateClient(redirectURIs ...string) Client {
	s.tb.Helper()
	c := Client{ID: fmt.Sprintf("gatehouse-%d", time.Now().UnixNano()), Secret: "client-secret-" + strconv.Itoa(freePort(s.tb))}
	body := map[string]any{
		"client_id": c.ID, "client_secret": c.Secret,
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"},
		"scope": "openid profile email groups", "redirect_uris": redirectURIs,
		"token_endpoint_auth_method": "client_secret_basic",
	}
	var out map[string]any
	s.adminCall("POST", "/admin/clients", body, &out)
	return c
}

// adminCall sends one admin API request and decodes its answer.
func (s *Server) adminCall(method, path string, body, out any) {
	s.tb.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.Admin+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.tb.Errorf("hydratest: %s %s: %v", method, path, err)
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		s.tb.Errorf("hydratest: %s %s: %s %s", method, path, resp.Status, raw)
		return
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.tb.Errorf("hydratest: %s %s: %v", method, path, err)
		}
	}
}

// serveApp is the login and consent app: it accepts every login as the
// chosen user and grants every consent, with the user name and groups in
// the ID token.
func (s *Server) serveApp(w http.ResponseWriter, r *http.Request) {
	var redirect struct {
		To string `json:"redirect_to"`
	}
	switch r.URL.Path {
	case "/login":
		s.mu.Lock()
		user := s.user
		s.mu.Unlock()
		ch := url.QueryEscape(r.URL.Query().Get("login_challenge"))
		s.adminCall("PUT", "/admin/oauth2/auth/requests/login/accept?login_challenge="+ch,
			map[string]any{"subject": user}, &redirect)
	case "/consent":
		ch := url.QueryEscape(r.URL.Query().Get("consent_challenge"))
		var req struct {
			Scope    []string `json:"requested_scope"`
			Audience []string `json:"requested_access_token_audience"`
		}
		s.adminCall("GET", "/admin/oauth2/auth/requests/consent?consent_challenge="+ch, nil, &req)
		s.mu.Lock()
		claims := map[string]any{"preferred_username": s.user, "groups": s.groups}
		s.mu.Unlock()
		s.adminCall("PUT", "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+ch, map[string]any{
			"grant_scope": req.Scope, "grant_access_token_audience": req.Audience,
			"session": map[string]any{"id_token": claims},
		}, &redirect)
	default:
		http.NotFound(w, r)
		return
	}
	if redirect.To == "" {
		http.Error(w, "hydratest: no redirect from the admin API", http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, redirect.To, http.StatusFound)
}
