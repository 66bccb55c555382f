// Package slots is the counting semaphore with a bounded wait that the
// backends doing expensive or thread-holding work share: pam (a PAM
// transaction holds an OS thread while it runs) and local (an argon2id
// hash holds its memory). Waiters queue as goroutines, which cost next to
// nothing, for a bounded time.
package slots

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Slots bounds how much of one kind of work runs at once.
type Slots struct {
	ch   chan struct{}
	wait time.Duration
	name string // for errors: "pam", "local"
}

// New returns n slots whose waiters wait at most wait (0: not at all).
func New(n int, wait time.Duration, name string) *Slots {
	return &Slots{ch: make(chan struct{}, n), wait: wait, name: name}
}

// Acquire takes a slot. It returns an error wrapping backend.ErrBusy if
// none is free within the wait, or one wrapping backend.ErrUnavailable and
// ctx.Err() if ctx is done first.
func (s *Slots) Acquire(ctx context.Context) error {
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
		return fmt.Errorf("%s: waiting for a free slot: %w: %w", s.name, backend.ErrUnavailable, ctx.Err())
	}
}

func (s *Slots) busy() error {
	return fmt.Errorf("%s: all %d slots busy for %s: %w", s.name, cap(s.ch), s.wait, backend.ErrBusy)
}

// Release frees a slot taken by Acquire.
func (s *Slots) Release() { <-s.ch }

// InUse reports how many slots are taken.
func (s *Slots) InUse() int { return len(s.ch) }
