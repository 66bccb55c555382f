package kerberos_test

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/backendtest"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/kerberos"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/kerberos/kdctest"
)

func newBackend(t *testing.T, k *kdctest.KDC, edit func(*kerberos.Config)) *kerberos.Backend {
	t.Helper()
	cfg := kerberos.DefaultConfig()
	cfg.Keytab = k.Keytab
	cfg.ServicePrincipal = kdctest.Service
	cfg.KDCs = []string{k.Addr}
	if edit != nil {
		edit(&cfg)
	}
	b, err := kerberos.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestConformance runs the password-backend suite against a real MIT KDC.
func TestConformance(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, nil)
	backendtest.Run(t, b, backendtest.Fixture{User: "alice", Password: kdctest.Password("alice"),
		Unreachable: func(t *testing.T) backend.Backend {
			return newBackend(t, k, func(c *kerberos.Config) { c.KDCs = []string{closedPort(t)}; c.Timeout = 2 })
		}})
}

func TestPasswordRealms(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, nil)
	id, err := b.Authenticate(t.Context(), "alice@"+kdctest.Realm, kdctest.Password("alice"))
	if err != nil || id.Username != "alice" {
		t.Fatalf("alice@REALM = %+v, %v; want alice", id, err)
	}
	for _, name := range []string{"alice@OTHER.TEST", "HTTP/localhost", "alice@"} {
		if _, err := b.Authenticate(t.Context(), name, kdctest.Password("alice")); !errors.Is(err, backend.ErrInvalidCredentials) {
			t.Errorf("%q = %v, want invalid credentials", name, err)
		}
	}
	keep := newBackend(t, k, func(c *kerberos.Config) { c.StripRealm = false })
	if id, err := keep.Authenticate(t.Context(), "bob", kdctest.Password("bob")); err != nil || id.Username != "bob@"+kdctest.Realm {
		t.Errorf("strip_realm false: %+v, %v; want bob@%s", id, err, kdctest.Realm)
	}
}

