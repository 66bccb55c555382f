// Package ui is Gatehouse's web page under /ui/: log in and out, who am I,
// my API keys, change password, and for admins the local users and
// everyone's keys. It is server-rendered html/template with embedded
// static files (no CDN, no build step, no inline script), and it calls the
// domain core (auth.Service) directly. Every form that changes something
// carries the session's CSRF token and is refused from another site.
package ui

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Config is what the page needs from the server that mounts it.
type Config struct {
	Auth *auth.Service
	// SetCookie sets the session cookie; ClearCookie removes it (the
	// server's, so the attributes are the same as POST /auth/v1/session's).
	SetCookie   func(w http.ResponseWriter, r *http.Request, secret string, expires time.Time)
	ClearCookie func(w http.ResponseWriter, r *http.Request)
	// SameOrigin refuses a request a browser sent from another site.
	SameOrigin func(r *http.Request) error
	// BaseURL is the scheme and host the browser used, for the curl
	// example shown with a new key.
	BaseURL func(r *http.Request) string
	// Status is the HTTP status for a domain error: the API's one table
	// (pkg/httpapi errors.go), so the page and the API answer alike.
	Status func(err error) int
	Logger *slog.Logger
}

// Handler serves /ui/.
type Handler struct {
	cfg   Config
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New builds the page. It panics if the embedded templates do not parse,
// which a test catches.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, pages: map[string]*template.Template{}}
	funcs := template.FuncMap{"dict": dict}
	for _, page := range []string{"login.html", "home.html"} {
		h.pages[page] = template.Must(template.New(page).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+page))
	}
	static, _ := fs.Sub(staticFiles, "static")
	m := http.NewServeMux()
	m.HandleFunc("GET /ui", h.home)
	m.HandleFunc("GET /ui/{$}", h.home)
	m.HandleFunc("GET /ui/login", h.loginPage)
	m.HandleFunc("POST /ui/login", h.login)
	m.HandleFunc("POST /ui/logout", h.logout)
	m.HandleFunc("POST /ui/keys", h.createKey)
	m.HandleFunc("POST /ui/keys/{id}/{action}", h.keyAction)
	m.HandleFunc("POST /ui/password", h.changePassword)
	m.HandleFunc("POST /ui/tokens/{id}/revoke", h.revokeToken)
	m.HandleFunc("POST /ui/users", h.createUser)
	m.HandleFunc("POST /ui/users/{action}", h.userAction)
	m.HandleFunc("POST /ui/login/password", h.loginNewPassword)
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", staticHandler(http.FileServerFS(static))))
	m.HandleFunc("/ui/", h.notFound)
	h.mux = m
	return h
}

// ServeHTTP implements http.Handler, with the page's security headers on
// every answer.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	// The audit lines of a login or a change through the page name the
	// page's own route (POST /ui/login is "/ui/login"), not the mount.
	if rq := auth.RequestFrom(r.Context()); rq != nil {
		if _, pattern := h.mux.Handler(r); pattern != "" {
			if _, path, withMethod := strings.Cut(pattern, " "); withMethod {
				pattern = path
			}
			rq.Route = pattern
		}
	}
	h.mux.ServeHTTP(w, r)
}

func staticHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		next.ServeHTTP(w, r)
	})
}

func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		m[k] = kv[i+1]
	}
	return m
}

