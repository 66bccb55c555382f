package ldap_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap/ldaptest"
)

// These tests run against real OpenLDAP slapd instances started by
// ldaptest (see scripts/ldap-up.sh); each test that stops or freezes its
// server has a server of its own.

// timeout is network_timeout in these tests, and slack what a refusal may
// take beyond it.
const (
	timeout = 2 * time.Second
	slack   = 500 * time.Millisecond
)

// kwargs are backend_kwargs for s over LDAPS, as st2.conf's JSON would
// give them (numbers are float64), with extra on top (nil deletes).
func kwargs(s *ldaptest.Server, extra map[string]any) map[string]any {
	kw := map[string]any{
		"bind_dn":         ldaptest.ServiceDN,
		"bind_password":   ldaptest.ServicePassword,
		"base_ou":         ldaptest.PeopleDN,
		"base_ou_group":   ldaptest.GroupsDN,
		"group_dns":       []any{ldaptest.OpsDN},
		"host":            s.Host,
		"port":            float64(s.TLSPort),
		"use_ssl":         true,
		"cacert":          s.CACert,
		"network_timeout": timeout.Seconds(),
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

func open(t testing.TB, kw map[string]any) *ldap.Backend {
	t.Helper()
	b, err := ldap.Factory(kw, nil)
	if err != nil {
		t.Fatal(err)
	}
	lb := b.(*ldap.Backend)
	t.Cleanup(func() { _ = lb.Close() })
	return lb
}

func mustLogin(t *testing.T, b *ldap.Backend, user string) backend.Identity {
	t.Helper()
	id, err := b.Authenticate(t.Context(), user, ldaptest.Password(user))
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return id
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestLogin(t *testing.T) {
	s := ldaptest.Start(t)
	invalid := backend.ErrInvalidCredentials
	for _, tc := range []struct {
		name, user, password string
		kw                   map[string]any
		wantUser             string
		wantGroups           []string
		wantErr              error
	}{
		{name: "good", user: "alice", wantUser: "alice", wantGroups: []string{ldaptest.OpsDN, ldaptest.DevDN}},
		{name: "canonical name", user: "ALICE", password: "alice-password", wantUser: "alice", wantGroups: []string{ldaptest.OpsDN, ldaptest.DevDN}},
		{name: "wrong password", user: "alice", password: "alice-passwordx", wantErr: invalid},
		{name: "password case", user: "alice", password: "ALICE-PASSWORD", wantErr: invalid},
		{name: "unknown user", user: "mallory", password: "alice-password", wantErr: invalid},
		{name: "outside the group", user: "bob", wantErr: invalid},
		{name: "in no group", user: "carol", wantErr: invalid},
		{name: "posixGroup by memberUid", user: "dave", kw: map[string]any{"group_dns": []any{ldaptest.PosixersDN}},
			wantUser: "dave", wantGroups: []string{ldaptest.PosixersDN}},
		{name: "groupOfUniqueNames", user: "bob", kw: map[string]any{"group_dns": ldaptest.DevDN},
			wantUser: "bob", wantGroups: []string{ldaptest.DevDN}},
		{name: "DN with an escaped comma", user: "jsmith", wantUser: "jsmith", wantGroups: []string{ldaptest.OpsDN}},
		{name: "non-ASCII name", user: "zoë", wantUser: "zoë", wantGroups: []string{ldaptest.OpsDN}},
		{name: "non-ASCII name, other case", user: "ZOË", password: "zoe-password", wantUser: "zoë", wantGroups: []string{ldaptest.OpsDN}},
		{name: "two entries", user: "twin", kw: map[string]any{"group_dns": "cn=empty", "group_dns_check": "or"}, wantErr: invalid},
		{name: "star", user: "*", password: "alice-password", wantErr: invalid},
		{name: "a star", user: "a*", password: "alice-password", wantErr: invalid},
		{name: "prefix star", user: "alic*", password: "alice-password", wantErr: invalid},
		{name: "filter injection", user: "*)(uid=*))(|(uid=*", password: "alice-password", wantErr: invalid},
		{name: "filter injection admin", user: "admin)(|(objectClass=*)", password: "admin-password", wantErr: invalid},
		{name: "NUL", user: "alice\x00", password: "alice-password", wantErr: invalid},
		{name: "backslash", user: `alice\`, password: "alice-password", wantErr: invalid},
		{name: "admin", user: "admin", wantUser: "admin", wantGroups: []string{ldaptest.OpsDN}},
		{name: "service account is not a user", user: "gatehouse", password: ldaptest.ServicePassword, wantErr: invalid},
		{name: "account_pattern without parentheses", user: "alice", kw: map[string]any{"account_pattern": "uid={username}"},
			wantUser: "alice", wantGroups: []string{ldaptest.OpsDN, ldaptest.DevDN}},
		{name: "account_pattern by mail", user: "alice@example.org", password: "alice-password",
			kw:       map[string]any{"account_pattern": "(&(objectClass=inetOrgPerson)(mail={username}))"},
			wantUser: "alice", wantGroups: []string{ldaptest.OpsDN, ldaptest.DevDN}},
		{name: "scope onelevel misses contractors", user: "alice", kw: map[string]any{"scope": "onelevel"},
			wantUser: "alice", wantGroups: []string{ldaptest.OpsDN, ldaptest.DevDN}},
		{name: "scope base finds no user", user: "alice", kw: map[string]any{"scope": "base"}, wantErr: invalid},
		{name: "plain LDAP", user: "alice", kw: map[string]any{"use_ssl": false, "port": float64(s.Port)},
			wantUser: "alice", wantGroups: []string{ldaptest.OpsDN, ldaptest.DevDN}},
		{name: "StartTLS", user: "alice", kw: map[string]any{"use_ssl": false, "use_tls": "true", "port": fmt.Sprint(s.Port)},
			wantUser: "alice", wantGroups: []string{ldaptest.OpsDN, ldaptest.DevDN}},
		{name: "LDAPS by name localhost", user: "alice", kw: map[string]any{"host": "localhost"},
			wantUser: "alice", wantGroups: []string{ldaptest.OpsDN, ldaptest.DevDN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t, kwargs(s, tc.kw))
			password := tc.password
			if password == "" {
				password = ldaptest.Password(tc.user)
			}
			id, err := b.Authenticate(t.Context(), tc.user, password)
			if tc.wantErr != nil {
				if err != tc.wantErr {
					t.Fatalf("err = %v, want %v (identity %+v)", err, tc.wantErr, id)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Username != tc.wantUser || !sameSet(id.Groups, tc.wantGroups) {
				t.Errorf("identity = %+v, want %s %v", id, tc.wantUser, tc.wantGroups)
			}
		})
	}
}

func TestGroupChecks(t *testing.T) {
	s := ldaptest.Start(t)
	opsAndDev := []any{ldaptest.OpsDN, ldaptest.DevDN}
	for _, tc := range []struct {
		name   string
		user   string
		groups any
		check  string
		ok     bool
	}{
		{"and, in both", "alice", opsAndDev, "and", true},
		{"and, in one of two", "bob", opsAndDev, "and", false},
		{"or, in one of two", "bob", opsAndDev, "or", true},
		{"or, in none", "carol", opsAndDev, "or", false},
		{"bare RDN", "alice", []any{"cn=ops"}, "and", true},
		{"bare RDN, not a member", "bob", []any{"cn=ops"}, "and", false},
		{"bare RDNs or", "bob", []any{"cn=ops", "cn=dev"}, "or", true},
		{"bare RDN and full DN", "alice", []any{"cn=ops", ldaptest.DevDN}, "and", true},
		{"upper case DN", "alice", []any{strings.ToUpper(ldaptest.OpsDN)}, "and", true},
		{"spaces in DN", "alice", []any{"cn=ops, ou=groups, dc=example, dc=org"}, "and", true},
		{"same RDN, other parent", "alice", []any{"cn=ops,ou=other,dc=example,dc=org"}, "and", false},
		{"bare RDN, case", "alice", []any{"CN=Ops"}, "and", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t, kwargs(s, map[string]any{"group_dns": tc.groups, "group_dns_check": tc.check}))
			_, err := b.Authenticate(t.Context(), tc.user, ldaptest.Password(tc.user))
			if tc.ok && err != nil || !tc.ok && err != backend.ErrInvalidCredentials {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestEmptyPasswordReachesNoServer: an empty password would be an
// unauthenticated bind, which slapd reports as a success.
func TestEmptyPasswordReachesNoServer(t *testing.T) {
	s := ldaptest.Start(t)
	b := open(t, kwargs(s, map[string]any{"use_ssl": false, "port": float64(s.Port)}))
	if _, err := b.Authenticate(t.Context(), "alice", ""); err != backend.ErrInvalidCredentials {
		t.Fatalf("err = %v", err)
	}
	// The proof that it matters: slapd accepts alice with no password.
	c, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.UnauthenticatedBind(ldaptest.UserDN("alice")); err != nil {
		t.Fatalf("slapd refused an unauthenticated bind (%v); the test proves less than it should", err)
	}
	time.Sleep(100 * time.Millisecond) // let slapd log
	if n := s.Connections(); n != 1 {
		t.Errorf("slapd saw %d connections, want only the test's own", n)
	}
	if n := s.Binds(ldaptest.UserDN("alice")); n != 1 {
		t.Errorf("slapd saw %d binds for alice, want only the test's own", n)
	}
}

// TestRefusalsLookAlike: unknown users and users outside the groups cost
// a bind too (of a decoy DN), so they take about as long as a wrong
// password.
func TestRefusalsLookAlike(t *testing.T) {
	s := ldaptest.Start(t)
	b := open(t, kwargs(s, map[string]any{"cache_user_groups_response": false}))
	decoy := "cn=gatehouse-no-such-user," + ldaptest.PeopleDN
	mustLogin(t, b, "alice") // warm the pools
	cases := []struct{ user, password string }{
		{"alice", "wrong"}, {"mallory", "wrong"}, {"bob", "bob-password"}, {"twin", "twin-password"},
	}
	const rounds = 15
	times := make([][]time.Duration, len(cases))
	for range rounds {
		for i, c := range cases {
			start := time.Now()
			if _, err := b.Authenticate(t.Context(), c.user, c.password); err != backend.ErrInvalidCredentials {
				t.Fatalf("%s: %v", c.user, err)
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := s.Binds(decoy); n != 3*rounds {
		t.Errorf("%d decoy binds, want %d", n, 3*rounds)
	}
	if n := s.Binds(ldaptest.UserDN("bob")); n != 0 {
		t.Errorf("bob, outside the groups, was bound %d times", n)
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	wrong := median(times[0])
	for i, c := range cases[1:] {
		m := median(times[i+1])
		t.Logf("%s: median %v (wrong password: %v)", c.user, m, wrong)
		if m < wrong/3 || m > wrong*3 {
			t.Errorf("%s takes %v, a wrong password %v", c.user, m, wrong)
		}
	}
}

// TestTLS: the certificate is checked, and nothing goes in clear.
func TestTLS(t *testing.T) {
	s := ldaptest.Start(t)
	t.Run("LDAPS right CA", func(t *testing.T) {
		mustLogin(t, open(t, kwargs(s, nil)), "alice")
	})
	t.Run("StartTLS right CA", func(t *testing.T) {
		mustLogin(t, open(t, kwargs(s, map[string]any{"use_ssl": false, "use_tls": true, "port": float64(s.Port)})), "admin")
		time.Sleep(100 * time.Millisecond)
		if !strings.Contains(s.Log(), "STARTTLS") {
			t.Error("no STARTTLS in slapd's log")
		}
	})
	for _, tc := range []struct {
		name string
		kw   map[string]any
	}{
		{"LDAPS wrong CA", map[string]any{"cacert": s.WrongCACert}},
		{"StartTLS wrong CA", map[string]any{"use_ssl": false, "use_tls": true, "port": float64(s.Port), "cacert": s.WrongCACert}},
		{"LDAPS system roots", map[string]any{"cacert": nil}},
		{"StartTLS system roots", map[string]any{"use_ssl": false, "use_tls": true, "port": float64(s.Port), "cacert": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t, kwargs(s, tc.kw))
			_, err := b.Authenticate(t.Context(), "carol", "carol-password")
			if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("err = %v, want ErrUnavailable about the certificate", err)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	// carol only ever tried over an unverified server: no bind at all may
	// have reached it, neither hers nor the service account's.
	if n := s.Binds(ldaptest.UserDN("carol")); n != 0 {
		t.Errorf("carol was bound %d times", n)
	}
	for line := range strings.Lines(s.Log()) {
		if strings.Contains(line, "mech=SIMPLE") && strings.Contains(line, " ssf=0") {
			t.Errorf("a bind went in clear: %s", line)
		}
	}
}

// TestStoppedServer: a stopped directory gives ErrUnavailable at once, and
// the same backend works again once it is back on the same port.
func TestStoppedServer(t *testing.T) {
	s := ldaptest.Start(t)
	b := open(t, kwargs(s, nil))
	mustLogin(t, b, "alice")
	s.Stop()
	for range 2 {
		start := time.Now()
		_, err := b.Authenticate(t.Context(), "alice", "alice-password")
		elapsed := time.Since(start)
		t.Logf("stopped: %v after %v", err, elapsed)
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
		if elapsed > timeout+slack {
			t.Errorf("took %v, network_timeout is %v", elapsed, timeout)
		}
	}
	s.Restart()
	mustLogin(t, b, "alice")
	mustLogin(t, b, "admin")
}

// TestFrozenServer: a server that accepts connections but never answers
// (SIGSTOP) gives ErrUnavailable within network_timeout, whether the
// backend had pooled connections or not, and logins work again after
// SIGCONT.
func TestFrozenServer(t *testing.T) {
	s := ldaptest.Start(t)
	warm := open(t, kwargs(s, nil))
	mustLogin(t, warm, "alice")
	s.Freeze()
	for _, tc := range []struct {
		name string
		b    *ldap.Backend
	}{
		{"pooled connections", warm},
		{"new connections (TLS handshake hangs)", open(t, kwargs(s, nil))},
		{"new connections (StartTLS hangs)", open(t, kwargs(s, map[string]any{"use_ssl": false, "use_tls": true, "port": float64(s.Port)}))},
	} {
		start := time.Now()
		_, err := tc.b.Authenticate(t.Context(), "alice", "alice-password")
		elapsed := time.Since(start)
		t.Logf("%s: %v after %v", tc.name, err, elapsed)
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
		if elapsed > timeout+slack {
			t.Errorf("%s: took %v, network_timeout is %v", tc.name, elapsed, timeout)
		}
	}
	// A cancelled request stops waiting at once.
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	if _, err := warm.Authenticate(ctx, "alice", "alice-password"); !errors.Is(err, context.Canceled) || !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("cancelled: err = %v", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("cancelled login took %v", elapsed)
	}
	s.Thaw()
	mustLogin(t, warm, "alice")
	mustLogin(t, warm, "admin")
}

// TestHostList: the first host refuses connections, the second serves.
func TestHostList(t *testing.T) {
	s := ldaptest.Start(t)
	// Nothing listens on 127.0.0.2 (slapd listens on 127.0.0.1 only).
	for _, hosts := range []string{"127.0.0.2,127.0.0.1", fmt.Sprintf("127.0.0.1:%d, 127.0.0.1", s.Port)} {
		b := open(t, kwargs(s, map[string]any{"host": hosts}))
		start := time.Now()
		id := mustLogin(t, b, "alice")
		t.Logf("%s: %s in %v", hosts, id.Username, time.Since(start))
	}
	// All down: ErrUnavailable naming each.
	b := open(t, kwargs(s, map[string]any{"host": "127.0.0.2,127.0.0.3"}))
	_, err := b.Authenticate(t.Context(), "alice", "alice-password")
	if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "127.0.0.2") || !strings.Contains(err.Error(), "127.0.0.3") {
		t.Errorf("err = %v", err)
	}
}

// TestPoolReuse: logins reuse the service account's connection and bind.
func TestPoolReuse(t *testing.T) {
	s := ldaptest.Start(t)
	b := open(t, kwargs(s, nil))
	const n = 20
	for i := range n {
		user := []string{"alice", "admin", "svc", "jsmith"}[i%4]
		mustLogin(t, b, user)
	}
	time.Sleep(100 * time.Millisecond)
	if got := s.Binds(ldaptest.ServiceDN); got != 1 {
		t.Errorf("%d logins made %d service binds", n, got)
	}
	if got := s.Connections(); got != 2 {
		t.Errorf("%d logins made %d connections, want 2 (service + user binds)", n, got)
	}

	// Concurrent logins open extra connections, but keep at most a few.
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			user := []string{"alice", "admin", "svc", "jsmith"}[i%4]
			if _, err := b.Authenticate(context.Background(), user, ldaptest.Password(user)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestGroupCache: within the TTL, a membership change is not seen; after
// it, it is. With the cache off, it is seen at once.
func TestGroupCache(t *testing.T) {
	s := ldaptest.Start(t)
	admin := s.Admin(t)
	cached := open(t, kwargs(s, map[string]any{"cache_user_groups_cache_ttl": 1.5}))
	uncached := open(t, kwargs(s, map[string]any{"cache_user_groups_response": "false"}))
	if id := mustLogin(t, cached, "alice"); !slices.Contains(id.Groups, ldaptest.DevDN) {
		t.Fatalf("groups %v", id.Groups)
	}
	time.Sleep(100 * time.Millisecond)
	searches := s.Searches(ldaptest.GroupsDN)

	mod := goldap.NewModifyRequest(ldaptest.DevDN, nil)
	mod.Delete("uniqueMember", []string{ldaptest.UserDN("alice")})
	if err := admin.Modify(mod); err != nil {
		t.Fatal(err)
	}
	if id := mustLogin(t, cached, "alice"); !slices.Contains(id.Groups, ldaptest.DevDN) {
		t.Errorf("cache miss within the TTL: %v", id.Groups)
	}
	time.Sleep(100 * time.Millisecond)
	if got := s.Searches(ldaptest.GroupsDN); got != searches {
		t.Errorf("a group search reached slapd within the TTL (%d, was %d)", got, searches)
	}
	if id := mustLogin(t, uncached, "alice"); slices.Contains(id.Groups, ldaptest.DevDN) {
		t.Errorf("uncached backend sees %v", id.Groups)
	}
	time.Sleep(1500 * time.Millisecond)
	if id := mustLogin(t, cached, "alice"); slices.Contains(id.Groups, ldaptest.DevDN) {
		t.Errorf("still cached after the TTL: %v", id.Groups)
	}
	// The password is never cached.
	if _, err := cached.Authenticate(t.Context(), "alice", "wrong"); err != backend.ErrInvalidCredentials {
		t.Errorf("wrong password with cached groups: %v", err)
	}
}

// TestReferrals: a user under a referral is skipped, or found on the
// referred server with chase_referrals.
func TestReferrals(t *testing.T) {
	main, other := ldaptest.Start(t), ldaptest.Start(t)
	patDN := "uid=pat,ou=partners," + ldaptest.BaseDN
	oa := other.Admin(t)
	for _, add := range []*goldap.AddRequest{
		addRequest("ou=partners,"+ldaptest.BaseDN, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"partners"}}),
		addRequest(patDN, map[string][]string{"objectClass": {"inetOrgPerson"}, "uid": {"pat"}, "cn": {"Pat"}, "sn": {"P"},
			"userPassword": {"pat-password"}}),
	} {
		if err := oa.Add(add); err != nil {
			t.Fatal(err)
		}
	}
	ma := main.Admin(t)
	ref := addRequest("ou=partners,"+ldaptest.PeopleDN, map[string][]string{
		"objectClass": {"referral", "extensibleObject"}, "ou": {"partners"},
		"ref": {fmt.Sprintf("ldap://127.0.0.1:%d/ou=partners,%s", other.Port, ldaptest.BaseDN)},
	})
	ref.Controls = []goldap.Control{goldap.NewControlManageDsaIT(true)}
	if err := ma.Add(ref); err != nil {
		t.Fatal(err)
	}
	mod := goldap.NewModifyRequest(ldaptest.OpsDN, nil)
	mod.Add("member", []string{patDN})
	if err := ma.Modify(mod); err != nil {
		t.Fatal(err)
	}

	off := open(t, kwargs(main, nil))
	if _, err := off.Authenticate(t.Context(), "pat", "pat-password"); err != backend.ErrInvalidCredentials {
		t.Errorf("chase_referrals off: %v", err)
	}
	mustLogin(t, off, "alice") // references next to entries are skipped
	on := open(t, kwargs(main, map[string]any{"chase_referrals": true}))
	id, err := on.Authenticate(t.Context(), "pat", "pat-password")
	if err != nil || id.Username != "pat" || !slices.Equal(id.Groups, []string{ldaptest.OpsDN}) {
		t.Fatalf("chase_referrals on: %+v %v", id, err)
	}
	if _, err := on.Authenticate(t.Context(), "pat", "wrong"); err != backend.ErrInvalidCredentials {
		t.Errorf("wrong password: %v", err)
	}
	mustLogin(t, on, "alice")
	time.Sleep(100 * time.Millisecond)
	if other.Binds(patDN) != 2 || main.Binds(patDN) != 0 {
		t.Errorf("pat bound %d times on the referred server, %d on the main one", other.Binds(patDN), main.Binds(patDN))
	}
	// With use_ssl, the ldap:// referral was upgraded with StartTLS.
	if !strings.Contains(other.Log(), "STARTTLS") {
		t.Error("the referral was followed in clear")
	}
	// A referral to a server that is down fails the login.
	other.Stop()
	if _, err := on.Authenticate(t.Context(), "pat", "pat-password"); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("referred server down: %v", err)
	}
}

func addRequest(dn string, attrs map[string][]string) *goldap.AddRequest {
	r := goldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		r.Attribute(k, v)
	}
	return r
}
