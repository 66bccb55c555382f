package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// RecordAuthenticator records key until expires, or returns
// store.ErrAlreadyExists when it is recorded and not yet expired.
func (s *Store) RecordAuthenticator(ctx context.Context, key string, now, expires time.Time) error {
	n, err := s.exec(ctx, "record authenticator", `INSERT INTO kerberos_replay (key, expires_at) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
			WHERE kerberos_replay.expires_at <= ?`, key, micros(expires), micros(now))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("sqlite: record authenticator: %w", store.ErrAlreadyExists)
	}
	return nil
}

// PurgeAuthenticators deletes at most limit records expired before before.
func (s *Store) PurgeAuthenticators(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	n, err := s.exec(ctx, "purge authenticators", `DELETE FROM kerberos_replay WHERE key IN
			(SELECT key FROM kerberos_replay WHERE expires_at < ? ORDER BY expires_at LIMIT ?)`, micros(before), limit)
	return int(n), err
}
