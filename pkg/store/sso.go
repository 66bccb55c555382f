package store

import (
	"context"
	"time"
)

// PendingLogin is a single sign-on login that has been sent to the
// identity provider and not yet come back: what the callback needs to
// finish it. It is kept in the store, not in the replica that began it, so
// that any replica can finish a login another began.
//
// Nothing in it lets a database reader finish the login: the row is found
// by a hash of the state (which only the browser holds), the nonce is kept
// as a hash, and the PKCE verifier is sealed with a key derived from the
// state.
type PendingLogin struct {
	// StateHash is the SHA-256 of the state parameter, hex: the key.
	StateHash string
	// NonceHash is the SHA-256 of the nonce sent to the provider, hex.
	NonceHash string
	// Verifier is the PKCE code verifier and, for a browser login, the
	// hash of its login-binding cookie, sealed (opaque to the store).
	Verifier []byte
	// Next is where the browser goes after the login (a path on this
	// server); empty for a terminal login.
	Next string
	// RedirectURI is the redirect_uri sent to the provider, which the code
	// exchange must repeat.
	RedirectURI string
	// CreatedAt and ExpiresAt bound the login's life.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PendingLoginStore keeps pending single sign-on logins.
type PendingLoginStore interface {
	// CreatePendingLogin stores l; ErrAlreadyExists if its StateHash is
	// taken.
	CreatePendingLogin(ctx context.Context, l PendingLogin) error
	// ConsumePendingLogin deletes and returns the login with that state
	// hash, atomically: of two concurrent calls at most one gets it. A
	// login that expired at or before now is deleted too but reported as
	// ErrNotFound, like an unknown one.
	ConsumePendingLogin(ctx context.Context, stateHash string, now time.Time) (PendingLogin, error)
	// PurgePendingLogins deletes the logins that expired before before and
	// returns how many.
	PurgePendingLogins(ctx context.Context, before time.Time) (int, error)
}
