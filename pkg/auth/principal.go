package auth

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
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
	// ExpiresAt is when the credential stops working: a token's expiry; for
	// an API key its expiry or, for a rotated key's previous secret, the
	// end of its grace period; zero for a key that never expires.
	ExpiresAt time.Time
	// Scope is what the credential may do, canonical ("write", "read",
	// "path:/hooks/a", ...); a password caller's is "write". See
	// authn.ParseScope.
	Scope    string
	Metadata map[string]any
	// Session is set for a browser session's token (IssueSession).
	Session bool
	// Backend names the backend that checked the user's password (for a
	// token, as recorded in its metadata when it was issued); empty for
	// API keys.
	Backend string
}

// Check validates one credential, through the validation cache. It
// answers EUNKNOWN, EEXPIRED, EKEYEXPIRED or EDISABLED for a credential
// that does not authenticate, and store failures as they are
// (EUNAVAILABLE). A Bearer value is looked up as a token and as a key.
func (s *Service) Check(ctx context.Context, cred authn.Credential) (Principal, error) {
	switch cred.Kind {
	case authn.KindAPIKey:
		return s.checkKey(ctx, cred)
	case authn.KindBearer:
		return s.checkBearer(ctx, cred)
	}
	return s.checkToken(ctx, cred)
}

// checkBearer looks a Bearer value up as both kinds, the one its shape
// suggests first (tokens are 32 hex digits), so a key sent as Bearer
// costs no token lookup, and the other when that one is not known.
func (s *Service) checkBearer(ctx context.Context, cred authn.Credential) (Principal, error) {
	first, second := s.checkKey, s.checkToken
	if token.IsTokenShaped(cred.Value) {
		first, second = s.checkToken, s.checkKey
	}
	p, err := first(ctx, cred)
	if errors.Is(err, ErrUnknown) {
		return second(ctx, cred)
	}
	return p, err
}

func (s *Service) checkToken(ctx context.Context, cred authn.Credential) (Principal, error) {
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

func (s *Service) checkKey(ctx context.Context, cred authn.Credential) (Principal, error) {
	p, st, err := s.cache.APIKey(ctx, cred.Value, s.storeCtx)
	if err != nil {
		return Principal{}, notFoundAs(err, ErrUnknown)
	}
	now := s.now()
	switch us := now.UnixMicro(); {
	case st.grace != 0 && us >= st.grace:
		return Principal{}, ErrUnknown // a rotated key's old secret, past its grace
	case !st.enabled:
		return Principal{}, ErrDisabled
	case st.expires != 0 && us >= st.expires:
		return Principal{}, ErrKeyExpired
	}
	p.Location = cred.Location
	s.keyUsed(p.KeyID, now)
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
