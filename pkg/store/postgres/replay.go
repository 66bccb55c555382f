package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// RecordAuthenticator records key until expires, or returns
// store.ErrAlreadyExists when it is recorded and not yet expired. The
// upsert is one statement, so two replicas racing on one key cannot both
// succeed.
func (s *Store) RecordAuthenticator(ctx context.Context, key string, now, expires time.Time) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO kerberos_replay (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
		WHERE kerberos_replay.expires_at <= $3`, key, ts(expires), ts(now))
	if err != nil {
		return translate("record authenticator", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: record authenticator: %w", store.ErrAlreadyExists)
	}
	return nil
}

// PurgeAuthenticators deletes at most limit records expired before before.
func (s *Store) PurgeAuthenticators(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM kerberos_replay WHERE key IN
		(SELECT key FROM kerberos_replay WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(before), limit)
	if err != nil {
		return 0, translate("purge authenticators", err)
	}
	return int(tag.RowsAffected()), nil
}
