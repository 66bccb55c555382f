// Package store defines where Gatehouse keeps tokens and API keys.
//
// Two implementations pass the shared conformance suite in storetest:
// postgres (pgx, for replicas sharing one database) and sqlite
// (modernc.org/sqlite, the embedded default). Neither ever holds a token or
// key in a form that can be turned back into the secret: tokens are kept as
// SHA-256 hex of the token, keys as hex(sha512("saltnpepper"+key)), st2's
// format, so key hashes exported from StackStorm keep working.
package store

import (
	"context"
	"errors"
	"io"
	"time"
)

var (
	// ErrNotFound is returned when no row matches.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists is returned when a unique id or hash is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrUnavailable wraps every other failure of the database: it could not
	// be reached, timed out, or refused the statement. Callers answer 503.
	ErrUnavailable = errors.New("store unavailable")
)

// Token is an issued access token. The token itself is never stored.
type Token struct {
	ID        string         // 24 lowercase hex characters, ObjectId-like
	Hash      string         // token.Hash of the secret: SHA-256, 64 hex
	User      string         // the user the token was issued to
	Groups    []string       // the user's groups at issue time; never nil once read back
	Metadata  map[string]any // never nil once read back
	Service   bool           // issued to a service account
	CreatedAt time.Time      // UTC, microsecond precision
	ExpiresAt time.Time      // UTC, microsecond precision
	// Scope is the token's scope, space-separated ("read",
	// "path:/hooks/a"); "" (every token made before scopes) means "write".
	Scope string
	// Session marks a browser session: the token behind the
	// gatehouse_session cookie (POST /auth/v1/session).
	Session bool
}

// APIKey is a long-lived key. The key itself is never stored.
type APIKey struct {
	ID        string         // 24 lowercase hex characters
	KeyHash   string         // hex(sha512("saltnpepper"+key)), 128 hex
	User      string         // owner
	Metadata  map[string]any // never nil once read back
	CreatedAt time.Time      // UTC, microsecond precision
	Enabled   bool
	// Locked is set when the key was disabled by an admin, revoked through
	// RFC 7009 or disabled because its user was removed: only an admin may
	// enable it again. Enabling by an admin clears it.
	Locked bool
	// Scope is the key's scope, space-separated; "" (every key made before
	// scopes, every key imported from st2) means "write".
	Scope string
	// ExpiresAt is when the key stops working; zero: never.
	ExpiresAt time.Time
	// LastUsedAt is when the key last authenticated a request, written at
	// most about once a minute; zero: never (or not since it was known).
	LastUsedAt time.Time
	// PrevKeyHash is the key's hash before its last rotation, which keeps
	// working until PrevExpiresAt; "" if the key was never rotated.
	PrevKeyHash   string
	PrevExpiresAt time.Time
}

// TokenStore keeps access tokens.
type TokenStore interface {
	// CreateToken inserts t. ErrAlreadyExists if its ID or Hash is taken.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token with that hash, expired or not.
	// ErrNotFound if there is none.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// DeleteToken removes the token with that hash. Deleting a token that
	// does not exist is not an error; deleted reports whether one existed.
	DeleteToken(ctx context.Context, hash string) (deleted bool, err error)
	// DeleteUserTokens removes every token of user and returns their hashes.
	DeleteUserTokens(ctx context.Context, user string) (hashes []string, err error)
	// TokenByID returns the token with that id, expired or not.
	// ErrNotFound if there is none.
	TokenByID(ctx context.Context, id string) (Token, error)
	// ListTokens returns the tokens of f.User that expire after f.Now,
	// ordered by creation time then id, at most f.Limit of them (<= 0: no
	// limit).
	ListTokens(ctx context.Context, f TokenFilter) ([]Token, error)
	// RenewToken sets the expiry of the token with that hash to expires.
	// ErrNotFound if there is none. A shared store publishes EventToken,
	// so that replicas forget the old expiry.
	RenewToken(ctx context.Context, hash string, expires time.Time) error
	// PurgeExpiredTokens deletes at most limit tokens whose expiry is at or
	// after from and at or before now, oldest expiry first, and returns how
	// many it deleted and the latest expiry among them (from, when none):
	// the from of the next batch, so a purge in batches never reads again
	// what it deleted (PostgreSQL keeps a deleted row's index entries until
	// VACUUM, and a scan from the start would step over all of them every
	// batch). A limit <= 0 deletes nothing.
	PurgeExpiredTokens(ctx context.Context, from, now time.Time, limit int) (int, time.Time, error)
}

