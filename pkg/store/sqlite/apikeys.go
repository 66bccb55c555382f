package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

const apiKeyColumns = `id, key_hash, username, metadata, created_at, enabled, locked, scope, expires_at,
	last_used_at, prev_key_hash, prev_expires_at`

// CreateAPIKey inserts k. store.ErrAlreadyExists if its ID or KeyHash is
// taken.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	meta, err := encodeMetadata(k.Metadata)
	if err != nil {
		return fmt.Errorf("sqlite: create api key: %w", err)
	}
	return s.write(ctx, "create api key", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.KeyHash, k.User, meta, micros(k.CreatedAt), k.Enabled, k.Locked, k.Scope,
			nullMicros(k.ExpiresAt), nullMicros(k.LastUsedAt), nullString(k.PrevKeyHash), nullMicros(k.PrevExpiresAt))
		return err
	})
}

// APIKeyByID returns the key with that id. store.ErrNotFound if none.
func (s *Store) APIKeyByID(ctx context.Context, id string) (store.APIKey, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id)
	k, err := scanAPIKey(row)
	return k, translate("api key by id", err)
}

// APIKeyByHash returns the key whose current or previous hash is keyHash.
// store.ErrNotFound if none.
func (s *Store) APIKeyByHash(ctx context.Context, keyHash string) (store.APIKey, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE key_hash = ?1 OR prev_key_hash = ?1 LIMIT 1`, keyHash)
	k, err := scanAPIKey(row)
	return k, translate("api key by hash", err)
}

// ListAPIKeys returns one page of keys ordered by creation time then id,
// and the number of keys matching f. Both come from one snapshot.
func (s *Store) ListAPIKeys(ctx context.Context, f store.APIKeyFilter) ([]store.APIKey, int, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, translate("list api keys", err)
	}
	defer tx.Rollback()
	where, args := `WHERE 1 = 1`, []any{}
	if f.User != "" {
		where, args = `WHERE username = ?`, []any{f.User}
	}
	var total int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM api_keys `+where, args...).Scan(&total)
	if err != nil {
		return nil, 0, translate("list api keys", err)
	}
	keys, err := listAPIKeys(ctx, tx, where, args, f)
	if err != nil {
		return nil, 0, translate("list api keys", err)
	}
	return keys, total, nil
}

func listAPIKeys(ctx context.Context, tx *sql.Tx, where string, args []any, f store.APIKeyFilter) ([]store.APIKey, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys `+where+`
		ORDER BY created_at, id LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := []store.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// UpdateAPIKey replaces User, Metadata, Enabled and Locked of the key with
// k.ID. store.ErrNotFound if none.
func (s *Store) UpdateAPIKey(ctx context.Context, k store.APIKey) error {
	meta, err := encodeMetadata(k.Metadata)
	if err != nil {
		return fmt.Errorf("sqlite: update api key: %w", err)
	}
	return s.write(ctx, "update api key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET username = ?, metadata = ?, enabled = ?,
			locked = ? WHERE id = ?`, k.User, meta, k.Enabled, k.Locked, k.ID)
		return oneRow(res, err)
	})
}

// RotateAPIKey gives the key with that id the hash newHash; the current
// hash keeps working until prevUntil.
func (s *Store) RotateAPIKey(ctx context.Context, id, newHash string, prevUntil time.Time) (store.APIKey, error) {
	var k store.APIKey
	err := s.write(ctx, "rotate api key", func(tx *sql.Tx) (err error) {
		row := tx.QueryRowContext(ctx, `UPDATE api_keys SET prev_key_hash = key_hash, prev_expires_at = ?,
			key_hash = ? WHERE id = ? RETURNING `+apiKeyColumns, micros(prevUntil), newHash, id)
		k, err = scanAPIKey(row)
		return err
	})
	return k, err
}

// TouchAPIKey sets last_used_at of the key with that id to at unless it
// was set less than a minute before at.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) (bool, error) {
	n, err := s.exec(ctx, "touch api key", `UPDATE api_keys SET last_used_at = ?1
			WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?1 - 60000000)`, micros(at), id)
	return n > 0, err
}

// DisableUserAPIKeys disables and locks every key of user and returns the
// keys it changed, as they are now.
func (s *Store) DisableUserAPIKeys(ctx context.Context, user string) ([]store.APIKey, error) {
	var keys []store.APIKey
	err := s.write(ctx, "disable user api keys", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE api_keys SET enabled = 0, locked = 1
			WHERE username = ? AND (enabled = 1 OR locked = 0) RETURNING `+apiKeyColumns, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanAPIKey(rows)
			if err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// DeleteAPIKey removes the key with that id. store.ErrNotFound if none.
func (s *Store) DeleteAPIKey(ctx context.Context, id string) error {
	return s.write(ctx, "delete api key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ?`, id)
		return oneRow(res, err)
	})
}

// oneRow returns sql.ErrNoRows, which translate turns into
// store.ErrNotFound, if the statement touched no row.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		return sql.ErrNoRows
	}
	return err
}

func scanAPIKey(row scanner) (store.APIKey, error) {
	var (
		k                        store.APIKey
		meta                     string
		created                  int64
		expires, used, prevUntil sql.NullInt64
		prev                     sql.NullString
	)
	if err := row.Scan(&k.ID, &k.KeyHash, &k.User, &meta, &created, &k.Enabled, &k.Locked, &k.Scope,
		&expires, &used, &prev, &prevUntil); err != nil {
		return store.APIKey{}, err
	}
	k.ExpiresAt, k.LastUsedAt, k.PrevExpiresAt = fromNullMicros(expires), fromNullMicros(used), fromNullMicros(prevUntil)
	k.PrevKeyHash = prev.String
	var err error
	if k.Metadata, err = decodeMetadata(meta); err != nil {
		return store.APIKey{}, fmt.Errorf("metadata of api key %s: %w", k.ID, err)
	}
	k.CreatedAt = fromMicros(created)
	return k, nil
}
