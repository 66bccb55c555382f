package chain_test

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/backendtest"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/chain"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap/ldaptest"
)

// These tests chain a real slapd (ldaptest) before a real htpasswd file.

// timeout is the LDAP network_timeout here; slack is what a login may
// take beyond it.
const (
	timeout = 2 * time.Second
	slack   = 700 * time.Millisecond
)

// newLDAP returns an LDAPS backend on s (requiring group ops), or on port
// when it is not 0.
func newLDAP(t testing.TB, s *ldaptest.Server, port int) *ldap.Backend {
	t.Helper()
	if port == 0 {
		port = s.TLSPort
	}
	cfg := ldap.DefaultConfig()
	cfg.Host, cfg.Port, cfg.UseSSL, cfg.CACert = []string{s.Host}, port, true, s.CACert
	cfg.BindDN, cfg.BindPassword = ldaptest.ServiceDN, ldaptest.ServicePassword
	cfg.BaseOU, cfg.BaseOUGroup, cfg.GroupDNs = ldaptest.PeopleDN, ldaptest.GroupsDN, []string{ldaptest.OpsDN}
	cfg.NetworkTimeout = timeout.Seconds()
	b, err := ldap.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// breakGlassFile holds a break-glass user found only in the file, copies
// of directory names (alice with another password; carol, outside ops,
// and twin, ambiguous, with their directory passwords), admin, who is in
// both and break-glass, and frank, a file user who is not break-glass.
var breakGlassFile = map[string]string{
	"breakglass": "breakglass-password",
	"alice":      "file-alice-password",
	"carol":      ldaptest.Password("carol"),
	"twin":       ldaptest.Password("twin"),
	"admin":      "file-admin-password",
	"frank":      "frank-password",
}

// ldapThenFile chains s's directory and the break-glass file.
func ldapThenFile(t testing.TB, s *ldaptest.Server) *chain.Chain {
	file, _ := newFile(t, breakGlassFile)
	return newChain(t, []string{"breakglass", "admin"},
		chain.Link{Name: "ldap", Backend: newLDAP(t, s, 0)}, chain.Link{Name: "flat_file", Backend: file})
}

// whileUp: the directory owns its names, whatever the file says.
var whileUp = []login{
	{"alice", ldaptest.Password("alice"), "ldap"},
	{"ALICE ", ldaptest.Password("alice"), "ldap"},
	{"alice", "file-alice-password", "401"}, // the file's copy never answers
	{"carol", ldaptest.Password("carol"), "401"},
	{"twin", ldaptest.Password("twin"), "401"},
	{"admin", ldaptest.Password("admin"), "ldap"},
	{"admin", "file-admin-password", "401"},
	{"breakglass", "breakglass-password", "flat_file"},
	{"breakglass", "wrong", "401"},
	{"frank", "frank-password", "flat_file"},
	{"mallory", "mallory-password", "401"},
}

// whileDown: only break-glass names reach the file.
var whileDown = []login{
	{"breakglass", "breakglass-password", "flat_file"},
	{"breakglass", "wrong", "401"},
	{"admin", "file-admin-password", "flat_file"},
	{"admin", ldaptest.Password("admin"), "401"},
	{"alice", ldaptest.Password("alice"), "503"},
	{"alice", "file-alice-password", "503"},
	{"carol", ldaptest.Password("carol"), "503"},
	{"frank", "frank-password", "503"},
	{"mallory", "mallory-password", "503"},
}

// checkAll runs logins in parallel (a frozen server makes each wait
// network_timeout), each within network_timeout and some slack.
func checkAll(t *testing.T, c *chain.Chain, logins []login) {
	t.Helper()
	t.Run("logins", func(t *testing.T) {
		for _, l := range logins {
			t.Run(l.user+"/"+l.want, func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				l.check(t, c)
				took := time.Since(start)
				t.Logf("%s: %s in %v", l.user, l.want, took)
				if took > timeout+slack {
					t.Errorf("%s/%s took %v, network_timeout is %v", l.user, l.password, took, timeout)
				}
			})
		}
	})
}

