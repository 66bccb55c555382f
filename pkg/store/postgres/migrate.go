package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/migrations"
)

// migrationLock is the pg_advisory_xact_lock key that serialises
// migrations across replicas (and across schemas of one database, which
// costs nothing worth mentioning).
const migrationLock int64 = 0x6761_7465_686f_7573 // "gatehous"

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    text        PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrate applies the pending PostgreSQL migrations, each in its own
// transaction that first takes migrationLock: a replica starting at the
// same time waits, then sees the version recorded and skips it.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations.Load(migrations.Postgres())
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return apply(ctx, tx, m) })
		if err != nil {
			return translate("migrate "+m.Version, err)
		}
	}
	return nil
}

func apply(ctx context.Context, tx pgx.Tx, m migrations.Migration) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
		return err
	}
	var done bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`,
		m.Version).Scan(&done)
	if err != nil || done {
		return err
	}
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
	return err
}
