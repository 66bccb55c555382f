package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Pool defaults, used unless the URL sets pool_max_conns or
// pool_health_check_period, or connect_timeout.
const (
	DefaultMaxConns          = 16
	DefaultHealthCheckPeriod = 15 * time.Second
	DefaultConnectTimeout    = 5 * time.Second
)

// Store is a store.Store in a PostgreSQL database. It is safe for
// concurrent use; Close it when done.
type Store struct {
	pool    *pgxpool.Pool
	channel string // see channelName
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Notifier = (*Store)(nil)
)

// Open connects to the database at url (a postgres:// URL or a
// keyword=value string, as libpq takes, plus pgxpool's pool_* settings)
// and applies pending migrations. It fails, with store.ErrUnavailable,
// once ctx ends or DefaultConnectTimeout passes if the database cannot be
// reached.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := poolConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, translate("connect", err)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, translate("current schema", err)
	}
	s.channel = channelName(schema)
	return s, nil
}

func poolConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url) // its errors hide the password
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	if !strings.Contains(url, "pool_health_check_period") {
		cfg.HealthCheckPeriod = DefaultHealthCheckPeriod
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	cfg.PrepareConn = keepIfLate
	return cfg, nil
}

// minQueryTime is the least time a caller must have left to be given a
// connection. pgx closes a connection whose query is cut short by its
// context, so a caller that waited for a connection until its deadline
// nearly passed would most likely cost the pool that connection, and a
// new backend to replace it. After an outage, callers queued for
// connections all have little time left; if each of them cost a
// connection, the pool would keep reconnecting and the database would
// stay unusable long after it returned.
const minQueryTime = 100 * time.Millisecond

var errNoTimeLeft = errors.New("no time left for a query")

// keepIfLate is the pool's PrepareConn: it refuses a caller with less
// than minQueryTime left, and keeps the connection in the pool for the
// next one.
func keepIfLate(ctx context.Context, _ *pgx.Conn) (bool, error) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < minQueryTime {
		return true, errNoTimeLeft
	}
	return true, nil
}

// Ping checks that the database answers, over one pooled connection.
func (s *Store) Ping(ctx context.Context) error {
	return translate("ping", s.pool.Ping(ctx))
}

// Close closes every connection of the pool. It waits for connections in
// use. It does not stop Listen, whose connection is its own: cancel its
// context.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
