package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storetest"
)

// eventDeadline is how soon an event must reach another replica.
const eventDeadline = time.Second

// call is one thing a recorder was told.
type call struct {
	kind string // "connected", "disconnected" or "event"
	err  error
	ev   store.Event
	at   time.Time
}

func (c call) String() string {
	switch c.kind {
	case "event":
		return fmt.Sprintf("event %s:%.40s", c.ev.Kind, c.ev.Key)
	case "disconnected":
		return fmt.Sprintf("disconnected(%v)", c.err)
	}
	return c.kind
}

func connected(c call) bool    { return c.kind == "connected" }
func disconnected(c call) bool { return c.kind == "disconnected" }
func isEvent(ev store.Event) func(call) bool {
	return func(c call) bool { return c.kind == "event" && c.ev == ev }
}

// recorder is a store.NotifyHandler that records every call, in order.
type recorder struct {
	mu      sync.Mutex
	calls   []call
	changed chan struct{} // closed and replaced at each call
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(c call) {
	c.at = time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) Connected()             { r.add(call{kind: "connected"}) }
func (r *recorder) Disconnected(err error) { r.add(call{kind: "disconnected", err: err}) }
func (r *recorder) Event(ev store.Event)   { r.add(call{kind: "event", ev: ev}) }
func (r *recorder) mark() int              { r.mu.Lock(); defer r.mu.Unlock(); return len(r.calls) }
func (r *recorder) since(i int) []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls[i:])
}
func (r *recorder) count(f func(call) bool) int {
	return len(slices.DeleteFunc(r.since(0), func(c call) bool { return !f(c) }))
}

// wait returns the index of the first call from index from on that
// matches, failing t if none comes within d.
func (r *recorder) wait(t *testing.T, what string, from int, d time.Duration, match func(call) bool) int {
	t.Helper()
	timeout := time.After(d)
	for {
		r.mu.Lock()
		for i := from; i < len(r.calls); i++ {
			if match(r.calls[i]) {
				r.mu.Unlock()
				return i
			}
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%s: nothing within %v; got %v", what, d, r.since(from))
		}
	}
}

// at returns call i.
func (r *recorder) at(i int) call { r.mu.Lock(); defer r.mu.Unlock(); return r.calls[i] }

