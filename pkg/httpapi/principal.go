package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Principal is an authenticated caller.
type Principal struct {
	User     string
	Groups   []string
	Kind     authn.Kind
	Location authn.Location
	// TokenHash is set for a token; KeyID and KeyHash for an API key.
	TokenHash string
	KeyID     string
	KeyHash   string
	IssuedAt  time.Time
	// ExpiresAt is zero for API keys, which never expire.
	ExpiresAt time.Time
	Metadata  map[string]any
}

// check validates one credential, through the validation cache.
func (s *Server) check(r *http.Request, cred authn.Credential) (Principal, error) {
	if cred.Kind == authn.KindAPIKey {
		k, err := s.cache.APIKey(r.Context(), cred.Value, s.storeCtx)
		if err != nil {
			return Principal{}, notFoundAs(err, errUnauthorized)
		}
		if !k.Enabled {
			return Principal{}, errKeyDisabled
		}
		return keyPrincipal(k, cred.Location), nil
	}
	t, err := s.cache.Token(r.Context(), cred.Value, s.storeCtx)
	if err != nil {
		return Principal{}, notFoundAs(err, errUnauthorized)
	}
	if !t.ExpiresAt.After(s.now()) {
		return Principal{}, errTokenExpired
	}
	return tokenPrincipal(t, cred.Location), nil
}

func keyPrincipal(k store.APIKey, loc authn.Location) Principal {
	return Principal{User: k.User, Kind: authn.KindAPIKey, Location: loc,
		KeyID: k.ID, KeyHash: k.KeyHash, IssuedAt: k.CreatedAt, Metadata: k.Metadata}
}

func tokenPrincipal(t store.Token, loc authn.Location) Principal {
	return Principal{User: t.User, Groups: t.Groups, Kind: authn.KindToken, Location: loc,
		TokenHash: t.Hash, IssuedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Metadata: t.Metadata}
}

// notFoundAs replaces store.ErrNotFound with e and keeps other errors.
func notFoundAs(err error, e *Error) error {
	if errors.Is(err, store.ErrNotFound) {
		return e
	}
	return err
}
