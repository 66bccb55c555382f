package ui

import (
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

// userNotices are the fixed texts a redirect after a change to a local
// user may ask for.
var userNotices = map[string]string{
	"user-created":        "The user is added.",
	"user-enabled":        "The user is enabled and may log in again.",
	"user-disabled":       "The user is disabled: their sessions, tokens and API keys stopped working.",
	"user-require-change": "The user must choose a new password at their next login.",
	"user-deleted":        "The user is deleted: their sessions and tokens are gone and their API keys locked.",
}

// createUser is POST /ui/users: an admin adds a local user through the
// domain (auth.Service.CreateUser: admins only, the password policy, the
// audit line).
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	s, ok := h.guard(w, r)
	if !ok {
		return
	}
	in := auth.NewUser{
		Name:               strings.TrimSpace(r.PostFormValue("name")),
		Password:           r.PostFormValue("password"),
		MustChangePassword: r.PostFormValue("must_change") != "",
		Groups:             splitGroups(r.PostFormValue("groups")),
	}
	_, err := h.cfg.Auth.CreateUser(r.Context(), s.p, in)
	h.afterChange(w, r, s, err, "user-created")
}

// userAction is POST /ui/users/enable|disable|require-change|delete, the
// user's name in the form (a name may hold any printable character,
// "/" too, so it is not put in the path).
func (h *Handler) userAction(w http.ResponseWriter, r *http.Request) {
	s, ok := h.guard(w, r)
	if !ok {
		return
	}
	name, action := r.PostFormValue("name"), r.PathValue("action")
	var err error
	switch action {
	case "enable", "disable":
		on := action == "enable"
		_, err = h.cfg.Auth.UpdateUser(r.Context(), s.p, name, auth.UserChange{Active: &on})
	case "require-change":
		yes := true
		_, err = h.cfg.Auth.UpdateUser(r.Context(), s.p, name, auth.UserChange{MustChangePassword: &yes})
	case "delete":
		err = h.cfg.Auth.DeleteUser(r.Context(), s.p, name)
	default:
		h.notFound(w, r)
		return
	}
	done := "user-" + action
	if action != "require-change" {
		done += "d"
	}
	h.afterChange(w, r, s, err, done)
}

// splitGroups reads "ops, developers" or "ops developers" as two groups.
func splitGroups(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}
