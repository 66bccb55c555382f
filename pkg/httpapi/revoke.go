package httpapi

import (
	"net/http"
)

// revoke is POST /auth/v1/revoke (RFC 7009). A caller may revoke its own
// tokens and keys; service accounts and admins anyone's. The answer is 200
// whether or not there was anything to revoke, so it reveals nothing.
// A revoked token is deleted; a revoked API key is disabled.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.rfcCaller(r)
	if err != nil {
		return err
	}
	tok, hint, err := readRFCForm(r)
	if err != nil {
		return err
	}
	if err := s.auth.RevokeCredential(r.Context(), caller, tok, hint); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// logout is DELETE /auth/v1/tokens/current: the caller's own token.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if err := s.auth.Logout(r.Context(), p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revokeUserTokens is DELETE /auth/v1/users/{user}/tokens: an admin revokes
// every token of a user and, with ?apikeys=true, disables and locks every
// API key of the user too.
func (s *Server) revokeUserTokens(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	user := pathParam(r, "user")
	withKeys := isTrue(r.URL.Query().Get("apikeys"))
	done, err := s.auth.RevokeUser(r.Context(), p, user, withKeys)
	if err != nil {
		return err
	}
	out := map[string]any{"user": user, "revoked": done.Tokens}
	if withKeys {
		out["apikeys_disabled"] = len(done.Keys)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
