package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// SSO is a single sign-on login method; see auth.SSO.
type SSO = auth.SSO

// oidcBindingCookie ties a browser single sign-on login to the browser
// that began it (RFC 6749 §10.12): GET /auth/v1/oidc/login sets it to a
// fresh random secret whose hash the pending login keeps, and the callback
// refuses a state brought without it. Without it, an attacker could begin
// a login, sign in at the provider as themselves, and send a victim the
// callback URL: the victim's browser would be signed in as the attacker
// (login CSRF).
const (
	oidcBindingCookie = "gatehouse_oidc"
	oidcCookiePath    = "/auth/v1/oidc/"
)

// setBindingCookie sets the login-binding cookie for one login: HttpOnly,
// SameSite=Lax (the provider's redirect back is a top-level GET, which
// carries it), Secure as the session cookie is, alive as long as a login.
func (s *Server) setBindingCookie(w http.ResponseWriter, r *http.Request, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: oidcBindingCookie, Value: value, Path: oidcCookiePath, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: s.overHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
}

// oidcLogin is GET /auth/v1/oidc/login: the start of a single sign-on
// login. A browser (?next=/ui/) is redirected to the provider; a terminal
// (?redirect_uri=http://127.0.0.1:PORT/callback) gets the provider's URL
// as JSON, opens it, and brings the code back to POST /auth/v1/oidc/token.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	setNoStore(w)
	if ru := q.Get("redirect_uri"); ru != "" {
		u, err := s.auth.BeginSSO(r.Context(), ru, "", "")
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"authorization_url": u})
		return nil
	}
	b := make([]byte, 16) // 128 bits
	rand.Read(b)          // never fails (crypto/rand)
	binding := base64.RawURLEncoding.EncodeToString(b)
	u, err := s.auth.BeginSSO(r.Context(), "", q.Get("next"), binding)
	if err != nil {
		return err
	}
	s.setBindingCookie(w, r, binding, auth.SSOLoginLifetime)
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

// oidcCallback is GET /auth/v1/oidc/callback, where the provider sends the
// browser back: the login is finished and checked (auth.LoginSSO; the
// browser must bring the binding cookie its login began with), a session
// starts, and the browser goes on to the page it came for.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	setNoStore(w)
	var binding string
	if c, err := r.Cookie(oidcBindingCookie); err == nil {
		binding = c.Value
	}
	// A provider that refused the user (?error=access_denied) sends no
	// code: Finish refuses it like any other bad callback. A refusal
	// leaves the binding cookie: a wrong state sent to this browser must
	// not spoil the login it has under way.
	res, err := s.auth.LoginSSO(r.Context(), q.Get("state"), q.Get("code"), binding, false)
	if err != nil {
		return err
	}
	if err := s.startSession(w, r, res.Identity); err != nil {
		return err
	}
	s.setBindingCookie(w, r, "", -time.Second) // used: forget it
	http.Redirect(w, r, res.Next, http.StatusFound)
	return nil
}

// oidcToken is POST /auth/v1/oidc/token: a terminal brings the code and
// state its loopback listener received; Gatehouse, which holds the client
// secret, exchanges them and answers as POST /auth/v1/tokens does.
func (s *Server) oidcToken(w http.ResponseWriter, r *http.Request) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	state, _ := body["state"].(string)
	code, _ := body["code"].(string)
	if state == "" || code == "" {
		return badRequest("Send the state and code the provider gave your loopback redirect.")
	}
	setNoStore(w)
	res, err := s.auth.LoginSSO(r.Context(), state, code, "", true)
	if err != nil {
		return err
	}
	return s.writeIssued(w, r, res.Identity, auth.TokenRequest{})
}

// startSession issues a browser session for id (auth.IssueSession) and
// sets its cookie, as the password session login does.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, id backend.Identity) error {
	issued, err := s.auth.IssueSession(r.Context(), id)
	if err != nil {
		return err
	}
	s.SetSessionCookie(w, r, issued.Secret, issued.Token.ExpiresAt)
	return nil
}

// oidcDevice is POST /auth/v1/oidc/device: a terminal starts a device
// login (RFC 8628). It shows the user the code and where to enter it, and
// polls POST /auth/v1/oidc/device/token with the handle. A provider that
// offers no device authorization is a 404: the terminal then uses the
// loopback redirect (GET /auth/v1/oidc/login?redirect_uri=…).
func (s *Server) oidcDevice(w http.ResponseWriter, r *http.Request) error {
	setNoStore(w)
	d, err := s.auth.BeginDeviceSSO(r.Context())
	if err != nil {
		return err
	}
	out := map[string]any{
		"handle": d.Handle, "user_code": d.UserCode, "verification_uri": d.VerificationURI,
		"expires_in": d.ExpiresIn, "interval": d.Interval,
	}
	if d.VerificationURIComplete != "" {
		out["verification_uri_complete"] = d.VerificationURIComplete
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// oidcDeviceToken is POST /auth/v1/oidc/device/token: one poll of a device
// login. Still pending: 202 {"pending": true, "interval": N} (wait N
// seconds); signed in: 201 and a token, as POST /auth/v1/tokens; denied,
// expired or unknown: 401.
func (s *Server) oidcDeviceToken(w http.ResponseWriter, r *http.Request) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	handle, _ := body["handle"].(string)
	if handle == "" {
		return badRequest("Send the handle POST /auth/v1/oidc/device gave you.")
	}
	setNoStore(w)
	res, err := s.auth.LoginDeviceSSO(r.Context(), handle)
	if err != nil {
		return err
	}
	if res.Pending {
		writeJSON(w, http.StatusAccepted, map[string]any{"pending": true, "interval": res.Interval})
		return nil
	}
	return s.writeIssued(w, r, res.Identity, auth.TokenRequest{})
}
