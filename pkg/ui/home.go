package ui

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// me is the "who am I" card.
type me struct {
	User, Backend  string
	Groups         []string
	Admin, Service bool
	Expires        time.Time
}

// keyView is one API key as the page shows it.
type keyView struct {
	ID, User, Name, Scope string
	CreatedAt, ExpiresAt  time.Time
	LastUsedAt            time.Time
	Enabled, Locked       bool
}

// tokenView is one of the caller's live tokens or sessions.
type tokenView struct {
	ID, Scope         string
	CreatedAt, Expiry time.Time
	Session, Current  bool
	Service           bool
}

// newKey is a key just made: shown once.
type newKey struct {
	Secret, BaseURL string
}

type homeData struct {
	page
	Me                me
	Keys, AllKeys     []keyView
	AllKeyTotal       int
	NewKey            *newKey
	CanChangePassword bool
	UsersOn           bool
	Users             []store.User
	UserTotal         int
	// Self is the caller's name, whose own row offers no disable or
	// delete (an admin would lock themselves out).
	Self   string
	Tokens []tokenView
}

// homeNotices are the fixed texts a redirect to the home page may ask for.
var homeNotices = map[string]string{
	"key-enabled":   "The key is enabled.",
	"key-disabled":  "The key is disabled: it no longer works until you enable it again.",
	"key-deleted":   "The key is deleted.",
	"token-revoked": "The session or token is revoked: it no longer works anywhere.",
	"password":      "Your password is changed. Your other sessions and tokens are logged out.",
	"password-set":  "Your new password is set and you are logged in.",
}

// home is GET /ui/: the page, or the login form when there is no session.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	s, ok, err := h.current(r)
	if err != nil {
		h.problem(w, r, http.StatusServiceUnavailable, friendly(err, h.cfg.Logger))
		return
	}
	if !ok {
		toLogin(w, r, "", "")
		return
	}
	done := r.URL.Query().Get("done")
	h.showHome(w, r, s, http.StatusOK, page{Notice: cmp.Or(homeNotices[done], userNotices[done])}, nil)
}

// showHome renders the page for s, with a message and perhaps a new key.
func (h *Handler) showHome(w http.ResponseWriter, r *http.Request, s session, status int, msg page, nk *newKey) {
	a := h.cfg.Auth
	ctx := r.Context()
	p := s.p
	d := homeData{
		page: page{Title: "Your account", User: p.User, CSRF: auth.CSRFToken(s.secret), Notice: msg.Notice, Error: msg.Error},
		Me: me{User: p.User, Backend: p.Backend, Groups: p.Groups, Admin: a.IsAdmin(p.User), Service: a.IsService(p.User),
			Expires: p.ExpiresAt},
		NewKey: nk, Self: p.User,
	}
	own, err := a.ListAPIKeys(ctx, p, auth.APIKeyQuery{User: p.User, Limit: 100})
	if err != nil {
		h.problem(w, r, h.status(err), friendly(err, h.cfg.Logger))
		return
	}
	d.Keys = keyViews(own.Keys)
	toks, err := a.ListTokens(ctx, p, p.User)
	if err != nil {
		h.problem(w, r, h.status(err), friendly(err, h.cfg.Logger))
		return
	}
	for _, t := range toks {
		d.Tokens = append(d.Tokens, tokenView{ID: t.ID, Scope: scopeOr(t.Scope), CreatedAt: t.CreatedAt, Expiry: t.ExpiresAt,
			Session: t.Session, Current: t.Hash == p.TokenHash, Service: t.Service})
	}
	local := a.Config().Local != nil
	d.CanChangePassword = local && (p.Backend == "local")
	if d.Me.Admin {
		all, err := a.ListAPIKeys(ctx, p, auth.APIKeyQuery{Limit: 100})
		if err == nil {
			d.AllKeys, d.AllKeyTotal = keyViews(all.Keys), all.Total
		}
		if local {
			d.Users, d.UserTotal, err = a.ListUsers(ctx, p, 100, 0)
			d.UsersOn = err == nil
		}
	}
	h.render(w, status, "home.html", d)
}

func keyViews(keys []store.APIKey) []keyView {
	out := make([]keyView, 0, len(keys))
	for _, k := range keys {
		name, _ := k.Metadata["name"].(string)
		out = append(out, keyView{ID: k.ID, User: k.User, Name: name, Scope: scopeOr(k.Scope), CreatedAt: k.CreatedAt,
			ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, Enabled: k.Enabled, Locked: k.Locked})
	}
	return out
}

