package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// SSO is a single sign-on login method (package oidc): the user signs in
// at an identity provider, which sends them back with a code. Its pending
// logins live in the store it is handed, so any replica can finish a login
// another began.
type SSO interface {
	// Begin starts a login and returns the provider's URL to send the
	// user to. redirectURI is "" for a browser login that ends at next,
	// else a terminal's loopback URI. binding is, for a browser login, the
	// secret of the cookie that ties the login to the browser that began
	// it (RFC 6749 §10.12); "" for a terminal's.
	Begin(ctx context.Context, pending store.PendingLoginStore, redirectURI, next, binding string, now time.Time) (string, error)
	// Finish ends a login with the state and code the provider sent back,
	// and, at the browser callback, the binding cookie the browser
	// brought: it must be the one its Begin was given.
	// A refusal wraps backend.ErrInvalidCredentials, an unreachable
	// provider backend.ErrUnavailable.
	Finish(ctx context.Context, pending store.PendingLoginStore, state, code, binding string, terminal bool, now time.Time) (SSOResult, error)
	// DisplayName labels the web page's "Sign in with …" button.
	DisplayName() string
}

// SSOResult is a finished single sign-on login.
type SSOResult struct {
	Identity backend.Identity
	// Next is where a browser login goes now ("" for a terminal's).
	Next string
}

// SSOLoginLifetime is how long a single sign-on login may take between
// leaving for the provider and coming back (the oidc method keeps its
// pending logins that long; the browser's binding cookie lives as long).
const SSOLoginLifetime = 10 * time.Minute

// SSOPrivilegedNames is a single sign-on method that may be configured to
// let its users take names in admin_users or service_users (the oidc
// kwarg allow_privileged_names). A method that does not implement it
// never may.
type SSOPrivilegedNames interface {
	AllowPrivilegedNames() bool
}

// ssoNameAllowed refuses (EFORBIDDEN) a single sign-on identity whose name
// is an admin's or a service account's, unless the method allows it: a
// provider's user name (preferred_username above all, OIDC Core 5.7) is
// neither unique nor stable, and whoever can register or rename an account
// there must not become Gatehouse's admin by taking that name. Names are
// compared without case, to refuse more rather than less.
func (s *Service) ssoNameAllowed(name string) error {
	privileged := func(list []string) bool {
		return slices.ContainsFunc(list, func(n string) bool { return strings.EqualFold(n, name) })
	}
	if !privileged(s.cfg.AdminUsers) && !privileged(s.cfg.ServiceUsers) {
		return nil
	}
	if p, ok := s.cfg.SSO.(SSOPrivilegedNames); ok && p.AllowPrivilegedNames() {
		return nil
	}
	return &Error{Code: EFORBIDDEN,
		Message: "Your single sign-on name is an administrator's or a service account's here; single sign-on may not sign in as one. Use that account's own password login.",
		Err:     fmt.Errorf("oidc: %q is in auth.admin_users or auth.service_users and allow_privileged_names is off", name)}
}

// ssoName labels single sign-on logins in metrics and audit lines.
const ssoName = "oidc"

// ErrNoSSO answers the single sign-on routes when none is configured.
var ErrNoSSO error = Errorf(ENOTFOUND, "Single sign-on is not configured.")

// SSOConfigured reports whether a single sign-on method is configured.
func (s *Service) SSOConfigured() bool { return s.cfg.SSO != nil }

// SSOName is the configured method's display name ("" if none).
func (s *Service) SSOName() string {
	if s.cfg.SSO == nil {
		return ""
	}
	return s.cfg.SSO.DisplayName()
}

// PasswordsConfigured reports whether any backend checks passwords. With
// single sign-on alone (auth.backends holds only oidc) it is false, and a
// login page shows no password form.
func (s *Service) PasswordsConfigured() bool { return s.cfg.Backend != nil }