// TestLDAPThenFile: a directory before a break-glass file, with the
// directory up, stopped, back, frozen and back again.
func TestLDAPThenFile(t *testing.T) {
	s := ldaptest.Start(t)
	c := ldapThenFile(t, s)
	checkAll(t, c, whileUp)
	id, _ := c.Authenticate(t.Context(), "alice", ldaptest.Password("alice"))
	if id.Username != "alice" || !slices.Contains(id.Groups, ldaptest.OpsDN) {
		t.Errorf("alice through the chain: %+v", id)
	}
	s.Stop()
	checkAll(t, c, whileDown)
	s.Restart()
	checkAll(t, c, whileUp)
	s.Freeze()
	checkAll(t, c, whileDown)
	s.Thaw()
	checkAll(t, c, whileUp)
}

// TestBreakGlassFoldedByLDAP: a break-glass name is compared as the later
// link matches names, so " Admin" is the directory's admin.
func TestBreakGlassFoldedByLDAP(t *testing.T) {
	s := ldaptest.Start(t)
	loc, st := newLocal(t, map[string]string{"alice": "alice-password"})
	c := newChain(t, []string{"ADMIN"}, chain.Link{Name: "local", Backend: loc}, chain.Link{Name: "ldap", Backend: newLDAP(t, s, 0)})
	_ = st.Close()
	login{" Admin", ldaptest.Password("admin"), "ldap"}.check(t, c)
	login{"alice", ldaptest.Password("alice"), "503"}.check(t, c)
	if got := c.FoldName(" Admin  X"); got != "admin x" {
		t.Errorf("FoldName = %q, want LDAP's folding", got)
	}
}

// TestLDAPTiming logs the median times of an unknown name, a directory
// user's wrong password and a file user's wrong password. Each costs one
// directory exchange and one bcrypt (cost 4) check; the bound is loose,
// the precise timing test lives with the HTTP service.
func TestLDAPTiming(t *testing.T) {
	s := ldaptest.Start(t)
	c := ldapThenFile(t, s)
	login{"alice", ldaptest.Password("alice"), "ldap"}.check(t, c) // warm the pools
	m := medians(t, c, 21,
		login{"mallory", "wrong", "401"}, login{"alice", "wrong", "401"}, login{"frank", "wrong", "401"})
	t.Logf("medians: unknown %v, directory wrong password %v, file wrong password %v", m[0], m[1], m[2])
	for _, d := range m[1:] {
		if diff := (d - m[0]).Abs(); diff > 20*time.Millisecond {
			t.Errorf("medians %v differ from an unknown name's %v by %v", d, m[0], diff)
		}
	}
}

// TestLDAPConformance runs the backend suite on the directory-then-file
// chain, for a directory user and for the file's break-glass user; the
// unreachable chain points LDAP at a port nobody listens on.
func TestLDAPConformance(t *testing.T) {
	s := ldaptest.Start(t)
	c := ldapThenFile(t, s)
	unreachable := func(t *testing.T) backend.Backend {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		file, _ := newFile(t, breakGlassFile)
		return newChain(t, []string{"breakglass"},
			chain.Link{Name: "ldap", Backend: newLDAP(t, s, port)}, chain.Link{Name: "flat_file", Backend: file})
	}
	t.Run("directory user", func(t *testing.T) {
		backendtest.Run(t, c, backendtest.Fixture{User: "alice", Password: ldaptest.Password("alice"),
			Unreachable: unreachable, Slow: timeout + slack})
	})
	t.Run("file user", func(t *testing.T) {
		backendtest.Run(t, c, backendtest.Fixture{User: "frank", Password: "frank-password",
			Unreachable: unreachable, Slow: timeout + slack})
	})
}
