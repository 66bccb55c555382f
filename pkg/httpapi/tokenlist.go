package httpapi

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// tokenListItem is a token as GET /auth/v1/tokens shows it: never the
// token itself, which Gatehouse does not have.
type tokenListItem struct {
	ID        string         `json:"id"`
	User      string         `json:"user"`
	Scope     string         `json:"scope"`
	CreatedAt string         `json:"created_at"`
	Expiry    string         `json:"expiry"`
	Service   bool           `json:"service"`
	Metadata  map[string]any `json:"metadata"`
}

func listItem(t store.Token) tokenListItem {
	return tokenListItem{ID: t.ID, User: t.User, Scope: scopeOf(t.Scope),
		CreatedAt: t.CreatedAt.UTC().Format(auth.TimeLayout), Expiry: t.ExpiresAt.UTC().Format(auth.TimeLayout),
		Service: t.Service, Metadata: t.Metadata}
}

// listTokens is GET /auth/v1/tokens: the caller's live tokens, oldest
// first; an admin names another user with ?user=NAME.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	user := r.URL.Query().Get("user")
	if user != "" && !auth.ValidUsername(user) {
		return badRequest("%s is not a valid user name", pyRepr(user))
	}
	tokens, err := s.auth.ListTokens(r.Context(), p, user)
	if err != nil {
		return err
	}
	out := make([]tokenListItem, len(tokens))
	for i, t := range tokens {
		out[i] = listItem(t)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revokeTokenByID is DELETE /auth/v1/tokens/{id}: 204; the owner's or, for
// an admin, anyone's. Another user's token is a 404, as an unknown id is.
func (s *Server) revokeTokenByID(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	id := pathParam(r, "id")
	if err := s.auth.RevokeTokenByID(r.Context(), p, id); err != nil {
		return withMessage(err, auth.ENOTFOUND, "Token with id "+pyRepr(id)+" not found.")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// renewToken is POST /auth/v1/tokens/renew: the caller's token, sent as
// the credential, gets a later expiry; body {"ttl": N} optional.
func (s *Server) renewToken(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	body, err := readObject(r)
	if err != nil {
		return err
	}
	v, present := body["ttl"]
	ttl, _, err := parseTTL(v, present)
	if err != nil {
		return err
	}
	t, err := s.auth.Renew(r.Context(), p, ttl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		ID     string `json:"id"`
		User   string `json:"user"`
		Expiry string `json:"expiry"`
		Scope  string `json:"scope"`
	}{t.ID, t.User, t.ExpiresAt.UTC().Format(auth.TimeLayout), scopeOf(t.Scope)})
	return nil
}
