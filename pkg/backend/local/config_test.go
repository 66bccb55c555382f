package local_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
)

func TestFactory(t *testing.T) {
	s := newSQLite(t)
	f := local.Factory(s)
	good := map[string]any{"argon2_memory": 64, "argon2_iterations": "1", "argon2_parallelism": 1,
		"max_concurrent": float64(3), "queue_timeout": "0.5"}
	if _, err := f(good, nil); err != nil {
		t.Fatalf("Factory(%v) = %v", good, err)
	}
	if _, err := f(nil, nil); err != nil {
		t.Fatalf("Factory with no kwargs = %v", err)
	}
	bad := []struct {
		kwargs map[string]any
		want   []string // words the one-line error must hold
	}{
		{map[string]any{"argon2_memroy": 64}, []string{"argon2_memroy"}},
		{map[string]any{"argon2_memory": 4, "argon2_iterations": 0}, []string{"argon2_memory 4", "argon2_iterations 0"}},
		{map[string]any{"argon2_parallelism": 0}, []string{"argon2_parallelism"}},
		{map[string]any{"max_concurrent": 0}, []string{"max_concurrent 0"}},
		{map[string]any{"queue_timeout": -1}, []string{"queue_timeout -1"}},
		{map[string]any{"file_path": "/etc/htpasswd"}, []string{"file_path"}},
	}
	for _, tt := range bad {
		_, err := f(tt.kwargs, nil)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("Factory(%v) = %v, want a one-line error", tt.kwargs, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Factory(%v) = %v, want it to name %q", tt.kwargs, err, w)
			}
		}
	}
	if _, err := local.New(local.DefaultConfig(), nil, nil); err == nil {
		t.Error("New without a store succeeded")
	}
}

// TestWeakParamsWarn: parameters below the default are allowed (tests,
// small machines) but logged.
func TestWeakParamsWarn(t *testing.T) {
	log, logs := newLog()
	newBackend(t, newSQLite(t), small, log)
	if !strings.Contains(logs.String(), "weaker than the default") {
		t.Errorf("no warning for weak parameters:\n%s", logs)
	}
}
