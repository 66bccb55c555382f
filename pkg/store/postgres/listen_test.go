package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storetest"
)

// TestNotifierConformance runs the notifier suite every shared store
// passes: two replicas on one fresh schema.
func TestNotifierConformance(t *testing.T) {
	storetest.RunNotifierTests(t, func(t *testing.T) (store.Store, store.Store) {
		url := pgtest.URL(t)
		return open(t, url), open(t, url)
	})
}

// replicas opens two stores on one fresh schema, as two replicas, and
// listens on the second.
func replicas(t *testing.T) (a, b *postgres.Store, r *storetest.Recorder) {
	url := pgtest.URL(t)
	a, b = open(t, url), open(t, url)
	r, _ = storetest.Listen(t, b)
	return a, b, r
}

// TestNotifyReset: a user name too long for a notification, and a payload
// Listen does not understand, both make the handler drop everything.
func TestNotifyReset(t *testing.T) {
	t.Parallel()
	a, b, r := replicas(t)
	ctx := t.Context()
	long := strings.Repeat("u", 5000) // compresses, so the index takes it
	storetest.NewToken(t, a, long)
	from := r.Mark()
	if _, err := a.DeleteUserTokens(ctx, long); err != nil {
		t.Fatal(err)
	}
	wantReset(t, r, from)

	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	from = r.Mark()
	if _, err := conn.Exec(ctx, `SELECT pg_notify($1, 'group:admins')`, b.Channel()); err != nil {
		t.Fatal(err)
	}
	wantReset(t, r, from)
}

// wantReset checks that the calls from index from on are a reset:
// Disconnected(ErrReset) then Connected.
func wantReset(t *testing.T, r *storetest.Recorder, from int) {
	t.Helper()
	r.Wait(t, "Connected after reset", from, storetest.EventDeadline, storetest.Connected)
	got := r.Since(from)
	if len(got) != 2 || !storetest.Disconnected(got[0]) || !errors.Is(got[0].Err, postgres.ErrReset) {
		t.Errorf("got %v, want [disconnected(ErrReset) connected]", got)
	}
}

// TestNotifySchemas: channels are per database, so stores in two schemas
// of one database must use different ones.
func TestNotifySchemas(t *testing.T) {
	t.Parallel()
	a, c := open(t, pgtest.URL(t)), open(t, pgtest.URL(t))
	if a.Channel() == c.Channel() {
		t.Fatalf("both schemas use channel %q", a.Channel())
	}
	t.Logf("channels %s and %s", a.Channel(), c.Channel())
	r, _ := storetest.Listen(t, c)
	ctx := t.Context()
	tokA, tokC := storetest.NewToken(t, a, "alice"), storetest.NewToken(t, c, "alice")
	if _, err := a.DeleteToken(ctx, tokA.Hash); err != nil {
		t.Fatal(err)
	}
	// Committed after A's, so delivered after it if C heard A at all.
	storetest.ExpectEvent(t, r, store.Event{Kind: store.EventToken, Key: tokC.Hash}, func() error {
		_, err := c.DeleteToken(ctx, tokC.Hash)
		return err
	})
}

// TestListenIdle: a connection that stays idle for several liveness
// checks stays up and still delivers.
func TestListenIdle(t *testing.T) {
	t.Parallel()
	a, _, r := replicas(t)
	time.Sleep(3 * postgres.ListenIdle)
	tok := storetest.NewToken(t, a, "alice")
	storetest.ExpectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
		_, err := a.DeleteToken(t.Context(), tok.Hash)
		return err
	})
	if got := r.Since(0); len(got) != 2 {
		t.Errorf("got %v, want [connected event]", got)
	}
}

// proxied opens replica A directly and replica B through a freezer, and
// listens on B.
func proxied(t *testing.T) (a *postgres.Store, p *freezer, r *storetest.Recorder, stop func() error) {
	base := pgtest.URL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p = newFreezer(t, u.Host)
	u.Host = p.addr()
	a, b := open(t, base), open(t, u.String())
	r, stop = storetest.Listen(t, b)
	return a, p, r, stop
}

// TestListenReconnect: the connection is cut and new ones refused, as when
// the server restarts; Listen reports it, then reconnects by itself.
func TestListenReconnect(t *testing.T) {
	t.Parallel()
	a, p, r, _ := proxied(t)
	from := r.Mark()
	p.refuse.Store(true)
	cut := time.Now()
	p.cut()
	i := r.Wait(t, "Disconnected after cut", from, 2*time.Second, storetest.Disconnected)
	t.Logf("Disconnected %v after the cut: %v", r.At(i).At.Sub(cut), r.At(i).Err)
	if err := r.At(i).Err; !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Disconnected(%v), want store.ErrUnavailable", err)
	}
	time.Sleep(time.Second) // several failed attempts: no more Disconnected

	p.refuse.Store(false)
	back := time.Now()
	j := r.Wait(t, "Connected after restore", i, postgres.RetryMax*2, storetest.Connected)
	t.Logf("Connected %v after the restore", r.At(j).At.Sub(back))
	if got := r.Since(from); len(got) != 2 {
		t.Errorf("got %v, want [disconnected connected]", got)
	}
	tok := storetest.NewToken(t, a, "alice")
	storetest.ExpectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
		_, err := a.DeleteToken(t.Context(), tok.Hash)
		return err
	})
}

// TestListenFrozen: the connection stays open but nothing comes back, as
// with a frozen server or a network dropping packets. The liveness check
// must notice within about a second.
func TestListenFrozen(t *testing.T) {
	t.Parallel()
	a, p, r, _ := proxied(t)
	from := r.Mark()
	frozen := time.Now()
	p.frozen.Store(true)
	limit := postgres.ListenIdle + postgres.ListenPingTimeout + 500*time.Millisecond
	i := r.Wait(t, "Disconnected while frozen", from, limit, storetest.Disconnected)
	t.Logf("Disconnected %v after the freeze: %v", r.At(i).At.Sub(frozen), r.At(i).Err)

	p.frozen.Store(false)
	r.Wait(t, "Connected after thaw", i, 10*time.Second, storetest.Connected)
	tok := storetest.NewToken(t, a, "alice")
	storetest.ExpectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
		_, err := a.DeleteToken(t.Context(), tok.Hash)
		return err
	})
}

// TestListenCancel: Listen returns ctx's error promptly, whether it is
// connected, waiting to retry or stuck connecting, and leaves the handler
// disconnected.
func TestListenCancel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		breakIt func(p *freezer)
	}{
		{name: "connected"},
		{name: "retrying", breakIt: func(p *freezer) { p.refuse.Store(true); p.cut() }},
		{name: "connecting to a frozen server", breakIt: func(p *freezer) { p.frozen.Store(true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, p, r, stop := proxied(t)
			if tc.breakIt != nil {
				tc.breakIt(p)
				r.Wait(t, "Disconnected", 0, 2*time.Second, storetest.Disconnected)
				time.Sleep(300 * time.Millisecond) // into the pause, or the next attempt
			}
			start := time.Now()
			err := stop()
			took := time.Since(start)
			t.Logf("Listen returned %v after %v", err, took)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Listen returned %v, want context.Canceled", err)
			}
			if took > 500*time.Millisecond {
				t.Errorf("Listen took %v to return", took)
			}
			calls := r.Since(0)
			if last := calls[len(calls)-1]; !storetest.Disconnected(last) {
				t.Errorf("calls end with %v, want Disconnected: %v", last, calls)
			}
			if n := r.Count(storetest.Disconnected); n != 1 {
				t.Errorf("Disconnected called %d times: %v", n, calls)
			}
		})
	}
}
