package auth

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// KindPassword is the Kind of a caller that sent a user name and password
// with its request (HTTP Basic) rather than a token or key.
const KindPassword authn.Kind = "password"

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
	// Session is set for a browser session's token (IssueSession).
	Session bool
	// Backend names the backend that checked the user's password (for a
	// token, as recorded in its metadata when it was issued); empty for
	// API keys.
	Backend string
}

// Check validates one credential, through the validation cache. It
// answers EUNKNOWN, EEXPIRED or EDISABLED for a credential that does not
// authenticate, and store failures as they are (EUNAVAILABLE).
func (s *Service) Check(ctx context.Context, cred authn.Credential) (Principal, error) {
	if cred.Kind == authn.KindAPIKey {
		p, enabled, err := s.cache.APIKey(ctx, cred.Value, s.storeCtx)
		if err != nil {
			return Principal{}, notFoundAs(err, ErrUnknown)
		}
		if !enabled {
			return Principal{}, ErrDisabled
		}
		p.Location = cred.Location
		return p, nil
	}
	p, err := s.cache.Token(ctx, cred.Value, s.storeCtx)
	if err != nil {
		return Principal{}, notFoundAs(err, ErrUnknown)
	}
	if !p.ExpiresAt.After(s.now()) {
		return Principal{}, ErrExpired
	}
	p.Location = cred.Location
	if p.Backend == "" {
		p.Backend = s.cfg.BackendName // one backend: its tokens do not repeat its name
	}
	return p, nil
}

// MetaBackend is the token metadata key naming the backend that
// authenticated the token's user.
const MetaBackend = "backend"

func metaString(m map[string]any, key string) string {
	v, _ := m[key].(string)
	return v
}

// notFoundAs replaces store.ErrNotFound with e and keeps other errors.
func notFoundAs(err, e error) error {
	if errors.Is(err, store.ErrNotFound) {
		return e
	}
	return err
}

// ValidUsername refuses names no backend could hold: empty, not UTF-8,
// with control characters (NUL, CR, LF…), or over 256 bytes.
func ValidUsername(user string) bool {
	if user == "" || len(user) > 256 || !utf8.ValidString(user) {
		return false
	}
	for _, r := range user {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
