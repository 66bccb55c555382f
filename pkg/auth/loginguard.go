package auth

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// loginGuard makes "count the failures, then check the password" atomic on
// one replica. The failure counts live in the store (shared by replicas),
// but two requests that read the same count before either records its
// failure would both be let through; so every attempt first reserves a
// place against each of its counters, and a counter's in-flight attempts
// count as failures until they end. N concurrent wrong passwords therefore
// cost at most the limit's password checks, whatever N.
//
// A count read from the store can be stale: a failure recorded after the
// read started and released before the reservation would be missed. Each
// recorded failure bumps an epoch, and a reservation made on a count read
// under an older epoch is retried with a fresh count.
type loginGuard struct {
	mu       sync.Mutex
	inflight map[string]int
	epochs   [64]uint64
	seed     maphash.Seed
	// changed is closed, and replaced, whenever an attempt ends, waking
	// the attempts that wait for an in-flight one.
	changed chan struct{}
	// waiting counts the attempts waiting on changed.
	waiting int
	// downAt is when an attempt last found the backend unavailable. An
	// attempt held up only by in-flight ones gives up at once (503) while
	// that is recent: they are waiting on a dead directory, and so would it.
	// So does one that did wait and is woken while it is recent: it has
	// already spent part of its answer time waiting, and a check of its own
	// would add the backend's whole timeout on top.
	downAt time.Time
}

// attemptOutcome is how a reserved attempt ended.
type attemptOutcome int

const (
	attemptEnded       attemptOutcome = iota // nothing recorded: a success, or a client that hung up
	attemptFailed                            // a failure was recorded in the store
	attemptUnavailable                       // the backend or the store could not answer
)

// maxInflightWait bounds how long an attempt waits for in-flight attempts
// on its counters before it is answered 503: long enough for a burst of
// logins on a loaded machine (bcrypt at cost 10 on two busy cores) to get
// its real answer. A backend outage does not stack waits on its timeout:
// once an attempt finds it down, the waiters are answered at once
// (recentOutage).
const maxInflightWait = 5 * time.Second

// recentOutage is how long after an attempt found the backend down the
// attempts held up behind in-flight ones are answered 503 at once.
const recentOutage = time.Second

// errLoginBusy is the answer to an attempt that could not get a place in
// time: nothing was checked, and the account is not locked.
var errLoginBusy = &Error{Code: EUNAVAILABLE, RetryAfter: time.Second,
	Err: fmt.Errorf("too many logins in flight for one account: %w", backend.ErrBusy)}

func newLoginGuard() *loginGuard {
	return &loginGuard{inflight: map[string]int{}, seed: maphash.MakeSeed(), changed: make(chan struct{})}
}

// loginCounter is one failure counter an attempt is checked against.
type loginCounter struct {
	key   string // throttleKey(...), what the store counts under
	limit int
}

// maxReserveTries bounds the retries of a reservation whose count went
// stale; past it the attempt is answered 503 rather than spin.
const maxReserveTries = 16

// reservation is a place held by one login attempt; end releases it.
type reservation struct {
	g        *loginGuard
	counters []loginCounter
}

func (g *loginGuard) shard(key string) *uint64 {
	return &g.epochs[maphash.String(g.seed, key)%uint64(len(g.epochs))]
}

// epoch sums the epochs of the counters' shards: it moves whenever a
// failure is recorded against any of them on this replica.
func (g *loginGuard) epoch(counters []loginCounter) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.epochLocked(counters)
}

// epochLocked is epoch with g.mu held.
func (g *loginGuard) epochLocked(counters []loginCounter) uint64 {
	var sum uint64
	for _, c := range counters {
		sum += *g.shard(c.key)
	}
	return sum
}

