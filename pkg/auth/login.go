package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Login checks a user name and password: the one place a password is
// checked, whatever carried it (POST /auth/v1/tokens here; LoginCaller
// for HTTP Basic on every other route). An empty user means credentials
// that could not be read; they are refused like a wrong password, and
// counted the same way.
//
// Each attempt reserves its place against the throttle counters before any
// password work (a locked account or address is ETHROTTLED with
// ErrLoginLocked, the same everywhere), every failure is counted and every
// answer is audited and counted in the metrics. A wrong password and an
// unknown user are both EINVALIDCREDS.
//
// A user whose password must be changed (Identity.MustChangePassword) is
// refused with ErrPasswordChangeRequired after a right password: only
// LoginForPasswordChange lets them in.
func (s *Service) Login(ctx context.Context, user, password string) (backend.Identity, error) {
	return s.checkPassword(ctx, user, password, loginOptions{})
}

// LoginForPasswordChange is Login for POST /auth/v1/password: the same
// throttle, check and audit, but a user who must change the password is
// let in, since this is how they do it.
func (s *Service) LoginForPasswordChange(ctx context.Context, user, password string) (Principal, error) {
	id, err := s.checkPassword(ctx, user, password, loginOptions{allowMustChange: true})
	if err != nil {
		return Principal{}, err
	}
	return passwordPrincipal(id), nil
}

// passwordPrincipal is the caller who sent a right password.
func passwordPrincipal(id backend.Identity) Principal {
	return Principal{User: id.Username, Groups: id.Groups, Kind: KindPassword, Location: authn.InHeader,
		Backend: id.Backend, Scope: authn.ScopeWrite}
}

// ErrPasswordChangeRequired refuses a right password of a user who must
// change it before anything else (EFORBIDDEN).
var ErrPasswordChangeRequired error = &Error{Code: EFORBIDDEN, Message: "Password change required."}

// loginOptions are what differs between the ways in.
type loginOptions struct {
	// cacheable remembers a success for Config.BasicCacheTTL.
	cacheable bool
	// allowMustChange lets a user who must change the password in.
	allowMustChange bool
}

// LoginCaller is Login for the caller of a route other than POST
// /auth/v1/tokens that sent a password with its request. A success is
// remembered for Config.BasicCacheTTL, so that a service polling
// introspect with a password does not pay a hash per call; the throttle
// is still checked first.
func (s *Service) LoginCaller(ctx context.Context, user, password string) (Principal, error) {
	id, err := s.checkPassword(ctx, user, password, loginOptions{cacheable: true})
	if err != nil {
		return Principal{}, err
	}
	return passwordPrincipal(id), nil
}

// LoginProxy logs in the user a trusted front proxy vouches for (auth.mode
// proxy): no password is checked and nothing is throttled, but the login
// is audited and counted under the backend name ModeProxy. An empty or
// invalid name (the proxy was not trusted, or named no one) is refused.
func (s *Service) LoginProxy(ctx context.Context, user string) (backend.Identity, error) {
	if !ValidUsername(user) {
		return s.loginFailed(ctx, ModeProxy, "", ErrInvalidCredentials)
	}
	return s.loginSucceeded(ctx, ModeProxy, backend.Identity{Username: user}), nil
}

// checkPassword is Login's body: reserve against the throttle, ask the
// backend, count, audit.
func (s *Service) checkPassword(ctx context.Context, user, password string, opt loginOptions) (backend.Identity, error) {
	name := s.cfg.BackendName
	counters := s.loginCounters(ctx, user)
	res, err := s.reserveLogin(ctx, counters)
	if err != nil {
		return s.loginFailed(ctx, name, user, err)
	}
	if user != "" && opt.cacheable {
		if id, hit := s.basic.get(user, password); hit {
			res.end(attemptEnded)
			return id, nil
		}
	}
	who, err := s.askBackend(ctx, user, password)
	if errors.Is(err, backend.ErrInvalidCredentials) {
		err = s.recordLoginFailure(ctx, counters)
		res.end(failedOr(err))
		return s.loginFailed(ctx, name, user, cmpOr(err, ErrInvalidCredentials))
	}
	if err != nil {
		res.end(outageOf(ctx))
		return s.loginFailed(ctx, name, user, err)
	}
	err = s.clearLoginFailures(ctx, who.Username)
	res.end(attemptEnded)
	if err != nil {
		return s.loginFailed(ctx, name, user, err)
	}
	if who.Backend == "" {
		who.Backend = name
	}
	if who.MustChangePassword && !opt.allowMustChange {
		s.audit(ctx, auditLogin, outcomeMustChange, who.Username, slog.String("backend", who.Backend),
			slog.String("route", route(ctx)))
		return backend.Identity{}, ErrPasswordChangeRequired
	}
	if opt.cacheable {
		s.basic.put(user, password, who)
	}
	return s.loginSucceeded(ctx, who.Backend, who), nil
}

// askBackend checks the password. Credentials that could not be read are
// refused like a wrong password.
func (s *Service) askBackend(ctx context.Context, user, password string) (backend.Identity, error) {
	if user == "" || s.cfg.Backend == nil {
		return backend.Identity{}, backend.ErrInvalidCredentials
	}
	return s.cfg.Backend.Authenticate(ctx, user, password)
}

// outageOf is how an attempt the backend did not answer ended: an outage,
// unless the caller hung up (its own context ended), which says nothing
// of the backend.
func outageOf(ctx context.Context) attemptOutcome {
	if ctx.Err() != nil {
		return attemptEnded
	}
	return attemptUnavailable
}

// failedOr is attemptFailed once the failure is recorded, else the store
// could not record it.
func failedOr(recordErr error) attemptOutcome {
	if recordErr != nil {
		return attemptUnavailable
	}
	return attemptFailed
}

// cmpOr is err when it is set (a failure that could not be counted must
// not be answered as an ordinary refusal), else the refusal.
func cmpOr(err, refusal error) error {
	if err != nil {
		return err
	}
	return refusal
}

func (s *Service) loginSucceeded(ctx context.Context, backendName string, id backend.Identity) backend.Identity {
	s.metrics.logins.WithLabelValues(backendName, outcomeSuccess).Inc()
	s.audit(ctx, auditLogin, outcomeSuccess, id.Username, slog.String("backend", backendName), slog.String("route", route(ctx)))
	return id
}

func (s *Service) loginFailed(ctx context.Context, backendName, user string, err error) (backend.Identity, error) {
	outcome := outcomeUnavailable
	switch {
	case ErrorCode(err) == EINVALIDCREDS || ErrorCode(err) == ETICKET:
		outcome = outcomeInvalid
	case ErrorCode(err) == ETHROTTLED:
		outcome = outcomeThrottled
	case errors.Is(ctx.Err(), context.Canceled):
		outcome = outcomeAbandoned // the caller hung up: nothing failed
	}
	s.metrics.logins.WithLabelValues(backendName, outcome).Inc()
	s.audit(ctx, auditLogin, outcome, user, slog.String("backend", backendName), slog.String("route", route(ctx)))
	return backend.Identity{}, err
}
