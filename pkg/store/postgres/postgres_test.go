package postgres_test

import (
	"strings"
	"sync"
	"testing"

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
