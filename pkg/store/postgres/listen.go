package postgres

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Listener timing. listenIdle+listenPingTimeout is the longest a silently
// dead connection (a frozen server, a network dropping packets) goes
// unnoticed: about one second, the time within which a revocation must
// reach every replica.
const (
	// listenIdle is how long Listen waits for a notification before it
	// checks that its connection still answers.
	listenIdle = 500 * time.Millisecond
	// listenPingTimeout bounds that check.
	listenPingTimeout = 500 * time.Millisecond
	// retryMin and retryMax bound the pause between attempts to
	// reconnect, which doubles after each failure (±25% jitter, so that
	// replicas do not reconnect in step after a server restart).
	retryMin = 100 * time.Millisecond
	retryMax = 2 * time.Second
)

// Listen delivers the events published on this schema's channel (see the
// package documentation), by any replica including this one, to h until
// ctx is done, then returns ctx's error.
//
// It uses a connection of its own, outside the pool, so that it never
// takes a slot from requests nor waits for one. It calls h.Connected once
// LISTEN has succeeded on it. When the connection fails, or after half a
// second without notifications does not answer a check within another
// half second (a frozen server, a network dropping packets), Listen calls
// h.Disconnected with the error (store.ErrUnavailable), closes the
// connection and tries again, pausing 100 ms, then twice as long after
// each failure up to 2 s (a connection that lasted less than 2 s counts as
// a failure); it calls h.Connected after the next successful LISTEN.
//
// Connected and Disconnected alternate. Disconnected is called once when
// delivery stops or the first attempt fails, not for every failed attempt
// while it is down, and once more, with ctx's error, when Listen returns
// while connected: a handler always ends up disconnected.
//
// A "reset" notification, or one that cannot be parsed, is delivered as
// h.Disconnected(ErrReset) followed at once by h.Connected(): the handler
// drops its whole cache, and delivery goes on.
func (s *Store) Listen(ctx context.Context, h store.NotifyHandler) error {
	down := false // h was told Disconnected and not Connected since
	retry := retryMin
	for {
		conn, err := s.listenConn(ctx)
		if err == nil {
			h.Connected()
			down = false
			up := time.Now()
			err = s.deliver(ctx, conn, h)
			closeConn(conn)
			if time.Since(up) >= retryMax { // else a flapping server: keep backing off
				retry = retryMin
			}
		}
		if ctx.Err() != nil {
			if !down {
				h.Disconnected(ctx.Err())
			}
			return ctx.Err()
		}
		if !down {
			h.Disconnected(translate("listen", err))
			down = true
		}
		if !sleep(ctx, jitter(retry)) {
			return ctx.Err() // h was told Disconnected just above, or before
		}
		retry = min(2*retry, retryMax)
	}
}

// listenConn opens a connection with the pool's settings and runs LISTEN
// on it, within the connect timeout.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

// deliver passes notifications on conn to h until ctx is done or conn
// fails, and returns why it stopped.
func (s *Store) deliver(ctx context.Context, conn *pgx.Conn, h store.NotifyHandler) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if n != nil && n.Channel == s.channel {
			dispatch(h, n.Payload)
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err): // idle: is the server still there?
			if err := ping(ctx, conn); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// ping checks that conn answers within listenPingTimeout. Notifications
// that arrive meanwhile are kept for the next WaitForNotification.
func ping(ctx context.Context, conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, listenPingTimeout)
	defer cancel()
	return conn.Ping(ctx)
}

// dispatch passes one payload to h.
func dispatch(h store.NotifyHandler, payload string) {
	if ev, ok := decodeEvent(payload); ok {
		h.Event(ev)
		return
	}
	h.Disconnected(ErrReset)
	h.Connected()
}

// closeConn closes conn, giving a frozen server one second to take the
// goodbye.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}

// jitter returns d ± 25%.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + rand.N(d/2+1)
}

// sleep waits for d or until ctx is done, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
