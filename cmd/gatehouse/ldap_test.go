package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap/ldaptest"
)

// ldapST2Conf is an st2-style st2.conf using the ldap backend, with
// backend_kwargs as st2 has them: a JSON string. extra is merged into the
// kwargs (nil deletes).
func ldapST2Conf(t *testing.T, dir string, s *ldaptest.Server, extra map[string]any) string {
	t.Helper()
	js, err := json.Marshal(ldapKwargs(s, extra))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "st2.conf")
	writeFile(t, conf, fmt.Sprintf(`[api]
allow_origin = http://127.0.0.1:3000

[auth]
host = 127.0.0.1
port = 0
mode = standalone
enable = True
use_ssl = False
backend = ldap
backend_kwargs = %s
service_users = svc
token_ttl = 3600

[gatehouse]
database_url = sqlite:%s
`, js, filepath.Join(dir, "gatehouse.db")))
	return conf
}

// ldapKwargs are the ldap backend's kwargs for s (over TLS, members of
// ops only, a 2 s network timeout), with extra merged in (nil deletes).
func ldapKwargs(s *ldaptest.Server, extra map[string]any) map[string]any {
	kw := map[string]any{
		"bind_dn":         ldaptest.ServiceDN,
		"bind_password":   ldaptest.ServicePassword,
		"base_ou":         ldaptest.PeopleDN,
		"base_ou_group":   ldaptest.GroupsDN,
		"group_dns":       []string{ldaptest.OpsDN},
		"group_dns_check": "and",
		"host":            s.Host,
		"port":            s.TLSPort,
		"use_ssl":         true,
		"cacert":          s.CACert,
		"network_timeout": 2,
	}
	for k, v := range extra {
		if v == nil {
			delete(kw, k)
		} else {
			kw[k] = v
		}
	}
	return kw
}

// TestLDAPOverHTTP logs in through HTTP with the ldap backend configured
// from an st2.conf, and reads the groups back through introspection,
// forward auth and /me; a stopped directory gives 503 and the service
// recovers when it is back.
func TestLDAPOverHTTP(t *testing.T) {
	s := ldaptest.Start(t)
	dir := t.TempDir()
	conf := ldapST2Conf(t, dir, s, nil)
	p := startGatehouse(t, dir, []string{"GATEHOUSE_DATABASE_URL=sqlite:" + filepath.Join(dir, "gatehouse.db")},
		"serve", "--config", conf)

	code, body := postToken(t, p.URL, "ALICE", "alice-password")
	if code != http.StatusCreated || body["user"] != "alice" {
		t.Fatalf("alice: %d %v", code, body)
	}
	token := body["token"].(string)
	for _, c := range [][2]string{{"alice", "wrong"}, {"mallory", "alice-password"}, {"bob", "bob-password"}, {"alice", ""}, {"a*", "alice-password"}} {
		if code, body := postToken(t, p.URL, c[0], c[1]); code != http.StatusUnauthorized || body["faultstring"] != "Invalid or missing credentials" {
			t.Errorf("%s: %d %v", c[0], code, body)
		}
	}
	wantGroups := []string{ldaptest.OpsDN, ldaptest.DevDN}

	// Introspection, by svc: an LDAP user listed in service_users,
	// authenticating with HTTP Basic.
	form := url.Values{"token": {token}}.Encode()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", p.URL+"/auth/v1/introspect", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", "svc-password")
	var intro struct {
		Active   bool     `json:"active"`
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	}
	if code := doJSON(t, req, &intro); code != http.StatusOK || !intro.Active || intro.Username != "alice" || !sameStrings(intro.Groups, wantGroups) {
		t.Errorf("introspect: %d %+v", code, intro)
	}
	// An LDAP user who is neither a service user nor an admin may not.
	req, _ = http.NewRequestWithContext(t.Context(), "POST", p.URL+"/auth/v1/introspect", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("jsmith", "jsmith-password")
	if code := doJSON(t, req, &struct{}{}); code != http.StatusForbidden {
		t.Errorf("introspect by jsmith: %d, want 403", code)
	}

	// Forward auth: first RDN values.
	req, _ = http.NewRequestWithContext(t.Context(), "GET", p.URL+"/auth/v1/verify", nil)
	req.Header.Set("X-Auth-Token", token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := strings.Split(resp.Header.Get("X-Auth-Groups"), ","); resp.StatusCode != http.StatusOK ||
		resp.Header.Get("X-Auth-User") != "alice" || !sameStrings(got, []string{"ops", "dev"}) {
		t.Errorf("verify: %d user %q groups %q", resp.StatusCode, resp.Header.Get("X-Auth-User"), resp.Header.Get("X-Auth-Groups"))
	}

	// /me: full DNs.
	req, _ = http.NewRequestWithContext(t.Context(), "GET", p.URL+"/auth/v1/me", nil)
	req.Header.Set("X-Auth-Token", token)
	var me struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	}
	if code := doJSON(t, req, &me); code != http.StatusOK || me.Username != "alice" || !sameStrings(me.Groups, wantGroups) {
		t.Errorf("me: %d %+v", code, me)
	}

	// The directory stops: 503 within network_timeout; it comes back: 201.
	s.Stop()
	start := time.Now()
	code, body = postToken(t, p.URL, "admin", "admin-password")
	elapsed := time.Since(start)
	t.Logf("login with slapd stopped: %d %v after %v", code, body, elapsed)
	if code != http.StatusServiceUnavailable || elapsed > 2500*time.Millisecond {
		t.Errorf("slapd stopped: %d %v after %v", code, body, elapsed)
	}
	s.Restart()
	if code, body := postToken(t, p.URL, "admin", "admin-password"); code != http.StatusCreated || body["user"] != "admin" {
		t.Errorf("after restart: %d %v", code, body)
	}

	// A hung directory: 503 within network_timeout too.
	s.Freeze()
	start = time.Now()
	code, _ = postToken(t, p.URL, "jsmith", "jsmith-password")
	elapsed = time.Since(start)
	s.Thaw()
	t.Logf("login with slapd frozen: %d after %v", code, elapsed)
	if code != http.StatusServiceUnavailable || elapsed > 2500*time.Millisecond {
		t.Errorf("slapd frozen: %d after %v", code, elapsed)
	}
	if code, _ := postToken(t, p.URL, "jsmith", "jsmith-password"); code != http.StatusCreated {
		t.Errorf("after thaw: %d", code)
	}
	if strings.Contains(p.Stderr(), ldaptest.ServicePassword) || strings.Contains(p.Stderr(), "alice-password") {
		t.Error("a password appears in the log")
	}
}

