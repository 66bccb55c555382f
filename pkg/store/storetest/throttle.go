package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

func testThrottleCounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	window := 15 * time.Minute
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Minute)
		got, err := s.RecordFailures(ctx, []string{"user:a", "addr:x"}, at, at.Add(-window))
		must(t, "RecordFailures", err)
		if got["user:a"].N != i+1 || got["addr:x"].N != i+1 {
			t.Fatalf("after %d failures: %+v", i+1, got)
		}
		if want := t0.Truncate(time.Microsecond); !got["user:a"].Oldest.Equal(want) || got["user:a"].Oldest.Location() != time.UTC {
			t.Fatalf("oldest %v, want %v in UTC", got["user:a"].Oldest, want)
		}
	}
	_, err := s.RecordFailures(ctx, []string{"user:b"}, t0, t0.Add(-window))
	must(t, "RecordFailures", err)

	got, err := s.CountFailures(ctx, []string{"user:a", "user:b", "user:none"}, t0.Add(-window))
	must(t, "CountFailures", err)
	if got["user:a"].N != 3 || got["user:b"].N != 1 || len(got) != 2 {
		t.Fatalf("counts %+v", got)
	}
	// A window that starts after the first failure counts only the later ones.
	got, err = s.CountFailures(ctx, []string{"user:a"}, t0.Add(90*time.Second))
	must(t, "CountFailures", err)
	if got["user:a"].N != 1 || !got["user:a"].Oldest.Equal(t0.Add(2*time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("windowed count %+v", got)
	}
	if got, err := s.CountFailures(ctx, nil, t0); err != nil || len(got) != 0 {
		t.Fatalf("no keys: %v %v", got, err)
	}
}

func testThrottleClearAndPurge(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		at := t0.Add(time.Duration(i) * time.Minute)
		_, err := s.RecordFailures(ctx, []string{"user:a", "user:b"}, at, t0)
		must(t, "RecordFailures", err)
	}
	must(t, "ClearFailures", s.ClearFailures(ctx, "user:a"))
	got, err := s.CountFailures(ctx, []string{"user:a", "user:b"}, t0)
	must(t, "CountFailures", err)
	if got["user:a"].N != 0 || got["user:b"].N != 5 {
		t.Fatalf("after clear: %+v", got)
	}
	n, err := s.PurgeFailures(ctx, t0.Add(3*time.Minute), 2)
	must(t, "PurgeFailures", err)
	if n != 2 {
		t.Fatalf("purged %d, want 2 (the limit)", n)
	}
	n, err = s.PurgeFailures(ctx, t0.Add(3*time.Minute), 100)
	must(t, "PurgeFailures", err)
	if n != 1 {
		t.Fatalf("purged %d, want 1", n)
	}
	got, err = s.CountFailures(ctx, []string{"user:b"}, t0)
	must(t, "CountFailures", err)
	if got["user:b"].N != 2 || !got["user:b"].Oldest.Equal(t0.Add(3*time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("after purge: %+v", got)
	}
}

// testThrottleClearPrefix clears every key of one prefix, and only those:
// a prefix with LIKE's wildcards matches them literally.
func testThrottleClearPrefix(t *testing.T, s store.Store) {
	ctx := t.Context()
	keys := []string{"lu:aa:1", "lu:aa:2", "lu:ab:1", "lu:a%:1", "la:aa"}
	_, err := s.RecordFailures(ctx, keys, t0, t0)
	must(t, "RecordFailures", err)
	must(t, "ClearFailuresPrefix", s.ClearFailuresPrefix(ctx, "lu:aa:"))
	must(t, "ClearFailuresPrefix", s.ClearFailuresPrefix(ctx, ""))
	must(t, "ClearFailuresPrefix", s.ClearFailuresPrefix(ctx, "lu:_b"))
	got, err := s.CountFailures(ctx, keys, t0)
	must(t, "CountFailures", err)
	for _, k := range keys {
		want := 1
		if k == "lu:aa:1" || k == "lu:aa:2" {
			want = 0
		}
		if got[k].N != want {
			t.Errorf("after clearing lu:aa: %s has %d failures, want %d", k, got[k].N, want)
		}
	}
}
