package kerberos_test

import (
	"errors"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/kerberos"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/kerberos/kdctest"
)

// TestNegotiateServicePrincipal: a ticket of a host or service principal
// (host/web1, as a machine's keytab gives) is no person and gets no
// token, as such a name is refused with a password.
func TestNegotiateServicePrincipal(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, nil)
	kt := filepath.Join(t.TempDir(), "web1.keytab")
	k.Kadmin(t, "addprinc -randkey host/web1")
	k.Kadmin(t, "ktadd -k "+kt+" host/web1")
	ccache := filepath.Join(t.TempDir(), "krb5cc_web1")
	cmd := exec.CommandContext(t.Context(), "kinit", "-k", "-t", kt, "host/web1")
	cmd.Env = k.Env(ccache)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kinit -k host/web1: %v\n%s", err, out)
	}
	tok, _ := token(t, clientFor(t, k, ccache), "HTTP/localhost", time.Now())
	got, err := b.Negotiate(t.Context(), tok, netip.Addr{})
	if !errors.Is(err, backend.ErrInvalidCredentials) {
		t.Fatalf("host/web1's ticket = %+v, %v; want refused", got.Identity, err)
	}
	if r := backend.TicketReason(err); !strings.Contains(r, "host/web1") || !strings.Contains(r, "kinit") {
		t.Errorf("reason %q does not name the principal and what to do", r)
	}
}

// TestNegotiateReplayUntil: the authenticator is remembered for twice the
// clock skew past its time (see Negotiate for why).
func TestNegotiateReplayUntil(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, func(c *kerberos.Config) { c.MaxClockSkew = 120 })
	cl := clientFor(t, k, k.Kinit(t, "alice"))
	ctime := time.Now().Add(-30 * time.Second)
	tok, _ := token(t, cl, "HTTP/localhost", ctime)
	got, err := b.Negotiate(t.Context(), tok, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if want := ctime.Truncate(time.Microsecond).Add(4 * time.Minute).UTC(); !got.ReplayUntil.Equal(want) {
		t.Errorf("ReplayUntil = %v, want %v (ctime + 2 × max_clock_skew)", got.ReplayUntil, want)
	}
}
