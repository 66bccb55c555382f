package ui

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

type loginData struct {
	page
	Next, Username string
	// SSO shows the "Sign in with SSOName" button.
	SSO     bool
	SSOName string
	// Passwords shows the password form (a password backend is set).
	Passwords bool
	// MustChange shows the form that sets a new password and logs in, for
	// a user whose password must be changed.
	MustChange bool
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
	if errors.Is(err, auth.ErrPasswordChangeRequired) {
		h.mustChange(w, http.StatusOK, next, user, page{Notice: friendly(err, h.cfg.Logger)})
		return
	}
	if err != nil {
		again(h.status(err), friendly(err, h.cfg.Logger))
		return
	}
	h.startSession(w, r, id, next, again)
}

// startSession issues a session for id, sets its cookie and goes on to
// next; again shows the form with an error instead.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, id backend.Identity, next string, again func(int, string)) {
	s, err := h.cfg.Auth.IssueSession(r.Context(), id)
	if err != nil {
		again(h.status(err), friendly(err, h.cfg.Logger))
		return
	}
	h.cfg.SetCookie(w, r, s.Secret, s.Token.ExpiresAt)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// mustChange shows the form of a user who must choose a new password.
func (h *Handler) mustChange(w http.ResponseWriter, status int, next, user string, msg page) {
	d := h.loginForm(page{Title: "Choose a new password", Notice: msg.Notice, Error: msg.Error}, next, user)
	d.MustChange = true
	h.render(w, status, "login.html", d)
}

// loginNewPassword is POST /ui/login/password: a user who must change the
// password gives the current one and a new one
// (auth.Service.ChangePasswordAtLogin: throttled and audited like any
// login, the policy checked, other tokens revoked) and is logged in.
func (h *Handler) loginNewPassword(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	user := r.PostFormValue("username")
	again := func(status int, msg string) { h.mustChange(w, status, next, user, page{Error: msg}) }
	if err := h.cfg.SameOrigin(r); err != nil {
		again(http.StatusForbidden, "This form was sent from another site, so it was refused.")
		return
	}
	newPW := r.PostFormValue("new")
	if newPW != r.PostFormValue("again") {
		again(http.StatusBadRequest, "The two new passwords are not the same.")
		return
	}
	id, err := h.cfg.Auth.ChangePasswordAtLogin(r.Context(), user, r.PostFormValue("current"), newPW)
	if err != nil {
		msg := friendly(err, h.cfg.Logger)
		if auth.ErrorCode(err) == auth.EINVALIDCREDS {
			msg = "That user name and current password do not match."
		}
		again(h.status(err), msg)
		return
	}
	if next == auth.DefaultNext {
		next = "/ui/?done=password-set"
	}
	h.startSession(w, r, id, next, again)
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
