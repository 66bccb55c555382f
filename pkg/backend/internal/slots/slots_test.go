package slots

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

func TestSlotsBusyAfterWait(t *testing.T) {
	s := New(2, 30*time.Millisecond, "test")
	for range 2 {
		if err := s.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	err := s.Acquire(t.Context())
	if !errors.Is(err, backend.ErrBusy) {
		t.Fatalf("third acquire = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > time.Second {
		t.Errorf("ErrBusy after %s, want about 30ms", d)
	}
	if s.InUse() != 2 {
		t.Errorf("inUse = %d, want 2", s.InUse())
	}
}

func TestSlotsNoWait(t *testing.T) {
	s := New(1, 0, "test")
	if err := s.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Acquire(t.Context()); !errors.Is(err, backend.ErrBusy) {
		t.Fatalf("acquire = %v, want ErrBusy at once", err)
	}
}

func TestSlotsReleaseWakesWaiter(t *testing.T) {
	s := New(1, 5*time.Second, "test")
	if err := s.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(20*time.Millisecond, s.Release)
	if err := s.Acquire(t.Context()); err != nil {
		t.Fatalf("acquire after release = %v", err)
	}
}

func TestSlotsContextWhileWaiting(t *testing.T) {
	s := New(1, time.Minute, "test")
	if err := s.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Acquire(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, backend.ErrUnavailable) || errors.Is(err, backend.ErrBusy) {
		t.Fatalf("acquire = %v, want ErrUnavailable with DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %s", d)
	}
}
