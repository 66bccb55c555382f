package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Throttle limits failed attempts. A limit of 0 turns that check off.
// cmd/gatehouse fills it from the throttle section of the configuration,
// whose defaults are 10 failures per account and 50 per client address in
// 15 minutes, and 600 unknown tokens per introspecting caller a minute.
type Throttle struct {
	// LoginFailures is how many failed logins one account may have in
	// LoginWindow; past it every attempt is a 429, right password or not,
	// existing account or not, until the window frees up.
	LoginFailures int
	// AddressFailures is how many failed logins one client address may
	// have in LoginWindow across all accounts (password spraying).
	AddressFailures int
	LoginWindow     time.Duration
	// ScanFailures is how many unknown or inactive tokens one caller of
	// introspect or revoke may ask about in ScanWindow (token scanning).
	// Callers whose tokens are good never touch these counters.
	ScanFailures int
	ScanWindow   time.Duration
}

const msgThrottled = "Too many failed attempts. Try again later."

// throttleKey hashes what a counter is about, so the database holds no user
// names or addresses in its throttle table. User names are lower-cased:
// directories that ignore case must not get one counter per spelling.
func throttleKey(kind, subject string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + subject))
	return hex.EncodeToString(sum[:])
}

func loginUserKey(user string) string { return throttleKey("login-user", strings.ToLower(user)) }
func loginAddrKey(addr string) string { return throttleKey("login-addr", addr) }
func scanKey(caller string) string    { return throttleKey("scan", caller) }

// loginLimits are the counters a login attempt is checked against.
type loginLimits struct {
	keys   []string
	limits map[string]int
}

func (s *Server) loginLimitsFor(user string, r *http.Request) loginLimits {
	l := loginLimits{limits: map[string]int{}}
	add := func(key string, limit int) {
		if limit > 0 {
			l.keys = append(l.keys, key)
			l.limits[key] = limit
		}
	}
	if user != "" {
		add(loginUserKey(user), s.cfg.Throttle.LoginFailures)
	}
	add(loginAddrKey(s.clientAddr(r).String()), s.cfg.Throttle.AddressFailures)
	return l
}

// checkLogin refuses, before any password work, an attempt whose account
// or address has used up its failures.
func (s *Server) checkLogin(ctx context.Context, l loginLimits) error {
	if len(l.keys) == 0 {
		return nil
	}
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	counts, err := s.cfg.Store.CountFailures(ctx, l.keys, s.now().Add(-s.cfg.Throttle.LoginWindow))
	if err != nil {
		return err
	}
	for k, c := range counts {
		if c.N >= l.limits[k] {
			return s.throttled(c.Oldest, s.cfg.Throttle.LoginWindow)
		}
	}
	return nil
}

// recordLoginFailure counts a failed login against the account and address.
func (s *Server) recordLoginFailure(ctx context.Context, l loginLimits) error {
	if len(l.keys) == 0 {
		return nil
	}
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	now := s.now()
	_, err := s.cfg.Store.RecordFailures(ctx, l.keys, now, now.Add(-s.cfg.Throttle.LoginWindow))
	return err
}

// clearLoginFailures forgets an account's failures after a success. The
// address keeps its count: one good account must not reset a sprayer.
func (s *Server) clearLoginFailures(ctx context.Context, user string) error {
	if s.cfg.Throttle.LoginFailures <= 0 {
		return nil
	}
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return s.cfg.Store.ClearFailures(ctx, loginUserKey(user))
}

// throttled is the 429 for a window whose oldest counted failure was at
// oldest: it frees up when that failure ages out.
func (s *Server) throttled(oldest time.Time, window time.Duration) *Error {
	wait := oldest.Add(window).Sub(s.now())
	return &Error{Status: http.StatusTooManyRequests, Message: msgThrottled,
		RetryAfter: max(1, int(math.Ceil(wait.Seconds())))}
}

// scanGuard remembers, per caller, until when it is refused for asking
// about too many unknown tokens. The counts live in the store, shared by
// replicas; the verdict is kept here so that good lookups cost nothing.
type scanGuard struct {
	blocked *expirable.LRU[string, time.Time]
}

func newScanGuard(window time.Duration) *scanGuard {
	if window <= 0 {
		window = time.Minute
	}
	return &scanGuard{blocked: expirable.NewLRU[string, time.Time](10_000, nil, window)}
}

// checkScan refuses a caller that is blocked.
func (s *Server) checkScan(caller string) error {
	if s.cfg.Throttle.ScanFailures <= 0 {
		return nil
	}
	if until, ok := s.scans.blocked.Get(caller); ok && s.now().Before(until) {
		return &Error{Status: http.StatusTooManyRequests, Message: msgThrottled,
			RetryAfter: max(1, int(math.Ceil(until.Sub(s.now()).Seconds())))}
	}
	return nil
}

// recordScanMiss counts an unknown or inactive token asked about by caller
// and blocks the caller once it has used up its allowance.
func (s *Server) recordScanMiss(ctx context.Context, caller string) error {
	if s.cfg.Throttle.ScanFailures <= 0 {
		return nil
	}
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	now, window := s.now(), s.cfg.Throttle.ScanWindow
	key := scanKey(caller)
	counts, err := s.cfg.Store.RecordFailures(ctx, []string{key}, now, now.Add(-window))
	if err != nil {
		return err
	}
	if c := counts[key]; c.N >= s.cfg.Throttle.ScanFailures {
		s.scans.blocked.Add(caller, c.Oldest.Add(window))
	}
	return nil
}
