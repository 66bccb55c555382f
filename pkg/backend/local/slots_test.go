package local

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

func TestSlots(t *testing.T) {
	s := newSlots(1, 50*time.Millisecond)
	if err := s.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.acquire(t.Context()); !errors.Is(err, backend.ErrBusy) {
		t.Fatalf("second acquire = %v, want ErrBusy", err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Errorf("gave up after %v, want the queue timeout", waited)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := newSlotsFull().acquire(ctx); !errors.Is(err, backend.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("acquire with a done context = %v", err)
	}
	s.release()
	if err := s.acquire(t.Context()); err != nil {
		t.Errorf("acquire after release = %v", err)
	}
}

// newSlotsFull returns slots whose only slot is taken, with a long wait.
func newSlotsFull() *slots {
	s := newSlots(1, time.Hour)
	s.ch <- struct{}{}
	return s
}
