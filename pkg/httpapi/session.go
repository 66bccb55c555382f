package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// HeaderCSRF carries the CSRF token of a cookie caller's state-changing
// request (the csrf_token of /auth/v1/me).
const HeaderCSRF = authn.HeaderCSRF

// createSession is POST /auth/v1/session: a user name and password (form or
// JSON) in, 204 and the gatehouse_session cookie out. The password goes
// through auth.Service.Login like every other (throttle first, audit), and
// a cross-site Origin is refused before it is looked at, so another site
// cannot log a visitor in under its own account.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.sameOrigin(r); err != nil {
		return err
	}
	id, err := s.sessionLogin(r)
	if err != nil {
		return err
	}
	issued, err := s.auth.IssueSession(r.Context(), id)
	if err != nil {
		return err
	}
	s.SetSessionCookie(w, r, issued.Secret, issued.Token.ExpiresAt)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionLogin checks the body's user name and password; in proxy mode the
// trusted proxy names the user instead.
func (s *Server) sessionLogin(r *http.Request) (backend.Identity, error) {
	if s.cfg.Mode == auth.ModeProxy {
		return s.auth.LoginProxy(r.Context(), s.proxyUser(r))
	}
	body, err := readObject(r)
	if err != nil {
		return backend.Identity{}, err
	}
	user, err := stringField(body, "username")
	if err != nil {
		return backend.Identity{}, err
	}
	password, err := stringField(body, "password")
	if err != nil {
		return backend.Identity{}, err
	}
	return s.auth.Login(r.Context(), user, password)
}

// stringField is a string field of a JSON object or form (one value).
// Missing is "", which Login refuses like a wrong password.
func stringField(body map[string]any, name string) (string, error) {
	v, ok := body[name]
	if list, isList := v.([]any); isList && len(list) == 1 {
		v = list[0]
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		if !ok {
			return "", nil
		}
	}
	return "", badRequest("%s is not of type 'string'", pyRepr(v))
}

// deleteSession is DELETE /auth/v1/session: the cookie's session is
// revoked (on every replica) and the cookie cleared. A cookie that no
// longer authenticates is only cleared: logging out twice is not an error.
func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	cred, ok := authn.ExtractCookie(r)
	if !ok {
		s.ClearSessionCookie(w, r)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err := s.checkCSRF(r, cred.Value); err != nil {
		return err
	}
	p, err := s.auth.Check(r.Context(), cred)
	switch auth.ErrorCode(err) {
	case "":
		if err := s.auth.Logout(r.Context(), p); err != nil {
			return err
		}
	case auth.EUNKNOWN, auth.EEXPIRED:
	default:
		return err
	}
	s.ClearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// SetSessionCookie sets the gatehouse_session cookie to a session's secret:
// HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries
// it), Path=/ (one login for every app behind the same site), Secure
// whenever the request came over HTTPS, and gone when the session expires.
// The OIDC login calls it too.
func (s *Server) SetSessionCookie(w http.ResponseWriter, r *http.Request, secret string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: authn.CookieSession, Value: secret, Path: "/", Expires: expires.UTC(),
		MaxAge: max(1, int(time.Until(expires).Seconds())), HttpOnly: true, Secure: s.overHTTPS(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie tells the browser to forget the session cookie.
func (s *Server) ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: authn.CookieSession, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.overHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
}

// overHTTPS reports whether the client reached us over HTTPS: directly, or
// through a trusted proxy that says so in X-Forwarded-Proto (from anyone
// else the header means nothing).
func (s *Server) overHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !s.trusted(peerAddr(r)) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// errCSRF refuses a cookie caller's state-changing request without the
// right X-CSRF-Token.
var errCSRF = auth.Errorf(auth.EFORBIDDEN,
	"This request came with the session cookie only and needs the X-CSRF-Token header (csrf_token from /auth/v1/me).")

// errCrossSite refuses a cookie caller's request from another site.
var errCrossSite = auth.Errorf(auth.EFORBIDDEN, "Cross-site requests may not use the session cookie.")

// checkCSRF guards a request that authenticates with the session cookie
// only: a state-changing method needs a same-origin (or absent) Origin
// and X-CSRF-Token matching the session (auth.CheckCSRF).
func (s *Server) checkCSRF(r *http.Request, secret string) error {
	if authn.SafeMethod(r.Method) {
		return nil
	}
	if err := s.sameOrigin(r); err != nil {
		return err
	}
	if !auth.CheckCSRF(secret, r.Header.Get(HeaderCSRF)) {
		return errCSRF
	}
	return nil
}

// sameOrigin refuses (403) a request a browser says came from another
// site. A modern browser says so in Sec-Fetch-Site: only "same-origin" and
// "none" (typed in the address bar) pass. Without it, the Origin must name
// this request's host; "null" (which Chromium sends for a form posted
// under Referrer-Policy: no-referrer) passes only with Sec-Fetch-Site. An
// origin on the configured CORS list passes either way. Clients that send
// neither header (curl, services) are not browsers and pass.
func (s *Server) sameOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin != "" && origin != "null" && slices.Contains(s.cfg.AllowedOrigins, strings.TrimSuffix(origin, "/")) {
		return nil
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return nil
	case "":
	default:
		return errCrossSite
	}
	if origin == "" {
		return nil
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, s.publicHost(r)) {
		return nil
	}
	return errCrossSite
}

// publicHost is the host the browser addressed: X-Forwarded-Host from a
// trusted proxy, else Host.
func (s *Server) publicHost(r *http.Request) string {
	if s.trusted(peerAddr(r)) {
		if h, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ","); strings.TrimSpace(h) != "" {
			return strings.TrimSpace(h)
		}
	}
	return r.Host
}
