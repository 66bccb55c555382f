package httpapi

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// tokenResponse is st2's TokenAPI.
type tokenResponse struct {
	ID       string         `json:"id"`
	User     string         `json:"user"`
	Token    string         `json:"token"`
	Expiry   string         `json:"expiry"`
	Metadata map[string]any `json:"metadata"`
	Service  bool           `json:"service"`
	Scope    string         `json:"scope"`
}

// issueToken is POST /auth/v1/tokens: Basic credentials in, a token out.
// As in st2 the body is validated first, then the credentials, then the TTL
// against the maximum.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	req, err := parseTokenRequest(r)
	if err != nil {
		return err
	}
	id, err := s.login(w, r)
	if err != nil {
		return err
	}
	return s.writeIssued(w, r, id, req)
}

// writeIssued issues a token for id and answers 201 in st2's shape, with
// X-API-URL: POST /auth/v1/tokens and a terminal's single sign-on.
func (s *Server) writeIssued(w http.ResponseWriter, r *http.Request, id backend.Identity, req auth.TokenRequest) error {
	issued, err := s.auth.Issue(r.Context(), id, req)
	if err != nil {
		return err
	}
	t := issued.Token
	w.Header().Set("X-API-URL", s.cfg.APIURL)
	writeJSON(w, http.StatusCreated, tokenResponse{
		ID: t.ID, User: t.User, Token: issued.Secret, Expiry: t.ExpiresAt.Format(auth.TimeLayout),
		Metadata: t.Metadata, Service: t.Service, Scope: scopeOf(t.Scope),
	})
	return nil
}

// parseTokenRequest validates the body of a token request.
func parseTokenRequest(r *http.Request) (auth.TokenRequest, error) {
	body, err := readObject(r)
	if err != nil {
		return auth.TokenRequest{}, err
	}
	v, present := body["ttl"]
	ttl, _, err := parseTTL(v, present)
	if err != nil {
		return auth.TokenRequest{}, err
	}
	req := auth.TokenRequest{TTL: ttl}
	if req.Scope, err = optScope(body); err != nil {
		return auth.TokenRequest{}, err
	}
	if u, present := body["user"]; present && u != nil {
		name, ok := u.(string)
		if !ok {
			return auth.TokenRequest{}, badRequest("%s is not of type 'string'", pyRepr(u))
		}
		if !auth.ValidUsername(name) {
			return auth.TokenRequest{}, badRequest("Could not locate user %s", name)
		}
		req.User = name
	}
	return req, nil
}

// validateToken is POST /auth/v1/tokens/validate: st2's check of another
// token by an authenticated caller.
func (s *Server) validateToken(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.authenticate(r); err != nil {
		return err
	}
	body, err := readObject(r)
	if err != nil {
		return err
	}
	v := body["token"]
	plain, isString := v.(string)
	if v != nil && !isString {
		return badRequest("%s is not of type 'string', 'null'", pyRepr(v))
	}
	if plain == "" {
		return badRequest("Token is not provided.")
	}
	valid, err := s.auth.ValidToken(r.Context(), plain)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": valid})
	return nil
}

// optScope reads the optional "scope" member of a body, checked and in
// its canonical form ("" when absent or null).
func optScope(body map[string]any) (string, error) {
	v, err := optString(body, "scope")
	if err != nil {
		return "", err
	}
	return auth.ParseScope(v)
}

// scopeOf is a stored scope as bodies show it: "" (made before scopes) is
// "write".
func scopeOf(stored string) string {
	if stored == "" {
		return authn.ScopeWrite
	}
	return stored
}