// listen runs s.Listen with a new recorder until the test ends, and waits
// for the first Connected. It returns the recorder and a function that
// stops Listen and returns its error.
func listen(t *testing.T, s *postgres.Store) (*recorder, func() error) {
	t.Helper()
	r := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, r) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { stop() })
	r.wait(t, "first Connected", 0, 10*time.Second, connected)
	return r, stop
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newToken(t *testing.T, s store.Store, user string) store.Token {
	t.Helper()
	tok := store.Token{ID: randomHex(12), Hash: storetest.HashToken(randomHex(16)), User: user,
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

func newAPIKey(t *testing.T, s store.Store, user string) store.APIKey {
	t.Helper()
	k := store.APIKey{ID: randomHex(12), KeyHash: storetest.HashAPIKey(randomHex(16)), User: user,
		CreatedAt: time.Now(), Enabled: true}
	if err := s.CreateAPIKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	return k
}

// expectEvent runs change on a and checks that the next thing r is told is
// want, within eventDeadline of change returning. It returns the latency
// from the start of change, whose commit is its last round trip (the event
// may well arrive before change returns).
func expectEvent(t *testing.T, r *recorder, want store.Event, change func() error) time.Duration {
	t.Helper()
	from := r.mark()
	start := time.Now()
	if err := change(); err != nil {
		t.Fatal(err)
	}
	i := r.wait(t, "event "+string(want.Kind), from, eventDeadline, isEvent(want))
	if i != from {
		t.Errorf("before the event came %v", r.since(from)[:i-from])
	}
	return r.at(i).at.Sub(start)
}

// replicas opens two stores on one fresh schema, as two replicas, and
// listens on the second.
func replicas(t *testing.T) (a, b *postgres.Store, r *recorder) {
	url := pgtest.URL(t)
	a, b = open(t, url), open(t, url)
	r, _ = listen(t, b)
	return a, b, r
}

// TestNotify: each revocation on replica A reaches replica B's handler.
func TestNotify(t *testing.T) {
	t.Parallel()
	a, _, r := replicas(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T) (store.Event, func() error)
	}{
		{"DeleteToken", func(t *testing.T) (store.Event, func() error) {
			tok := newToken(t, a, "alice")
			return store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
				deleted, err := a.DeleteToken(ctx, tok.Hash)
				if err == nil && !deleted {
					err = errors.New("DeleteToken: not deleted")
				}
				return err
			}
		}},
		{"DeleteUserTokens", func(t *testing.T) (store.Event, func() error) {
			newToken(t, a, "bob")
			newToken(t, a, "bob")
			return store.Event{Kind: store.EventUser, Key: "bob"}, func() error {
				_, err := a.DeleteUserTokens(ctx, "bob")
				return err
			}
		}},
		{"DeleteUserTokens, colons in the name", func(t *testing.T) (store.Event, func() error) {
			newToken(t, a, "ad:carol:")
			return store.Event{Kind: store.EventUser, Key: "ad:carol:"}, func() error {
				_, err := a.DeleteUserTokens(ctx, "ad:carol:")
				return err
			}
		}},
		{"UpdateAPIKey", func(t *testing.T) (store.Event, func() error) {
			k := newAPIKey(t, a, "dave")
			k.Enabled = false
			return store.Event{Kind: store.EventAPIKey, Key: k.KeyHash}, func() error {
				return a.UpdateAPIKey(ctx, k)
			}
		}},
		{"DisableUserAPIKeys", func(t *testing.T) (store.Event, func() error) {
			k := newAPIKey(t, a, "frank")
			return store.Event{Kind: store.EventAPIKey, Key: k.KeyHash}, func() error {
				keys, err := a.DisableUserAPIKeys(ctx, "frank")
				if err == nil && len(keys) != 1 {
					err = fmt.Errorf("DisableUserAPIKeys changed %d keys, want 1", len(keys))
				}
				return err
			}
		}},
		{"DeleteAPIKey", func(t *testing.T) (store.Event, func() error) {
			k := newAPIKey(t, a, "erin")
			return store.Event{Kind: store.EventAPIKey, Key: k.KeyHash}, func() error {
				return a.DeleteAPIKey(ctx, k.ID)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, change := tc.change(t)
			t.Logf("latency %v", expectEvent(t, r, want, change))
		})
	}
	if n := r.count(connected); n != 1 {
		t.Errorf("Connected called %d times, want once", n)
	}
	if n := r.count(disconnected); n != 0 {
		t.Errorf("Disconnected called %d times: %v", n, r.since(0))
	}
}

// TestNotifyOnlyChanges: calls that change nothing publish nothing. The
// event of a later change comes first, and notifications are delivered in
// commit order, so none was sent before it.
func TestNotifyOnlyChanges(t *testing.T) {
	t.Parallel()
	a, _, r := replicas(t)
	ctx := t.Context()
	tok := newToken(t, a, "alice")
	from := r.mark()
	if deleted, err := a.DeleteToken(ctx, storetest.HashToken("nope")); err != nil || deleted {
		t.Errorf("DeleteToken(unknown) = %v, %v", deleted, err)
	}
	if _, err := a.DeleteUserTokens(ctx, "nobody"); err != nil {
		t.Error(err)
	}
	missing := store.APIKey{ID: randomHex(12), User: "x"}
	if err := a.UpdateAPIKey(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateAPIKey(unknown) = %v", err)
	}
	if err := a.DeleteAPIKey(ctx, missing.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteAPIKey(unknown) = %v", err)
	}
	if keys, err := a.DisableUserAPIKeys(ctx, "nobody"); err != nil || len(keys) != 0 {
		t.Errorf("DisableUserAPIKeys(nobody) = %v, %v", keys, err)
	}
	if r.mark() != from {
		t.Fatalf("got %v", r.since(from))
	}
	expectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
		_, err := a.DeleteToken(ctx, tok.Hash)
		return err
	})
}

// TestNotifyReset: a user name too long for a notification, and a payload
// Listen does not understand, both make the handler drop everything.
func TestNotifyReset(t *testing.T) {
	t.Parallel()
	a, b, r := replicas(t)
	ctx := t.Context()
	long := strings.Repeat("u", 5000) // compresses, so the index takes it
	newToken(t, a, long)
	from := r.mark()
	if _, err := a.DeleteUserTokens(ctx, long); err != nil {
		t.Fatal(err)
	}
	wantReset(t, r, from)

	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	from = r.mark()
	if _, err := conn.Exec(ctx, `SELECT pg_notify($1, 'group:admins')`, b.Channel()); err != nil {
		t.Fatal(err)
	}
	wantReset(t, r, from)
}

