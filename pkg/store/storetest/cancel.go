package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// testCancelledContext checks that every method gives up at once, with an
// error that is store.ErrUnavailable and keeps context.Canceled, and that
// the store still works afterwards.
func testCancelledContext(t *testing.T, s store.Store) {
	tok, key := newToken("alice"), newAPIKey("alice", t0)
	must(t, "CreateToken", s.CreateToken(t.Context(), tok))
	must(t, "CreateAPIKey", s.CreateAPIKey(t.Context(), key))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"CreateToken":      func() error { return s.CreateToken(ctx, newToken("alice")) },
		"TokenByHash":      func() error { _, err := s.TokenByHash(ctx, tok.Hash); return err },
		"DeleteToken":      func() error { _, err := s.DeleteToken(ctx, tok.Hash); return err },
		"DeleteUserTokens": func() error { _, err := s.DeleteUserTokens(ctx, "alice"); return err },
		"PurgeExpiredTokens": func() error {
			_, _, err := s.PurgeExpiredTokens(ctx, time.Time{}, t0.Add(48*time.Hour), 10)
			return err
		},
		"CreateAPIKey":        func() error { return s.CreateAPIKey(ctx, newAPIKey("alice", t0)) },
		"APIKeyByID":          func() error { _, err := s.APIKeyByID(ctx, key.ID); return err },
		"APIKeyByHash":        func() error { _, err := s.APIKeyByHash(ctx, key.KeyHash); return err },
		"ListAPIKeys":         func() error { _, _, err := s.ListAPIKeys(ctx, store.APIKeyFilter{}); return err },
		"UpdateAPIKey":        func() error { return s.UpdateAPIKey(ctx, key) },
		"DeleteAPIKey":        func() error { return s.DeleteAPIKey(ctx, key.ID) },
		"DisableUserAPIKeys":  func() error { _, err := s.DisableUserAPIKeys(ctx, "alice"); return err },
		"Ping":                func() error { return s.Ping(ctx) },
		"CountFailures":       func() error { _, err := s.CountFailures(ctx, []string{"k"}, t0); return err },
		"RecordFailures":      func() error { _, err := s.RecordFailures(ctx, []string{"k"}, t0, t0); return err },
		"ClearFailures":       func() error { return s.ClearFailures(ctx, "k") },
		"ClearFailuresPrefix": func() error { return s.ClearFailuresPrefix(ctx, "k") },
		"PurgeFailures":       func() error { _, err := s.PurgeFailures(ctx, t0, 10); return err },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %v with a cancelled context", name, d)
		}
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: got %v, want ErrUnavailable and context.Canceled", name, err)
		}
	}
	checkStillThere(t, s, tok, key)
}

func checkStillThere(t *testing.T, s store.Store, tok store.Token, key store.APIKey) {
	t.Helper()
	got, err := s.TokenByHash(t.Context(), tok.Hash)
	must(t, "TokenByHash after the cancelled calls", err)
	checkToken(t, got, tok)
	gotKey, err := s.APIKeyByID(t.Context(), key.ID)
	must(t, "APIKeyByID after the cancelled calls", err)
	checkAPIKey(t, gotKey, key)
}
