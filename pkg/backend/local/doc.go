// Package local implements the local authentication backend: users live
// in Gatehouse's own store (store.UserStore, in PostgreSQL or SQLite), with
// argon2id password hashes, active and must-change-password flags, and
// groups.
//
//	auth:
//	  backend: local
//	  backend_kwargs:
//	    argon2_memory: 19456    # KiB per hash (19 MiB)
//	    argon2_iterations: 2
//	    argon2_parallelism: 1
//	    max_concurrent: 1       # hashes at once; default half the CPUs
//	    queue_timeout: 1        # seconds to wait for a hashing slot
//
// The store is not a backend_kwarg: the binary registers Factory(store)
// under Name, so the backend uses the database the rest of Gatehouse uses.
//
// # Hashes
//
// New passwords are hashed with argon2id (HashPassword, Backend.Hash) into
// a PHC string, "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", which
// records its parameters. DefaultParams explains the defaults. bcrypt
// hashes imported from an htpasswd file ("$2y$", "$2a$", "$2b$", cost up
// to MaxBcryptCost) are accepted as they are. At a user's next good
// login, a bcrypt hash, or an argon2id hash whose parameters differ from
// the configured ones, is replaced by a new argon2id hash of the same
// password; the user is read again just before the write, and a hash
// changed meanwhile is left alone. The store offers no compare-and-swap,
// so a change landing between that read and the write (one round trip)
// can still be overwritten with the values just read. A failure to save
// the new hash is logged and the login succeeds. Anything else in the
// password column (plaintext, other schemes, malformed strings) never
// matches and is logged as a warning when a login meets it.
//
// # Refusals look alike
//
// An unknown user, an inactive user and a wrong password all return
// backend.ErrInvalidCredentials after one hash: unknown users are checked
// in full against a dummy argon2id hash made at start-up with the
// configured parameters. A user whose stored hash still has other costs
// (an imported bcrypt hash, older argon2id parameters) takes a different
// time until their next good login re-hashes it.
//
// # Memory and concurrency
//
// An argon2id hash holds Params.Memory for its whole run. Every hash (a
// login, Spend, Backend.Hash) first takes one of max_concurrent slots, so
// hashing never holds more than max_concurrent × argon2_memory (hashes
// still at larger stored parameters use those until re-hashed). A login
// finding no free slot within queue_timeout fails with backend.ErrBusy
// (HTTP 503); a done context stops the wait with backend.ErrUnavailable.
//
// # In a chain
//
// Backend is a backend.Prober: a name in the store is the store's
// (Refused when inactive or on a wrong password), and only a name missing
// from it is Unknown. Spend is the unknown-user dummy check.
//
// # Passwords
//
// CheckPolicy holds the rule new passwords must meet (8 to 1024
// characters, not the user name). Authenticate does not apply it, so
// imported passwords that break it still work until they are changed.
//
// Removing and disabling users is done through the store by the service,
// which also cuts the user's tokens and keys, so Backend is not a
// backend.RemovalReporter. Passwords and hashes are never logged.
package local
