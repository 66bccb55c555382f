// Package backend defines how Gatehouse checks a user name and password,
// and the registry that maps a configured backend name to its factory.
//
// Implementations live in sub-packages (htpasswd, ldap, pam, local); this
// package imports none of them, so the binary decides which are built in.
// Package chain puts several in order (auth.backends), using the Prober
// capability defined here.
package backend

import (
	"context"
	"errors"
	"unicode/utf8"
)

// Identity is who a backend says the user is.
type Identity struct {
	// Username is the canonical user name (for LDAP, as the directory spells it).
	Username string
	// Groups holds the user's groups (for LDAP, full group DNs); nil when the
	// backend has no notion of groups.
	Groups []string
	// MustChangePassword means the password was right but must be changed
	// before a token is issued (the local backend's flag). Backends only
	// report it; callers decide what to refuse.
	MustChangePassword bool
	// Backend is the name of the backend that authenticated the user, as
	// configured (e.g. "ldap"), for introspection, /me and the audit line.
	// A chain (package chain) sets it to the link that accepted the
	// password; backends leave it empty, and a caller using one backend
	// outside a chain sets it to that backend's name when it is empty.
	Backend string
}

// Backend checks a user name and password against one identity source.
//
// Authenticate returns ErrInvalidCredentials for a wrong password, an unknown
// user, an empty password or any other refusal, so that callers cannot tell
// them apart, and ErrUnavailable (wrapped) when the identity source cannot be
// reached. Implementations must be safe for concurrent use.
type Backend interface {
	Authenticate(ctx context.Context, username, password string) (Identity, error)
}

// RemovalReporter is implemented by backends that keep their own list of
// users (flat_file) and can therefore tell when a user leaves it. The
// server asks every few seconds and cuts each removed user off: her tokens
// are deleted and her API keys disabled and locked, so that putting the name
// back revives none of them.
//
// Only removals are reported: a name that was never in the list (a service
// account's impersonated user, the owner of a key an admin made) is never
// reported. Backends that cannot list their users (pam, ldap) do not
// implement it.
type RemovalReporter interface {
	// Removed looks at the user list now, re-reading it if it changed, and
	// returns the names that have left it since the last call, each once.
	// It returns promptly, and an error only if ctx is done.
	Removed(ctx context.Context) ([]string, error)
}

// PasswordChangeReporter is implemented by backends that keep their own
// list of users with their password hashes (flat_file): they can tell
// when a user's password was set outside Gatehouse (`gatehouse htpasswd
// set`, Apache's htpasswd). The server then forgets that user's failed
// logins, so setting a new password also lifts a lockout.
type PasswordChangeReporter interface {
	// PasswordsChanged looks at the user list now and returns the names
	// whose password entry changed since the last call, each once.
	PasswordsChanged(ctx context.Context) ([]string, error)
}

var (
	// ErrInvalidCredentials means the user name and password were refused.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrUnavailable means the identity source could not be asked.
	ErrUnavailable = errors.New("authentication backend unavailable")
	// ErrBusy means the backend refused to start another check because too
	// many are in flight; callers answer 503 at once.
	ErrBusy = errors.New("authentication backend busy")
)

// ReadyChecker is implemented by backends that can check, without
// anyone's password, that they are able to check passwords: the htpasswd
// file can be read, the directory answers and takes the service account's
// bind. Gatehouse asks once at start and, if Ready fails, logs one warning
// and starts anyway: the backend keeps trying on each login, which fails
// with ErrUnavailable until then. Ready returns nil or an error saying in
// words what is wrong.
type ReadyChecker interface {
	Ready(ctx context.Context) error
}

// NameFolder is implemented by backends that match several spellings of a
// user name to one user: LDAP ignores case and insignificant spaces, so
// "alice", " alice" and "ALICE " are one entry. FoldName returns the one
// spelling every variant shares; Gatehouse counts failed logins under it so
// that variants share one throttle counter. Backends that match names
// exactly (flat_file: "FRANK" is not "frank") need not implement it.
type NameFolder interface {
	FoldName(username string) string
}

// FoldName returns b's folded spelling of username when b is a NameFolder,
// else username unchanged.
func FoldName(b Backend, username string) string {
	if f, ok := b.(NameFolder); ok {
		return f.FoldName(username)
	}
	return username
}

// PlainName reports whether name could be a user name at all: not empty,
// valid UTF-8, with no control characters (NUL, CR, LF, C1…). Backends
// that hand names to a directory or to C refuse other names before any
// lookup, so that "alice\n" or "alice\x00x" is never matched to alice.
func PlainName(name string) bool {
	if name == "" || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
