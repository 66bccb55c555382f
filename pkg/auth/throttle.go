package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Throttle limits failed attempts. A limit of 0 turns that check off.
// pkg/config fills it from the throttle section of the configuration,
// whose defaults are DefaultThrottle's.
type Throttle struct {
	// LoginFailures is how many failed logins one account may have from
	// one client address in LoginWindow; past it every attempt from that
	// address is refused (ETHROTTLED), right password or not, existing
	// account or not, until the window frees up. An attacker thus locks
	// an account only for their own address.
	LoginFailures int
	// AccountFailures is how many failed logins one account may have from
	// all addresses together in LoginWindow (distributed guessing).
	AccountFailures int
	// AddressFailures is how many failed logins one client address may
	// have in LoginWindow across all accounts (password spraying).
	AddressFailures int
	LoginWindow     time.Duration
	// ScanFailures is how many unknown or inactive tokens one caller of
	// introspect or revoke may ask about in ScanWindow (token scanning).
	// Past it, only lookups that would answer "not active" are refused:
	// an active token or key is always answered.
	ScanFailures int
	ScanWindow   time.Duration
}

// throttleKey hashes what a counter is about, so the database holds no user
// names or addresses in its throttle table.
func throttleKey(kind, subject string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + subject))
	return hex.EncodeToString(sum[:])
}

// hexHash is the first 32 hex digits of the SHA-256 of s.
func hexHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// userAddrPrefix starts the keys of every per-address counter of the
// account name (as the backend folds it): "lu:" and a hash of the name,
// so that an unlock can clear all of them at once (ClearFailuresPrefix)
// without the database holding names or addresses.
func userAddrPrefix(name string) string { return "lu:" + hexHash(name) + ":" }

// userAddrKey is the counter of one account's failures from one address.
func userAddrKey(name, addr string) string { return userAddrPrefix(name) + hexHash(addr) }

// userKey is the counter of one account's failures from all addresses.
func userKey(name string) string { return "la:" + hexHash(name) }

// throttleAddr is the part of a client address that is counted: the whole
// IPv4 address, or the /64 of an IPv6 one (a host usually owns a whole /64
// and could otherwise take a fresh counter per address).
func throttleAddr(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// clientAddr is the request's client address, or the zero Addr outside a
// request.
func clientAddr(ctx context.Context) netip.Addr {
	if rq := RequestFrom(ctx); rq != nil {
		return rq.ClientAddr
	}
	return netip.Addr{}
}

// loginCounters are the counters a login attempt for user (the name as
// sent; "" when none could be read) from the request's client is checked
// against. The name is counted as the backend matches it, so spelling
// variants share one counter.
func (s *Service) loginCounters(ctx context.Context, user string) []loginCounter {
	th := s.cfg.Throttle
	addr := throttleAddr(clientAddr(ctx))
	var out []loginCounter
	add := func(key string, limit int) {
		if limit > 0 {
			out = append(out, loginCounter{key: key, limit: limit})
		}
	}
	if user != "" {
		name := backend.FoldName(s.cfg.Backend, user)
		add(userAddrKey(name, addr), th.LoginFailures)
		add(userKey(name), th.AccountFailures)
	}
	add(throttleKey("login-addr", addr), th.AddressFailures)
	return out
}

// recordLoginFailure counts a failed login against every counter.
func (s *Service) recordLoginFailure(ctx context.Context, counters []loginCounter) error {
	if len(counters) == 0 {
		return nil
	}
	keys := make([]string, len(counters))
	for i, c := range counters {
		keys[i] = c.key
	}
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	now := s.now()
	_, err := s.cfg.Store.RecordFailures(ctx, keys, now, now.Add(-s.cfg.Throttle.LoginWindow))
	return err
}

// clearLoginFailures forgets the failures of an account from the client's
// address after a success. The account's count over all addresses and the
// address's count stay: one good login must not reset a distributed
// guesser or a sprayer.
func (s *Service) clearLoginFailures(ctx context.Context, user string) error {
	if s.cfg.Throttle.LoginFailures <= 0 {
		return nil
	}
	name := backend.FoldName(s.cfg.Backend, user)
	key := userAddrKey(name, throttleAddr(clientAddr(ctx)))
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	return s.cfg.Store.ClearFailures(ctx, key)
}

// clearAccountFailures forgets every failure of an account, from every
// address and in all: an admin unlocked it, or its password was set. The
// address counters stay (a sprayer is not forgiven).
func (s *Service) clearAccountFailures(ctx context.Context, user string) error {
	name := backend.FoldName(s.cfg.Backend, user)
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	if err := s.cfg.Store.ClearFailuresPrefix(ctx, userAddrPrefix(name)); err != nil {
		return err
	}
	return s.cfg.Store.ClearFailures(ctx, userKey(name))
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

func scanKey(caller string) string { return throttleKey("scan", caller) }

// scanMiss is called for every lookup by caller that answers "not active".
// While the caller is over its allowance the answer is refused
// (ETHROTTLED, to slow a scanner down); otherwise the miss is counted. A
// lookup that finds an active token or key never comes here: junk sent
// through a consumer service never makes Gatehouse refuse a good
// credential.
func (s *Service) scanMiss(ctx context.Context, caller string) error {
	if s.cfg.Throttle.ScanFailures <= 0 {
		return nil
	}
	if until, ok := s.scans.blocked.Get(caller); ok && s.now().Before(until) {
		return &Error{Code: ETHROTTLED, RetryAfter: until.Sub(s.now())}
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
