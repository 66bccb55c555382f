package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// ETICKET: a Kerberos ticket (HTTP Negotiate) was refused; Message says
// why in words the client can act on (clock skew, expired, another
// service, a replay, a realm not allowed). Transports answer it like
// EINVALIDCREDS, with that text.
const ETICKET = "ticket_refused"

// NegotiateName labels Negotiate logins in metrics and audit lines, and
// is the Identity.Backend of their tokens.
const NegotiateName = "kerberos"

// errReplay is the refusal of an authenticator seen before.
var errReplay = &backend.TicketError{
	Reason: "Kerberos: this authenticator was used already (a replayed request); send a new one.",
	Err:    errors.New("replayed authenticator"),
}

// Negotiates reports whether Kerberos tickets are accepted
// (Config.Negotiator is set).
func (s *Service) Negotiates() bool { return s.cfg.Negotiator != nil }

// LoginNegotiate checks a SPNEGO token (`Authorization: Negotiate`): the
// one place a ticket is checked, with the same rules as Login. The
// attempt reserves its place against the client address's throttle
// counter before the ticket is looked at (the user is unknown until it
// is verified), a locked address gets the same ETHROTTLED as a password
// login, every refusal is counted, and every answer audited.
//
// A verified ticket is then recorded in the store by its authenticator,
// so that the same authenticator sent again, to this replica or another,
// is refused as a replay. It returns the identity and the
// mutual-authentication reply token.
func (s *Service) LoginNegotiate(ctx context.Context, token []byte) (backend.Identity, []byte, error) {
	counters := s.loginCounters(ctx, "")
	res, err := s.reserveLogin(ctx, counters)
	if err != nil {
		_, err = s.loginFailed(ctx, NegotiateName, "", err)
		return backend.Identity{}, nil, err
	}
	if s.cfg.Negotiator == nil {
		res.end(attemptEnded)
		_, err = s.loginFailed(ctx, NegotiateName, "", ErrInvalidCredentials)
		return backend.Identity{}, nil, err
	}
	t, err := s.cfg.Negotiator.Negotiate(ctx, token, clientAddr(ctx))
	if err == nil {
		err = s.recordAuthenticator(ctx, t)
	}
	if errors.Is(err, backend.ErrInvalidCredentials) {
		rerr := s.recordLoginFailure(ctx, counters)
		res.end(failedOr(rerr))
		s.audit(ctx, auditLogin, outcomeInvalid, t.Identity.Username, slog.String("backend", NegotiateName),
			slog.String("route", route(ctx)), slog.String("reason", backend.TicketReason(err)))
		s.metrics.logins.WithLabelValues(NegotiateName, outcomeInvalid).Inc()
		if rerr != nil {
			return backend.Identity{}, nil, rerr
		}
		return backend.Identity{}, nil, &Error{Code: ETICKET, Message: backend.TicketReason(err), Err: err}
	}
	if err != nil {
		res.end(outageOf(ctx))
		_, err = s.loginFailed(ctx, NegotiateName, "", err)
		return backend.Identity{}, nil, err
	}
	res.end(attemptEnded)
	id := t.Identity
	id.Backend = NegotiateName
	return s.loginSucceeded(ctx, NegotiateName, id), t.Reply, nil
}

// recordAuthenticator keeps the ticket's authenticator in the store until
// it is too old to be accepted anyway; one seen before is a replay.
func (s *Service) recordAuthenticator(ctx context.Context, t backend.Ticket) error {
	sctx, cancel := s.storeCtx(ctx)
	defer cancel()
	err := s.cfg.Store.RecordAuthenticator(sctx, t.ReplayKey, s.now(), t.ReplayUntil)
	if errors.Is(err, store.ErrAlreadyExists) {
		return errReplay
	}
	return err
}
