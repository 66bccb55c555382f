package auth

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Limits of single sign-on login starts per client address.
const (
	// SSOStartLimit is how many single sign-on logins (browser, loopback
	// or device) one client address may start in SSOStartWindow: far more
	// than a person needs, and a bound on what an unauthenticated script
	// can make Gatehouse do (a pending-login row, and for a device login
	// a request to the provider, per start).
	SSOStartLimit  = 30
	SSOStartWindow = time.Minute
	// ssoStartAddrs bounds the addresses remembered.
	ssoStartAddrs = 10_000
)

// startGuard counts login starts per client address in fixed windows, in
// this process: it protects the provider and the store from one address's
// burst, and needs no store write of its own (that would be the very load
// it guards against). Each replica counts its own.
type startGuard struct {
	mu     sync.Mutex
	counts *expirable.LRU[string, *startCount]
}

type startCount struct {
	since time.Time
	n     int
}

func newStartGuard() *startGuard {
	return &startGuard{counts: expirable.NewLRU[string, *startCount](ssoStartAddrs, nil, SSOStartWindow)}
}

// ssoStart counts one login start from the request's client address and
// refuses it (ETHROTTLED, 429 with Retry-After) past SSOStartLimit in the
// window.
func (s *Service) ssoStart(ctx context.Context) error {
	addr := throttleAddr(clientAddr(ctx))
	now := s.now()
	g := s.starts
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.counts.Get(addr)
	if !ok || now.Sub(c.since) >= SSOStartWindow || now.Before(c.since) {
		g.counts.Add(addr, &startCount{since: now, n: 1})
		return nil
	}
	if c.n >= SSOStartLimit {
		s.log.Warn("single sign-on starts throttled", "limit", SSOStartLimit, "window", SSOStartWindow.String())
		return &Error{Code: ETHROTTLED, RetryAfter: c.since.Add(SSOStartWindow).Sub(now)}
	}
	c.n++
	return nil
}
