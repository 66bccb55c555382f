package ldap_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap/ldaptest"
)

// TestProbe: a name the directory has is its own, whatever refuses the
// login; only a name it lacks is Unknown.
func TestProbe(t *testing.T) {
	s := ldaptest.Start(t)
	b := open(t, kwargs(s, nil))
	tests := []struct {
		name, user, password string
		want                 backend.Verdict
	}{
		{"right password", "alice", "alice-password", backend.Accepted},
		{"spelling folded by the directory", " ALICE", "alice-password", backend.Accepted},
		{"wrong password", "alice", "wrong", backend.Refused},
		{"outside group_dns, right password", "bob", "bob-password", backend.Refused},
		{"several entries", "twin", "twin-password", backend.Refused},
		{"empty password", "alice", "", backend.Refused},
		{"not in the directory", "mallory", "mallory-password", backend.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, v, err := b.Probe(t.Context(), tt.user, tt.password)
			if err != nil || v != tt.want {
				t.Fatalf("Probe(%q) = %v, %v; want %v", tt.user, v, err, tt.want)
			}
			if (v == backend.Accepted) != (id.Username == "alice") {
				t.Errorf("Probe(%q) identity %+v with %v", tt.user, id, v)
			}
		})
	}
}

// TestSpend: Spend binds the decoy DN, as refusing an unknown name does;
// while the directory is failing it returns at once, and it does its work
// again once an exchange succeeds.
func TestSpend(t *testing.T) {
	s := ldaptest.Start(t)
	b := open(t, kwargs(s, nil))
	decoy := "cn=gatehouse-no-such-user," + ldaptest.PeopleDN
	b.Spend(t.Context())
	waitBinds(t, s, decoy, 1)
	s.Freeze()
	if _, _, err := b.Probe(t.Context(), "alice", "alice-password"); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("Probe against a frozen server = %v", err)
	}
	start := time.Now()
	b.Spend(t.Context())
	if took := time.Since(start); took > timeout/4 {
		t.Errorf("Spend while the directory is failing took %v", took)
	}
	s.Thaw()
	mustLogin(t, b, "alice")
	b.Spend(t.Context())
	waitBinds(t, s, decoy, 2)
}

// waitBinds waits until slapd has logged n binds of dn (its log trails
// the answers a little).
func waitBinds(t *testing.T, s *ldaptest.Server, dn string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for s.Binds(dn) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d binds of %s, want %d", s.Binds(dn), dn, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
