package httpapi

import (
	"errors"
	"net/http"

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
	if !s.privileged(caller.User) {
		return newError(http.StatusForbidden, "Only service accounts and admins may introspect tokens.")
	}
	tok, hint, err := readRFCForm(r)
	if err != nil {
		return err
	}
	p, err := s.lookupAny(r, tok, hint)
	if errors.Is(err, errInactive) {
		if err := s.scanMiss(r.Context(), caller.User); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, inactive)
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, introspectionOf(p))
	return nil
}

// errInactive is any refusal of a credential that introspection reports
// as {"active": false}.
var errInactive = errors.New("inactive credential")

// lookupAny finds an active token or key with that value, trying the hinted
// kind first. Store failures are returned; every refusal is errInactive.
func (s *Server) lookupAny(r *http.Request, value, hint string) (Principal, error) {
	if len(value) > maxBasicLen {
		return Principal{}, errInactive
	}
	for _, kind := range kindsInHintOrder(hint) {
		p, err := s.check(r, authn.Credential{Kind: kind, Location: authn.InHeader, Value: value})
		if err == nil {
			return p, nil
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
			return Principal{}, err
		}
		if e != errUnauthorized { // found, but expired or disabled
			return Principal{}, errInactive
		}
	}
	return Principal{}, errInactive
}

func introspectionOf(p Principal) introspection {
	out := introspection{Active: true, Username: p.User, Sub: p.User, TokenType: "access_token",
		Iat: p.IssuedAt.Unix(), Groups: p.Groups, Metadata: p.Metadata}
	if p.Kind == authn.KindAPIKey {
		out.TokenType = "api_key"
	} else {
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
