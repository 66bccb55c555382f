package pam

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

func TestSlotsBusyAfterWait(t *testing.T) {
	s := newSlots(2, 30*time.Millisecond)
	for range 2 {
		if err := s.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	err := s.acquire(t.Context())
	if !errors.Is(err, backend.ErrBusy) {
		t.Fatalf("third acquire = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > time.Second {
		t.Errorf("ErrBusy after %s, want about 30ms", d)
	}
	if s.inUse() != 2 {
		t.Errorf("inUse = %d, want 2", s.inUse())
	}
}

func TestSlotsNoWait(t *testing.T) {
	s := newSlots(1, 0)
	if err := s.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.acquire(t.Context()); !errors.Is(err, backend.ErrBusy) {
		t.Fatalf("acquire = %v, want ErrBusy at once", err)
	}
}

func TestSlotsReleaseWakesWaiter(t *testing.T) {
	s := newSlots(1, 5*time.Second)
	if err := s.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(20*time.Millisecond, s.release)
	if err := s.acquire(t.Context()); err != nil {
		t.Fatalf("acquire after release = %v", err)
	}
}

func TestSlotsContextWhileWaiting(t *testing.T) {
	s := newSlots(1, time.Minute)
	if err := s.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.acquire(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, backend.ErrBusy) {
		t.Fatalf("acquire = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %s", d)
	}
}
