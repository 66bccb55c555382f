package authn

import (
	"context"
	"maps"
	"slices"
	"time"
)

// Token types as introspection names them (Identity.TokenType).
const (
	TokenTypeAccess = "access_token"
	TokenTypeAPIKey = "api_key"
)

// Identity is who a request's credential belongs to, as Gatehouse said.
type Identity struct {
	// Username is the user (introspection's "username", else "sub").
	Username string
	// Groups are the user's groups, as the backend reported them at login
	// (full DNs for LDAP). Nil when there are none.
	Groups []string
	// TokenType is TokenTypeAccess or TokenTypeAPIKey.
	TokenType string
	// ExpiresAt is when the token expires; zero for API keys.
	ExpiresAt time.Time
	// IssuedAt is when the token or key was made; zero if not reported.
	IssuedAt time.Time
	// Metadata is the token's or key's metadata; nil when there is none.
	Metadata map[string]any
	// Scope is what the credential may do, as introspection's "scope"
	// said ("write", "read", "path:/hooks/a", ...). A Gatehouse from before
	// scopes sends none: that is "write". See ParseScope and RequireScope.
	Scope string
	// Credential says what the request carried and where. Its Value is
	// always empty: the secret is not kept in the context. A handler that
	// needs it (to call another service as the user) reads it from the
	// request with Extract; the middleware leaves the request as it came.
	Credential Credential
}

// clone returns a deep copy of id, so that callers may change what they
// get without changing the cached answer.
func (id Identity) clone() Identity {
	id.Groups = slices.Clone(id.Groups)
	if id.Metadata != nil {
		id.Metadata = cloneJSON(id.Metadata).(map[string]any)
	}
	return id
}

// cloneJSON deep-copies a value decoded from JSON (maps, slices, scalars).
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := maps.Clone(v)
		for k, e := range m {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := slices.Clone(v)
		for i, e := range s {
			s[i] = cloneJSON(e)
		}
		return s
	default:
		return v
	}
}

// ctxKey is the unexported key of the identity in a context.
type ctxKey struct{}

// NewContext returns a copy of ctx that carries id, as the middleware does.
// Tests of services use it to call handlers as someone. The credential's
// Value is dropped.
func NewContext(ctx context.Context, id Identity) context.Context {
	id.Credential.Value = ""
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity the middleware put in ctx; ok is false
// when there is none (the handler is not behind the middleware).
func FromContext(ctx context.Context) (id Identity, ok bool) {
	id, ok = ctx.Value(ctxKey{}).(Identity)
	return id, ok
}
