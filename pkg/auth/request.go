package auth

import (
	"context"
	"net/netip"
	"sync/atomic"
	"time"
)

// Request is what the Service knows of the request it is serving: where
// it came from (for the throttle and the audit lines), its id and route
// (for the audit lines) and how long it may still wait on the store.
//
// A transport makes one per request and puts it in the request's context
// with Service.WithRequest, once, so that serving a request costs one
// allocation for it. Fields learnt later (Route, once the router has
// matched) may be set on the same Request before the Service is called,
// never while a call is running. Calls without a Request (background work,
// tools) get a fresh store timeout per call and audit lines without a
// remote address or request id.
type Request struct {
	// ClientAddr is the address the request came from, as the throttle
	// counts it: the transport resolves trusted proxies.
	ClientAddr netip.Addr
	// ID is the request's id, echoed in audit lines.
	ID string
	// Route is the route that matched, for the audit lines of logins.
	Route string

	// storeLeft is the time, in nanoseconds, the request may still spend
	// waiting on the store (see storeCtx).
	storeLeft atomic.Int64
}

type ctxKey struct{}

// WithRequest returns a copy of ctx that carries rq, and starts rq's store
// budget: all the store calls made for rq share Config.StoreTimeout.
func (s *Service) WithRequest(ctx context.Context, rq *Request) context.Context {
	rq.storeLeft.Store(int64(s.cfg.StoreTimeout))
	return context.WithValue(ctx, ctxKey{}, rq)
}

// RequestFrom returns the Request ctx carries, or nil.
func RequestFrom(ctx context.Context) *Request {
	rq, _ := ctx.Value(ctxKey{}).(*Request)
	return rq
}

// storeCtx bounds one store call. All the calls of one request share one
// budget of StoreTimeout, so that a request making several calls to a
// slow or frozen database still answers within about StoreTimeout, not a
// multiple of it. Outside a request each call gets StoreTimeout.
func (s *Service) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	rq := RequestFrom(ctx)
	if rq == nil {
		return context.WithTimeout(ctx, s.cfg.StoreTimeout)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(max(rq.storeLeft.Load(), 0)))
	return ctx, func() {
		cancel()
		rq.storeLeft.Add(-int64(time.Since(start)))
	}
}
