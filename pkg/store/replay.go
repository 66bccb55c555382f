package store

import (
	"context"
	"time"
)

// ReplayStore remembers the Kerberos authenticators that were accepted,
// so that one replayed to any replica sharing the database is refused.
// Keys are opaque hashes (backend.Ticket.ReplayKey): nothing secret.
type ReplayStore interface {
	// RecordAuthenticator records key until expires. It returns
	// ErrAlreadyExists when key is recorded already with an expiry after
	// now (a replay); a record that has expired is replaced. Two
	// concurrent calls with one key: exactly one succeeds.
	RecordAuthenticator(ctx context.Context, key string, now, expires time.Time) error
	// PurgeAuthenticators deletes at most limit records that expired
	// before before and returns how many it deleted.
	PurgeAuthenticators(ctx context.Context, before time.Time, limit int) (int, error)
}
