package ldap

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// These tests run the login logic over fake connections. Every behaviour
// here is also tested against a real slapd in ldap_test.go.

func TestFakeLogin(t *testing.T) {
	dir := newFakeDir()
	b := newFakeBackend(t, dir, nil)
	id, err := b.Authenticate(t.Context(), "ALICE", "alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(id.Groups)
	if id.Username != "alice" || !slices.Equal(id.Groups, []string{"cn=dev,ou=groups,dc=example,dc=org", "cn=ops,ou=groups,dc=example,dc=org"}) {
		t.Errorf("identity = %+v", id)
	}
	if got := dir.searches[0]; got != "(uid=ALICE)" {
		t.Errorf("user filter %q", got)
	}
	if got := dir.binds; !slices.Equal(got, []string{"cn=svc,dc=example,dc=org", "uid=alice,ou=people,dc=example,dc=org"}) {
		t.Errorf("binds %q", got)
	}
}

func TestFakeRefusalsCostTheSame(t *testing.T) {
	for _, tc := range []struct {
		name, user, password string
	}{
		{"wrong password", "alice", "nope"},
		{"unknown user", "mallory", "alice-pw"},
		{"two entries", "twin", "twin-pw"},
		{"not in the groups", "bob", "bob-pw"},
		{"wildcard", "*", "alice-pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newFakeDir()
			b := newFakeBackend(t, dir, map[string]any{"cache_user_groups_response": false})
			_, err := b.Authenticate(t.Context(), tc.user, tc.password)
			if err != backend.ErrInvalidCredentials {
				t.Fatalf("err = %v", err)
			}
			// service bind, user bind (or decoy); user search, group search.
			if dials, binds, searches := dir.counts(); dials != 2 || binds != 2 || searches != 2 {
				t.Errorf("dials %d binds %d searches %d, want 2 2 2", dials, binds, searches)
			}
			if tc.name != "wrong password" && dir.bindsOf(b.decoyDN) != 1 {
				t.Errorf("no decoy bind: %q", dir.binds)
			}
		})
	}
}

func TestFakeEmptyPasswordMakesNoCall(t *testing.T) {
	dir := newFakeDir()
	b := newFakeBackend(t, dir, nil)
	for _, c := range [][2]string{{"alice", ""}, {"", "alice-pw"}} {
		if _, err := b.Authenticate(t.Context(), c[0], c[1]); err != backend.ErrInvalidCredentials {
			t.Errorf("%q: err = %v", c, err)
		}
	}
	if dials, _, _ := dir.counts(); dials != 0 {
		t.Errorf("%d dials", dials)
	}
}

func TestFakePoolReuseAndRetry(t *testing.T) {
	dir := newFakeDir()
	b := newFakeBackend(t, dir, nil)
	for range 5 {
		if _, err := b.Authenticate(t.Context(), "alice", "alice-pw"); err != nil {
			t.Fatal(err)
		}
	}
	if dials, _, _ := dir.counts(); dials != 2 {
		t.Errorf("5 logins made %d connections, want 2 (one per pool)", dials)
	}
	if n := dir.bindsOf("cn=svc,dc=example,dc=org"); n != 1 {
		t.Errorf("%d service binds", n)
	}

	// The server restarts: the pooled connections fail on first use (as
	// go-ldap reports a connection reset) and are replaced.
	for _, p := range []*pool{b.service, b.binds} {
		p.mu.Lock()
		for _, ic := range p.idle {
			ic.c.(*fakeConn).mu.Lock()
			ic.c.(*fakeConn).healthy = false // Healthy() false: dropped at take
			ic.c.(*fakeConn).mu.Unlock()
		}
		p.mu.Unlock()
	}
	if _, err := b.Authenticate(t.Context(), "alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if dials, _, _ := dir.counts(); dials != 4 {
		t.Errorf("dials = %d, want 4", dials)
	}

	// A pooled connection that looks healthy but fails with a network
	// error is retried once on a new connection.
	failed := 0
	dir.hook = func(op string, c *fakeConn) error {
		if op == "search" && failed == 0 {
			failed++
			return goldap.NewError(goldap.ErrorNetwork, errors.New("unable to read LDAP response packet: EOF"))
		}
		return nil
	}
	if _, err := b.Authenticate(t.Context(), "alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if dials, _, _ := dir.counts(); dials != 5 || failed != 1 {
		t.Errorf("dials = %d (want 5), failures %d", dials, failed)
	}
}

