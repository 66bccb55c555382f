// Package pam implements the pam authentication backend: user names and
// passwords are checked by the host's PAM stack (libpam), as st2's
// st2-auth-backend-pam does, with three differences: accounts are also put
// through the account stage (pam_acct_mgmt), so expired, locked and
// must-change-password accounts are refused; PAM's failures map to HTTP
// 401 or 503 instead of 500; and at most max_concurrent PAM transactions run
// at once.
//
// # Building
//
// The backend needs cgo and libpam's headers (Debian: libpam0g-dev) and is
// compiled only with the build tag "pam" (`make build` adds it when
// /usr/include/security/pam_appl.h exists). Without the tag this package
// still provides Name and Factory, but Factory fails with a message telling
// how to rebuild, so `backend: pam` stops the service at start-up.
//
// # Login flow
//
// Authenticate refuses an empty user name, an empty password, a password
// longer than PAM_MAX_RESP_SIZE (512 bytes) and any NUL byte without calling
// libpam. Otherwise it starts a transaction on the configured service
// (pam_start, or pam_start_confdir with confdir), runs pam_authenticate and
// then pam_acct_mgmt, both with PAM_SILENT|PAM_DISALLOW_NULL_AUTHTOK, and
// always ends it with pam_end. The conversation answers every
// PAM_PROMPT_ECHO_OFF prompt with the password (as st2 does) and every
// PAM_PROMPT_ECHO_ON prompt with the user name; informational and error
// messages are logged at debug level and otherwise ignored; binary prompts
// fail the conversation. Identity.Username is PAM_USER at the end of the
// transaction, so a module that canonicalises the name (pam_sss, say) is
// honoured; Identity.Groups is nil, as in st2.
//
// # Errors
//
// A wrong password, an unknown user and an account refused by the account
// stage all return backend.ErrInvalidCredentials, unwrapped; the reason is
// logged (debug level for the authentication stage, info level for the
// account stage, which is only reached with the right password). Codes that
// mean the PAM stack itself is broken or cannot reach its data (module
// missing, PAM_SERVICE_ERR, PAM_SYSTEM_ERR, PAM_BUF_ERR, PAM_OPEN_ERR,
// PAM_AUTHINFO_UNAVAIL, PAM_CONV_ERR, …) return an error wrapping both
// backend.ErrUnavailable and the pam.Error (HTTP 503).
//
// # Concurrency
//
// A PAM call is a blocking C call: it holds an OS thread for its whole
// duration, including the failure delay (about two seconds after a wrong
// password with pam_unix, pam_pwdfile or pam_faildelay). Every transaction
// first takes one of max_concurrent slots. When none is free, Authenticate
// waits at most queue_timeout (or until ctx is done) and then returns an
// error wrapping backend.ErrBusy, so a burst of logins gets quick 503s
// rather than one blocked thread each. If ctx is done while a transaction
// runs, Authenticate returns at once with ctx's error; the transaction
// finishes in the background and only then frees its slot.
//
// Each transaction runs on an OS thread of its own that is locked to it and
// discarded afterwards (runtime.LockOSThread without unlock), so whatever
// per-thread state a module changes (file-system uid, thread-locals) never
// reaches other goroutines.
//
// See docs/PAM.md for the service file, running without root, and the
// options.
package pam