// reserveLogin holds a place for one attempt against every counter, or
// refuses it (ETHROTTLED) when a counter's recorded failures and in-flight
// attempts reach its limit. While only in-flight attempts stand in the
// way, it waits for them to end (they may succeed), at most
// maxInflightWait; then, or at once while the backend is down, it answers
// EUNAVAILABLE (errLoginBusy), since the account is not locked. An attempt
// that waited is answered the same when it wakes to find the backend down,
// so a login is never the wait plus a whole backend timeout.
func (s *Service) reserveLogin(ctx context.Context, counters []loginCounter) (*reservation, error) {
	g := s.logins
	if len(counters) == 0 {
		return &reservation{g: g}, nil
	}
	keys := make([]string, len(counters))
	for i, c := range counters {
		keys[i] = c.key
	}
	window := s.cfg.Throttle.LoginWindow
	timeout := time.NewTimer(maxInflightWait)
	defer timeout.Stop()
	waited := false
	for range maxReserveTries {
		epoch := g.epoch(counters)
		sctx, cancel := s.storeCtx(ctx)
		counts, err := s.cfg.Store.CountFailures(sctx, keys, s.now().Add(-window))
		cancel()
		if err != nil {
			return nil, err
		}
		res, wait, err := g.tryReserve(counters, counts, epoch, s, window, waited)
		if res != nil || err != nil {
			return res, err
		}
		if wait != nil {
			waited = true
			if err := g.wait(ctx, wait, timeout.C); err != nil {
				return nil, err
			}
		}
	}
	return nil, errLoginBusy
}

// wait waits for an attempt to end (changed), the timeout or ctx.
func (g *loginGuard) wait(ctx context.Context, changed <-chan struct{}, timeout <-chan time.Time) error {
	defer func() {
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
	}()
	select {
	case <-changed:
		return nil
	case <-timeout:
		return errLoginBusy
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// tryReserve is one reservation attempt under the lock. It returns the
// reservation, or a channel to wait on when only in-flight attempts stand
// in the way, or neither when the count was stale, or the refusal. waited
// says the attempt already waited for in-flight ones.
func (g *loginGuard) tryReserve(counters []loginCounter, counts map[string]store.FailureCount, epoch uint64, s *Service, window time.Duration, waited bool) (*reservation, <-chan struct{}, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.epochLocked(counters) != epoch {
		return nil, nil, nil // a failure was recorded meanwhile: count again
	}
	for _, c := range counters {
		n := counts[c.key]
		if n.N >= c.limit {
			return nil, nil, s.lockedFor(n.Oldest.Add(window).Sub(s.now()))
		}
		if n.N+g.inflight[c.key] >= c.limit {
			if g.recentlyDown() {
				return nil, nil, errLoginBusy
			}
			g.waiting++
			return nil, g.changed, nil
		}
	}
	if waited && g.recentlyDown() {
		return nil, nil, errLoginBusy
	}
	for _, c := range counters {
		g.inflight[c.key]++
	}
	return &reservation{g: g, counters: counters}, nil, nil
}

// recentlyDown says an attempt found the backend unavailable within
// recentOutage; g.mu is held.
func (g *loginGuard) recentlyDown() bool {
	return time.Since(g.downAt) < recentOutage
}

// end releases the place. attemptFailed says a failure was recorded in
// the store for this attempt (before end is called), so counts read
// earlier are stale.
func (r *reservation) end(outcome attemptOutcome) {
	g := r.g
	if len(r.counters) == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if outcome == attemptUnavailable {
		g.downAt = time.Now()
	}
	for _, c := range r.counters {
		if outcome == attemptFailed {
			*g.shard(c.key)++
		}
		if g.inflight[c.key]--; g.inflight[c.key] <= 0 {
			delete(g.inflight, c.key)
		}
	}
	close(g.changed)
	g.changed = make(chan struct{})
	r.counters = nil
}

// lockedFor is the refusal of a locked account or address, free again
// after wait. It is the same whatever route carried the password.
func (s *Service) lockedFor(wait time.Duration) *Error {
	return &Error{Code: ETHROTTLED, Err: ErrLoginLocked, RetryAfter: wait}
}
