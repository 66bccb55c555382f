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
// alice@DEFAULT.REALM are one user when realms are stripped.
func (b *Backend) FoldName(username string) string {
	user, realm := splitPrincipal(username, b.s.realm)
	if b.s.strip && realm == b.s.realm {
		return user
	}
	return user + "@" + realm
}

// Ready checks that the KDC answers, without anyone's password: an AS
// request for the service principal's own name gets an answer (a ticket
// encrypted with a key we have, or a pre-authentication demand) only from
// a KDC that is up.
func (b *Backend) Ready(ctx context.Context) error {
	_, err := b.Authenticate(ctx, "gatehouse-readiness-probe", "x")
	if errors.Is(err, backend.ErrUnavailable) {
		return fmt.Errorf("the KDC for %s does not answer", b.s.realm)
	}
	return nil
}

// Authenticate checks the password with an AS exchange against the KDC,
// then asks for a ticket to the service principal and decrypts it with
// the keytab: only the real KDC, which knows our key, can pass that, so a
// spoofed KDC answering for the user's password cannot log anyone in.
func (b *Backend) Authenticate(ctx context.Context, username, password string) (backend.Identity, error) {
	if err := ctx.Err(); err != nil {
		return backend.Identity{}, fmt.Errorf("kerberos: %w: %w", backend.ErrUnavailable, err)
	}
	user, realm, ok := b.passwordName(username)
	if !ok || password == "" || strings.ContainsRune(password, 0) {
		return backend.Identity{}, backend.ErrInvalidCredentials
	}
	if err := b.slots.Acquire(ctx); err != nil {
		return backend.Identity{}, err
	}
	done := make(chan error, 1)
	go func() {
		defer b.slots.Release()
		done <- b.checkPassword(user, realm, password)
	}()
	timer := time.NewTimer(b.s.timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return backend.Identity{}, err
		}
		return backend.Identity{Username: b.username(user, realm)}, nil
	case <-timer.C:
		return backend.Identity{}, fmt.Errorf("kerberos: the KDC for %s did not answer within %v: %w", realm, b.s.timeout, backend.ErrUnavailable)
	case <-ctx.Done():
		return backend.Identity{}, fmt.Errorf("kerberos: %w: %w", backend.ErrUnavailable, ctx.Err())
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

// username is the Gatehouse user name of a principal.
func (b *Backend) username(user, realm string) string {
	if b.s.strip {
		return user
	}
	return user + "@" + realm
}

// checkPassword does the exchanges. It runs on its own goroutine, since
// gokrb5 takes no context; each exchange has gokrb5's own network
// timeouts, so it ends soon after Authenticate gave up on it.
func (b *Backend) checkPassword(user, realm, password string) error {
	cl := client.NewWithPassword(user, realm, password, b.s.krb5, client.DisablePAFXFAST(true))
	defer cl.Destroy()
	if err := cl.Login(); err != nil {
		return b.classify(err)
	}
	tkt, _, err := cl.GetServiceTicket(b.s.spn.PrincipalNameString())
	if err != nil {
		return b.classify(err)
	}
	if err := tkt.DecryptEncPart(b.s.keytab, &b.s.spn); err != nil {
		// The KDC gave the user a ticket we cannot read: a stale keytab
		// (the service key was changed) or a KDC that is not the realm's.
		b.log.Warn("kerberos: a ticket for the service principal cannot be decrypted with the keytab; is the keytab current?",
			slog.String("service_principal", b.s.spnText), slog.String("error", err.Error()))
		return fmt.Errorf("kerberos: the keytab cannot read the KDC's tickets: %w", backend.ErrUnavailable)
	}
	return nil
}

// classify turns a gokrb5 error into the backend's: the KDC could not be
// reached is ErrUnavailable, any refusal (unknown principal, wrong
// password, disabled or expired account) ErrInvalidCredentials.
func (b *Backend) classify(err error) error {
	var ke krberror.Krberror
	if errors.As(err, &ke) && ke.RootCause == krberror.NetworkingError {
		return fmt.Errorf("kerberos: %s: %w", ke.RootCause, backend.ErrUnavailable)
	}
	b.log.Debug("kerberos: password refused", slog.String("error", err.Error()))
	return backend.ErrInvalidCredentials
}