// TestLDAPUnreachableAtStartWarnsOnce: with the directory down at start,
// Gatehouse starts and logs one warning saying so and what logins get, and
// no error line; logins get 503 until the directory is back, then work
// without a restart.
func TestLDAPUnreachableAtStartWarnsOnce(t *testing.T) {
	s := ldaptest.Start(t)
	s.Stop()
	dir := t.TempDir()
	p := startGatehouse(t, dir, nil, "serve", "--config", ldapST2Conf(t, dir, s, nil))
	p.waitLog(t, "ldap backend cannot check passwords")
	addr := fmt.Sprintf("%s:%d", s.Host, s.TLSPort)
	p.wantOneWarning(t, "ldap backend cannot check passwords: no LDAP server could be used: connect to ldaps://"+addr+
		": dial tcp "+addr+": connect: connection refused; logins will fail with 503 until it can, no restart needed")

	if code, body := postToken(t, p.URL, "alice", "alice-password"); code != http.StatusServiceUnavailable {
		t.Errorf("login with the directory down: %d %v, want 503", code, body)
	}
	s.Restart()
	if code, body := postToken(t, p.URL, "alice", "alice-password"); code != http.StatusCreated {
		t.Errorf("login with the directory back: %d %v, want 201", code, body)
	}
	if n := strings.Count(p.Stderr(), "cannot check passwords"); n != 1 {
		t.Errorf("the directory was reported down %d times:\n%s", n, p.Stderr())
	}
}

// TestLDAPRefusesBadConfiguration: option problems stop the service at
// start, naming the option.
func TestLDAPRefusesBadConfiguration(t *testing.T) {
	s := ldaptest.Start(t)
	for _, tc := range []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"ssl and tls", map[string]any{"use_tls": true}, []string{"SSL and TLS cannot be both true."}},
		{"unknown option", map[string]any{"colour": "red"}, []string{"colour"}},
		{"missing bind_dn", map[string]any{"bind_dn": nil}, []string{"bind_dn", "Bind DN to query the LDAP server is not provided."}},
		{"missing group_dns", map[string]any{"group_dns": nil}, []string{"group_dns", "One or more user groups must be specified."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := ldapST2Conf(t, dir, s, tc.extra)
			cmd := exec.CommandContext(t.Context(), binary, "serve", "--config", conf)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(string(out), ldaptest.ServicePassword) {
				t.Errorf("the bind password is in the output:\n%s", out)
			}
		})
	}
}

func doJSON(t *testing.T, req *http.Request, v any) int {
	t.Helper()
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(v)
	return resp.StatusCode
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestLDAPGroupHeaderDN: with auth.group_header dn (here from the
// environment), forward auth sends the full group DNs, separated by ";",
// so groups of the same name in different subtrees stay apart.
func TestLDAPGroupHeaderDN(t *testing.T) {
	s := ldaptest.Start(t)
	dir := t.TempDir()
	conf := ldapST2Conf(t, dir, s, nil)
	p := startGatehouse(t, dir, []string{"GATEHOUSE_AUTH_GROUP_HEADER=dn"}, "serve", "--config", conf)
	code, body := postToken(t, p.URL, "alice", "alice-password")
	if code != http.StatusCreated {
		t.Fatalf("alice: %d %v", code, body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", p.URL+"/auth/v1/verify", nil)
	req.Header.Set("X-Auth-Token", body["token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := strings.Split(resp.Header.Get("X-Auth-Groups"), ";")
	if resp.StatusCode != http.StatusOK || !sameStrings(got, []string{ldaptest.OpsDN, ldaptest.DevDN}) {
		t.Errorf("verify: %d X-Auth-Groups %q, want the DNs of ops and dev", resp.StatusCode, resp.Header.Get("X-Auth-Groups"))
	}
}
