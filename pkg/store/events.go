package store

import "context"

// EventKind says what an Event names.
type EventKind string

// Event kinds.
const (
	// EventToken: the token with hash Event.Key was revoked.
	EventToken EventKind = "token"
	// EventAPIKey: the API key with hash Event.Key (its current or its
	// previous hash) was changed (enabled, disabled, given to another
	// user, rotated) or deleted.
	EventAPIKey EventKind = "apikey"
	// EventUser: every token of user Event.Key was revoked.
	EventUser EventKind = "user"
)

// Event tells caches that a credential changed. Tokens and keys are named
// by their stored hash, never by the secret.
type Event struct {
	Kind EventKind
	Key  string
}

// NotifyHandler receives what a Notifier delivers. Its methods are called
// from one goroutine and must not block for long.
type NotifyHandler interface {
	// Connected is called each time delivery (re)starts. Events published
	// while it was not running are lost, so caches must be dropped here.
	Connected()
	// Disconnected is called when delivery stops; until the next
	// Connected, nothing cached may be trusted.
	Disconnected(err error)
	// Event is called for every event published by any process sharing
	// the database, this one included.
	Event(Event)
}

// Notifier is implemented by stores that several processes share
// (PostgreSQL). Their TokenStore and APIKeyStore methods publish an Event in
// the same transaction as each revocation: DeleteToken and RenewToken
// (EventToken), DeleteUserTokens (EventUser), UpdateAPIKey and DeleteAPIKey
// (EventAPIKey for the key's hash, and for its previous hash while it has
// one), DisableUserAPIKeys (the same for every key it changed),
// RotateAPIKey (EventAPIKey for the hashes it replaced).
// A store used by one process only (SQLite) does not implement it; the
// process invalidates its own cache.
type Notifier interface {
	// Listen delivers events to h until ctx is done, reconnecting by itself
	// after a failure (calling Disconnected, then Connected once delivery is
	// back). It returns ctx's error.
	Listen(ctx context.Context, h NotifyHandler) error
}
