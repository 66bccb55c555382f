package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// EventDeadline is how soon an event must reach another replica.
const EventDeadline = time.Second

// Call is one thing a Recorder was told.
type Call struct {
	Kind string // "connected", "disconnected" or "event"
	Err  error
	Ev   store.Event
	At   time.Time
}

func (c Call) String() string {
	switch c.Kind {
	case "event":
		return fmt.Sprintf("event %s:%.40s", c.Ev.Kind, c.Ev.Key)
	case "disconnected":
		return fmt.Sprintf("disconnected(%v)", c.Err)
	}
	return c.Kind
}

// Connected and Disconnected match those calls; IsEvent matches ev.
func Connected(c Call) bool    { return c.Kind == "connected" }
func Disconnected(c Call) bool { return c.Kind == "disconnected" }
func IsEvent(ev store.Event) func(Call) bool {
	return func(c Call) bool { return c.Kind == "event" && c.Ev == ev }
}

// Recorder is a store.NotifyHandler that records every call, in order.
type Recorder struct {
	mu      sync.Mutex
	calls   []Call
	changed chan struct{} // closed and replaced at each call
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{changed: make(chan struct{})} }

func (r *Recorder) add(c Call) {
	c.At = time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	close(r.changed)
	r.changed = make(chan struct{})
}

// Connected, Disconnected and Event implement store.NotifyHandler.
func (r *Recorder) Connected()             { r.add(Call{Kind: "connected"}) }
func (r *Recorder) Disconnected(err error) { r.add(Call{Kind: "disconnected", Err: err}) }
func (r *Recorder) Event(ev store.Event)   { r.add(Call{Kind: "event", Ev: ev}) }

// Mark is the index the next call will have.
func (r *Recorder) Mark() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.calls) }

// Since returns the calls from index i on.
func (r *Recorder) Since(i int) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls[i:])
}

// Count counts the calls that match f.
func (r *Recorder) Count(f func(Call) bool) int {
	return len(slices.DeleteFunc(r.Since(0), func(c Call) bool { return !f(c) }))
}

// At returns call i.
func (r *Recorder) At(i int) Call { r.mu.Lock(); defer r.mu.Unlock(); return r.calls[i] }

// Wait returns the index of the first call from index from on that
// matches, failing t if none comes within d.
func (r *Recorder) Wait(t *testing.T, what string, from int, d time.Duration, match func(Call) bool) int {
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
			t.Fatalf("%s: nothing within %v; got %v", what, d, r.Since(from))
		}
	}
}

// Listen runs n.Listen with a new Recorder until the test ends, and waits
// for the first Connected. It returns the Recorder and a function that
// stops Listen and returns its error.
func Listen(t *testing.T, n store.Notifier) (*Recorder, func() error) {
	t.Helper()
	r := NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Listen(ctx, r) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { stop() })
	r.Wait(t, "first Connected", 0, 10*time.Second, Connected)
	return r, stop
}

// ExpectEvent runs change and checks that the next thing r is told is
// want, within EventDeadline of change returning. It returns the latency
// from the start of change.
func ExpectEvent(t *testing.T, r *Recorder, want store.Event, change func() error) time.Duration {
	t.Helper()
	from := r.Mark()
	start := time.Now()
	if err := change(); err != nil {
		t.Fatal(err)
	}
	i := r.Wait(t, "event "+string(want.Kind), from, EventDeadline, IsEvent(want))
	if i != from {
		t.Errorf("before the event came %v", r.Since(from)[:i-from])
	}
	return r.At(i).At.Sub(start)
}

