package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/internal/slots"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Name is the backend name used in the configuration.
const Name = "local"

// Defaults and limits of the options besides Params.
const (
	DefaultQueueTimeout = time.Second
	MaxMaxConcurrent    = 256
)

// Config configures the local backend. In gatehouse.yaml:
//
//	auth:
//	  backend: local
//	  backend_kwargs:
//	    argon2_memory: 19456    # KiB per hash; default 19456 (19 MiB)
//	    argon2_iterations: 2    # default 2
//	    argon2_parallelism: 1   # threads per hash; default 1
//	    max_concurrent: 1       # hashes at once; default half the CPUs, at least 1
//	    queue_timeout: 1        # seconds to wait for a free slot, then 503; default 1
//
// Start from DefaultConfig: New does not fill in zero fields.
type Config struct {
	// Params are the argon2id parameters of new hashes (DefaultParams).
	Params `mapstructure:",squash"`
	// MaxConcurrent caps the hashes running at once, 1 to MaxMaxConcurrent,
	// so that hashing never holds more than MaxConcurrent × Memory.
	MaxConcurrent int `mapstructure:"max_concurrent"`
	// QueueTimeout is how many seconds a login waits for a free slot
	// before it fails with backend.ErrBusy (HTTP 503); 0 fails at once.
	QueueTimeout float64 `mapstructure:"queue_timeout"`
}

// DefaultConfig returns the configuration used for options not given.
func DefaultConfig() Config {
	return Config{
		Params:        DefaultParams(),
		MaxConcurrent: max(1, runtime.GOMAXPROCS(0)/2),
		QueueTimeout:  DefaultQueueTimeout.Seconds(),
	}
}

// validate reports every problem of cfg at once.
func (cfg Config) validate() error {
	errs := []error{cfg.Params.validate()}
	if cfg.MaxConcurrent < 1 || cfg.MaxConcurrent > MaxMaxConcurrent {
		errs = append(errs, fmt.Errorf("max_concurrent %d: want 1 to %d", cfg.MaxConcurrent, MaxMaxConcurrent))
	}
	if cfg.QueueTimeout < 0 || math.IsNaN(cfg.QueueTimeout) || cfg.QueueTimeout > 3600 {
		errs = append(errs, fmt.Errorf("queue_timeout %v: want 0 to 3600 seconds", cfg.QueueTimeout))
	}
	return backend.OneLine(errors.Join(errs...))
}

// Backend checks passwords against the users in a store.UserStore. It is
// safe for concurrent use. See the package documentation.
type Backend struct {
	users  store.UserStore
	params Params
	slots  *slots.Slots
	dummy  stored // a hash at params of a random password, for unknown users
	log    *slog.Logger
}

var (
	_ backend.Backend = (*Backend)(nil)
	_ backend.Prober  = (*Backend)(nil)
)

// Factory returns the registry's factory for the local backend, serving
// users. backend_kwargs are decoded over DefaultConfig; unknown options
// are an error naming them.
func Factory(users store.UserStore) backend.Factory {
	return func(kwargs map[string]any, log *slog.Logger) (backend.Backend, error) {
		cfg := DefaultConfig()
		if err := backend.DecodeKwargs(kwargs, &cfg, backend.KwargsOptions{WeaklyTyped: true}); err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
		return New(cfg, users, log)
	}
}

// New checks cfg and returns a backend serving users. It computes one
// hash (the unknown-user dummy) and does not touch the store. A nil log
// discards log records.
func New(cfg Config, users store.UserStore, log *slog.Logger) (*Backend, error) {
	if users == nil {
		return nil, errors.New("local: no user store")
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dummy, err := HashPassword(rand.Text(), cfg.Params)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		users:  users,
		params: cfg.Params,
		slots:  slots.New(cfg.MaxConcurrent, time.Duration(cfg.QueueTimeout*float64(time.Second)), "local"),
		dummy:  parseStored(dummy),
		log:    log.With("backend", Name),
	}
	if cfg.Params.weak() {
		b.log.Warn("local: argon2id parameters are weaker than the default", "params", cfg.Params.String(),
			"default", DefaultParams().String())
	}
	return b, nil
}

// Hash hashes password with the backend's parameters, in one of its
// hashing slots, for callers that set passwords (user creation, password
// changes). It returns backend.ErrBusy or ErrUnavailable (wrapped) when
// no slot is free in time, and does not apply CheckPolicy.
func (b *Backend) Hash(ctx context.Context, password string) (string, error) {
	if err := b.slots.Acquire(ctx); err != nil {
		return "", err
	}
	defer b.slots.Release()
	return HashPassword(password, b.params)
}
