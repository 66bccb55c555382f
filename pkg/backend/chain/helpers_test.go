package chain_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/chain"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// small are cheap argon2id parameters for tests.
var small = local.Params{Memory: 64, Iterations: 1, Parallelism: 1}

// newFile writes an htpasswd file with users' passwords (bcrypt cost 4)
// and returns its backend and path.
func newFile(t testing.TB, users map[string]string) (*htpasswd.Backend, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "htpasswd")
	for name, password := range users {
		if err := htpasswd.SetUser(path, name, password, 4); err != nil {
			t.Fatal(err)
		}
	}
	b, err := htpasswd.New(htpasswd.Config{FilePath: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b, path
}

// newSQLite opens a fresh SQLite store in a temporary directory.
func newSQLite(t testing.TB) store.Store {
	t.Helper()
	s, err := storeopen.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newLocal returns a local backend over a fresh SQLite store holding
// users (name → password); names listed in inactive are inactive.
func newLocal(t testing.TB, users map[string]string, inactive ...string) (*local.Backend, store.Store) {
	t.Helper()
	s := newSQLite(t)
	for name, password := range users {
		h, err := local.HashPassword(password, small)
		if err != nil {
			t.Fatal(err)
		}
		u := store.User{Name: name, PasswordHash: h, Active: !slices.Contains(inactive, name), Groups: []string{"local-ops"}}
		if err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	cfg := local.DefaultConfig()
	cfg.Params, cfg.MaxConcurrent = small, 4
	b, err := local.New(cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b, s
}

// newChain chains links, failing the test on error.
func newChain(t testing.TB, breakGlass []string, links ...chain.Link) *chain.Chain {
	t.Helper()
	c, err := chain.New(links, breakGlass, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// login is one expected outcome: want is the link name that must
// authenticate the user, "401" (ErrInvalidCredentials) or "503"
// (ErrUnavailable).
type login struct {
	user, password, want string
}

// check runs one login against c and compares the outcome.
func (l login) check(t *testing.T, c *chain.Chain) {
	t.Helper()
	id, err := c.Authenticate(t.Context(), l.user, l.password)
	switch l.want {
	case "401":
		if err != backend.ErrInvalidCredentials {
			t.Errorf("%s/%s: %+v, %v; want the bare ErrInvalidCredentials", l.user, l.password, id, err)
		}
	case "503":
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Errorf("%s/%s: %+v, %v; want ErrUnavailable", l.user, l.password, id, err)
		}
	default:
		if err != nil || id.Backend != l.want || id.Username == "" {
			t.Errorf("%s/%s: %+v, %v; want a login through %s", l.user, l.password, id, err, l.want)
		}
	}
}

// authOnly hides everything of a backend but Authenticate, as pam is.
type authOnly struct{ backend.Backend }

// spendCounter counts the Spend calls a Prober gets.
type spendCounter struct {
	backend.Prober
	spent atomic.Int32
}

func (s *spendCounter) Spend(ctx context.Context) {
	s.spent.Add(1)
	s.Prober.Spend(ctx)
}

// median returns the median of d (sorting it).
func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// medians times rounds of each login against c (each must be refused)
// and returns their medians.
func medians(t *testing.T, c *chain.Chain, rounds int, logins ...login) []time.Duration {
	t.Helper()
	times := make([][]time.Duration, len(logins))
	for range rounds {
		for i, l := range logins {
			start := time.Now()
			l.check(t, c)
			times[i] = append(times[i], time.Since(start))
		}
	}
	out := make([]time.Duration, len(logins))
	for i := range times {
		out[i] = median(times[i])
	}
	return out
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
