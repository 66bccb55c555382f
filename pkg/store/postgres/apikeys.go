package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

const apiKeyColumns = `id, key_hash, username, metadata, created_at, enabled, locked, scope, expires_at,
	last_used_at, prev_key_hash, prev_expires_at`

// CreateAPIKey inserts k. store.ErrAlreadyExists if its ID or KeyHash is
// taken.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	meta, err := encodeMetadata(k.Metadata)
	if err != nil {
		return fmt.Errorf("postgres: create api key: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		k.ID, k.KeyHash, k.User, meta, ts(k.CreatedAt), k.Enabled, k.Locked, k.Scope,
		nullTime(k.ExpiresAt), nullTime(k.LastUsedAt), nullString(k.PrevKeyHash), nullTime(k.PrevExpiresAt))
	return translate("create api key", err)
}

// APIKeyByID returns the key with that id. store.ErrNotFound if none.
func (s *Store) APIKeyByID(ctx context.Context, id string) (store.APIKey, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id)
	k, err := scanAPIKey(row)
	return k, translate("api key by id", err)
}

// APIKeyByHash returns the key whose current or previous hash is keyHash.
// store.ErrNotFound if none.
func (s *Store) APIKeyByHash(ctx context.Context, keyHash string) (store.APIKey, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE key_hash = $1 OR prev_key_hash = $1 LIMIT 1`, keyHash)
	k, err := scanAPIKey(row)
	return k, translate("api key by hash", err)
}

// ListAPIKeys returns one page of keys ordered by creation time then id,
// and the number of keys matching f. Both queries go in one round trip.
func (s *Store) ListAPIKeys(ctx context.Context, f store.APIKeyFilter) ([]store.APIKey, int, error) {
	where, args := `WHERE true`, []any{}
	if f.User != "" {
		where, args = `WHERE username = $1`, []any{f.User}
	}
	n := len(args)
	var limit any // NULL: no limit
	if f.Limit > 0 {
		limit = f.Limit
	}
	var (
		total int
		keys  []store.APIKey
		b     pgx.Batch
	)
	b.Queue(`SELECT count(*) FROM api_keys `+where, args...).QueryRow(func(row pgx.Row) error {
		return row.Scan(&total)
	})
	b.Queue(`SELECT `+apiKeyColumns+` FROM api_keys `+where+fmt.Sprintf(`
		ORDER BY created_at, id LIMIT $%d OFFSET $%d`, n+1, n+2), append(args, limit, max(f.Offset, 0))...,
	).Query(func(rows pgx.Rows) (err error) {
		keys, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.APIKey, error) { return scanAPIKey(r) })
		return err
	})
	if err := s.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, 0, translate("list api keys", err)
	}
	return keys, total, nil
}

// UpdateAPIKey replaces User, Metadata, Enabled and Locked of the key with
// k.ID, and publishes store.EventAPIKey for its hash in the same transaction.
// store.ErrNotFound if none (and nothing is published).
func (s *Store) UpdateAPIKey(ctx context.Context, k store.APIKey) error {
	meta, err := encodeMetadata(k.Metadata)
	if err != nil {
		return fmt.Errorf("postgres: update api key: %w", err)
	}
	return translate("update api key", s.changeAPIKey(ctx, `UPDATE api_keys
		SET username = $2, metadata = $3, enabled = $4, locked = $5 WHERE id = $1
		RETURNING key_hash, coalesce(prev_key_hash, '')`,
		k.ID, k.User, meta, k.Enabled, k.Locked))
}

// DisableUserAPIKeys disables and locks every key of user and returns the
// keys it changed, as they are now. It publishes store.EventAPIKey for each
// of them in the same transaction, so every replica drops them from its
// cache; changing nothing publishes nothing.
func (s *Store) DisableUserAPIKeys(ctx context.Context, user string) ([]store.APIKey, error) {
	var keys []store.APIKey
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		rows, _ := tx.Query(ctx, `UPDATE api_keys SET enabled = false, locked = true
			WHERE username = $1 AND (enabled OR NOT locked) RETURNING `+apiKeyColumns, user)
		keys, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.APIKey, error) { return scanAPIKey(r) })
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := s.publishKey(ctx, tx, k.PrevKeyHash, k.KeyHash); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, translate("disable user api keys", err)
	}
	return keys, nil
}

// DeleteAPIKey removes the key with that id, and publishes
// store.EventAPIKey for its hash in the same transaction.
// store.ErrNotFound if none (and nothing is published).
func (s *Store) DeleteAPIKey(ctx context.Context, id string) error {
	return translate("delete api key", s.changeAPIKey(ctx,
		`DELETE FROM api_keys WHERE id = $1 RETURNING key_hash, coalesce(prev_key_hash, '')`, id))
}

// changeAPIKey runs sql, which changes at most one key and returns its
// key_hash and previous hash (empty for none), and publishes the events in
// the same transaction. It returns pgx.ErrNoRows if no key changed.
func (s *Store) changeAPIKey(ctx context.Context, sql string, args ...any) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var hash, prev string
		if err := tx.QueryRow(ctx, sql, args...).Scan(&hash, &prev); err != nil {
			return err
		}
		return s.publishKey(ctx, tx, prev, hash) // the previous secret first: it is the one a rotation left in caches
	})
}

// publishKey publishes store.EventAPIKey for a key's hashes: every
// replica must forget the key under both the secret and the one it
// replaced, which may still be in its grace period.
func (s *Store) publishKey(ctx context.Context, tx pgx.Tx, hashes ...string) error {
	for _, h := range hashes {
		if h == "" {
			continue
		}
		if err := s.publish(ctx, tx, store.Event{Kind: store.EventAPIKey, Key: h}); err != nil {
			return err
		}
	}
	return nil
}

// RotateAPIKey gives the key with that id the hash newHash; the current
// hash keeps working until prevUntil. It publishes store.EventAPIKey for
// the current and the previous hash in the same transaction, so that every
// replica looks them up again and learns when the old one stops.
func (s *Store) RotateAPIKey(ctx context.Context, id, newHash string, prevUntil time.Time) (store.APIKey, error) {
	var k store.APIKey
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var oldPrev string
		err := tx.QueryRow(ctx, `SELECT coalesce(prev_key_hash, '') FROM api_keys WHERE id = $1 FOR UPDATE`, id).Scan(&oldPrev)
		if err != nil {
			return err
		}
		row := tx.QueryRow(ctx, `UPDATE api_keys SET prev_key_hash = key_hash, prev_expires_at = $2,
			key_hash = $3 WHERE id = $1 RETURNING `+apiKeyColumns, id, ts(prevUntil), newHash)
		if k, err = scanAPIKey(row); err != nil {
			return err
		}
		return s.publishKey(ctx, tx, k.PrevKeyHash, oldPrev)
	})
	if err != nil {
		return store.APIKey{}, translate("rotate api key", err)
	}
	return k, nil
}

// TouchAPIKey sets last_used_at of the key with that id to at unless it
// was set less than a minute before at. It publishes nothing: no replica
// caches it.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`, id, ts(at))
	if err != nil {
		return false, translate("touch api key", err)
	}
	return tag.RowsAffected() > 0, nil
}

func scanAPIKey(row pgx.Row) (store.APIKey, error) {
	var (
		k                        store.APIKey
		meta                     []byte
		expires, used, prevUntil pgtype.Timestamptz
		prev                     pgtype.Text
	)
	if err := row.Scan(&k.ID, &k.KeyHash, &k.User, &meta, &k.CreatedAt, &k.Enabled, &k.Locked, &k.Scope,
		&expires, &used, &prev, &prevUntil); err != nil {
		return store.APIKey{}, err
	}
	k.ExpiresAt, k.LastUsedAt, k.PrevExpiresAt = fromNullTime(expires), fromNullTime(used), fromNullTime(prevUntil)
	k.PrevKeyHash = prev.String
	var err error
	if k.Metadata, err = decodeMetadata(meta); err != nil {
		return store.APIKey{}, fmt.Errorf("metadata of api key %s: %w", k.ID, err)
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}
