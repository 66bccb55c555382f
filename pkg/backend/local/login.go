package local

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Authenticate checks username and password against the user of that
// name (matched exactly, as the store does).
//
// An unknown user, an inactive user and a wrong password all return
// backend.ErrInvalidCredentials, unwrapped, after one hash of the same
// cost (a dummy argon2id hash at the configured parameters for an unknown
// user). An empty password and a name that is not backend.PlainName are
// refused before the store is asked. A store failure returns an error
// wrapping backend.ErrUnavailable; no free hashing slot, backend.ErrBusy.
//
// Identity carries the user's Name, Groups and MustChangePassword; a user
// who must change the password is still accepted, and the caller decides.
// A right password under an outdated hash (bcrypt, or other argon2id
// parameters) is re-hashed and saved; a failure to save is only logged.
func (b *Backend) Authenticate(ctx context.Context, username, password string) (backend.Identity, error) {
	return backend.Decide(b.Probe(ctx, username, password))
}

// Probe is Authenticate telling a name that is not in the store (Unknown)
// from a refused one (Refused): an inactive user, a wrong password and a
// hash that can never match are the store's and Refused, so a chain never
// hands such a name to a later backend.
func (b *Backend) Probe(ctx context.Context, username, password string) (backend.Identity, backend.Verdict, error) {
	if password == "" || !backend.PlainName(username) {
		return backend.Identity{}, backend.Refused, nil
	}
	u, found, err := b.lookup(ctx, username)
	if err != nil {
		return backend.Identity{}, backend.Refused, err
	}
	v, newHash, err := b.check(ctx, u, found, password)
	if err != nil || v != backend.Accepted {
		return backend.Identity{}, v, err
	}
	if newHash != "" {
		b.saveHash(ctx, u, newHash)
	}
	return backend.Identity{Username: u.Name, Groups: u.Groups, MustChangePassword: u.MustChangePassword},
		backend.Accepted, nil
}

// spendPassword is what Spend hashes; any password costs the same.
const spendPassword = "gatehouse-spend"

// Spend checks a password against the dummy hash, as an unknown user
// costs, in a hashing slot. It returns at once if no slot is free in time
// or ctx is done.
func (b *Backend) Spend(ctx context.Context) {
	if b.slots.Acquire(ctx) != nil {
		return
	}
	defer b.slots.Release()
	b.dummy.verify(spendPassword)
}

// lookup reads the user. Not finding it is not an error; not being able
// to ask is.
func (b *Backend) lookup(ctx context.Context, name string) (store.User, bool, error) {
	if err := ctx.Err(); err != nil {
		return store.User{}, false, fmt.Errorf("local: %w: %w", backend.ErrUnavailable, err)
	}
	u, err := b.users.UserByName(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, false, nil
	case err != nil:
		return store.User{}, false, fmt.Errorf("local: read user: %w: %w", backend.ErrUnavailable, err)
	}
	return u, true, nil
}

// check verifies password in a hashing slot: against u's hash if found,
// else against the dummy. When the password is right and the hash
// outdated, it also returns the new hash, made in the same slot.
func (b *Backend) check(ctx context.Context, u store.User, found bool, password string) (backend.Verdict, string, error) {
	if err := b.slots.Acquire(ctx); err != nil {
		return backend.Refused, "", err
	}
	defer b.slots.Release()
	if !found {
		b.dummy.verify(password)
		return backend.Unknown, "", nil
	}
	h := parseStored(u.PasswordHash)
	if h.kind == kindUnusable {
		b.log.Warn("local: the stored password hash is malformed or of an unknown scheme; refusing", "user", u.Name)
		b.dummy.verify(password)
		return backend.Refused, "", nil
	}
	if !h.verify(password) || !u.Active {
		return backend.Refused, "", nil
	}
	if !h.outdated(b.params) {
		return backend.Accepted, "", nil
	}
	newHash, err := HashPassword(password, b.params)
	if err != nil {
		b.log.Warn("local: cannot re-hash the password", "user", u.Name, "error", err.Error())
	}
	return backend.Accepted, newHash, nil
}

// saveHash stores newHash for old's user, read again first so that a
// change made meanwhile (an admin disabling the user, a new password) is
// kept rather than overwritten: if the hash changed, the new one is left
// alone. The password's change time is kept, since the password did not
// change. Failures are logged; the login has succeeded anyway.
func (b *Backend) saveHash(ctx context.Context, old store.User, newHash string) {
	cur, err := b.users.UserByName(ctx, old.Name)
	if err == nil && cur.PasswordHash != old.PasswordHash {
		return
	}
	if err == nil {
		cur.PasswordHash = newHash
		err = b.users.UpdateUser(ctx, cur)
	}
	if err != nil {
		b.log.Warn("local: cannot save the re-hashed password; keeping the old hash", "user", old.Name,
			"error", err.Error())
		return
	}
	b.log.Info("local: password re-hashed", "user", old.Name,
		"from", parseStored(old.PasswordHash).String(), "to", "argon2id "+b.params.String())
}
