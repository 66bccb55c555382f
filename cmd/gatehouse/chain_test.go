package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap/ldaptest"
)

// chainServer starts `gatehouse serve` with a chain of s (ldap) then a
// flat file holding breakglass (an admin and the break-glass user) and an
// alice of its own, with another password than the directory's alice.
func chainServer(t *testing.T, s *ldaptest.Server) *process {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "breakglass")
	htpasswdCLI(t, file, "breakglass-password\n", "set", "breakglass")
	htpasswdCLI(t, file, "file-alice-password\n", "set", "alice")
	kw, err := json.Marshal(ldapKwargs(s, nil))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, conf, fmt.Sprintf(`auth:
  host: 127.0.0.1
  port: 0
  backends:
    - name: ldap
      kwargs: %s
    - name: flat_file
      kwargs: {file_path: %q}
  break_glass_users: [breakglass]
  admin_users: [breakglass]
database:
  url: sqlite:%s
`, kw, file, filepath.Join(dir, "gatehouse.db")))
	return startGatehouse(t, dir, nil, "serve", "--config", conf)
}

// TestChainLDAPThenBreakGlassFile (DESIGN.md, chains): alice belongs to
// the directory, so the file's alice never logs in, while the directory
// is up or down; the break-glass user, only in the file, logs in in both
// cases; everyone else gets 503 while the directory is down, within its
// timeout. Introspection and the audit log name the backend.
func TestChainLDAPThenBreakGlassFile(t *testing.T) {
	s := ldaptest.Start(t)
	p := chainServer(t, s)
	aliceTok := wantLogin(t, p, "alice", "alice-password", http.StatusCreated)
	wantLogin(t, p, "alice", "file-alice-password", http.StatusUnauthorized)
	glassTok := wantLogin(t, p, "breakglass", "breakglass-password", http.StatusCreated)
	if b := introspectBackend(t, p, aliceTok); b != "ldap" {
		t.Errorf("alice's token: backend %q, want ldap", b)
	}
	if b := introspectBackend(t, p, glassTok); b != "flat_file" {
		t.Errorf("breakglass's token: backend %q, want flat_file", b)
	}

	s.Stop()
	for _, c := range []struct {
		user, password string
		want           int
	}{
		{"breakglass", "breakglass-password", http.StatusCreated},
		{"alice", "alice-password", http.StatusServiceUnavailable},
		{"alice", "file-alice-password", http.StatusServiceUnavailable},
	} {
		start := time.Now()
		wantLogin(t, p, c.user, c.password, c.want)
		if d := time.Since(start); d > 2500*time.Millisecond {
			t.Errorf("%s with slapd stopped: answered after %v, over the 2 s network_timeout", c.user, d)
		}
	}

	s.Restart()
	wantLogin(t, p, "alice", "alice-password", http.StatusCreated)
	wantLogin(t, p, "alice", "file-alice-password", http.StatusUnauthorized)
	if got := loginBackends(t, p, "alice"); !slices.Equal(got, []string{"ldap", "ldap"}) {
		t.Errorf("audit: alice's logins by %v, want ldap twice", got)
	}
	if got := loginBackends(t, p, "breakglass"); len(got) < 2 || slices.ContainsFunc(got, func(b string) bool { return b != "flat_file" }) {
		t.Errorf("audit: breakglass's logins by %v, want flat_file only", got)
	}
	checkNoSecrets(t, p.Stderr(), "alice-password", "breakglass-password", ldaptest.ServicePassword)
}

// wantLogin asks p for a token for user and fails unless the answer is
// want; it returns the token of a 201.
func wantLogin(t *testing.T, p *process, user, password string, want int) string {
	t.Helper()
	code, body := postToken(t, p.URL, user, password)
	if code != want {
		t.Fatalf("%s: %d %v, want %d", user, code, body, want)
	}
	tok, _ := body["token"].(string)
	return tok
}

// introspectBackend introspects tok as the admin breakglass and returns
// the backend the answer names.
func introspectBackend(t *testing.T, p *process, tok string) string {
	t.Helper()
	form := url.Values{"token": {tok}}.Encode()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", p.URL+"/auth/v1/introspect", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("breakglass", "breakglass-password")
	var intro struct {
		Active  bool   `json:"active"`
		Backend string `json:"backend"`
	}
	if code := doJSON(t, req, &intro); code != http.StatusOK || !intro.Active {
		t.Fatalf("introspect: %d %+v", code, intro)
	}
	return intro.Backend
}

// loginBackends are the backends of user's successful logins in p's
// audit log, in order.
func loginBackends(t *testing.T, p *process, user string) []string {
	t.Helper()
	var out []string
	for line := range strings.Lines(p.Stderr()) {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil || e["log"] != "audit" {
			continue
		}
		if e["event"] == "login" && e["outcome"] == "success" && e["user"] == user {
			b, _ := e["backend"].(string)
			out = append(out, b)
		}
	}
	return out
}
