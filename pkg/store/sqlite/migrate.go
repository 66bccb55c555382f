package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/migrations"
)

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    TEXT    NOT NULL PRIMARY KEY,
	applied_at INTEGER NOT NULL -- microseconds since the Unix epoch
) STRICT`

// migrate applies the pending SQLite migrations, each in its own IMMEDIATE
// transaction: a second process migrating the same file waits for the
// lock, then sees the version recorded and skips it.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations.Load(migrations.SQLite())
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := s.write(ctx, "migrate "+m.Version, func(tx *sql.Tx) error {
			return apply(ctx, tx, m)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, tx *sql.Tx, m migrations.Migration) error {
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return err
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n)
	if err != nil || n > 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, time.Now().UnixMicro())
	return err
}
