package httpapi

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// introspection is RFC 7662's answer for an active credential.
type introspection struct {
	Active    bool           `json:"active"`
	Username  string         `json:"username"`
	Sub       string         `json:"sub"`
	TokenType string         `json:"token_type"`
	Exp       *int64         `json:"exp,omitempty"`
	Iat       int64          `json:"iat"`
	Groups    []string       `json:"groups"`
	Metadata  map[string]any `json:"metadata"`
	// Backend names the backend that authenticated the token's user;
	// absent for API keys and impersonated tokens.
	Backend string `json:"backend,omitempty"`
	// Scope is what the credential may do: "write", "read", "path:/…".
	Scope string `json:"scope"`
}

// inactive is the one answer for anything unknown, expired, revoked,
// disabled or malformed: the same bytes whatever the reason.
var inactive = map[string]bool{"active": false}

// introspect is POST /auth/v1/introspect (RFC 7662), for service accounts
// and admins.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.rfcCaller(r)
	if err != nil {
		return err
	}
	if err := s.auth.MayIntrospect(caller); err != nil {
		return err
	}
	tok, hint, err := readRFCForm(r)
	if err != nil {
		return err
	}
	p, err := s.auth.Introspect(r.Context(), caller, tok, hint)
	if errors.Is(err, auth.ErrInactive) {
		writeJSON(w, http.StatusOK, inactive)
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, introspectionOf(p))
	return nil
}

func introspectionOf(p auth.Principal) introspection {
	out := introspection{Active: true, Username: p.User, Sub: p.User, TokenType: auth.HintAccessToken,
		Iat: p.IssuedAt.Unix(), Groups: p.Groups, Metadata: p.Metadata, Backend: p.Backend, Scope: p.Scope}
	if p.Kind == authn.KindAPIKey {
		out.TokenType = auth.HintAPIKey
	}
	if !p.ExpiresAt.IsZero() { // a key that never expires has no exp
		exp := p.ExpiresAt.Unix()
		out.Exp = &exp
	}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	if out.Metadata == nil {
		out.Metadata = map[string]any{}
	}
	return out
}
