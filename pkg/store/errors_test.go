package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

func TestUnavailable(t *testing.T) {
	if store.Unavailable(nil) != nil {
		t.Fatal("Unavailable(nil) != nil")
	}
	err := fmt.Errorf("sqlite: token by hash: %w", store.Unavailable(context.DeadlineExceeded))
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("errors.Is fails for %v", err)
	}
	if errors.Is(err, store.ErrNotFound) {
		t.Fatal("unexpected ErrNotFound")
	}
	want := "sqlite: token by hash: store unavailable: context deadline exceeded"
	if err.Error() != want {
		t.Fatalf("got %q, want %q", err.Error(), want)
	}
}
