package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// testReplay: an authenticator is accepted once until it expires, then
// may be recorded again; purging removes only expired records.
func testReplay(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC()
	if err := s.RecordAuthenticator(ctx, "k1", now, now.Add(5*time.Minute)); err != nil {
		t.Fatalf("first record: %v", err)
	}
	if err := s.RecordAuthenticator(ctx, "k1", now.Add(time.Minute), now.Add(6*time.Minute)); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("replay = %v, want ErrAlreadyExists", err)
	}
	if err := s.RecordAuthenticator(ctx, "k2", now, now.Add(time.Minute)); err != nil {
		t.Fatalf("another key: %v", err)
	}
	later := now.Add(2 * time.Minute)
	if err := s.RecordAuthenticator(ctx, "k2", later, later.Add(time.Minute)); err != nil {
		t.Fatalf("an expired record is replaced: %v", err)
	}
	if err := s.RecordAuthenticator(ctx, "k3", now, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeAuthenticators(ctx, now.Add(4*time.Minute), 10)
	if err != nil || n != 2 {
		t.Fatalf("purge = %d, %v; want k2 and k3", n, err)
	}
	if err := s.RecordAuthenticator(ctx, "k1", now.Add(4*time.Minute), now.Add(9*time.Minute)); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("k1 is not expired yet, and was not purged: %v", err)
	}
	if n, err := s.PurgeAuthenticators(ctx, now.Add(time.Hour), 0); err != nil || n != 0 {
		t.Fatalf("limit 0 purged %d, %v", n, err)
	}
}

// testReplayConcurrent: of many concurrent records of one key, exactly
// one succeeds.
func testReplayConcurrent(t *testing.T, s store.Store) {
	now := time.Now().UTC()
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range 8 {
		wg.Go(func() {
			err := s.RecordAuthenticator(t.Context(), "race", now, now.Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrAlreadyExists):
				t.Errorf("concurrent record: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d concurrent records of one key succeeded, want 1", ok)
	}
}