// TokenFilter narrows ListTokens.
type TokenFilter struct {
	User  string    // required: this user's tokens
	Now   time.Time // only tokens expiring after Now
	Limit int       // at most this many; <= 0 means no limit
}

// APIKeyFilter narrows ListAPIKeys.
type APIKeyFilter struct {
	User   string // only this user's keys; "" means every user's
	Limit  int    // at most this many; <= 0 means no limit
	Offset int    // skip this many
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	// CreateAPIKey inserts k. ErrAlreadyExists if its ID or KeyHash is taken.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// APIKeyByID returns the key with that id. ErrNotFound if none.
	APIKeyByID(ctx context.Context, id string) (APIKey, error)
	// APIKeyByHash returns the key whose KeyHash or PrevKeyHash is
	// keyHash (the caller compares to tell which, and checks
	// PrevExpiresAt). ErrNotFound if none.
	APIKeyByHash(ctx context.Context, keyHash string) (APIKey, error)
	// ListAPIKeys returns one page of keys ordered by creation time then id,
	// and the total number of keys matching f (ignoring Limit and Offset).
	ListAPIKeys(ctx context.Context, f APIKeyFilter) (keys []APIKey, total int, err error)
	// UpdateAPIKey replaces User, Metadata, Enabled and Locked of the key
	// with k.ID; ID, KeyHash, CreatedAt, Scope, ExpiresAt and the rotation
	// fields never change here. ErrNotFound if none.
	UpdateAPIKey(ctx context.Context, k APIKey) error
	// RotateAPIKey gives the key with that id the hash newHash: its
	// current hash becomes PrevKeyHash, working until prevUntil (a
	// previous PrevKeyHash stops working at once). It returns the key as
	// it is now. ErrNotFound if none; ErrAlreadyExists if newHash is taken.
	// A shared store publishes EventAPIKey for the hashes replaced.
	RotateAPIKey(ctx context.Context, id, newHash string, prevUntil time.Time) (APIKey, error)
	// TouchAPIKey sets LastUsedAt of the key with that id to at, unless
	// it is already later than at minus a minute; it reports whether it
	// wrote. A missing key is not an error (it wrote nothing).
	TouchAPIKey(ctx context.Context, id string, at time.Time) (bool, error)
	// DisableUserAPIKeys disables and locks every key of user, in one
	// transaction, and returns the keys it changed as they are now (keys
	// already disabled and locked are left alone and not returned).
	DisableUserAPIKeys(ctx context.Context, user string) ([]APIKey, error)
	// DeleteAPIKey removes the key with that id. ErrNotFound if none.
	DeleteAPIKey(ctx context.Context, id string) error
}

// Store is everything Gatehouse keeps.
//
// Every method honours ctx: once it is done the call returns promptly with
// an error. Implementations return ErrNotFound and ErrAlreadyExists as
// documented above, and wrap every other failure so that
// errors.Is(err, ErrUnavailable) holds (see Unavailable). Times are stored
// with microsecond precision (truncated) and read back in UTC. A Store is
// safe for concurrent use.
type Store interface {
	TokenStore
	APIKeyStore
	ThrottleStore
	UserStore
	ReplayStore
	PendingLoginStore
	// Ping checks that the database answers. It is cheap enough for every
	// health check.
	Ping(ctx context.Context) error
	io.Closer
}

// PoolStats is a snapshot of a store's connection pool, for metrics.
type PoolStats struct {
	Max    int   // the most connections the pool will open
	Open   int   // connections open now
	InUse  int   // connections handed out now
	Waited int64 // how many times a caller had to wait for a connection
}

// PoolStater is implemented by stores that can report their pool.
type PoolStater interface {
	PoolStats() PoolStats
}
