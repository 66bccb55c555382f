package auth

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// RevokeCredential is RFC 7009 revocation of the token or key with that
// value, for caller. A caller may revoke its own tokens and keys; service
// accounts and admins anyone's. Anything else, unknown or not the
// caller's, is not an error, so the answer reveals nothing; but every
// inactive value counts against the caller's scanning allowance, as in
// Introspect. A revoked token is deleted; a revoked key is disabled and
// locked (only an admin may enable it again).
func (s *Service) RevokeCredential(ctx context.Context, caller Principal, value, hint string) error {
	p, err := s.Lookup(ctx, value, hint)
	switch {
	case errors.Is(err, ErrInactive):
		return s.scanMiss(ctx, caller.User)
	case err != nil:
		return err
	case !sameCredential(p, caller) && mayChange(caller) != nil:
		return mayChange(caller) // a read credential revokes only itself
	case p.User == caller.User || s.Privileged(caller.User):
		return s.revoke(ctx, p, caller.User, "revoke")
	}
	return nil
}

// sameCredential reports whether p is the very token or key caller
// authenticated with.
func sameCredential(p, caller Principal) bool {
	if p.Kind == authn.KindAPIKey {
		return caller.Kind == authn.KindAPIKey && p.KeyID == caller.KeyID
	}
	return p.TokenHash != "" && p.TokenHash == caller.TokenHash
}

// Logout revokes the token p authenticated with. An API key cannot log
// out (EINVALID).
func (s *Service) Logout(ctx context.Context, p Principal) error {
	if p.Kind != authn.KindToken {
		return Errorf(EINVALID, "Only a token can log out; disable or delete an API key instead.")
	}
	return s.revoke(ctx, p, p.User, "logout")
}

// revoke deletes a token or disables and locks a key, and drops it from
// this replica's cache at once (other replicas hear of it from the store).
func (s *Service) revoke(ctx context.Context, p Principal, by, how string) error {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	if p.Kind == authn.KindToken {
		deleted, err := s.cfg.Store.DeleteToken(ctx, p.TokenHash)
		s.cache.Event(store.Event{Kind: store.EventToken, Key: p.TokenHash})
		if deleted {
			s.metrics.revoked.Inc()
			s.audit(ctx, auditTokenRevoked, outcomeSuccess, p.User, slog.String("by", by), slog.String("how", how))
		}
		return err
	}
	return s.revokeKey(ctx, p.KeyID, by, how)
}

// revokeKey disables and locks the key with that id: RFC 7009 revocation
// is final, only an admin undoes it.
func (s *Service) revokeKey(ctx context.Context, id, by, how string) error {
	k, err := s.cfg.Store.APIKeyByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile: revoked all the same
	}
	if err != nil {
		return err
	}
	k.Enabled, k.Locked = false, true
	err = s.cfg.Store.UpdateAPIKey(ctx, k)
	s.forgetKey(k)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile: revoked all the same
	}
	if err == nil {
		s.metrics.apiKeys.WithLabelValues("disabled").Inc()
		s.audit(ctx, auditKeyDisabled, outcomeSuccess, k.User, slog.String("key_id", k.ID), slog.String("by", by), slog.String("how", how))
	}
	return err
}

// UserRevoked is what RevokeUser did.
type UserRevoked struct {
	// Tokens is how many tokens were deleted.
	Tokens int
	// Keys are the API keys that were disabled and locked.
	Keys []store.APIKey
}

// RevokeUser deletes every token of user and, with keys, disables and
// locks every API key of user: admins only (EFORBIDDEN). A name no backend
// could hold is ENOTFOUND. What was done is audited and returned even when
// an error stopped it halfway.
func (s *Service) RevokeUser(ctx context.Context, caller Principal, user string, keys bool) (UserRevoked, error) {
	if !s.IsAdmin(caller.User) {
		return UserRevoked{}, Errorf(EFORBIDDEN, "Only admins may revoke another user's tokens.")
	}
	if err := mayChange(caller); err != nil {
		return UserRevoked{}, err
	}
	if !ValidUsername(user) {
		return UserRevoked{}, &Error{Code: ENOTFOUND}
	}
	n, changed, err := s.cutUser(ctx, user, keys)
	if n > 0 || err == nil {
		s.audit(ctx, auditTokenRevoked, outcomeSuccess, user, slog.String("by", caller.User), slog.String("how", "all"),
			slog.Int("count", n))
	}
	for _, k := range changed {
		s.audit(ctx, auditKeyDisabled, outcomeSuccess, user, slog.String("key_id", k.ID), slog.String("by", caller.User),
			slog.String("how", "all"))
	}
	return UserRevoked{Tokens: n, Keys: changed}, err
}
