package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// purgeBatch keeps batches small, so a purge never holds locks for long.
const purgeBatch = 500

// Run does the Service's background work until ctx is done: it listens for
// revocations made by other replicas (when the store is shared), cuts off
// users who left the backend (when it can tell, see
// backend.RemovalReporter), lifts the lockout of users whose password was
// set outside Gatehouse (backend.PasswordChangeReporter) and purges expired tokens in small batches.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if n, ok := s.cfg.Store.(store.Notifier); ok {
		wg.Go(func() { _ = n.Listen(ctx, loggingHandler{s.cache, s.log}) })
	}
	if rr, ok := s.cfg.Backend.(backend.RemovalReporter); ok {
		wg.Go(func() { s.removalLoop(ctx, rr) })
	}
	if pc, ok := s.cfg.Backend.(backend.PasswordChangeReporter); ok {
		wg.Go(func() { s.passwordChangeLoop(ctx, pc) })
	}
	s.purgeLoop(ctx)
	wg.Wait()
}

func (s *Service) purgeLoop(ctx context.Context) {
	every(ctx, cmpOrDefault(s.cfg.PurgeInterval, DefaultPurgeInterval), func() { s.purgeExpired(ctx) })
}

// every calls fn every interval until ctx is done.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// cmpOrDefault is d, or def when d is not positive.
func cmpOrDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// purgeExpired deletes expired tokens, then the other expired records.
func (s *Service) purgeExpired(ctx context.Context) {
	var from time.Time // where the next batch starts: the last one's latest expiry
	now := s.now()
	if total := s.inBatches(ctx, "purging expired tokens", func(ctx context.Context) (n int, err error) {
		n, from, err = s.cfg.Store.PurgeExpiredTokens(ctx, from, now, purgeBatch)
		return n, err
	}); total > 0 {
		s.log.Info("purged expired tokens", slog.Int("count", total))
	}
	if window := max(s.cfg.Throttle.LoginWindow, s.cfg.Throttle.ScanWindow); window > 0 {
		s.inBatches(ctx, "purging throttle counts", func(ctx context.Context) (int, error) {
			return s.cfg.Store.PurgeFailures(ctx, s.now().Add(-window), purgeBatch)
		})
	}
	s.inBatches(ctx, "purging Kerberos replay records", func(ctx context.Context) (int, error) {
		return s.cfg.Store.PurgeAuthenticators(ctx, s.now(), purgeBatch)
	})
	bctx, cancel := context.WithTimeout(ctx, purgeBatchTimeout)
	defer cancel()
	if _, err := s.cfg.Store.PurgePendingLogins(bctx, s.now()); err != nil {
		s.log.Warn("purging pending single sign-on logins", slog.String("error", err.Error()))
	}
}

// purgeBatchTimeout bounds one batch of a purge.
const purgeBatchTimeout = 10 * time.Second

// purgeRest is how long a purge rests after a full batch, as a multiple of
// the time the batch took: a backlog (millions of tokens that expired
// while every replica was down, or a burst of short-lived ones) drains with
// at most a fifth of one database connection's time, so the lookups served
// meanwhile keep their latency. `scripts/bench-purge.sh` measures it.
const purgeRest = 4

// inBatches calls purge, which deletes at most purgeBatch records, until a
// batch comes back short, resting purgeRest times each full batch's time
// in between. It returns how many records were deleted; a failure is
// logged as what, and ends the purge until the next round.
func (s *Service) inBatches(ctx context.Context, what string, purge func(context.Context) (int, error)) int {
	total := 0
	for ctx.Err() == nil {
		start := time.Now()
		bctx, cancel := context.WithTimeout(ctx, purgeBatchTimeout)
		n, err := purge(bctx)
		cancel()
		if err != nil {
			s.log.Warn(what, slog.String("error", err.Error()))
			return total
		}
		total += n
		if n < purgeBatch {
			return total
		}
		rest := time.NewTimer(purgeRest * time.Since(start))
		select {
		case <-ctx.Done():
			rest.Stop()
		case <-rest.C:
		}
	}
	return total
}

// loggingHandler logs the listener's state changes around the cache's own.
type loggingHandler struct {
	*credCache
	log *slog.Logger
}

func (h loggingHandler) Connected() {
	h.credCache.Connected()
	h.log.Info("listening for revocations; validation cache on")
}

func (h loggingHandler) Disconnected(err error) {
	h.credCache.Disconnected(err)
	if errors.Is(err, context.Canceled) {
		return // shutting down
	}
	msg := "<nil>"
	if err != nil {
		msg = err.Error()
	}
	h.log.Warn("revocation listener down; validation cache off", slog.String("error", msg))
}
