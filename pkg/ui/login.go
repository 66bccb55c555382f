package ui

import (
	"net/http"
)

type loginData struct {
	page
	Next, Username string
	// SSO shows the "Sign in with SSOName" button.
	SSO     bool
	SSOName string
	// Passwords shows the password form (a password backend is set).
	Passwords bool
}

// loginForm is the login page's data: what the server offers (single
// sign-on, passwords) and where to go afterwards.
func (h *Handler) loginForm(p page, next, user string) loginData {
	a := h.cfg.Auth
	return loginData{page: p, Next: next, Username: user, SSO: a.SSOConfigured(), SSOName: a.SSOName(), Passwords: a.PasswordsConfigured()}
}

// loginNotices are the fixed texts a redirect to the login form may ask for.
var loginNotices = map[string]string{
	"logged-out": "You are logged out.",
	"expired":    "Your session has ended. Log in again.",
	"password":   "Your password is changed. Log in with the new one.",
}

// loginPage is GET /ui/login: the form, or straight on when a session is
// already there.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok, _ := h.current(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, http.StatusOK, "login.html", h.loginForm(page{Title: "Log in", Notice: loginNotices[r.URL.Query().Get("done")]}, next, ""))
}

// login is POST /ui/login: the password through auth.Service.Login (the
// throttle and audit of every login), then a session and its cookie, then
// back to next. A wrong password shows the form again and sets no cookie.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	user := r.PostFormValue("username")
	again := func(status int, msg string) {
		h.render(w, status, "login.html", h.loginForm(page{Title: "Log in", Error: msg}, next, user))
	}
	if err := h.cfg.SameOrigin(r); err != nil {
		again(http.StatusForbidden, "This form was sent from another site, so it was refused.")
		return
	}
	id, err := h.cfg.Auth.Login(r.Context(), user, r.PostFormValue("password"))
	if err != nil {
		again(h.status(err), friendly(err, h.cfg.Logger))
		return
	}
	s, err := h.cfg.Auth.IssueSession(r.Context(), id)
	if err != nil {
		again(h.status(err), friendly(err, h.cfg.Logger))
		return
	}
	h.cfg.SetCookie(w, r, s.Secret, s.Token.ExpiresAt)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout is POST /ui/logout: the session is revoked on every replica and
// the cookie cleared.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	s, ok := h.guard(w, r)
	if !ok {
		return
	}
	if err := h.cfg.Auth.Logout(r.Context(), s.p); err != nil {
		h.problem(w, r, h.status(err), friendly(err, h.cfg.Logger))
		return
	}
	h.cfg.ClearCookie(w, r)
	toLogin(w, r, "", "logged-out")
}
