// Package ldap implements the ldap authentication backend: users and
// groups in an LDAP directory (OpenLDAP, Active Directory, ...), with the
// options, defaults and login flow of st2's LDAP backend (st2-auth-ldap),
// so that the backend_kwargs of an existing st2.conf work unchanged. See
// Config for the options and docs/LDAP.md for examples.
//
// # Login
//
// An empty password (or user name) is refused before any network call: a
// simple bind with a DN and an empty password is an "unauthenticated
// bind" (RFC 4513 5.1.2) that many servers answer with success. Then, on a
// connection bound as the service account (bind_dn), the user is searched
// under base_ou with account_pattern, the user name escaped per RFC 4515;
// exactly one entry must match (search references are skipped unless
// chase_referrals is on). The user's groups are searched under
// base_ou_group with group_pattern, filled with the escaped user DN and
// user name, and checked against group_dns ("and": all, "or": one; full
// DNs or bare RDNs such as "cn=ops", which match the first RDN of any
// group; compared as parsed DNs, ignoring case). Last, the user's DN is
// bound with the password on a connection that is never used for
// searches.
//
// # Refusals look alike
//
// An unknown user, a name matching several entries, a user outside the
// groups and a wrong password all return backend.ErrInvalidCredentials,
// after the same exchanges: when there is no user to check, the group
// search runs for a decoy DN and the password is bound against that decoy
// DN ("cn=gatehouse-no-such-user,<base_ou>"), which the server refuses.
// Binding a decoy rather than the real user for someone outside the groups
// also keeps such attempts from counting against the user's account
// (lockout policies). One difference remains: a user whose groups are
// cached skips the group search, so repeated logins of a known user are one
// round trip faster than an unknown name.
//
// # In a chain
//
// Backend is a backend.Prober, so it may stand before another backend in
// a chain (package chain). A name the directory has is its own: a wrong
// password, a user outside group_dns and a name matching several entries
// are all Refused, and never passed on to a later backend; only a name no
// entry matches is Unknown. Spend costs what refusing an unknown name
// costs (the searches and the decoy bind, with a random password), except
// while the last exchange with the directory failed: then it returns at
// once rather than wait network_timeout for a dead server.
//
// # Connections and time
//
// Connections bound as the service account are pooled (up to four idle,
// each reused for at most a minute of idleness), and so are the
// connections used for user binds, so a login usually opens no connection
// at all. A pooled connection that turns out dead (the server restarted)
// is replaced, and the login retried once on a new connection.
//
// network_timeout bounds a whole login's exchange with the directory:
// connecting, TLS, both binds and both searches must end within it (or
// before ctx's deadline, if sooner). go-ldap has no per-call context, so
// the socket is closed when the time is up or ctx is cancelled, which
// makes any call in progress return. A directory that cannot be reached,
// refuses the service account, or does not answer in time gives an error
// wrapping backend.ErrUnavailable (HTTP 503); the next login tries again,
// so the backend recovers by itself when the directory is back. With
// several hosts, each is tried in order for every new connection.
//
// # TLS
//
// use_ssl (LDAPS) and use_tls (StartTLS) always verify the server's
// certificate, against cacert or the system's roots, for the configured
// host name, with TLS 1.2 or later. A failed StartTLS is an error, never
// a reason to go on in clear. (st2 disables certificate checking when
// cacert is not set; Gatehouse never does.)
//
// # Groups cache
//
// With cache_user_groups_response (the default), each user's groups are
// kept for cache_user_groups_cache_ttl seconds (120), for at most
// cache_user_groups_cache_max_size users (100; the least recently used
// makes room), keyed by the user's DN. A change of membership therefore
// takes up to that long to count. The password is checked by the
// directory on every login; it is never cached.
//
// # Referrals
//
// With chase_referrals, search references returned by the user or group
// search are followed one hop: the referred server is searched
// anonymously, as libldap does for st2, and a user found there is bound
// on that server. With use_ssl or use_tls, an ldap:// referral is
// upgraded with StartTLS. A referral that cannot be followed fails the
// login with ErrUnavailable.
//
// # Logging
//
// Passwords are never logged. Refusals are logged at debug level with the
// user name and DN; a name matching several entries at warning level.
package ldap
