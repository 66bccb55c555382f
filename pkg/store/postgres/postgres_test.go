package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/migrations"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storetest"
)

// open opens a store on url and closes it at cleanup.
func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t *testing.T) store.Store { return open(t, pgtest.URL(t)) }

func TestConformance(t *testing.T) {
	pgtest.BaseURL(t) // skip or fail once, not in every subtest
	storetest.RunTests(t, newStore)
}

// TestConcurrentWriters runs 8 goroutines × 200 writes, each followed by
// reads, like the sqlite test.
func TestConcurrentWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 1600 commits")
	}
	pgtest.BaseURL(t)
	storetest.RunConcurrencyTests(t, newStore, 8, 200)
}

// TestConcurrentOpen starts several stores on one fresh schema at once, as
// replicas do: the advisory lock must make migrations run exactly once.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s := open(t, url) // and once more, sequentially
	dump := storetest.Dump(t, s)
	all, err := migrations.Load(migrations.Postgres())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(dump, "schema_migrations: "); n != len(all) {
		t.Errorf("schema_migrations has %d rows, want one per migration (%d):\n%s", n, len(all), dump)
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://u:hunter2@127.0.0.1:5432/db?sslmode=bogus")
	if err == nil {
		t.Fatal("Open succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
}

func BenchmarkTokenByHash(b *testing.B) {
	s := open(b, pgtest.URL(b))
	tok := store.Token{ID: "cccccccccccccccccccccccc", Hash: storetest.HashToken("bench"), User: "alice",
		Groups: []string{"a", "b"}, Metadata: map[string]any{"k": "v"}}
	if err := s.CreateToken(b.Context(), tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.TokenByHash(b.Context(), tok.Hash); err != nil {
			b.Fatal(err)
		}
	}
}

// A caller with almost no time left is refused before its query is sent,
// and the connection stays in the pool: pgx closes a connection whose query
// a deadline cuts short, and callers that queued for connections through an
// outage would otherwise cost the pool one connection each after it.
func TestLateCallerKeepsTheConnection(t *testing.T) {
	url := pgtest.URL(t)
	if strings.Contains(url, "://") {
		url += "&pool_max_conns=1"
	} else {
		url += " pool_max_conns=1"
	}
	s := open(t, url)
	if _, err := s.TokenByHash(t.Context(), "nothing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lookup with time to spare: %v, want ErrNotFound", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.TokenByHash(ctx, "nothing"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("lookup with 20 ms left: %v, want ErrUnavailable", err)
	}
	if st := s.PoolStats(); st.Open != 1 || st.InUse != 0 {
		t.Fatalf("pool after the late caller: %+v, want its one connection open and idle", st)
	}
	if _, err := s.TokenByHash(t.Context(), "nothing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lookup after the late caller: %v, want ErrNotFound", err)
	}
}
