package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

// A purge goes on while its batches come back full, resting purgeRest
// times each batch's time in between, and stops at a short batch, an
// error, or the end of ctx.
func TestInBatchesRests(t *testing.T) {
	s := &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	const took = 5 * time.Millisecond
	sizes := []int{purgeBatch, purgeBatch, purgeBatch, 7}
	calls := 0
	start := time.Now()
	total := s.inBatches(t.Context(), "test", func(context.Context) (int, error) {
		time.Sleep(took)
		calls++
		return sizes[calls-1], nil
	})
	elapsed := time.Since(start)
	if calls != 4 || total != 3*purgeBatch+7 {
		t.Fatalf("%d calls deleting %d, want 4 deleting %d", calls, total, 3*purgeBatch+7)
	}
	// Sleeps never end early, so this lower bound holds on any machine.
	if min := 4*took + 3*purgeRest*took; elapsed < min {
		t.Errorf("purge took %s, want at least %s: it did not rest between batches", elapsed, min)
	}

	calls = 0
	total = s.inBatches(t.Context(), "test", func(context.Context) (int, error) {
		calls++
		if calls == 2 {
			return 0, errors.New("store down")
		}
		return purgeBatch, nil
	})
	if calls != 2 || total != purgeBatch {
		t.Errorf("after an error: %d calls deleting %d, want 2 deleting %d", calls, total, purgeBatch)
	}

	ctx, cancel := context.WithCancel(t.Context())
	calls = 0
	s.inBatches(ctx, "test", func(context.Context) (int, error) {
		calls++
		time.Sleep(took)
		cancel() // the server is stopping: no rest, no next batch
		return purgeBatch, nil
	})
	if calls != 1 {
		t.Errorf("after ctx ended: %d calls, want 1", calls)
	}
}
