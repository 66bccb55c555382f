package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

func pendingLogin(state string) store.PendingLogin {
	return store.PendingLogin{
		StateHash: "state-" + state, NonceHash: "nonce-" + state, Verifier: []byte{0, 1, 2, 0xff},
		Next: "/ui/", RedirectURI: "http://127.0.0.1:9100/auth/v1/oidc/callback",
		CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute),
	}
}

// testPendingLoginOnce: a pending login comes back whole, once.
func testPendingLoginOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := pendingLogin("a")
	must(t, "CreatePendingLogin", s.CreatePendingLogin(ctx, want))
	if err := s.CreatePendingLogin(ctx, want); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second CreatePendingLogin: %v, want ErrAlreadyExists", err)
	}
	got, err := s.ConsumePendingLogin(ctx, want.StateHash, t0.Add(time.Minute))
	must(t, "ConsumePendingLogin", err)
	if got.StateHash != want.StateHash || got.NonceHash != want.NonceHash || !bytes.Equal(got.Verifier, want.Verifier) ||
		got.Next != want.Next || got.RedirectURI != want.RedirectURI ||
		!got.CreatedAt.Equal(want.CreatedAt.Truncate(time.Microsecond)) || !got.ExpiresAt.Equal(want.ExpiresAt.Truncate(time.Microsecond)) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := s.ConsumePendingLogin(ctx, want.StateHash, t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replayed ConsumePendingLogin: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumePendingLogin(ctx, "state-unknown", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown state: %v, want ErrNotFound", err)
	}
}

// testPendingLoginExpiry: an expired login is never handed out, and the
// purge deletes only expired ones.
func testPendingLoginExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := pendingLogin("a"), pendingLogin("b")
	b.ExpiresAt = t0.Add(time.Hour)
	must(t, "CreatePendingLogin", s.CreatePendingLogin(ctx, a))
	must(t, "CreatePendingLogin", s.CreatePendingLogin(ctx, b))
	if _, err := s.ConsumePendingLogin(ctx, a.StateHash, a.ExpiresAt); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired login: %v, want ErrNotFound", err)
	}
	c := pendingLogin("c")
	must(t, "CreatePendingLogin", s.CreatePendingLogin(ctx, c))
	n, err := s.PurgePendingLogins(ctx, t0.Add(30*time.Minute))
	must(t, "PurgePendingLogins", err)
	if n != 1 {
		t.Fatalf("purged %d, want 1 (c)", n)
	}
	if _, err := s.ConsumePendingLogin(ctx, b.StateHash, t0.Add(30*time.Minute)); err != nil {
		t.Fatalf("b, not yet expired, after the purge: %v", err)
	}
}

// testPendingLoginRace: of many concurrent consumers of one state, exactly
// one gets the login.
func testPendingLoginRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	for round := range 5 {
		l := pendingLogin(fmt.Sprint("race", round))
		must(t, "CreatePendingLogin", s.CreatePendingLogin(ctx, l))
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			winner int
		)
		for range 8 {
			wg.Go(func() {
				_, err := s.ConsumePendingLogin(ctx, l.StateHash, t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winner++
				case !errors.Is(err, store.ErrNotFound):
					t.Errorf("ConsumePendingLogin: %v", err)
				}
			})
		}
		wg.Wait()
		if winner != 1 {
			t.Fatalf("round %d: %d consumers got the login, want 1", round, winner)
		}
	}
}
