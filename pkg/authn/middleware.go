package authn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// The bodies' faultstrings, as st2 words them.
const (
	msgNoCredential = "Unauthorized - One of Token or API key required."
	msgUnauthorized = "Unauthorized"
	msgExpired      = "Unauthorized - Token has expired."
	msgUnavailable  = "Authentication service unavailable."
	msgCSRF         = "Forbidden - a request that changes state with only the session cookie needs the X-CSRF-Token header (csrf_token from /auth/v1/me)."
)

// Handler returns next behind Gatehouse. A request reaches next only with
// a credential Gatehouse calls active, and then FromContext(r.Context())
// returns its Identity. Otherwise the answer is JSON {"faultstring": …}:
//
//   - no credential: 401 "Unauthorized - One of Token or API key required."
//   - not active: 401 "Unauthorized"
//   - token past its expiry: 401 "Unauthorized - Token has expired."
//   - Gatehouse unreachable, failing or refusing this service: 503
//     "Authentication service unavailable."
//   - only the browser session cookie, on a method that changes state,
//     without the session's X-CSRF-Token or from another site
//     (CookieMayChange): 403
//
// The request is passed on unchanged, credential included, so that next
// can call other services as the user; strip X-Auth-Token / St2-Api-Key
// yourself if next must not see it.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := Extract(r)
		if !ok {
			writeFault(w, http.StatusUnauthorized, msgNoCredential)
			return
		}
		// A browser sends the cookie with any request, also one another
		// page made it send: a change needs the CSRF token too.
		if c.Location == InCookie && !CookieMayChange(r.Method, r.Header, c.Value) {
			writeFault(w, http.StatusForbidden, msgCSRF)
			return
		}
		id, err := m.Introspect(r.Context(), c)
		if err != nil {
			m.refuse(w, r, c, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

// refuse logs err (which never holds the secret) and answers.
func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, c Credential, err error) {
	attrs := []slog.Attr{
		slog.String("kind", string(c.Kind)), slog.String("location", string(c.Location)),
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
	}
	switch {
	case errors.Is(err, ErrExpired):
		m.log.LogAttrs(r.Context(), slog.LevelDebug, "authn: token expired", attrs...)
		writeFault(w, http.StatusUnauthorized, msgExpired)
	case errors.Is(err, ErrInvalid):
		m.log.LogAttrs(r.Context(), slog.LevelDebug, "authn: credential not active", attrs...)
		writeFault(w, http.StatusUnauthorized, msgUnauthorized)
	default:
		level := slog.LevelWarn
		if errors.Is(r.Context().Err(), context.Canceled) {
			level = slog.LevelDebug // the client went away; not Gatehouse's fault
		}
		m.log.LogAttrs(r.Context(), level, "authn: cannot check credential",
			append(attrs, slog.String("error", err.Error()))...)
		writeFault(w, http.StatusServiceUnavailable, msgUnavailable)
	}
}

// msgScope is RequireScope's 403 faultstring.
const msgScope = "Forbidden - the credential's scope does not allow this request."

// RequireScope returns next behind a scope check: a request reaches next
// only when the scope of its credential (Identity.Scope) allows its method
// and path, else 403 JSON {"faultstring": …}. Put it inside Handler:
//
//	mux = m.Handler(authn.RequireScope(mux))
//
// A request without an Identity in its context (not behind Handler) is
// refused too: RequireScope never lets through what it cannot check.
func RequireScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := FromContext(r.Context())
		if !ok || !id.Allows(r.Method, r.URL.EscapedPath()) {
			writeFault(w, http.StatusForbidden, msgScope)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Allows reports whether the identity's scope allows a request with that
// method to requestURI (see Scope.Allows). An unreadable scope allows
// nothing.
func (id Identity) Allows(method, requestURI string) bool {
	sc, err := ParseScope(id.Scope)
	return err == nil && sc.Allows(method, requestURI)
}

// writeFault writes st2's error shape.
func writeFault(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Faultstring string `json:"faultstring"`
	}{msg})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
