package auth

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// maxCredentialLen bounds the tokens and keys Lookup looks for: longer
// values were never issued and are inactive without a store round trip.
const maxCredentialLen = 4096

// Token type hints of RFC 7662 and RFC 7009.
const (
	HintAccessToken = "access_token"
	HintAPIKey      = "api_key"
)

// Lookup finds an active token or key with that value, trying the kind
// hint names first (HintAPIKey; anything else means a token first), then
// the other, so a wrong hint still finds it (RFC 7662 2.1). Every refusal
// is ErrInactive; store failures are returned as they are.
func (s *Service) Lookup(ctx context.Context, value, hint string) (Principal, error) {
	if len(value) > maxCredentialLen {
		return Principal{}, ErrInactive
	}
	for _, kind := range kindsInHintOrder(hint) {
		p, err := s.Check(ctx, authn.Credential{Kind: kind, Location: authn.InHeader, Value: value})
		switch ErrorCode(err) {
		case "":
			return p, nil
		case EUNKNOWN:
			continue // perhaps the other kind
		case EEXPIRED, EKEYEXPIRED, EDISABLED:
			return Principal{}, ErrInactive
		default:
			return Principal{}, err
		}
	}
	return Principal{}, ErrInactive
}

// kindsInHintOrder is the order to look a value up in.
func kindsInHintOrder(hint string) []authn.Kind {
	if hint == HintAPIKey {
		return []authn.Kind{authn.KindAPIKey, authn.KindToken}
	}
	return []authn.Kind{authn.KindToken, authn.KindAPIKey}
}

// MayIntrospect refuses (EFORBIDDEN) a caller that is neither a service
// account nor an admin.
func (s *Service) MayIntrospect(caller Principal) error {
	if !s.Privileged(caller.User) {
		return Errorf(EFORBIDDEN, "Only service accounts and admins may introspect tokens.")
	}
	return nil
}

// Introspect is Lookup on behalf of caller, who MayIntrospect: every
// answer that is ErrInactive counts against the caller's scanning
// allowance, and once that is spent it is ETHROTTLED instead.
func (s *Service) Introspect(ctx context.Context, caller Principal, value, hint string) (Principal, error) {
	p, err := s.Lookup(ctx, value, hint)
	if errors.Is(err, ErrInactive) {
		if err := s.scanMiss(ctx, caller.User); err != nil {
			return Principal{}, err
		}
	}
	return p, err
}
