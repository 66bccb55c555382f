package auth

import (
	"context"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// cutUser deletes every token of user and, with keys, disables and locks
// every key of user, dropping them from this replica's cache at once
// (other replicas hear of it from the store). It returns how many tokens
// it deleted and the keys it changed.
func (s *Service) cutUser(ctx context.Context, user string, keys bool) (int, []store.APIKey, error) {
	n, err := s.deleteUserTokens(ctx, user)
	if err != nil || !keys {
		return n, nil, err
	}
	changed, err := s.disableUserKeys(ctx, user)
	return n, changed, err
}

func (s *Service) deleteUserTokens(ctx context.Context, user string) (int, error) {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	hashes, err := s.cfg.Store.DeleteUserTokens(ctx, user)
	s.cache.Event(store.Event{Kind: store.EventUser, Key: user})
	s.metrics.revoked.Add(float64(len(hashes)))
	return len(hashes), err
}

func (s *Service) disableUserKeys(ctx context.Context, user string) ([]store.APIKey, error) {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	changed, err := s.cfg.Store.DisableUserAPIKeys(ctx, user)
	for _, k := range changed {
		s.forgetKey(k)
	}
	if err != nil {
		// The keys may have changed although the answer was lost: drop
		// every cached key of user rather than trust the cache.
		s.cache.removeUserKeys(user)
	}
	s.metrics.apiKeys.WithLabelValues("disabled").Add(float64(len(changed)))
	return changed, err
}

// removalLoop asks rr every RemovalInterval which users left the backend
// and cuts each one off. A user whose credentials could not be cut off
// (the database failed) is tried again on the next round.
func (s *Service) removalLoop(ctx context.Context, rr backend.RemovalReporter) {
	var pending []string
	every(ctx, cmpOrDefault(s.cfg.RemovalInterval, DefaultRemovalInterval), func() {
		pending = s.checkRemovals(ctx, rr, pending)
	})
}

// checkRemovals adds the newly removed users to pending, cuts each one
// off, and returns those it could not.
func (s *Service) checkRemovals(ctx context.Context, rr backend.RemovalReporter, pending []string) []string {
	removed, err := rr.Removed(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("checking for removed users", slog.String("error", err.Error()))
	}
	pending = append(pending, removed...)
	var left []string
	for _, user := range pending {
		if ctx.Err() != nil {
			return pending
		}
		if err := s.cutRemovedUser(ctx, user); err != nil {
			s.log.Warn("cutting off a removed user; will retry", slog.String("user", user),
				slog.String("error", err.Error()))
			left = append(left, user)
		}
	}
	return left
}

// cutRemovedUser revokes everything of a user who left the backend and
// writes the audit line.
func (s *Service) cutRemovedUser(ctx context.Context, user string) error {
	n, keys, err := s.cutUser(ctx, user, true)
	if err != nil {
		return err
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	s.audit(ctx, auditUserRemoved, outcomeSuccess, user, slog.String("backend", s.cfg.BackendName),
		slog.Int("tokens_revoked", n), slog.Any("apikeys_disabled", ids))
	return nil
}

// passwordChangeLoop asks pc every RemovalInterval whose password was set
// outside Gatehouse, and forgets their failed logins: setting a new
// password lifts a lockout (issue 17).
func (s *Service) passwordChangeLoop(ctx context.Context, pc backend.PasswordChangeReporter) {
	every(ctx, cmpOrDefault(s.cfg.RemovalInterval, DefaultRemovalInterval), func() {
		changed, err := pc.PasswordsChanged(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("checking for changed passwords", slog.String("error", err.Error()))
		}
		s.clearPasswordSet(ctx, changed)
	})
}
