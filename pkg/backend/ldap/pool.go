package ldap

import (
	"context"
	"sync"
	"time"
)

// Pool sizes and ages. A login holds one connection of each pool for a
// few round trips, so a handful of idle connections serves a busy server;
// more logins at once dial extra connections, closed afterwards.
const (
	poolSize = 4
	// maxIdle is how long an idle connection may wait for reuse. Firewalls
	// and NAT tables silently drop idle TCP connections after some minutes;
	// a connection dropped that way would hang until network_timeout
	// instead of failing fast, so idle ones are not kept that long.
	maxIdle = 60 * time.Second
)

// pool keeps up to poolSize idle connections made by open, which tries
// the endpoints in order and, for the service pool, binds as the service
// account. Connections are never shared: do takes one for the duration
// of fn.
type pool struct {
	open    func(ctx context.Context) (conn, error)
	timeout time.Duration // network_timeout, the upper bound of SetTimeout
	now     func() time.Time

	mu     sync.Mutex
	idle   []idleConn // most recently returned last
	closed bool
}

type idleConn struct {
	c     conn
	since time.Time
}

func newPool(timeout time.Duration, open func(ctx context.Context) (conn, error)) *pool {
	return &pool{open: open, timeout: timeout, now: time.Now}
}

// do runs fn on a connection: an idle one if there is one, else a new one.
// If fn fails with a network error on a reused connection (the server
// restarted, a firewall dropped it), the other idle connections are closed
// and fn runs once more on a new connection. ctx ending aborts fn.
func (p *pool) do(ctx context.Context, fn func(conn) error) error {
	c := p.take()
	reused := c != nil
	if !reused {
		var err error
		if c, err = p.open(ctx); err != nil {
			return err
		}
	}
	err := p.run(ctx, c, fn)
	if !reused || !isNetworkError(err) || ctx.Err() != nil {
		return err
	}
	p.drain()
	if c, err = p.open(ctx); err != nil {
		return err
	}
	return p.run(ctx, c, fn)
}

// run calls fn(c) and then returns c to the pool, or closes it if it
// failed or was aborted.
func (p *pool) run(ctx context.Context, c conn, fn func(conn) error) error {
	reusable, err := guarded(ctx, c, p.timeout, fn)
	if reusable {
		p.put(c)
	} else {
		_ = c.Close()
	}
	return err
}

// guarded calls fn(c) with each request bounded by the time left in ctx,
// and closes c's socket if ctx ends first. reusable is false when c must
// not be used again.
func guarded(ctx context.Context, c conn, limit time.Duration, fn func(conn) error) (reusable bool, err error) {
	c.SetTimeout(remaining(ctx, limit))
	stop := context.AfterFunc(ctx, c.Abort)
	err = fn(c)
	if !stop() || (isNetworkError(err) && ctx.Err() != nil) {
		// Time is up (go-ldap's own request timer may fire first).
		return false, context.Cause(ctx)
	}
	return !isNetworkError(err) && c.Healthy(), err
}

// take returns an idle connection that is still usable, or nil.
func (p *pool) take() conn {
	var stale []conn
	defer func() { // after Unlock
		for _, c := range stale {
			_ = c.Close()
		}
	}()
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for len(p.idle) > 0 {
		ic := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if ic.c.Healthy() && now.Sub(ic.since) < maxIdle {
			return ic.c
		}
		stale = append(stale, ic.c)
	}
	return nil
}

// put keeps c for reuse, or closes it when the pool is full or closed.
func (p *pool) put(c conn) {
	p.mu.Lock()
	if p.closed || len(p.idle) >= poolSize {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.idle = append(p.idle, idleConn{c: c, since: p.now()})
	p.mu.Unlock()
}

// drain closes every idle connection.
func (p *pool) drain() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, ic := range idle {
		_ = ic.c.Close()
	}
}

// close drains the pool; connections returned later are closed.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.drain()
}
