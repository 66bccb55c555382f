package local

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// slots bounds the hashes running at once, and so their memory: each
// argon2id hash holds Params.Memory until it ends. Waiters queue as
// goroutines, which cost next to nothing, for a bounded time.
type slots struct {
	ch   chan struct{}
	wait time.Duration
}

func newSlots(n int, wait time.Duration) *slots {
	return &slots{ch: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot. It returns an error wrapping backend.ErrBusy if
// none is free within s.wait, or one wrapping backend.ErrUnavailable and
// ctx.Err() if ctx is done first.
func (s *slots) acquire(ctx context.Context) error {
	select {
	case s.ch <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("local: all %d hashing slots busy for %s: %w", cap(s.ch), s.wait, backend.ErrBusy)
	case <-ctx.Done():
		return fmt.Errorf("local: waiting for a hashing slot: %w: %w", backend.ErrUnavailable, ctx.Err())
	}
}

// release frees a slot taken by acquire.
func (s *slots) release() { <-s.ch }
