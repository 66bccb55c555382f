package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// CountFailures returns the failures of each key at or after since.
func (s *Store) CountFailures(ctx context.Context, keys []string, since time.Time) (map[string]store.FailureCount, error) {
	out, err := countFailures(ctx, s.r, keys, since)
	return out, translate("count failures", err)
}

// RecordFailures records a failure for every key at at, then counts.
func (s *Store) RecordFailures(ctx context.Context, keys []string, at, since time.Time) (map[string]store.FailureCount, error) {
	var out map[string]store.FailureCount
	err := s.write(ctx, "record failures", func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO throttle_failures (key, at) VALUES (?, ?)`, k, micros(at)); err != nil {
				return err
			}
		}
		var err error
		out, err = countFailures(ctx, tx, keys, since)
		return err
	})
	return out, err
}

func countFailures(ctx context.Context, q querier, keys []string, since time.Time) (map[string]store.FailureCount, error) {
	out := map[string]store.FailureCount{}
	if len(keys) == 0 {
		return out, nil
	}
	args := []any{micros(since)}
	for _, k := range keys {
		args = append(args, k)
	}
	rows, err := q.QueryContext(ctx, `SELECT key, count(*), min(at) FROM throttle_failures
		WHERE at >= ? AND key IN (?`+strings.Repeat(", ?", len(keys)-1)+`) GROUP BY key`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k      string
			n      int
			oldest int64
		)
		if err := rows.Scan(&k, &n, &oldest); err != nil {
			return nil, err
		}
		out[k] = store.FailureCount{N: n, Oldest: fromMicros(oldest)}
	}
	return out, rows.Err()
}

// ClearFailures forgets every failure of the keys.
func (s *Store) ClearFailures(ctx context.Context, keys ...string) error {
	return s.write(ctx, "clear failures", func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM throttle_failures WHERE key = ?`, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClearFailuresPrefix forgets every failure of the keys starting with
// prefix. substr rather than LIKE, so no character of prefix is special.
func (s *Store) ClearFailuresPrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return nil
	}
	return s.write(ctx, "clear failures by prefix", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM throttle_failures WHERE substr(key, 1, ?) = ?`, len(prefix), prefix)
		return err
	})
}

// PurgeFailures deletes at most limit failures recorded before before.
func (s *Store) PurgeFailures(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	n, err := s.exec(ctx, "purge failures", `DELETE FROM throttle_failures WHERE rowid IN
			(SELECT rowid FROM throttle_failures WHERE at < ? ORDER BY at LIMIT ?)`, micros(before), limit)
	return int(n), err
}
