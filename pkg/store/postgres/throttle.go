package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

const countFailuresSQL = `SELECT key, count(*), min(at) FROM throttle_failures
	WHERE at >= $1 AND key = ANY($2) GROUP BY key`

// CountFailures returns the failures of each key at or after since.
func (s *Store) CountFailures(ctx context.Context, keys []string, since time.Time) (map[string]store.FailureCount, error) {
	rows, err := s.pool.Query(ctx, countFailuresSQL, ts(since), keys)
	if err != nil {
		return nil, translate("count failures", err)
	}
	out, err := scanFailures(rows)
	return out, translate("count failures", err)
}

// RecordFailures records a failure for every key at at, then counts, in one
// statement: the insert's rows are visible to the count through the CTE.
func (s *Store) RecordFailures(ctx context.Context, keys []string, at, since time.Time) (map[string]store.FailureCount, error) {
	rows, err := s.pool.Query(ctx, `WITH ins AS (
			INSERT INTO throttle_failures (key, at) SELECT unnest($2::text[]), $3 RETURNING key, at
		), all_rows AS (
			SELECT key, at FROM throttle_failures WHERE at >= $1 AND key = ANY($2)
			UNION ALL SELECT key, at FROM ins
		)
		SELECT key, count(*), min(at) FROM all_rows GROUP BY key`, ts(since), keys, ts(at))
	if err != nil {
		return nil, translate("record failures", err)
	}
	out, err := scanFailures(rows)
	return out, translate("record failures", err)
}

func scanFailures(rows pgx.Rows) (map[string]store.FailureCount, error) {
	defer rows.Close()
	out := map[string]store.FailureCount{}
	for rows.Next() {
		var (
			k      string
			n      int
			oldest time.Time
		)
		if err := rows.Scan(&k, &n, &oldest); err != nil {
			return nil, err
		}
		out[k] = store.FailureCount{N: n, Oldest: oldest.UTC()}
	}
	return out, rows.Err()
}

// ClearFailures forgets every failure of the keys.
func (s *Store) ClearFailures(ctx context.Context, keys ...string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM throttle_failures WHERE key = ANY($1)`, keys)
	return translate("clear failures", err)
}

// ClearFailuresPrefix forgets every failure of the keys starting with
// prefix. starts_with rather than LIKE, so no character of prefix is
// special.
func (s *Store) ClearFailuresPrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM throttle_failures WHERE starts_with(key, $1)`, prefix)
	return translate("clear failures by prefix", err)
}

// PurgeFailures deletes at most limit failures recorded before before.
func (s *Store) PurgeFailures(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM throttle_failures WHERE ctid IN
		(SELECT ctid FROM throttle_failures WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(before), limit)
	if err != nil {
		return 0, translate("purge failures", err)
	}
	return int(tag.RowsAffected()), nil
}
