package auth

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Config is what the Service needs. Store is required; without a Backend
// every password is refused.
type Config struct {
	Store   store.Store
	Backend backend.Backend
	// Negotiator, when set, checks Kerberos tickets sent with HTTP
	// Negotiate (the kerberos backend); LoginNegotiate refuses every
	// ticket without it.
	Negotiator backend.Negotiator
	// Local, when set, is the local backend's hasher: the user routes
	// and password changes work only with it.
	Local Hasher
	// SSO, when set, is the single sign-on login method (auth.backends
	// entry oidc).
	SSO SSO
	// BackendName labels login metrics and audit events (e.g. flat_file).
	BackendName string
	// Logger gets the audit lines and the background work's warnings.
	// Default: discard.
	Logger *slog.Logger

	// TokenTTL is the default and maximum lifetime of a user's token
	// (default DefaultTokenTTL).
	TokenTTL time.Duration
	// ServiceTokenTTL is the lifetime of a service account's token
	// (default TokenTTL).
	ServiceTokenTTL time.Duration
	// AdminUsers manage everyone's API keys and tokens.
	AdminUsers []string
	// ServiceUsers may ask for tokens on behalf of other users, and
	// introspect and revoke anyone's credentials.
	ServiceUsers []string
	// ImpersonateAdmins lets service accounts ask for tokens on behalf of
	// admin users; off by default, since such a token can do anything.
	ImpersonateAdmins bool
	// TokenMaxLifetime bounds renewal: a token is never renewed past its
	// issue time plus this (auth.token_max_lifetime, Vault's max TTL).
	// 0, the default, turns renewal off.
	TokenMaxLifetime time.Duration

	// Throttle limits failed logins and token scanning. Limits of 0 are
	// off; windows of 0 take DefaultThrottle's.
	Throttle Throttle

	// CacheSize bounds the validation cache's entries (default
	// DefaultCacheSize).
	CacheSize int
	// CacheBytes bounds the validation cache's estimated size in bytes
	// (default DefaultCacheBytes), so that its memory does not depend on
	// how large the tokens' groups and metadata are. Negative turns the
	// cache off: every check asks the store.
	CacheBytes int
	// CacheMaxAge bounds how long a cached validation lives even without
	// a revocation (default DefaultCacheMaxAge). Revocations remove
	// entries at once.
	CacheMaxAge time.Duration
	// BasicCacheTTL is how long a Basic caller of a route other than
	// POST /auth/v1/tokens is remembered after a good password (default
	// DefaultBasicCacheTTL).
	BasicCacheTTL time.Duration
	// PurgeInterval is how often expired tokens are deleted (default
	// DefaultPurgeInterval).
	PurgeInterval time.Duration
	// RemovalInterval is how often a Backend that is a
	// backend.RemovalReporter is asked which users left it; their tokens
	// are then deleted and their API keys disabled and locked (default
	// DefaultRemovalInterval).
	RemovalInterval time.Duration
	// StoreTimeout bounds the store calls of a request, together (default
	// DefaultStoreTimeout), so that a stopped or frozen database is a
	// quick EUNAVAILABLE.
	StoreTimeout time.Duration
	// Now returns the current time; tests set it. Default time.Now.
	Now func() time.Time
}

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.ServiceTokenTTL <= 0 {
		c.ServiceTokenTTL = c.TokenTTL
	}
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = DefaultStoreTimeout
	}
	def := DefaultThrottle()
	if c.Throttle.LoginWindow <= 0 {
		c.Throttle.LoginWindow = def.LoginWindow
	}
	if c.Throttle.ScanWindow <= 0 {
		c.Throttle.ScanWindow = def.ScanWindow
	}
	return c
}

// Service logs users in and issues, checks and revokes their credentials.
// It is safe for concurrent use. Run does its background work.
type Service struct {
	cfg     Config
	log     *slog.Logger
	cache   *credCache
	basic   *basicCache
	scans   *scanGuard
	logins  *loginGuard
	starts  *startGuard
	metrics *metrics
	// keyUses holds, per API key id, when this process last wrote its
	// last_used_at (*atomic.Int64 of Unix nanoseconds); see keyUsed.
	keyUses sync.Map
	// bg tracks the writes of keyUsed.
	bg sync.WaitGroup
}

// New builds a Service over cfg.
func New(cfg Config) *Service {
	cfg = cfg.withDefaults()
	s := &Service{cfg: cfg, log: cfg.Logger}
	s.cache = newCredCache(cfg.Store, cfg.CacheSize, cfg.CacheBytes, cfg.CacheMaxAge, s.now)
	s.basic = newBasicCache(cfg.BasicCacheTTL)
	s.scans = newScanGuard(cfg.Throttle.ScanWindow)
	s.logins = newLoginGuard()
	s.starts = newStartGuard()
	s.metrics = newMetrics(s)
	return s
}

// Config returns the configuration the Service runs with, defaults filled.
func (s *Service) Config() Config { return s.cfg }

// now is the current time in UTC.
func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// IsAdmin reports whether user is in AdminUsers.
func (s *Service) IsAdmin(user string) bool { return slices.Contains(s.cfg.AdminUsers, user) }

// IsService reports whether user is in ServiceUsers.
func (s *Service) IsService(user string) bool { return slices.Contains(s.cfg.ServiceUsers, user) }

// Privileged reports whether user may look at or revoke anyone's
// credentials: service accounts and admins.
func (s *Service) Privileged(user string) bool {
	return s.IsService(user) || s.IsAdmin(user)
}

// Ping reports whether the store answers.
func (s *Service) Ping(ctx context.Context) error {
	return s.cfg.Store.Ping(ctx)
}