// TestKDCStopped: a stopped KDC is unavailable within the timeout, and
// the same backend works again once it is back.
func TestKDCStopped(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, func(c *kerberos.Config) { c.Timeout = 2 })
	k.Stop()
	start := time.Now()
	if _, err := b.Authenticate(t.Context(), "alice", kdctest.Password("alice")); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("KDC stopped: %v, want unavailable", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
	if err := b.Ready(t.Context()); err == nil {
		t.Error("Ready with the KDC stopped = nil")
	}
	k.Restart()
	if _, err := b.Authenticate(t.Context(), "alice", kdctest.Password("alice")); err != nil {
		t.Errorf("after restart: %v", err)
	}
	if err := b.Ready(t.Context()); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := kerberos.Factory(map[string]any{"keytab": "/nonexistent/keytab", "bogus": 1}, nil)
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown option: %v", err)
	}
	_, err = kerberos.Factory(map[string]any{"keytab": "/nonexistent/keytab", "kdcs": []string{"x"}}, nil)
	for _, want := range []string{"service_principal", "/nonexistent/keytab"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

// clientFor is a gokrb5 client on the credential cache kinit made: a
// second, independent Kerberos implementation playing the browser.
func clientFor(t *testing.T, k *kdctest.KDC, ccache string) *client.Client {
	t.Helper()
	cfg, err := config.Load(k.Config)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := credentials.LoadCCache(ccache)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.NewFromCCache(cc, cfg, client.DisablePAFXFAST(true))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// token is a SPNEGO NegTokenInit with an AP-REQ for spn whose
// authenticator says ctime.
func token(t *testing.T, cl *client.Client, spn string, ctime time.Time) ([]byte, types.EncryptionKey) {
	t.Helper()
	tkt, key, err := cl.GetServiceTicket(spn)
	if err != nil {
		t.Fatal(err)
	}
	return tokenFor(t, cl, tkt, key, ctime), key
}

func tokenFor(t *testing.T, cl *client.Client, tkt messages.Ticket, key types.EncryptionKey, ctime time.Time) []byte {
	t.Helper()
	auth, err := types.NewAuthenticator(cl.Credentials.Domain(), cl.Credentials.CName())
	if err != nil {
		t.Fatal(err)
	}
	auth.CTime = ctime.UTC().Truncate(time.Second)
	auth.Cusec = ctime.Nanosecond() / 1000
	apreq, err := messages.NewAPReq(tkt, key, auth)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := apreq.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	oid, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	mech := asn1tools.AddASNAppTag(append(append(oid, 0x01, 0x00), ab...), 0)
	st := spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{
		MechTypes: []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID()}, MechTokenBytes: mech}}
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNegotiate(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, nil)
	cl := clientFor(t, k, k.Kinit(t, "alice"))
	tok, key := token(t, cl, "HTTP/localhost", time.Now())
	got, err := b.Negotiate(t.Context(), tok, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Identity.Username != "alice" || got.Principal != "alice@"+kdctest.Realm {
		t.Errorf("identity %+v principal %q", got.Identity, got.Principal)
	}
	if got.ReplayKey == "" || time.Until(got.ReplayUntil) < 4*time.Minute {
		t.Errorf("replay key %q until %v", got.ReplayKey, got.ReplayUntil)
	}
	checkReply(t, got.Reply, key)
	again, err := b.Negotiate(t.Context(), tok, netip.Addr{})
	if err != nil || again.ReplayKey != got.ReplayKey {
		t.Errorf("the same token again: %v, key %q vs %q (the store refuses the second)", err, again.ReplayKey, got.ReplayKey)
	}
	other, _ := token(t, cl, "HTTP/localhost", time.Now().Add(time.Millisecond))
	if next, err := b.Negotiate(t.Context(), other, netip.Addr{}); err != nil || next.ReplayKey == got.ReplayKey {
		t.Errorf("a new authenticator: %v, same key %v", err, next.ReplayKey == got.ReplayKey)
	}
}

// checkReply decrypts the mutual-authentication AP-REP with the session key.
func checkReply(t *testing.T, reply []byte, key types.EncryptionKey) {
	t.Helper()
	var resp spnego.NegTokenResp
	if err := resp.Unmarshal(reply); err != nil {
		t.Fatalf("reply is not a NegTokenResp: %v", err)
	}
	if resp.NegState != asn1.Enumerated(spnego.NegStateAcceptCompleted) {
		t.Errorf("negState %v", resp.NegState)
	}
	var mt spnego.KRB5Token
	if err := mt.Unmarshal(resp.ResponseToken); err != nil || !mt.IsAPRep() {
		t.Fatalf("response token is no AP-REP: %v", err)
	}
	plain, err := crypto.DecryptEncPart(mt.APRep.EncPart, key, keyusage.AP_REP_ENCPART)
	if err != nil {
		t.Fatalf("AP-REP does not decrypt with the session key: %v", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		t.Fatalf("EncAPRepPart: %v", err)
	}
}

func TestNegotiateRefusals(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, nil)
	cl := clientFor(t, k, k.Kinit(t, "alice"))
	good, _ := token(t, cl, "HTTP/localhost", time.Now())
	otherService, _ := token(t, cl, "HTTP/127.0.0.1", time.Now())
	skewed, _ := token(t, cl, "HTTP/localhost", time.Now().Add(-10*time.Minute))
	tests := []struct {
		name   string
		b      *kerberos.Backend
		token  []byte
		reason string
	}{
		{"OtherService", b, otherService, "not for this service"},
		{"ClockSkew", b, skewed, "clock skew too great: the client's clock is 10m0s behind"},
		{"RealmNotAllowed", newBackend(t, k, func(c *kerberos.Config) { c.AllowedRealms = []string{"OTHER.TEST"} }), good, "realm GATEHOUSE.TEST are not allowed"},
		{"Garbage", b, []byte("not a token"), "not a Kerberos ticket"},
		{"Empty", b, nil, "empty"},
		{"Truncated", b, good[:len(good)/2], "not a Kerberos ticket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.b.Negotiate(t.Context(), tc.token, netip.Addr{})
			if !errors.Is(err, backend.ErrInvalidCredentials) {
				t.Fatalf("err = %v, want invalid credentials", err)
			}
			if r := backend.TicketReason(err); !strings.Contains(r, tc.reason) {
				t.Errorf("reason %q, want %q", r, tc.reason)
			}
		})
	}
}

