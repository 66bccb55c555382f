package auth_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// fakeNegotiator stands in for the kerberos backend in these tests of the
// domain's rules (the real one is tested against a real KDC in
// pkg/backend/kerberos and cmd/gatehouse): the token "good-N" is alice's
// ticket with authenticator N, anything else a refused ticket.
type fakeNegotiator struct{ calls atomic.Int64 }

func (f *fakeNegotiator) Negotiate(_ context.Context, token []byte, _ netip.Addr) (backend.Ticket, error) {
	f.calls.Add(1)
	if !strings.HasPrefix(string(token), "good-") {
		return backend.Ticket{}, &backend.TicketError{Reason: "Kerberos: not a ticket."}
	}
	return backend.Ticket{Identity: backend.Identity{Username: "alice"}, Principal: "alice@TEST",
		Reply: []byte("reply"), ReplayKey: string(token), ReplayUntil: time.Now().Add(5 * time.Minute)}, nil
}

// TestLoginNegotiate: a ticket is throttled, counted, audited and checked
// for replays in the domain core, like a password.
func TestLoginNegotiate(t *testing.T) {
	neg := &fakeNegotiator{}
	f := newFixture(t, func(c *auth.Config) {
		c.Negotiator = neg
		c.Throttle = auth.Throttle{AddressFailures: 3}
	})
	ctx := f.from(t, "192.0.2.1")
	id, reply, err := f.svc.LoginNegotiate(ctx, []byte("good-1"))
	if err != nil || id.Username != "alice" || id.Backend != auth.NegotiateName || string(reply) != "reply" {
		t.Fatalf("good ticket: %+v %q %v", id, reply, err)
	}
	_, _, err = f.svc.LoginNegotiate(ctx, []byte("good-1"))
	if auth.ErrorCode(err) != auth.ETICKET || !strings.Contains(auth.ErrorMessage(err), "replayed") {
		t.Fatalf("replay: %v", err)
	}
	_, _, err = f.svc.LoginNegotiate(ctx, []byte("junk"))
	if auth.ErrorCode(err) != auth.ETICKET || auth.ErrorMessage(err) != "Kerberos: not a ticket." {
		t.Fatalf("bad ticket: %v", err)
	}
	// Two failures so far (the replay and the junk); concurrent bad
	// tickets reach the verifier only up to the limit.
	before := neg.calls.Load()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { _, _, _ = f.svc.LoginNegotiate(ctx, []byte("junk")) })
	}
	wg.Wait()
	if n := neg.calls.Load() - before; n > 1 {
		t.Errorf("10 concurrent bad tickets reached the verifier %d times, want at most 1", n)
	}
	before = neg.calls.Load()
	_, _, err = f.svc.LoginNegotiate(ctx, []byte("good-2"))
	if auth.ErrorCode(err) != auth.ETHROTTLED || !errors.Is(err, auth.ErrLoginLocked) {
		t.Fatalf("good ticket from a locked address: %v", err)
	}
	if neg.calls.Load() != before {
		t.Error("a locked address's ticket was read")
	}
	if _, err := f.svc.Login(ctx, "joe", users["joe"]); !errors.Is(err, auth.ErrLoginLocked) {
		t.Errorf("password from the address the tickets locked: %v", err)
	}
	if _, _, err := f.svc.LoginNegotiate(f.from(t, "192.0.2.2"), []byte("good-3")); err != nil {
		t.Errorf("another address: %v", err)
	}
	var reasons, alice int
	for _, a := range f.log.audits(t) {
		if a["reason"] == "Kerberos: not a ticket." {
			reasons++
		}
		if a["user"] == "alice" && a["outcome"] == "success" && a["backend"] == auth.NegotiateName {
			alice++
		}
		for k, v := range a {
			if s, ok := v.(string); ok && strings.HasPrefix(s, "good-") {
				t.Errorf("a ticket is in the audit line's %s", k)
			}
		}
	}
	if reasons < 2 || alice != 2 {
		t.Errorf("audit: %d refusals with their reason (want at least 2), %d successes of alice (want 2)", reasons, alice)
	}
}

// TestLoginNegotiateOff: without a Negotiator every ticket is refused as
// invalid credentials.
func TestLoginNegotiateOff(t *testing.T) {
	f := newFixture(t, nil)
	if f.svc.Negotiates() {
		t.Fatal("Negotiates without a Negotiator")
	}
	_, _, err := f.svc.LoginNegotiate(f.from(t, "192.0.2.1"), []byte("good-1"))
	if auth.ErrorCode(err) != auth.EINVALIDCREDS {
		t.Errorf("err %v", err)
	}
}
