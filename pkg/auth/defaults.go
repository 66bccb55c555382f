package auth

import "time"

// The modes of auth.mode, as st2 names them.
const (
	// ModeStandalone checks passwords with the Backend.
	ModeStandalone = "standalone"
	// ModeProxy believes the user a trusted front proxy names; no password
	// is checked (see Service.LoginProxy).
	ModeProxy = "proxy"
)

// DefaultAPIURL is the st2 API address clients are given with every issued
// token (X-API-URL) when auth.api_url is empty: st2 clients then assume
// st2api on the same host at port 9101.
const DefaultAPIURL = "http://127.0.0.1:9101"

// TimeLayout is st2's isotime format, used for token expiries and API key
// creation times on the wire and in audit lines: UTC, six fractional
// digits, Z.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Defaults of Config. pkg/config reads the TTL and throttle ones, so that
// each has one copy.
const (
	// DefaultTokenTTL is the default Config.TokenTTL (auth.token_ttl 86400).
	DefaultTokenTTL = 24 * time.Hour
	// DefaultStoreTimeout is the default Config.StoreTimeout: short enough
	// that a request meeting a frozen database is a 503 within 2 s, bcrypt
	// and all, and long enough for a loaded database to answer.
	DefaultStoreTimeout = 1500 * time.Millisecond
	// DefaultCacheSize bounds the validation cache (entries).
	DefaultCacheSize = 100_000
	// DefaultCacheBytes bounds the validation cache's estimated bytes:
	// about 35,000 tokens of a user with two LDAP groups, more without.
	DefaultCacheBytes = 16 << 20
	// DefaultCacheMaxAge bounds how long a cached validation lives.
	DefaultCacheMaxAge = time.Minute
	// DefaultBasicCacheTTL is how long a Basic caller of a route other than
	// POST /auth/v1/tokens is remembered after a good password.
	DefaultBasicCacheTTL = 10 * time.Second
	// DefaultPurgeInterval is how often expired tokens are deleted.
	DefaultPurgeInterval = time.Minute
	// DefaultRemovalInterval is the default Config.RemovalInterval. With
	// the flat_file backend's one-second settle time, a removed user is cut
	// off within about five seconds, well inside the contract's 60.
	DefaultRemovalInterval = 2 * time.Second
)

// DefaultThrottle returns the limits of the throttle section when nothing
// is configured: 10 failures per account and client address, 100 per
// account from all addresses and 50 per client address in 15 minutes, and
// 600 unknown tokens per introspecting caller a minute.
func DefaultThrottle() Throttle {
	return Throttle{
		LoginFailures:   10,
		AccountFailures: 100,
		AddressFailures: 50,
		LoginWindow:     15 * time.Minute,
		ScanFailures:    600,
		ScanWindow:      time.Minute,
	}
}
