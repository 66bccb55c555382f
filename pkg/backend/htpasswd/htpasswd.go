package htpasswd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Name is the backend name used in the configuration, as in st2.
const Name = "flat_file"

// defaultCheckInterval is how often, at most, Authenticate looks at the
// file's metadata to see whether it changed.
const defaultCheckInterval = time.Second

// Config configures the flat_file backend. In gatehouse.yaml:
//
//	auth:
//	  backend: flat_file
//	  backend_kwargs:
//	    file_path: /etc/st2/htpasswd
type Config struct {
	// FilePath is the htpasswd file to read. Required.
	FilePath string `mapstructure:"file_path"`
}

// Backend checks passwords against an htpasswd file. It is safe for
// concurrent use. See the package documentation for formats and reloading.
type Backend struct {
	path string
	log  *slog.Logger

	// checkInterval is the minimum time between two looks at the file's
	// metadata; 0 looks on every call (tests).
	checkInterval time.Duration
	start         time.Time    // origin of lastCheck, for a monotonic clock
	lastCheck     atomic.Int64 // time.Since(start) of the last look, in ns
	reloadMu      sync.Mutex   // one reload at a time; guards removals
	state         atomic.Pointer[state]

	// settle is how long a name must stay missing from the file before it
	// counts as removed (see Removed).
	settle   time.Duration
	removals removals
}

var (
	_ backend.Backend         = (*Backend)(nil)
	_ backend.Prober          = (*Backend)(nil)
	_ backend.RemovalReporter = (*Backend)(nil)
)

// Factory builds the backend from st2-style backend_kwargs. The only option
// is file_path (required); any other key is an error naming it.
func Factory(kwargs map[string]any, log *slog.Logger) (backend.Backend, error) {
	var cfg Config
	if err := backend.DecodeKwargs(kwargs, &cfg, backend.KwargsOptions{}); err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	return New(cfg, log)
}

// New reads cfg.FilePath and returns a backend serving it. It fails if
// file_path is empty. A file that cannot be read is not an error here: the
// backend refuses every login with ErrUnavailable until the file can be
// read, and Ready says why (Gatehouse logs that as a warning at start).
// A nil log discards log records.
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	if cfg.FilePath == "" {
		return nil, errors.New(`htpasswd: missing required option "file_path"`)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Backend{
		path:          cfg.FilePath,
		log:           log.With("backend", Name, "file", cfg.FilePath),
		checkInterval: defaultCheckInterval,
		start:         time.Now(),
		settle:        defaultSettle,
	}
	s := b.load()
	if s.err == nil { // a failure is Ready's to report, once
		b.logChange(nil, s)
	}
	b.state.Store(s)
	b.removals.observe(s.table, 0, b.settle)
	return b, nil
}

var _ backend.ReadyChecker = (*Backend)(nil)

// Ready reports whether the file can be read now (reloading it if it
// changed), in words for the start-up log: "htpasswd file /x does not
// exist (create it with: …)" or "cannot read htpasswd file /x: permission
// denied".
func (b *Backend) Ready(context.Context) error {
	s := b.current()
	if s.err == nil {
		return nil
	}
	if errors.Is(s.err, fs.ErrNotExist) {
		return fmt.Errorf("htpasswd file %s does not exist (create it with: gatehouse htpasswd set USER --file %s)", b.path, b.path)
	}
	var pe *fs.PathError
	if errors.As(s.err, &pe) {
		return fmt.Errorf("cannot read htpasswd file %s: %w", b.path, pe.Err)
	}
	return fmt.Errorf("cannot read htpasswd file %s: %w", b.path, s.err)
}

// Authenticate checks username and password against the file, reloading it
// first if it changed (see the package documentation).
//
// It returns ErrInvalidCredentials, unwrapped, for a wrong password, an
// unknown user, an entry whose hash cannot be used and an empty password;
// ErrUnavailable (wrapped) when the file cannot be read, and wrapped with
// ctx.Err() if ctx is done before the hashing starts. Identity.Username is
// username; Groups is nil.
func (b *Backend) Authenticate(ctx context.Context, username, password string) (backend.Identity, error) {
	return backend.Decide(b.Probe(ctx, username, password))
}

// Probe is Authenticate telling a name that is not in the file (Unknown)
// from a refused one (Refused): an entry whose hash can never match is
// Refused, so a name listed in the file is never passed on to another
// backend of a chain. Both cost one hash comparison.
func (b *Backend) Probe(ctx context.Context, username, password string) (backend.Identity, backend.Verdict, error) {
	s := b.current()
	if s.err != nil {
		return backend.Identity{}, backend.Refused, s.err
	}
	if err := ctx.Err(); err != nil {
		return backend.Identity{}, backend.Refused, fmt.Errorf("htpasswd: %w: %w", backend.ErrUnavailable, err)
	}
	v := s.table.probe(username, password)
	if v != backend.Accepted {
		return backend.Identity{}, v, nil
	}
	return backend.Identity{Username: username}, v, nil
}

// spendPassword is what Spend hashes; any password costs the same.
const spendPassword = "gatehouse-spend"

// Spend does the dummy bcrypt comparison an unknown user costs, at the
// file's usual cost. It does nothing while the file cannot be read or
// once ctx is done.
func (b *Backend) Spend(ctx context.Context) {
	s := b.current()
	if s.err != nil || ctx.Err() != nil {
		return
	}
	s.table.spend(spendPassword)
}
