package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// conn is what the backend needs of an LDAP connection. ldapConn wraps
// go-ldap; unit tests use fakes (as vault's ldaputil does).
type conn interface {
	// Bind is a simple bind. The password is never empty here.
	Bind(dn, password string) error
	Search(req *goldap.SearchRequest) (*goldap.SearchResult, error)
	// SetTimeout bounds each later request.
	SetTimeout(d time.Duration)
	// Healthy is false once the connection is known to be closed.
	Healthy() bool
	// Abort closes the network connection at once, so that a call in
	// progress in another goroutine returns. It is safe to call anytime.
	Abort()
	// Close ends the connection.
	Close() error
}

// dialer opens a connection to one endpoint, with LDAPS or StartTLS as the
// endpoint says. ctx bounds connecting and the TLS handshake.
type dialer interface {
	dial(ctx context.Context, ep endpoint) (conn, error)
}

// netDialer is the real dialer.
type netDialer struct {
	tls     *tls.Config // verified, TLS 1.2+; nil when TLS is off
	timeout time.Duration
}

// ldapConn is a go-ldap connection and the TCP connection under it.
type ldapConn struct {
	*goldap.Conn
	raw net.Conn
}

func (c *ldapConn) Healthy() bool { return !c.IsClosing() }
func (c *ldapConn) Abort()        { _ = c.raw.Close() }

// dial connects to ep. It builds the TLS layer itself instead of using
// goldap.DialURL so that it holds the TCP connection: closing that is the
// only way to interrupt go-ldap, which has no per-call context.
func (d *netDialer) dial(ctx context.Context, ep endpoint) (conn, error) {
	nd := net.Dialer{Timeout: d.timeout, KeepAlive: 30 * time.Second}
	raw, err := nd.DialContext(ctx, "tcp", ep.addr())
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
		}
		return nil, fmt.Errorf("connect to %s: %w", ep, err)
	}
	// From here on, ctx ending closes the socket, which aborts the TLS
	// handshake, StartTLS or anything else in progress.
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	c, err := d.setup(ctx, raw, ep)
	aborted := !stop()
	if err == nil && !aborted {
		return c, nil
	}
	if c != nil {
		_ = c.Close()
	}
	_ = raw.Close()
	if aborted || ctx.Err() != nil {
		// Time is up (go-ldap's own request timer may fire first).
		err = context.Cause(ctx)
	}
	return nil, fmt.Errorf("connect to %s: %w", ep, err)
}

// setup runs TLS (LDAPS or StartTLS) over raw and starts go-ldap on it.
func (d *netDialer) setup(ctx context.Context, raw net.Conn, ep endpoint) (*ldapConn, error) {
	var nc net.Conn = raw
	if ep.ssl {
		tc := tls.Client(raw, d.tlsFor(ep))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		nc = tc
	}
	lc := goldap.NewConn(nc, ep.ssl)
	lc.Start()
	c := &ldapConn{Conn: lc, raw: raw}
	if !ep.startTLS {
		return c, nil
	}
	lc.SetTimeout(remaining(ctx, d.timeout))
	if err := lc.StartTLS(d.tlsFor(ep)); err != nil {
		_ = lc.Close()
		return nil, fmt.Errorf("StartTLS: %w", err)
	}
	if _, ok := lc.TLSConnectionState(); !ok {
		_ = lc.Close()
		return nil, errors.New("StartTLS: the connection is not encrypted")
	}
	return c, nil
}

// tlsFor is the TLS configuration for ep: verified against cacert or the
// system roots, for the name ep was configured with.
func (d *netDialer) tlsFor(ep endpoint) *tls.Config {
	cfg := d.tls.Clone()
	cfg.ServerName = ep.host
	return cfg
}

// timerSlack lets ctx's deadline, which closes the socket, come before
// go-ldap's own request timer, which stays as a backstop: the error then
// says which limit was reached.
const timerSlack = 250 * time.Millisecond

// remaining is the time left before ctx's deadline, at most limit, plus
// timerSlack: the value for go-ldap's SetTimeout.
func remaining(ctx context.Context, limit time.Duration) time.Duration {
	return timeLeft(ctx, limit) + timerSlack
}

// timeLeft is the time left before ctx's deadline, at most limit.
func timeLeft(ctx context.Context, limit time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < limit {
			return max(left, time.Millisecond)
		}
	}
	return limit
}

// isNetworkError tells a failure of the connection (closed, reset, timed
// out, unreadable answer) from an answer of the server.
func isNetworkError(err error) bool {
	if err == nil {
		return false
	}
	var le *goldap.Error
	if errors.As(err, &le) {
		return le.ResultCode == goldap.ErrorNetwork
	}
	return true
}

// isServerDown reports an answer meaning the server cannot serve now
// (busy, unavailable), as opposed to a refusal of the credentials.
func isServerDown(err error) bool {
	return goldap.IsErrorAnyOf(err, goldap.LDAPResultBusy, goldap.LDAPResultUnavailable)
}
