package httpapi

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// meAuthentication is st2's auth_info.
type meAuthentication struct {
	Method      string `json:"method"`
	Location    string `json:"location"`
	TokenExpire string `json:"token_expire,omitempty"`
}

// me is GET /auth/v1/me: the caller, in the shape of st2's GET /api/v1/user,
// plus groups and the credential's metadata (an impersonated token's
// impersonated_by).
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	authInfo := meAuthentication{Method: string(p.Kind), Location: string(p.Location)}
	if p.Kind == authn.KindToken {
		authInfo.TokenExpire = p.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	groups := p.Groups
	if groups == nil {
		groups = []string{}
	}
	metadata := p.Metadata
	if metadata == nil {
		metadata = map[string]any{}
	}
	out := map[string]any{"username": p.User, "groups": groups, "authentication": authInfo, "metadata": metadata,
		"scope": p.Scope}
	if p.Backend != "" {
		out["backend"] = p.Backend
	}
	// A page holding only the HttpOnly cookie learns here the token it
	// must send in X-CSRF-Token with requests that change state.
	if cred, ok := authn.Extract(r); ok && cred.Location == authn.InCookie {
		out["csrf_token"] = auth.CSRFToken(cred.Value)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
