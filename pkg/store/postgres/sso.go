package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// CreatePendingLogin stores a single sign-on login on its way to the
// provider.
func (s *Store) CreatePendingLogin(ctx context.Context, l store.PendingLogin) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO pending_logins
		(state_hash, nonce_hash, verifier, next, redirect_uri, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		l.StateHash, l.NonceHash, l.Verifier, l.Next, l.RedirectURI, ts(l.CreatedAt), ts(l.ExpiresAt))
	return translate("create pending login", err)
}

// ConsumePendingLogin deletes and returns one pending login: the DELETE …
// RETURNING is one statement, so of two replicas finishing the same state
// at most one gets the row.
func (s *Store) ConsumePendingLogin(ctx context.Context, stateHash string, now time.Time) (store.PendingLogin, error) {
	var l store.PendingLogin
	err := s.pool.QueryRow(ctx, `DELETE FROM pending_logins WHERE state_hash = $1
		RETURNING state_hash, nonce_hash, verifier, next, redirect_uri, created_at, expires_at`, stateHash).
		Scan(&l.StateHash, &l.NonceHash, &l.Verifier, &l.Next, &l.RedirectURI, &l.CreatedAt, &l.ExpiresAt)
	if err != nil {
		return store.PendingLogin{}, translate("consume pending login", err)
	}
	l.CreatedAt, l.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	if !l.ExpiresAt.After(now) {
		return store.PendingLogin{}, translate("consume pending login", pgx.ErrNoRows)
	}
	return l, nil
}

// PurgePendingLogins deletes the logins that expired before before.
func (s *Store) PurgePendingLogins(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM pending_logins WHERE expires_at < $1`, ts(before))
	if err != nil {
		return 0, translate("purge pending logins", err)
	}
	return int(tag.RowsAffected()), nil
}
