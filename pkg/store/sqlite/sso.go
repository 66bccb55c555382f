package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// CreatePendingLogin stores a single sign-on login on its way to the
// provider.
func (s *Store) CreatePendingLogin(ctx context.Context, l store.PendingLogin) error {
	return s.write(ctx, "create pending login", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pending_logins
			(state_hash, nonce_hash, verifier, next, redirect_uri, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			l.StateHash, l.NonceHash, l.Verifier, l.Next, l.RedirectURI, micros(l.CreatedAt), micros(l.ExpiresAt))
		return err
	})
}

// ConsumePendingLogin deletes and returns one pending login: the DELETE …
// RETURNING is one statement, so a state can be used once.
func (s *Store) ConsumePendingLogin(ctx context.Context, stateHash string, now time.Time) (store.PendingLogin, error) {
	var (
		l                  store.PendingLogin
		created, expiresAt int64
	)
	err := s.write(ctx, "consume pending login", func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM pending_logins WHERE state_hash = ?
			RETURNING state_hash, nonce_hash, verifier, next, redirect_uri, created_at, expires_at`, stateHash).
			Scan(&l.StateHash, &l.NonceHash, &l.Verifier, &l.Next, &l.RedirectURI, &created, &expiresAt)
	})
	if err != nil {
		return store.PendingLogin{}, err
	}
	l.CreatedAt, l.ExpiresAt = fromMicros(created), fromMicros(expiresAt)
	if !l.ExpiresAt.After(now) {
		return store.PendingLogin{}, translate("consume pending login", sql.ErrNoRows)
	}
	return l, nil
}

// PurgePendingLogins deletes the logins that expired before before.
func (s *Store) PurgePendingLogins(ctx context.Context, before time.Time) (int, error) {
	n, err := s.exec(ctx, "purge pending logins", `DELETE FROM pending_logins WHERE expires_at < ?`, micros(before))
	return int(n), err
}