// NewToken stores a fresh token of user in s.
func NewToken(t *testing.T, s store.Store, user string) store.Token {
	t.Helper()
	tok := store.Token{ID: randomHex(12), Hash: HashToken(randomHex(16)), User: user,
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

// NewAPIKey stores a fresh enabled key of user in s.
func NewAPIKey(t *testing.T, s store.Store, user string) store.APIKey {
	t.Helper()
	k := store.APIKey{ID: randomHex(12), KeyHash: HashAPIKey(randomHex(16)), User: user,
		CreatedAt: time.Now(), Enabled: true}
	if err := s.CreateAPIKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	return k
}

// RunNotifierTests is the suite for stores that several processes share
// (store.Notifier). newReplicas must return two stores on one fresh,
// empty database, as two replicas would open it; both must implement
// store.Notifier. Every subtest gets its own pair.
func RunNotifierTests(t *testing.T, newReplicas func(t *testing.T) (a, b store.Store)) {
	pair := func(t *testing.T) (store.Store, *Recorder, func() error) {
		a, b := newReplicas(t)
		n, ok := b.(store.Notifier)
		if !ok {
			t.Fatalf("%T does not implement store.Notifier", b)
		}
		r, stop := Listen(t, n)
		return a, r, stop
	}
	t.Run("Notify", func(t *testing.T) { testNotify(t, pair) })
	t.Run("NotifyOnlyChanges", func(t *testing.T) { testNotifyOnlyChanges(t, pair) })
	t.Run("NotifyLatency", func(t *testing.T) { testNotifyLatency(t, pair) })
	t.Run("ListenCancel", func(t *testing.T) { testListenCancel(t, pair) })
}

type pairFunc func(t *testing.T) (store.Store, *Recorder, func() error)

// notifyCases are the revocations another replica must hear of: each
// returns the event it must cause and the change that causes it.
func notifyCases(ctx context.Context, a store.Store) []struct {
	name   string
	change func(t *testing.T) (store.Event, func() error)
} {
	return []struct {
		name   string
		change func(t *testing.T) (store.Event, func() error)
	}{
		{"DeleteToken", func(t *testing.T) (store.Event, func() error) {
			tok := NewToken(t, a, "alice")
			return store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
				deleted, err := a.DeleteToken(ctx, tok.Hash)
				if err == nil && !deleted {
					err = errors.New("DeleteToken: not deleted")
				}
				return err
			}
		}},
		{"DeleteUserTokens", userTokensCase(ctx, a, "bob")},
		{"DeleteUserTokens, colons in the name", userTokensCase(ctx, a, "ad:carol:")},
		{"UpdateAPIKey", func(t *testing.T) (store.Event, func() error) {
			k := NewAPIKey(t, a, "dave")
			k.Enabled = false
			return store.Event{Kind: store.EventAPIKey, Key: k.KeyHash}, func() error { return a.UpdateAPIKey(ctx, k) }
		}},
		{"DisableUserAPIKeys", func(t *testing.T) (store.Event, func() error) {
			k := NewAPIKey(t, a, "frank")
			return store.Event{Kind: store.EventAPIKey, Key: k.KeyHash}, func() error {
				keys, err := a.DisableUserAPIKeys(ctx, "frank")
				if err == nil && len(keys) != 1 {
					err = fmt.Errorf("DisableUserAPIKeys changed %d keys, want 1", len(keys))
				}
				return err
			}
		}},
		{"RenewToken", func(t *testing.T) (store.Event, func() error) {
			tok := NewToken(t, a, "gina")
			return store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
				return a.RenewToken(ctx, tok.Hash, tok.ExpiresAt.Add(time.Hour))
			}
		}},
		{"RotateAPIKey", func(t *testing.T) (store.Event, func() error) {
			k := NewAPIKey(t, a, "hank")
			return store.Event{Kind: store.EventAPIKey, Key: k.KeyHash}, func() error {
				_, err := a.RotateAPIKey(ctx, k.ID, randomHex(64), time.Now().Add(time.Hour))
				return err
			}
		}},
		{"DeleteAPIKey", func(t *testing.T) (store.Event, func() error) {
			k := NewAPIKey(t, a, "erin")
			return store.Event{Kind: store.EventAPIKey, Key: k.KeyHash}, func() error { return a.DeleteAPIKey(ctx, k.ID) }
		}},
		// Last: deleting a rotated key publishes two events (the old hash,
		// then the current one), and the second may arrive after the next
		// case's mark, where it would count as an event before that case's.
		{"DeleteAPIKey of a rotated key: its old hash", func(t *testing.T) (store.Event, func() error) {
			k := NewAPIKey(t, a, "ivan")
			if _, err := a.RotateAPIKey(ctx, k.ID, randomHex(64), time.Now().Add(time.Hour)); err != nil {
				t.Fatalf("RotateAPIKey: %v", err)
			}
			return store.Event{Kind: store.EventAPIKey, Key: k.KeyHash}, func() error { return a.DeleteAPIKey(ctx, k.ID) }
		}},
	}
}

func userTokensCase(ctx context.Context, a store.Store, user string) func(t *testing.T) (store.Event, func() error) {
	return func(t *testing.T) (store.Event, func() error) {
		NewToken(t, a, user)
		NewToken(t, a, user)
		return store.Event{Kind: store.EventUser, Key: user}, func() error {
			_, err := a.DeleteUserTokens(ctx, user)
			return err
		}
	}
}

// testNotify: each revocation on replica A reaches replica B's handler.
func testNotify(t *testing.T, pair pairFunc) {
	a, r, _ := pair(t)
	for _, tc := range notifyCases(t.Context(), a) {
		t.Run(tc.name, func(t *testing.T) {
			want, change := tc.change(t)
			t.Logf("latency %v", ExpectEvent(t, r, want, change))
		})
	}
	if n := r.Count(Connected); n != 1 {
		t.Errorf("Connected called %d times, want once", n)
	}
	if n := r.Count(Disconnected); n != 0 {
		t.Errorf("Disconnected called %d times: %v", n, r.Since(0))
	}
}

// testNotifyOnlyChanges: calls that change nothing publish nothing. The
// event of a later change comes first, and notifications are delivered in
// commit order, so none was sent before it.
func testNotifyOnlyChanges(t *testing.T, pair pairFunc) {
	a, r, _ := pair(t)
	ctx := t.Context()
	tok := NewToken(t, a, "alice")
	from := r.Mark()
	if deleted, err := a.DeleteToken(ctx, HashToken("nope")); err != nil || deleted {
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
	if r.Mark() != from {
		t.Fatalf("got %v", r.Since(from))
	}
	ExpectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
		_, err := a.DeleteToken(ctx, tok.Hash)
		return err
	})
}

// testNotifyLatency measures how long events take from A's commit to B's
// handler.
func testNotifyLatency(t *testing.T, pair pairFunc) {
	a, r, _ := pair(t)
	var lat []time.Duration
	for range 50 {
		tok := NewToken(t, a, "alice")
		lat = append(lat, ExpectEvent(t, r, store.Event{Kind: store.EventToken, Key: tok.Hash}, func() error {
			_, err := a.DeleteToken(t.Context(), tok.Hash)
			return err
		}))
	}
	slices.Sort(lat)
	t.Logf("latency over %d events: min %v, median %v, p90 %v, max %v",
		len(lat), lat[0], lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1])
}

// testListenCancel: a connected Listen returns ctx's error promptly and
// leaves the handler disconnected.
func testListenCancel(t *testing.T, pair pairFunc) {
	_, r, stop := pair(t)
	start := time.Now()
	err := stop()
	if took := time.Since(start); took > time.Second {
		t.Errorf("Listen took %v to return after cancel", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Listen returned %v, want context.Canceled", err)
	}
	if calls := r.Since(0); !Disconnected(calls[len(calls)-1]) {
		t.Errorf("calls %v do not end disconnected", calls)
	}
}