func TestFakeUnavailable(t *testing.T) {
	t.Run("down", func(t *testing.T) {
		dir := newFakeDir()
		dir.down = true
		b := newFakeBackend(t, dir, map[string]any{"host": "a,b"})
		_, err := b.Authenticate(t.Context(), "alice", "alice-pw")
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("service account refused", func(t *testing.T) {
		dir := newFakeDir()
		b := newFakeBackend(t, dir, map[string]any{"bind_password": "wrong"})
		_, err := b.Authenticate(t.Context(), "alice", "alice-pw")
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("busy on user bind", func(t *testing.T) {
		dir := newFakeDir()
		dir.hook = func(op string, c *fakeConn) error {
			if op == "bind" && len(dir.binds) == 2 {
				return goldap.NewError(goldap.LDAPResultBusy, errors.New("busy"))
			}
			return nil
		}
		b := newFakeBackend(t, dir, nil)
		_, err := b.Authenticate(t.Context(), "alice", "alice-pw")
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestFakeReady: Ready binds as the service account and keeps the
// connection for the first login; a directory that is down or refuses the
// service account is reported, and the backend recovers by itself.
func TestFakeReady(t *testing.T) {
	dir := newFakeDir()
	b := newFakeBackend(t, dir, nil)
	if err := b.Ready(t.Context()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	if _, err := b.Authenticate(t.Context(), "alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if dials, _, _ := dir.counts(); dials != 2 || dir.bindsOf("cn=svc,dc=example,dc=org") != 1 {
		t.Errorf("dials %d, service binds %d; want the probe's connection reused (2 dials, 1 bind)", dials, dir.bindsOf("cn=svc,dc=example,dc=org"))
	}

	down := newFakeDir()
	down.down = true
	b = newFakeBackend(t, down, nil)
	if err := b.Ready(t.Context()); err == nil || err.Error() != "no LDAP server could be used: connection refused" {
		t.Errorf("Ready with the directory down = %v", err)
	}
	down.mu.Lock()
	down.down = false
	down.mu.Unlock()
	if err := b.Ready(t.Context()); err != nil {
		t.Errorf("Ready with the directory back: %v", err)
	}

	refused := newFakeBackend(t, newFakeDir(), map[string]any{"bind_password": "wrong"})
	if err := refused.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), `bind as the service account "cn=svc,dc=example,dc=org"`) {
		t.Errorf("Ready with a refused service account = %v", err)
	}
}

// TestFakeHangIsAborted: a server that never answers is abandoned at
// network_timeout or when ctx is cancelled, whichever is first.
func TestFakeHangIsAborted(t *testing.T) {
	hang := func(op string, c *fakeConn) error {
		<-c.aborted
		return goldap.NewError(goldap.ErrorNetwork, errors.New("ldap: connection closed"))
	}
	t.Run("timeout", func(t *testing.T) {
		dir := newFakeDir()
		dir.hook = hang
		b := newFakeBackend(t, dir, map[string]any{"network_timeout": 0.2})
		start := time.Now()
		_, err := b.Authenticate(t.Context(), "alice", "alice-pw")
		if !errors.Is(err, backend.ErrUnavailable) || time.Since(start) > time.Second {
			t.Fatalf("err = %v after %v", err, time.Since(start))
		}
	})
	t.Run("cancel", func(t *testing.T) {
		dir := newFakeDir()
		dir.hook = hang
		b := newFakeBackend(t, dir, map[string]any{"network_timeout": 30})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := b.Authenticate(ctx, "alice", "alice-pw")
		if !errors.Is(err, backend.ErrUnavailable) || !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
			t.Fatalf("err = %v after %v", err, time.Since(start))
		}
	})
}

func TestFakeGroupCache(t *testing.T) {
	dir := newFakeDir()
	b := newFakeBackend(t, dir, nil)
	for range 3 {
		if _, err := b.Authenticate(t.Context(), "alice", "alice-pw"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, searches := dir.counts(); searches != 4 {
		t.Errorf("searches = %d, want 3 user searches + 1 group search", searches)
	}
}
