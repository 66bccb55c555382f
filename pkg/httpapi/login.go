package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// kindPassword is how /me names a caller that sent HTTP Basic.
const kindPassword authn.Kind = "password"

// login finds out who is asking for a token: the trusted proxy's user in
// proxy mode, else the password in the Basic credentials.
func (s *Server) login(r *http.Request) (backend.Identity, error) {
	if s.cfg.Mode == ModeProxy {
		id, ok := s.proxyUser(r)
		if !ok {
			return s.loginFailed(r, ModeProxy, "", errInvalidCredentials)
		}
		return s.loginSucceeded(r, ModeProxy, id), nil
	}
	return s.checkPassword(r, false)
}

// checkPassword is the one place a password is checked, whatever route
// carried it: POST /auth/v1/tokens and HTTP Basic on every other route.
// Each attempt reserves its place against the throttle counters before
// any password work (a locked account or address gets the same 429
// everywhere), every failure is counted and every answer audited.
//
// When cacheable is set, a success is remembered briefly (basicCache) so
// that a service polling introspect with a password does not pay a hash
// per call; the throttle is still checked first.
func (s *Server) checkPassword(r *http.Request, cacheable bool) (backend.Identity, error) {
	name := s.cfg.BackendName
	user, password, ok := ParseBasic(r.Header.Get("Authorization"))
	counters := s.loginCounters(user, r)
	res, err := s.reserveLogin(r.Context(), counters)
	if err != nil {
		return s.loginFailed(r, name, user, err)
	}
	if ok && cacheable {
		if id, hit := s.basic.get(user, password); hit {
			res.end(attemptEnded)
			return id, nil
		}
	}
	who, err := s.askBackend(r, user, password, ok)
	if errors.Is(err, backend.ErrInvalidCredentials) {
		err = s.recordLoginFailure(r.Context(), counters)
		res.end(failedOr(err))
		return s.loginFailed(r, name, user, cmpOr(err, errInvalidCredentials))
	}
	if err != nil {
		res.end(outageOf(r))
		return s.loginFailed(r, name, user, err)
	}
	err = s.clearLoginFailures(r.Context(), who.Username, r)
	res.end(attemptEnded)
	if err != nil {
		return s.loginFailed(r, name, user, err)
	}
	if cacheable {
		s.basic.put(user, password, who)
	}
	return s.loginSucceeded(r, name, who), nil
}

// askBackend checks the password. Credentials that could not be read are
// refused like a wrong password, and counted the same way.
func (s *Server) askBackend(r *http.Request, user, password string, ok bool) (backend.Identity, error) {
	if !ok || s.cfg.Backend == nil {
		return backend.Identity{}, backend.ErrInvalidCredentials
	}
	return s.cfg.Backend.Authenticate(r.Context(), user, password)
}

// outageOf is how an attempt the backend did not answer ended: an outage,
// unless the client hung up (its own context ended), which says nothing
// of the backend.
func outageOf(r *http.Request) attemptOutcome {
	if r.Context().Err() != nil {
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
// not be answered as an ordinary 401), else the refusal.
func cmpOr(err error, refusal *Error) error {
	if err != nil {
		return err
	}
	return refusal
}

func (s *Server) loginSucceeded(r *http.Request, backendName string, id backend.Identity) backend.Identity {
	s.metrics.logins.WithLabelValues(backendName, outcomeSuccess).Inc()
	s.audit(r, auditLogin, outcomeSuccess, id.Username, slog.String("backend", backendName), slog.String("route", routePattern(r)))
	return id
}

func (s *Server) loginFailed(r *http.Request, backendName, user string, err error) (backend.Identity, error) {
	outcome := outcomeInvalid
	switch toError(err).Status {
	case http.StatusUnauthorized:
	case http.StatusTooManyRequests:
		outcome = outcomeThrottled
	default:
		outcome = outcomeUnavailable
	}
	s.metrics.logins.WithLabelValues(backendName, outcome).Inc()
	s.audit(r, auditLogin, outcome, user, slog.String("backend", backendName), slog.String("route", routePattern(r)))
	return backend.Identity{}, err
}

// authenticate finds the caller of a route: its token or API key in the
// usual places, else HTTP Basic through checkPassword. Store failures are
// returned as they are (503).
func (s *Server) authenticate(r *http.Request) (Principal, error) {
	if cred, ok := authn.Extract(r); ok {
		return s.check(r, cred)
	}
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !asciiEqualFold(scheme, "basic") {
		return Principal{}, errNoCredential
	}
	id, err := s.checkPassword(r, true)
	if err != nil {
		return Principal{}, err
	}
	return Principal{User: id.Username, Groups: id.Groups, Kind: kindPassword, Location: authn.InHeader}, nil
}
