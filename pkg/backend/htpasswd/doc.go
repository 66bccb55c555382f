// Package htpasswd implements the flat_file authentication backend: user
// names and password hashes in an Apache-style htpasswd file, compatible
// with st2's st2-auth-backend-flat-file.
//
// # File format
//
// One "user:hash" entry per line, parsed by ParseLine: lines are trimmed,
// blank lines, lines starting with '#' and lines without ':' are skipped,
// each line is split at its first ':', and a later line for a user replaces
// an earlier one.
//
// # Hash formats
//
//   - bcrypt "$2y$" (what `htpasswd -B` writes, recommended), "$2a$", "$2b$".
//     A password longer than 72 bytes never matches: bcrypt only reads 72.
//   - "$apr1$" (Apache MD5, the default of `htpasswd`), "$1$" (MD5-crypt).
//   - "$5$" and "$6$" (SHA-256/SHA-512-crypt), with or without "rounds=".
//   - "{SHA}" (unsalted base64 SHA-1, `htpasswd -s`).
//   - 13-character traditional DES crypt (`htpasswd -d`): only the first 8
//     bytes of the password count.
//
// Everything else (plaintext, unknown prefixes such as yescrypt "$y$",
// malformed hashes) never matches, and is reported in the log when the file
// is loaded. st2 handed such entries to the system crypt(3), so an st2
// installation on a libxcrypt system may accept formats that Gatehouse
// refuses; st2 on Python 3.13 refuses them too.
//
// # Unknown users and timing
//
// An unknown user, or a user whose hash can never match, costs one bcrypt
// comparison at the cost most common among the file's bcrypt entries (10
// when there are none), and gets the same backend.ErrInvalidCredentials as
// a wrong password. Timing is only equalised with bcrypt users: if the file
// holds mostly faster hashes, unknown users are slower than known ones.
//
// # In a chain
//
// Backend is a backend.Prober, so it may stand before another backend in
// a chain (package chain): a name in the file is the file's (Refused on a
// wrong password, or when its hash can never match) and only a name
// missing from the file is Unknown. Spend does the unknown-user bcrypt
// comparison, so a login owned by an earlier link costs what one reaching
// the file costs.
//
// # Reloading
//
// st2 re-reads the file on every request. Gatehouse keeps the parsed file
// in memory and, at most once a second, stats the file; it re-reads it when
// the modification time, size, device or inode changed. Edits in place and
// replacement by rename (editors, SetUser, Kubernetes volumes) are thus
// picked up within about a second. An edit that keeps the size and lands
// within the same modification-time tick as the previous version would be
// missed; file systems with nanosecond timestamps make that unlikely.
//
// Whenever the file cannot be read (missing at start, or later removed or
// made unreadable), the backend fails closed: every Authenticate returns an
// error wrapping backend.ErrUnavailable (HTTP 503) rather than serving the
// users it last saw, until the file can be read again; no restart is
// needed. A file missing at start is reported by Ready, which Gatehouse
// logs as one warning; a later failure is logged once when it starts.
// Passwords and hashes are never logged.
//
// # Removed users
//
// Backend is a backend.RemovalReporter: each load is compared with the
// previous one, and a name that left the file and stayed out for a second
// is reported by Removed, once, so that the server can revoke the user's
// tokens and keys. A name back within that second (a file rewritten in
// place is briefly truncated) is forgotten; an unreadable file reports
// nothing.
//
// # Editing
//
// SetUser and DeleteUser back `gatehouse htpasswd set|delete`: they rewrite
// the file atomically, keeping comments and other lines. They do not lock
// the file: two editors running at the same time can lose an update.
package htpasswd
