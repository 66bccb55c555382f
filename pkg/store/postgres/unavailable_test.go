package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storetest"
)

// wantUnavailable fails t unless err is store.ErrUnavailable and the call
// took at most limit.
func wantUnavailable(t *testing.T, what string, err error, took, limit time.Duration) {
	t.Helper()
	t.Logf("%s: %v after %v", what, err, took)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("%s: got %v, want store.ErrUnavailable", what, err)
	}
	if took > limit {
		t.Errorf("%s took %v, want at most %v", what, took, limit)
	}
}

// TestOpenRefused: nothing listens on the port.
func TestOpenRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	_, err = postgres.Open(t.Context(), "postgres://u@"+addr+"/db?sslmode=disable")
	wantUnavailable(t, "Open", err, time.Since(start), 2*time.Second)
}

// TestOpenFrozen: the server accepts connections but never answers, as a
// stopped (SIGSTOP) or wedged database does. Open must give up with ctx.
func TestOpenFrozen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // when ln is closed, at the end of the test
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = postgres.Open(ctx, "postgres://u@"+ln.Addr().String()+"/db?sslmode=disable")
	wantUnavailable(t, "Open", err, time.Since(start), 2*time.Second)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open: got %v, want context.DeadlineExceeded too", err)
	}
}

// TestFrozenDuringQueries: the database freezes while the store is open.
// Each call must fail with ErrUnavailable when its ctx ends, and the store
// must work again once the database thaws.
func TestFrozenDuringQueries(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newFreezer(t, u.Host)
	u.Host = p.addr()
	s := open(t, u.String())
	tok := store.Token{ID: "dddddddddddddddddddddddd", Hash: storetest.HashToken("x"), User: "alice"}
	if err := s.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}

	p.frozen.Store(true)
	for name, call := range map[string]func(context.Context) error{
		"TokenByHash": func(ctx context.Context) error { _, err := s.TokenByHash(ctx, tok.Hash); return err },
		"CreateToken": func(ctx context.Context) error { return s.CreateToken(ctx, store.Token{ID: "e", Hash: "e"}) },
		"Ping":        s.Ping,
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		cancel()
		wantUnavailable(t, name+" while frozen", err, time.Since(start), 2*time.Second)
	}

	p.frozen.Store(false)
	if _, err := s.TokenByHash(t.Context(), tok.Hash); err != nil {
		t.Errorf("TokenByHash after thaw: %v", err)
	}
}

// freezer is a TCP proxy to a PostgreSQL server that stops forwarding
// bytes, in both directions, while frozen is true, and closes new
// connections at once while refuse is true. cut closes the ones it has.
type freezer struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	refuse atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezer{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *freezer) addr() string { return p.ln.Addr().String() }

func (p *freezer) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// pipe copies src to dst, holding each chunk while frozen.
func (p *freezer) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.frozen.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				src.Close()
			}
			return
		}
	}
}

// cut closes every connection, as a server restart or a broken network
// that resets connections does.
func (p *freezer) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *freezer) close() {
	p.frozen.Store(false)
	p.ln.Close()
	p.cut()
}