// createKey is POST /ui/keys: a key for the caller, shown on the page that
// answers (once; never stored, never in a redirect).
func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) {
	s, ok := h.guard(w, r)
	if !ok {
		return
	}
	meta := map[string]any{}
	if name := strings.TrimSpace(r.PostFormValue("name")); name != "" {
		if len(name) > 100 {
			h.showHome(w, r, s, http.StatusBadRequest, page{Error: "A key's name may be at most 100 characters long."}, nil)
			return
		}
		meta["name"] = name
	}
	req := auth.NewAPIKey{Metadata: meta, Scope: r.PostFormValue("scope")}
	if days, ok := expiryChoices[r.PostFormValue("expires")]; ok {
		req.TTL = days * 24 * time.Hour
	}
	_, secret, err := h.cfg.Auth.CreateAPIKey(r.Context(), s.p, req)
	if err != nil || secret == nil {
		h.showError(w, r, s, err)
		return
	}
	h.showHome(w, r, s, http.StatusOK, page{Notice: "The key is created."}, &newKey{Secret: *secret, BaseURL: h.cfg.BaseURL(r)})
}

// keyAction is POST /ui/keys/{id}/enable|disable|delete.
func (h *Handler) keyAction(w http.ResponseWriter, r *http.Request) {
	s, ok := h.guard(w, r)
	if !ok {
		return
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	var err error
	switch action {
	case "enable", "disable":
		on := action == "enable"
		_, err = h.cfg.Auth.UpdateAPIKey(r.Context(), s.p, id, auth.APIKeyUpdate{Enabled: &on})
	case "delete":
		err = h.cfg.Auth.DeleteAPIKey(r.Context(), s.p, id)
	case "rotate":
		// The old secret stops at once: whoever rotates from the page
		// is about to paste the new one.
		_, secret, err := h.cfg.Auth.RotateAPIKey(r.Context(), s.p, id, 0)
		if err != nil {
			h.showError(w, r, s, err)
			return
		}
		h.showHome(w, r, s, http.StatusOK, page{Notice: "The key has a new secret; the old one no longer works."},
			&newKey{Secret: secret, BaseURL: h.cfg.BaseURL(r)})
		return
	default:
		h.notFound(w, r)
		return
	}
	h.afterChange(w, r, s, err, "key-"+action+"d")
}

// showError shows the home page with err in words.
func (h *Handler) showError(w http.ResponseWriter, r *http.Request, s session, err error) {
	h.showHome(w, r, s, h.status(err), page{Error: friendly(err, h.cfg.Logger)}, nil)
}

// afterChange ends a form that changed something: the home page with the
// error, or a redirect to it with the done notice (so a reload does not
// post again).
func (h *Handler) afterChange(w http.ResponseWriter, r *http.Request, s session, err error, done string) {
	if err != nil {
		h.showError(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/ui/?done="+done, http.StatusSeeOther)
}

// expiryChoices are the lifetimes the key form offers, in days.
var expiryChoices = map[string]time.Duration{"30": 30, "90": 90, "365": 365}

func scopeOr(scope string) string {
	if scope == "" {
		return "write"
	}
	return scope
}

// revokeToken is POST /ui/tokens/{id}/revoke: one of the caller's tokens
// or sessions ends, on every replica. Revoking the current session logs
// out.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	s, ok := h.guard(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := h.cfg.Auth.RevokeTokenByID(r.Context(), s.p, id); err != nil {
		h.showError(w, r, s, err)
		return
	}
	if _, still, _ := h.current(r); !still {
		h.cfg.ClearCookie(w, r)
		toLogin(w, r, "", "logged-out")
		return
	}
	http.Redirect(w, r, "/ui/?done=token-revoked", http.StatusSeeOther)
}

// changePassword is POST /ui/password: the current password is checked
// like a login (throttled, audited), then changed; this session stays.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) {
	s, ok := h.guard(w, r)
	if !ok {
		return
	}
	newPW := r.PostFormValue("new")
	if newPW != r.PostFormValue("again") {
		h.showHome(w, r, s, http.StatusBadRequest, page{Error: "The two new passwords are not the same."}, nil)
		return
	}
	if _, err := h.cfg.Auth.LoginForPasswordChange(r.Context(), s.p.User, r.PostFormValue("current")); err != nil {
		msg := friendly(err, h.cfg.Logger)
		if auth.ErrorCode(err) == auth.EINVALIDCREDS {
			msg = "Your current password is not right."
		}
		h.showHome(w, r, s, h.status(err), page{Error: msg}, nil)
		return
	}
	if err := h.cfg.Auth.ChangePassword(r.Context(), s.p, newPW); err != nil {
		h.showError(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/ui/?done=password", http.StatusSeeOther)
}
