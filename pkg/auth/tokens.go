package auth

import (
	"context"
	"log/slog"
	"math/big"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// maxTokenList bounds a token listing: a user with more live tokens than
// this sees the oldest ones.
const maxTokenList = 1000

// ListTokens returns the live tokens of user, oldest first: a caller's
// own ("" names the caller), anyone's for an admin (EFORBIDDEN for
// others). The tokens carry their ids, never their secrets (the store has
// only hashes).
func (s *Service) ListTokens(ctx context.Context, caller Principal, user string) ([]store.Token, error) {
	if user == "" {
		user = caller.User
	}
	if user != caller.User && !s.IsAdmin(caller.User) {
		return nil, Errorf(EFORBIDDEN, "User %q may not list the tokens of user %q.", caller.User, user)
	}
	if !ValidUsername(user) {
		return []store.Token{}, nil
	}
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return s.cfg.Store.ListTokens(ctx, store.TokenFilter{User: user, Now: s.now(), Limit: maxTokenList})
}

// RevokeTokenByID deletes the token with that id: the owner's or, for an
// admin, anyone's. Another user's token is ENOTFOUND for a non-admin, as
// an unknown id is. A read-only caller may revoke only the token it
// authenticated with.
func (s *Service) RevokeTokenByID(ctx context.Context, caller Principal, id string) error {
	if !token.IsID(id) {
		return &Error{Code: ENOTFOUND}
	}
	sctx, cancel := s.storeCtx(ctx)
	t, err := s.cfg.Store.TokenByID(sctx, id)
	cancel()
	if err != nil {
		return err
	}
	if t.User != caller.User && !s.IsAdmin(caller.User) {
		return &Error{Code: ENOTFOUND}
	}
	if t.Hash != caller.TokenHash {
		if err := mayChange(caller); err != nil {
			return err
		}
	}
	p := Principal{User: t.User, Kind: authn.KindToken, TokenHash: t.Hash}
	return s.revoke(ctx, p, caller.User, "id")
}

// Renew extends the token caller authenticated with: its expiry becomes
// now + ttl (nil: the default TTL; never more than the maximum TTL),
// but never later than its issue time + Config.TokenMaxLifetime. Renewal
// is off (EINVALID) while TokenMaxLifetime is 0; only a token can be
// renewed (EINVALID); a read-only token cannot (EFORBIDDEN). A revoked or
// expired token never gets here: Check refused it (401).
func (s *Service) Renew(ctx context.Context, caller Principal, ttl *big.Int) (store.Token, error) {
	if s.cfg.TokenMaxLifetime <= 0 {
		return store.Token{}, Errorf(EINVALID, "Token renewal is off: auth.token_max_lifetime is 0.")
	}
	if caller.Kind != authn.KindToken {
		return store.Token{}, Errorf(EINVALID, "Only a token can be renewed; send it as the credential.")
	}
	if err := mayChange(caller); err != nil {
		return store.Token{}, err
	}
	sctx, cancel := s.storeCtx(ctx)
	defer cancel()
	t, err := s.cfg.Store.TokenByHash(sctx, caller.TokenHash)
	if err != nil {
		return t, notFoundAs(err, ErrUnknown) // revoked since it was checked
	}
	now := s.now()
	if !t.ExpiresAt.After(now) {
		return t, ErrExpired
	}
	// A session renews like a user's token, even a service account's
	// (IssueSession gives it the user TTL).
	d, err := s.tokenTTL(ttl, t.Service && !t.Session)
	if err != nil {
		return t, err
	}
	t.ExpiresAt = minTime(now.Add(d), t.CreatedAt.Add(s.cfg.TokenMaxLifetime)).Truncate(time.Microsecond)
	err = s.cfg.Store.RenewToken(sctx, t.Hash, t.ExpiresAt)
	s.cache.Event(store.Event{Kind: store.EventToken, Key: t.Hash})
	if err != nil {
		return t, notFoundAs(err, ErrUnknown)
	}
	s.audit(ctx, auditTokenRenewed, outcomeSuccess, t.User, slog.String("token_id", t.ID),
		slog.String("expiry", t.ExpiresAt.Format(TimeLayout)))
	return t, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
