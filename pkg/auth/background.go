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

// purgeExpired deletes expired tokens batch by batch until none are left.
func (s *Service) purgeExpired(ctx context.Context) {
	total := 0
	for ctx.Err() == nil {
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := s.cfg.Store.PurgeExpiredTokens(bctx, s.now(), purgeBatch)
		cancel()
		if err != nil {
			s.log.Warn("purging expired tokens", slog.String("error", err.Error()))
			return
		}
		total += n
		if n < purgeBatch {
			break
		}
	}
	if total > 0 {
		s.log.Info("purged expired tokens", slog.Int("count", total))
	}
	s.purgeFailures(ctx)
	s.purgeAuthenticators(ctx)
	s.purgePendingLogins(ctx)
}

// purgeAuthenticators deletes the Kerberos replay records whose window
// has passed.
func (s *Service) purgeAuthenticators(ctx context.Context) {
	for ctx.Err() == nil {
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := s.cfg.Store.PurgeAuthenticators(bctx, s.now(), purgeBatch)
		cancel()
		if err != nil {
			s.log.Warn("purging Kerberos replay records", slog.String("error", err.Error()))
			return
		}
		if n < purgeBatch {
			return
		}
	}
}

// purgePendingLogins deletes single sign-on logins that expired unfinished.
func (s *Service) purgePendingLogins(ctx context.Context) {
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.cfg.Store.PurgePendingLogins(bctx, s.now()); err != nil {
		s.log.Warn("purging pending single sign-on logins", slog.String("error", err.Error()))
	}
}

// purgeFailures deletes throttle counts older than the longest window.
func (s *Service) purgeFailures(ctx context.Context) {
	window := max(s.cfg.Throttle.LoginWindow, s.cfg.Throttle.ScanWindow)
	if window <= 0 {
		return
	}
	for ctx.Err() == nil {
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := s.cfg.Store.PurgeFailures(bctx, s.now().Add(-window), purgeBatch)
		cancel()
		if err != nil {
			s.log.Warn("purging throttle counts", slog.String("error", err.Error()))
			return
		}
		if n < purgeBatch {
			return
		}
	}
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
