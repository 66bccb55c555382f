package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

const tokenColumns = `id, token_hash, username, groups, metadata, service, created_at, expires_at, scope, session`

// CreateToken inserts t. store.ErrAlreadyExists if its ID or Hash is taken.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	groups, meta, err := encodeTokenJSON(t)
	if err != nil {
		return fmt.Errorf("sqlite: create token: %w", err)
	}
	return s.write(ctx, "create token", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (`+tokenColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Hash, t.User, groups, meta, t.Service, micros(t.CreatedAt), micros(t.ExpiresAt), t.Scope, t.Session)
		return err
	})
}

// TokenByHash returns the token with that hash, expired or not.
// store.ErrNotFound if there is none.
func (s *Store) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE token_hash = ?`, hash)
	t, err := scanToken(row)
	return t, translate("token by hash", err)
}

// TokenByID returns the token with that id, expired or not.
// store.ErrNotFound if there is none.
func (s *Store) TokenByID(ctx context.Context, id string) (store.Token, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id)
	t, err := scanToken(row)
	return t, translate("token by id", err)
}

// ListTokens returns the live tokens of f.User, oldest first.
func (s *Store) ListTokens(ctx context.Context, f store.TokenFilter) ([]store.Token, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens
		WHERE username = ? AND expires_at > ? ORDER BY created_at, id LIMIT ?`, f.User, micros(f.Now), limit)
	if err != nil {
		return nil, translate("list tokens", err)
	}
	defer rows.Close()
	tokens := []store.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, translate("list tokens", err)
		}
		tokens = append(tokens, t)
	}
	return tokens, translate("list tokens", rows.Err())
}

// RenewToken sets the expiry of the token with that hash.
// store.ErrNotFound if there is none.
func (s *Store) RenewToken(ctx context.Context, hash string, expires time.Time) error {
	return s.write(ctx, "renew token", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET expires_at = ? WHERE token_hash = ?`, micros(expires), hash)
		return oneRow(res, err)
	})
}

// DeleteToken removes the token with that hash and reports whether it
// existed.
func (s *Store) DeleteToken(ctx context.Context, hash string) (bool, error) {
	n, err := s.exec(ctx, "delete token", `DELETE FROM tokens WHERE token_hash = ?`, hash)
	return n > 0, err
}

// DeleteUserTokens removes every token of user and returns their hashes.
func (s *Store) DeleteUserTokens(ctx context.Context, user string) ([]string, error) {
	var hashes []string
	err := s.write(ctx, "delete user tokens", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM tokens WHERE username = ? RETURNING token_hash`, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				return err
			}
			hashes = append(hashes, h)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return hashes, nil
}

// PurgeExpiredTokens deletes at most limit tokens that expired between
// from and now, oldest expiry first, and returns how many it deleted and
// the latest expiry among them.
func (s *Store) PurgeExpiredTokens(ctx context.Context, from, now time.Time, limit int) (int, time.Time, error) {
	if limit <= 0 {
		return 0, from, nil
	}
	n, last := 0, micros(from)
	err := s.write(ctx, "purge expired tokens", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM tokens WHERE id IN (
				SELECT id FROM tokens WHERE expires_at >= ? AND expires_at <= ? ORDER BY expires_at LIMIT ?)
			RETURNING expires_at`, micros(from), micros(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var exp int64
			if err := rows.Scan(&exp); err != nil {
				return err
			}
			n, last = n+1, max(last, exp)
		}
		return rows.Err()
	})
	if err != nil || n == 0 {
		return 0, from, err
	}
	return n, fromMicros(last), nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanToken(row scanner) (store.Token, error) {
	var (
		t                store.Token
		groups, meta     string
		created, expires int64
	)
	err := row.Scan(&t.ID, &t.Hash, &t.User, &groups, &meta, &t.Service, &created, &expires, &t.Scope, &t.Session)
	if err != nil {
		return store.Token{}, err
	}
	if err := json.Unmarshal([]byte(groups), &t.Groups); err != nil {
		return store.Token{}, fmt.Errorf("groups of token %s: %w", t.ID, err)
	}
	if t.Groups == nil {
		t.Groups = []string{}
	}
	if t.Metadata, err = decodeMetadata(meta); err != nil {
		return store.Token{}, fmt.Errorf("metadata of token %s: %w", t.ID, err)
	}
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	return t, nil
}

func encodeTokenJSON(t store.Token) (groups, meta string, err error) {
	g := t.Groups
	if g == nil {
		g = []string{}
	}
	b, err := json.Marshal(g)
	if err != nil {
		return "", "", fmt.Errorf("groups: %w", err)
	}
	meta, err = encodeMetadata(t.Metadata)
	return string(b), meta, err
}
