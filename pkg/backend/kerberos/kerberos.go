package kerberos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/krberror"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/internal/slots"
)

// Backend checks passwords against the KDC and SPNEGO tokens against the
// keytab. It is safe for concurrent use.
type Backend struct {
	s     settings
	log   *slog.Logger
	slots *slots.Slots
	now   func() time.Time
}

var (
	_ backend.Backend      = (*Backend)(nil)
	_ backend.Negotiator   = (*Backend)(nil)
	_ backend.ReadyChecker = (*Backend)(nil)
	_ backend.NameFolder   = (*Backend)(nil)
	_ backend.Prober       = (*Backend)(nil)
)

// Factory builds the backend from backend_kwargs.
func Factory(kwargs map[string]any, log *slog.Logger) (backend.Backend, error) {
	cfg, err := decodeConfig(kwargs)
	if err != nil {
		return nil, fmt.Errorf("kerberos: %w", err)
	}
	return New(cfg, log)
}

// New checks cfg, reads the keytab and returns the backend.
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("kerberos: %w", backend.OneLine(err))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Backend{s: s, log: log, slots: slots.New(DefaultMaxConcurrent, s.timeout, Name), now: time.Now}, nil
}

// Realm is the realm of names given without one.
func (b *Backend) Realm() string { return b.s.realm }

// FoldName is the name a login is counted under: alice and
// alice@DEFAULT.REALM are one user when realms are stripped. It is the
// user name a token is issued to (username).
func (b *Backend) FoldName(username string) string {
	return b.username(splitPrincipal(username, b.s.realm))
}

// Ready checks that the KDC answers, without anyone's password: an AS
// request for a principal no realm has gets "client not found" only from
// a KDC that is up.
func (b *Backend) Ready(ctx context.Context) error {
	_, err := b.exchange(ctx, func() (backend.Verdict, error) {
		return b.checkPassword(spendName, b.s.realm, "x")
	}, b.s.realm)
	if err != nil {
		return fmt.Errorf("the KDC for %s does not answer: %w", b.s.realm, err)
	}
	return nil
}

// Authenticate checks the password with an AS exchange against the KDC,
// then asks for a ticket to the service principal and decrypts it with
// the keytab: only the real KDC, which knows our key, can pass that, so a
// spoofed KDC answering for the user's password cannot log anyone in.
func (b *Backend) Authenticate(ctx context.Context, username, password string) (backend.Identity, error) {
	return backend.Decide(b.Probe(ctx, username, password))
}

// Probe is Authenticate, saying whether the name is the realm's: the KDC
// answers "client not found" for a principal it does not have
// (backend.Unknown, so a chain asks the next backend), and refuses a
// wrong password of one it has (backend.Refused, final). Names that are
// no plain user principal of an allowed realm are not the realm's.
func (b *Backend) Probe(ctx context.Context, username, password string) (backend.Identity, backend.Verdict, error) {
	if err := ctx.Err(); err != nil {
		return backend.Identity{}, backend.Refused, fmt.Errorf("kerberos: %w: %w", backend.ErrUnavailable, err)
	}
	if password == "" || strings.ContainsRune(password, 0) {
		return backend.Identity{}, backend.Refused, nil
	}
	user, realm, ok := b.passwordName(username)
	if !ok {
		return backend.Identity{}, backend.Unknown, nil
	}
	v, err := b.exchange(ctx, func() (backend.Verdict, error) { return b.checkPassword(user, realm, password) }, realm)
	if v != backend.Accepted || err != nil {
		return backend.Identity{}, v, err
	}
	return backend.Identity{Username: b.username(user, realm)}, backend.Accepted, nil
}

// spendName is a principal no realm has.
const spendName = "gatehouse-no-such-principal"

// Spend does what refusing an unknown name costs: one AS exchange for a
// principal the KDC does not have.
func (b *Backend) Spend(ctx context.Context) {
	_, _ = b.exchange(ctx, func() (backend.Verdict, error) {
		return b.checkPassword(spendName, b.s.realm, "x")
	}, b.s.realm)
}