// BeginSSO starts a single sign-on login and returns the URL to send the
// user to. A terminal passes its loopback redirectURI (LoopbackRedirect);
// a browser passes "" and the page to end at, next (SafeNext), and the
// secret of the cookie it sets in that browser, binding (the callback
// will want it back). A provider that cannot be reached is EUNAVAILABLE.
// Starts are limited per client address (SSOStartLimit in
// SSOStartWindow): past it, ETHROTTLED.
func (s *Service) BeginSSO(ctx context.Context, redirectURI, next, binding string) (string, error) {
	if s.cfg.SSO == nil {
		return "", ErrNoSSO
	}
	var err error
	if redirectURI != "" {
		redirectURI, err = LoopbackRedirect(redirectURI)
		next, binding = "", ""
	} else {
		next, err = SafeNext(next)
	}
	if err != nil {
		return "", err
	}
	if err := s.ssoStart(ctx); err != nil {
		return "", err
	}
	return s.cfg.SSO.Begin(ctx, pendingLogins{s}, redirectURI, next, binding, s.now())
}

// LoginSSO finishes a single sign-on login: like a password login it is
// checked against the throttle first (per client address: the user is
// not known before the provider says so), a refusal is counted, and every
// answer is audited and counted under the method's name. The identity
// it returns is then Issue'd as a token or a session like any other.
// binding is the browser's login-binding cookie ("" from a terminal).
func (s *Service) LoginSSO(ctx context.Context, state, code, binding string, terminal bool) (SSOResult, error) {
	if s.cfg.SSO == nil {
		return SSOResult{}, ErrNoSSO
	}
	var out SSOResult
	id, _, err := s.ssoAttempt(ctx, nil, func() (backend.Identity, bool, error) {
		var err error
		out, err = s.cfg.SSO.Finish(ctx, pendingLogins{s}, state, code, binding, terminal, s.now())
		return out.Identity, false, err
	})
	if err != nil {
		return SSOResult{}, err
	}
	out.Identity = id
	return out, nil
}

// ssoAttempt is one answer of the provider (a finished login, or a device
// login's poll) under the rules of every login: the client address's
// throttle reserved before the provider is asked, a refusal counted and
// audited, a name outside admin_users/service_users unless allowed, an
// outage a 503. attempt returns the identity, or pending for a device
// login the user has not finished (neither counted nor audited). attrs go
// on the log line of a refusal.
func (s *Service) ssoAttempt(ctx context.Context, attrs []any, attempt func() (backend.Identity, bool, error)) (backend.Identity, bool, error) {
	counters := s.loginCounters(ctx, "")
	res, err := s.reserveLogin(ctx, counters)
	if err != nil {
		_, err = s.loginFailed(ctx, ssoName, "", err)
		return backend.Identity{}, false, err
	}
	id, pending, err := attempt()
	if err == nil && !pending && !ValidUsername(id.Username) {
		err = backend.ErrInvalidCredentials
	}
	if err == nil && !pending {
		err = s.ssoNameAllowed(id.Username)
	}
	switch {
	case errors.Is(err, backend.ErrInvalidCredentials):
		recErr := s.recordLoginFailure(ctx, counters)
		res.end(failedOr(recErr))
		s.log.Info("single sign-on refused", append(attrs, slog.String("reason", err.Error()))...)
		_, err = s.loginFailed(ctx, ssoName, "", cmpOr(recErr, ErrInvalidCredentials))
		return backend.Identity{}, false, err
	case ErrorCode(err) == EFORBIDDEN:
		res.end(attemptEnded)
		s.audit(ctx, auditLogin, "forbidden", "", slog.String("backend", ssoName), slog.String("route", route(ctx)),
			slog.String("reason", err.Error()))
		return backend.Identity{}, false, err
	case err != nil:
		res.end(outageOf(ctx))
		_, err = s.loginFailed(ctx, ssoName, "", err)
		return backend.Identity{}, false, err
	}
	res.end(attemptEnded)
	if pending {
		return backend.Identity{}, true, nil
	}
	id.Backend = ssoName
	return s.loginSucceeded(ctx, ssoName, id), false, nil
}

// pendingLogins is the store's PendingLoginStore, each call bounded by
// the request's store budget (storeCtx) like every other store call.
type pendingLogins struct {
	s *Service
}

