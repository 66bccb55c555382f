package local_test

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// small are cheap argon2id parameters for tests; DefaultParams are used
// where timing matters.
var small = local.Params{Memory: 64, Iterations: 1, Parallelism: 1}

// t0 is the creation time of test users.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// storeKinds opens a fresh store of each kind: SQLite in a temporary
// directory, and PostgreSQL in a private schema (skipped, or failed under
// GATEHOUSE_REQUIRE_INTEGRATION=1, when no server is configured).
var storeKinds = map[string]func(t testing.TB) store.Store{
	"sqlite": func(t testing.TB) store.Store {
		return openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "gatehouse.db"))
	},
	"postgres": func(t testing.TB) store.Store { return openStore(t, pgtest.URL(t)) },
}

func openStore(t testing.TB, url string) store.Store {
	t.Helper()
	s, err := storeopen.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newSQLite opens a fresh SQLite store.
func newSQLite(t testing.TB) store.Store { return storeKinds["sqlite"](t) }

// newBackend returns a local backend over users with parameters p,
// logging into log (nil discards).
func newBackend(t testing.TB, users store.UserStore, p local.Params, log *slog.Logger) *local.Backend {
	t.Helper()
	cfg := local.DefaultConfig()
	cfg.Params, cfg.MaxConcurrent = p, 2
	b, err := local.New(cfg, users, log)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// addUser stores an active user with password hashed at p, or with hash
// as given when password is "".
func addUser(t testing.TB, s store.UserStore, name, password, hash string, p local.Params, edit func(*store.User)) store.User {
	t.Helper()
	if password != "" {
		var err error
		if hash, err = local.HashPassword(password, p); err != nil {
			t.Fatal(err)
		}
	}
	u := store.User{Name: name, PasswordHash: hash, Active: true, Groups: []string{"ops"},
		CreatedAt: t0, UpdatedAt: t0, PasswordChangedAt: t0}
	if edit != nil {
		edit(&u)
	}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// hashOf reads the user's stored hash.
func hashOf(t testing.TB, s store.UserStore, name string) string {
	t.Helper()
	u, err := s.UserByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordHash
}

// logBuffer is a concurrency-safe buffer for a text slog.Logger.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLog() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}
