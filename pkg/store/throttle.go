package store

import (
	"context"
	"time"
)

// FailureCount is how many failures a throttle key has in a window, and
// when the earliest of them happened (the window frees up from there).
type FailureCount struct {
	N      int
	Oldest time.Time
}

// ThrottleStore keeps the failure counters behind login throttling and
// token-scanning limits, in the database so that replicas sharing it share
// the counts. Keys are opaque to the store (callers pass hashes).
type ThrottleStore interface {
	// CountFailures returns, for each key, the failures recorded at or
	// after since. Keys without failures are absent from the map.
	CountFailures(ctx context.Context, keys []string, since time.Time) (map[string]FailureCount, error)
	// RecordFailures records one failure at at for every key, then counts
	// as CountFailures does, in one round trip where the database allows.
	RecordFailures(ctx context.Context, keys []string, at, since time.Time) (map[string]FailureCount, error)
	// ClearFailures forgets every failure of the keys.
	ClearFailures(ctx context.Context, keys ...string) error
	// ClearFailuresPrefix forgets every failure of every key that starts
	// with prefix (all of one account's per-address counters). An empty
	// prefix clears nothing.
	ClearFailuresPrefix(ctx context.Context, prefix string) error
	// PurgeFailures deletes at most limit failures recorded before before
	// and returns how many it deleted.
	PurgeFailures(ctx context.Context, before time.Time, limit int) (int, error)
}