// TestNegotiateExpired: a ticket past its end time (plus the skew) is
// refused as expired, even with a fresh authenticator.
func TestNegotiateExpired(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, func(c *kerberos.Config) { c.MaxClockSkew = 1 })
	cl := clientFor(t, k, k.Kinit(t, "alice", "-l", "3s"))
	tkt, key, err := cl.GetServiceTicket("HTTP/localhost")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	_, err = b.Negotiate(t.Context(), tokenFor(t, cl, tkt, key, time.Now()), netip.Addr{})
	if r := backend.TicketReason(err); !strings.Contains(r, "the ticket expired at") {
		t.Errorf("err %v, reason %q", err, r)
	}
}

func TestFoldName(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, nil)
	for in, want := range map[string]string{"alice": "alice", "alice@" + kdctest.Realm: "alice", "alice@X.TEST": "alice@X.TEST"} {
		if got := b.FoldName(in); got != want {
			t.Errorf("FoldName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestProbe: the KDC's "client not found" is Unknown (a chain asks the
// next backend), a wrong password of a principal it has is Refused.
func TestProbe(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, nil)
	tests := []struct {
		user, password string
		want           backend.Verdict
	}{
		{"alice", kdctest.Password("alice"), backend.Accepted},
		{"alice", "wrong", backend.Refused},
		{"carol", "carol-password", backend.Unknown},
		{"alice@OTHER.TEST", kdctest.Password("alice"), backend.Unknown},
		{"alice", "", backend.Refused},
	}
	for _, tc := range tests {
		id, v, err := b.Probe(t.Context(), tc.user, tc.password)
		if err != nil || v != tc.want {
			t.Errorf("Probe(%q, %q) = %v, %v; want %v", tc.user, tc.password, v, err, tc.want)
		}
		if v == backend.Accepted && id.Username != "alice" {
			t.Errorf("accepted as %q", id.Username)
		}
	}
}

// TestStripOnlyOwnRealm: strip_realm strips the realm of names given
// without one (realm) and nothing else, for tickets and passwords. The
// test KDC has one realm, so it is made a second allowed realm by
// configuring realm: OTHER.TEST: alice@GATEHOUSE.TEST then keeps her
// realm, as admin@PARTNER must next to admin@CORP.
func TestStripOnlyOwnRealm(t *testing.T) {
	k := kdctest.Start(t)
	b := newBackend(t, k, func(c *kerberos.Config) {
		c.Realm = "OTHER.TEST"
		c.AllowedRealms = []string{"OTHER.TEST", kdctest.Realm}
		c.KDCs, c.Krb5Conf = nil, k.Config // the KDC of GATEHOUSE.TEST, for passwords
	})
	want := "alice@" + kdctest.Realm
	cl := clientFor(t, k, k.Kinit(t, "alice"))
	tok, _ := token(t, cl, "HTTP/localhost", time.Now())
	got, err := b.Negotiate(t.Context(), tok, netip.Addr{})
	if err != nil || got.Identity.Username != want {
		t.Errorf("ticket of alice@%s = %+v, %v; want the user %s", kdctest.Realm, got.Identity, err, want)
	}
	id, err := b.Authenticate(t.Context(), want, kdctest.Password("alice"))
	if err != nil || id.Username != want {
		t.Errorf("password of %s = %+v, %v; want the user %s", want, id, err, want)
	}
	if f := b.FoldName(want); f != want {
		t.Errorf("FoldName(%q) = %q: the throttle counts another name than the token's", want, f)
	}
	// The service's own realm is still stripped (TestNegotiate, TestPasswordRealms).
}
