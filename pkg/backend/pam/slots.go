package pam

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// slots is a counting semaphore with a bounded wait. A PAM transaction
// holds an OS thread for as long as it runs, so the number of slots is the
// number of threads PAM can ever take; everyone else waits as a goroutine,
// which is cheap, and only for a short while.
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
	if s.wait <= 0 {
		return s.busy()
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-t.C:
		return s.busy()
	case <-ctx.Done():
		return fmt.Errorf("pam: waiting for a free slot: %w: %w", backend.ErrUnavailable, ctx.Err())
	}
}

func (s *slots) busy() error {
	return fmt.Errorf("pam: all %d slots busy for %s: %w", cap(s.ch), s.wait, backend.ErrBusy)
}

// release frees a slot taken by acquire.
func (s *slots) release() { <-s.ch }

// inUse reports how many slots are taken.
func (s *slots) inUse() int { return len(s.ch) }