// page is what every template gets.
type page struct {
	Title, User, CSRF, Notice, Error string
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var b strings.Builder
	if err := h.pages[name].Execute(&b, data); err != nil {
		h.cfg.Logger.Error("ui: render", "page", name, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// session is the caller's session: the principal and the cookie's value.
type session struct {
	p      auth.Principal
	secret string
}

// current returns the request's session, or ok false when there is none
// that authenticates (no cookie, expired, revoked). Other failures (the
// store is down) are returned.
func (h *Handler) current(r *http.Request) (session, bool, error) {
	cred, ok := authn.ExtractCookie(r)
	if !ok {
		return session{}, false, nil
	}
	p, err := h.cfg.Auth.Check(r.Context(), cred)
	switch auth.ErrorCode(err) {
	case "":
		return session{p: p, secret: cred.Value}, true, nil
	case auth.EUNKNOWN, auth.EEXPIRED, auth.EDISABLED:
		return session{}, false, nil
	}
	return session{}, false, err
}

// toLogin sends the browser to the login form, to come back to next.
func toLogin(w http.ResponseWriter, r *http.Request, next, done string) {
	q := url.Values{}
	if next != "" && next != "/ui/" {
		q.Set("next", next)
	}
	if done != "" {
		q.Set("done", done)
	}
	target := "/ui/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// errBadForm refuses a form without the session's CSRF token.
var errBadForm = errors.New("form without a valid CSRF token")

// guard is the start of every POST but the login: a session, a same-site
// request and the form's CSRF token. It answers the browser itself when
// ok is false.
func (h *Handler) guard(w http.ResponseWriter, r *http.Request) (session, bool) {
	if err := h.cfg.SameOrigin(r); err != nil {
		h.problem(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused.")
		return session{}, false
	}
	s, ok, err := h.current(r)
	if err != nil {
		h.problem(w, r, http.StatusServiceUnavailable, friendly(err, h.cfg.Logger))
		return session{}, false
	}
	if !ok {
		toLogin(w, r, "/ui/", "expired")
		return session{}, false
	}
	if !auth.CheckCSRF(s.secret, r.PostFormValue("csrf_token")) {
		h.cfg.Logger.Warn("ui: refused a form", "err", errBadForm, "path", r.URL.Path)
		h.problem(w, r, http.StatusForbidden, "This form has expired or did not come from this page. Go back, reload the page and try again.")
		return session{}, false
	}
	return s, true
}

// problem shows a message on an otherwise empty page, with a way back.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, status, "login.html", h.loginForm(page{Title: "Something went wrong", Error: msg}, auth.DefaultNext, ""))
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusNotFound, "login.html", h.loginForm(page{Title: "Not found",
		Error: "There is no such page. Start again from the home page."}, auth.DefaultNext, ""))
}

// status is the HTTP status the page answers err with (500 when the
// server gave no table or err is nil).
func (h *Handler) status(err error) int {
	if err != nil && h.cfg.Status != nil {
		if code := h.cfg.Status(err); code != 0 {
			return code
		}
	}
	return http.StatusInternalServerError
}

// friendly is an error in words a person understands. Domain refusals
// carry such words already; anything unexpected is logged and summed up.
func friendly(err error, log *slog.Logger) string {
	switch auth.ErrorCode(err) {
	case auth.EINVALIDCREDS:
		return "That user name and password do not match. Check them and try again."
	case auth.ETHROTTLED:
		return "Too many failed attempts. Wait a few minutes, then try again."
	case auth.EUNAVAILABLE:
		return "Gatehouse cannot reach its database or user directory right now. Try again in a minute."
	case auth.EUNKNOWN, auth.EEXPIRED, auth.ENOAUTH:
		return "Your session has ended. Log in again."
	case auth.EFORBIDDEN, auth.EINVALID, auth.ENOTFOUND, auth.ECONFLICT:
		if errors.Is(err, auth.ErrPasswordChangeRequired) {
			return "Your password must be changed before you can log in: enter your current password and choose a new one."
		}
		if m := auth.ErrorMessage(err); m != "" {
			return m
		}
		return "That is not allowed."
	}
	log.Error("ui: unexpected error", "err", err)
	return "Something went wrong on the server. Try again; if it keeps happening, tell your administrator."
}

// safeNext is where to go after logging in: next when auth.SafeNext
// finds it a path on this site, else auth.DefaultNext.
func safeNext(next string) string {
	if n, err := auth.SafeNext(next); err == nil {
		return n
	}
	return auth.DefaultNext
}