// exchange runs check, which talks to the KDC, on its own goroutine
// (gokrb5 takes no context), within the timeout and ctx, holding a slot.
// check has gokrb5's own network timeouts, so it ends soon after exchange
// gave up on it.
func (b *Backend) exchange(ctx context.Context, check func() (backend.Verdict, error), realm string) (backend.Verdict, error) {
	if err := b.slots.Acquire(ctx); err != nil {
		return backend.Refused, err
	}
	type result struct {
		v   backend.Verdict
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer b.slots.Release()
		v, err := check()
		done <- result{v, err}
	}()
	timer := time.NewTimer(b.s.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		return backend.Refused, fmt.Errorf("kerberos: the KDC for %s did not answer within %v: %w", realm, b.s.timeout, backend.ErrUnavailable)
	case <-ctx.Done():
		return backend.Refused, fmt.Errorf("kerberos: %w: %w", backend.ErrUnavailable, ctx.Err())
	}
}

// passwordName splits a name sent with a password into the user and the
// realm, and refuses names that are no plain user principal: control
// bytes, instances (host/x, HTTP/y), wildcards and realms not allowed.
func (b *Backend) passwordName(username string) (user, realm string, ok bool) {
	if !backend.PlainName(username) || strings.ContainsAny(username, "/*\\") {
		return "", "", false
	}
	user, realm = splitPrincipal(username, b.s.realm)
	if user == "" || realm == "" || !slices.Contains(b.s.allowed, realm) {
		return "", "", false
	}
	return user, realm, true
}

// splitPrincipal splits name@REALM at the last @; a name without one is
// in def.
func splitPrincipal(name, def string) (user, realm string) {
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return name, def
}

// username is the Gatehouse user name of a principal: strip_realm strips
// only the realm of names given without one (realm), never another allowed
// realm's, so that admin@PARTNER cannot become admin of our own realm. It
// is FoldName's rule, so a login is counted under the name its token gets.
func (b *Backend) username(user, realm string) string {
	if b.s.strip && realm == b.s.realm {
		return user
	}
	return user + "@" + realm
}

// checkPassword does the exchanges: the AS exchange with the password,
// then a ticket for our own principal, which the keytab must decrypt.
func (b *Backend) checkPassword(user, realm, password string) (backend.Verdict, error) {
	cl := client.NewWithPassword(user, realm, password, b.s.krb5, client.DisablePAFXFAST(true))
	defer cl.Destroy()
	if err := cl.Login(); err != nil {
		return b.classify(err)
	}
	tkt, _, err := cl.GetServiceTicket(b.s.spn.PrincipalNameString())
	if err != nil {
		v, err := b.classify(err)
		if err == nil {
			v = backend.Refused // the user exists: the AS exchange passed
		}
		return v, err
	}
	if err := tkt.DecryptEncPart(b.s.keytab, &b.s.spn); err != nil {
		// The KDC gave the user a ticket we cannot read: a stale keytab
		// (the service key was changed) or a KDC that is not the realm's.
		b.log.Warn("kerberos: a ticket for the service principal cannot be decrypted with the keytab; is the keytab current?",
			slog.String("service_principal", b.s.spnText), slog.String("error", err.Error()))
		return backend.Refused, fmt.Errorf("kerberos: the keytab cannot read the KDC's tickets: %w", backend.ErrUnavailable)
	}
	return backend.Accepted, nil
}

// principalUnknown is how gokrb5 words the KDC's "client not found".
var (
	principalUnknown = errorcode.Lookup(errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN)
	kdcSkew          = errorcode.Lookup(errorcode.KRB_AP_ERR_SKEW)
)

// classify turns a gokrb5 error into a verdict: the KDC could not be
// reached is ErrUnavailable; "client not found" is Unknown; any other
// refusal (wrong password, disabled or expired account) is Refused.
func (b *Backend) classify(err error) (backend.Verdict, error) {
	var ke krberror.Krberror
	if errors.As(err, &ke) && ke.RootCause == krberror.NetworkingError {
		return backend.Refused, fmt.Errorf("kerberos: %s: %w", ke.RootCause, backend.ErrUnavailable)
	}
	if strings.Contains(err.Error(), principalUnknown) {
		return backend.Unknown, nil
	}
	if strings.Contains(err.Error(), kdcSkew) {
		// Our clock, not the user's password: every login would fail
		// until it is fixed, so it is an outage, logged with the cause.
		return backend.Refused, fmt.Errorf("kerberos: this server's clock differs from the KDC's by more than the KDC allows; synchronise it (NTP): %w", backend.ErrUnavailable)
	}
	b.log.Debug("kerberos: password refused", slog.String("error", err.Error()))
	return backend.Refused, nil
}