func (p pendingLogins) CreatePendingLogin(ctx context.Context, l store.PendingLogin) error {
	ctx, cancel := p.s.storeCtx(ctx)
	defer cancel()
	return p.s.cfg.Store.CreatePendingLogin(ctx, l)
}

func (p pendingLogins) ConsumePendingLogin(ctx context.Context, stateHash string, now time.Time) (store.PendingLogin, error) {
	ctx, cancel := p.s.storeCtx(ctx)
	defer cancel()
	return p.s.cfg.Store.ConsumePendingLogin(ctx, stateHash, now)
}

func (p pendingLogins) PurgePendingLogins(ctx context.Context, before time.Time) (int, error) {
	ctx, cancel := p.s.storeCtx(ctx)
	defer cancel()
	return p.s.cfg.Store.PurgePendingLogins(ctx, before)
}

// DeviceSSO is a single sign-on method that can also sign a terminal in
// by OAuth 2.0 device authorization (RFC 8628): the user enters a short
// code at the provider, on any device, while the terminal polls. Gatehouse
// brokers the flow, since only it holds the client secret: the provider's
// device code stays in the pending-logins store, sealed under an opaque
// handle that the terminal polls with.
type DeviceSSO interface {
	// BeginDevice asks the provider for a device code and user code. A
	// provider that offers no device authorization is ErrNoDevice.
	BeginDevice(ctx context.Context, pending store.PendingLoginStore, now time.Time) (DeviceLogin, error)
	// PollDevice asks the provider, at most once, whether the user has
	// signed in for handle. Refusals (unknown, finished or expired handle,
	// a user who denied, a code the provider let expire, a bad ID token)
	// wrap backend.ErrInvalidCredentials; an unreachable provider,
	// backend.ErrUnavailable.
	PollDevice(ctx context.Context, pending store.PendingLoginStore, handle string, now time.Time) (DevicePoll, error)
}

// DeviceLogin is a started device login: what the terminal shows the
// user, and the handle it polls with.
type DeviceLogin struct {
	Handle                  string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	ExpiresIn               int // seconds
	Interval                int // seconds between polls
}

// DevicePoll is one poll's answer: still pending (poll again after
// Interval seconds), or the signed-in identity.
type DevicePoll struct {
	Pending  bool
	Interval int
	Identity backend.Identity
}

// ErrNoDevice answers a device login when the provider offers none: the
// terminal then uses the loopback redirect.
var ErrNoDevice error = Errorf(ENOTFOUND, "The identity provider does not offer device sign-in; use the loopback redirect (gatehouse login --sso does).")

// BeginDeviceSSO starts a device login (RFC 8628) for a terminal.
func (s *Service) BeginDeviceSSO(ctx context.Context) (DeviceLogin, error) {
	if s.cfg.SSO == nil {
		return DeviceLogin{}, ErrNoSSO
	}
	d, ok := s.cfg.SSO.(DeviceSSO)
	if !ok {
		return DeviceLogin{}, ErrNoDevice
	}
	if err := s.ssoStart(ctx); err != nil {
		return DeviceLogin{}, err
	}
	return d.BeginDevice(ctx, pendingLogins{s}, s.now())
}

// LoginDeviceSSO polls a device login once. Like LoginSSO, every poll is
// checked against the throttle of the client's address first; a refusal
// is counted, audited and metered; a poll still pending is neither (a
// terminal polls every few seconds while its user signs in).
func (s *Service) LoginDeviceSSO(ctx context.Context, handle string) (DevicePoll, error) {
	if s.cfg.SSO == nil {
		return DevicePoll{}, ErrNoSSO
	}
	d, ok := s.cfg.SSO.(DeviceSSO)
	if !ok {
		return DevicePoll{}, ErrNoDevice
	}
	var out DevicePoll
	id, pending, err := s.ssoAttempt(ctx, []any{slog.String("flow", "device")}, func() (backend.Identity, bool, error) {
		var err error
		out, err = d.PollDevice(ctx, pendingLogins{s}, handle, s.now())
		return out.Identity, out.Pending, err
	})
	if err != nil {
		return DevicePoll{}, err
	}
	if !pending {
		out.Identity = id
	}
	return out, nil
}