// wantReset checks that the calls from index from on are a reset:
// Disconnected(ErrReset) then Connected.
func wantReset(t *testing.T, r *recorder, from int) {
	t.Helper()
	r.wait(t, "Connected after reset", from, eventDeadline, connected)
	got := r.since(from)
	if len(got) != 2 || !disconnected(got[0]) || !errors.Is(got[0].err, postgres.ErrReset) {
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
	r, _ := listen(t, c)
	ctx := t.Context()
	tokA, tokC := newToken(t, a, "alice"), newToken(t, c, "alice")
	if _, err := a.DeleteToken(ctx, tokA.Hash); err != nil {
		t.Fatal(err)
	}
	// Committed after A's, so delivered after it if C heard A at all.
	expectEvent(t, r, store.Event{Kind: store.EventToken, Key: tokC.Hash}, func() error {
		_, err := c.DeleteToken(ctx, tokC.Hash)
		return err
	})
}

// TestNotifyLatency measures how long events take from A's commit to B's
// handler.
func TestNotifyLatency(t *testing.T) {
	t.Parallel()
	a, _, r := replicas(t)
	var lat []time.Duration
	for range 50 {
		tok := newToken(t, a, "alice")
		lat = append(lat, expectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
			_, err := a.DeleteToken(t.Context(), tok.Hash)
			return err
		}))
	}
	slices.Sort(lat)
	t.Logf("latency over %d events: min %v, median %v, p90 %v, max %v",
		len(lat), lat[0], lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1])
}

// TestListenIdle: a connection that stays idle for several liveness
// checks stays up and still delivers.
func TestListenIdle(t *testing.T) {
	t.Parallel()
	a, _, r := replicas(t)
	time.Sleep(3 * postgres.ListenIdle)
	tok := newToken(t, a, "alice")
	expectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
		_, err := a.DeleteToken(t.Context(), tok.Hash)
		return err
	})
	if got := r.since(0); len(got) != 2 {
		t.Errorf("got %v, want [connected event]", got)
	}
}

// proxied opens replica A directly and replica B through a freezer, and
// listens on B.
func proxied(t *testing.T) (a *postgres.Store, p *freezer, r *recorder, stop func() error) {
	base := pgtest.URL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p = newFreezer(t, u.Host)
	u.Host = p.addr()
	a, b := open(t, base), open(t, u.String())
	r, stop = listen(t, b)
	return a, p, r, stop
}

// TestListenReconnect: the connection is cut and new ones refused, as when
// the server restarts; Listen reports it, then reconnects by itself.
func TestListenReconnect(t *testing.T) {
	t.Parallel()
	a, p, r, _ := proxied(t)
	from := r.mark()
	p.refuse.Store(true)
	cut := time.Now()
	p.cut()
	i := r.wait(t, "Disconnected after cut", from, 2*time.Second, disconnected)
	t.Logf("Disconnected %v after the cut: %v", r.at(i).at.Sub(cut), r.at(i).err)
	if err := r.at(i).err; !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Disconnected(%v), want store.ErrUnavailable", err)
	}
	time.Sleep(time.Second) // several failed attempts: no more Disconnected

	p.refuse.Store(false)
	back := time.Now()
	j := r.wait(t, "Connected after restore", i, postgres.RetryMax*2, connected)
	t.Logf("Connected %v after the restore", r.at(j).at.Sub(back))
	if got := r.since(from); len(got) != 2 {
		t.Errorf("got %v, want [disconnected connected]", got)
	}
	tok := newToken(t, a, "alice")
	expectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
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
	from := r.mark()
	frozen := time.Now()
	p.frozen.Store(true)
	limit := postgres.ListenIdle + postgres.ListenPingTimeout + 500*time.Millisecond
	i := r.wait(t, "Disconnected while frozen", from, limit, disconnected)
	t.Logf("Disconnected %v after the freeze: %v", r.at(i).at.Sub(frozen), r.at(i).err)

	p.frozen.Store(false)
	r.wait(t, "Connected after thaw", i, 10*time.Second, connected)
	tok := newToken(t, a, "alice")
	expectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
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
				r.wait(t, "Disconnected", 0, 2*time.Second, disconnected)
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
			calls := r.since(0)
			if last := calls[len(calls)-1]; !disconnected(last) {
				t.Errorf("calls end with %v, want Disconnected: %v", last, calls)
			}
			if n := r.count(disconnected); n != 1 {
				t.Errorf("Disconnected called %d times: %v", n, calls)
			}
		})
	}
}
