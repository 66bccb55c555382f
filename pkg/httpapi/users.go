package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// userJSON is a local user as the API shows it: never a hash.
type userJSON struct {
	Name               string         `json:"name"`
	Active             bool           `json:"active"`
	MustChangePassword bool           `json:"must_change_password"`
	Groups             []string       `json:"groups"`
	Extra              map[string]any `json:"extra"`
	CreatedAt          string         `json:"created_at"`
	UpdatedAt          string         `json:"updated_at"`
	PasswordChangedAt  string         `json:"password_changed_at"`
}

func userOf(u store.User) userJSON {
	out := userJSON{Name: u.Name, Active: u.Active, MustChangePassword: u.MustChangePassword,
		Groups: u.Groups, Extra: u.Extra, CreatedAt: u.CreatedAt.Format(auth.TimeLayout),
		UpdatedAt: u.UpdatedAt.Format(auth.TimeLayout), PasswordChangedAt: u.PasswordChangedAt.Format(auth.TimeLayout)}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	if out.Extra == nil {
		out.Extra = map[string]any{}
	}
	return out
}

// listUsers is GET /auth/v1/users (admins): limit (at most 100) and
// offset, with X-Total-Count.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	f, err := pageFilter(r, false)
	if err != nil {
		return err
	}
	users, total, err := s.auth.ListUsers(r.Context(), p, f.Limit, f.Offset)
	if err != nil {
		return err
	}
	out := make([]userJSON, len(users))
	for i, u := range users {
		out[i] = userOf(u)
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createUser is POST /auth/v1/users (admins).
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	in, err := parseNewUser(r)
	if err != nil {
		return err
	}
	u, err := s.auth.CreateUser(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, userOf(u))
	return nil
}

// getUser is GET /auth/v1/users/{name}: admins, or the user itself.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	u, err := s.auth.GetUser(r.Context(), p, pathParam(r, "user"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userOf(u))
	return nil
}

// updateUser is PUT /auth/v1/users/{name} (admins).
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	ch, err := parseUserChange(r)
	if err != nil {
		return err
	}
	u, err := s.auth.UpdateUser(r.Context(), p, pathParam(r, "user"), ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userOf(u))
	return nil
}

// deleteUser is DELETE /auth/v1/users/{name} (admins) → 204.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if err := s.auth.DeleteUser(r.Context(), p, pathParam(r, "user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// changePassword is POST /auth/v1/password: the caller's own password,
// with the current one (Basic, through the one login path, which lets a
// user who must change it in) or a token; → 204.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	p, err := s.passwordCaller(r)
	if err != nil {
		return err
	}
	body, err := readObject(r)
	if err != nil {
		return err
	}
	pw, err := optString(body, "new_password")
	if err != nil {
		return err
	}
	if pw == "" {
		return badRequest("new_password is required.")
	}
	if err := s.auth.ChangePassword(r.Context(), p, pw); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// passwordCaller is authenticate, but Basic goes through
// LoginForPasswordChange.
func (s *Server) passwordCaller(r *http.Request) (auth.Principal, error) {
	if user, password, ok := parseBasic(r.Header.Get("Authorization")); ok {
		return s.auth.LoginForPasswordChange(r.Context(), user, password)
	}
	return s.authenticate(r)
}

// unlockUser is DELETE /auth/v1/throttle/users/{user} (admins) → 204.
func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if err := s.auth.UnlockUser(r.Context(), p, pathParam(r, "user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
