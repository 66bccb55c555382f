package auth

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

func openTestStore(t *testing.T) store.Store {
	t.Helper()
	st, err := storeopen.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func noBound(ctx context.Context) (context.Context, context.CancelFunc) { return ctx, func() {} }

// seedTokens stores n tokens of user with groups and returns their secrets.
func seedTokens(t *testing.T, st store.Store, n int, groups []string) []string {
	t.Helper()
	now := time.Now()
	out := make([]string, n)
	for i := range out {
		out[i] = token.NewToken()
		tok := store.Token{ID: token.NewID(now), Hash: token.HashToken(out[i]), User: fmt.Sprintf("user%04d", i),
			Groups: groups, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateToken(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestCacheEntrySize: entrySize's estimate is not below what an entry
// really costs on the heap, so the byte bound holds in fact.
func TestCacheEntrySize(t *testing.T) {
	st := openTestStore(t)
	groups := []string{"cn=ops,ou=groups,dc=example,dc=org", "cn=dev,ou=groups,dc=example,dc=org"}
	secrets := seedTokens(t, st, 2000, groups)
	c := newCredCache(st, 1_000_000, 1<<30, time.Hour, time.Now)
	for _, s := range secrets {
		if _, err := c.Token(t.Context(), s, noBound); err != nil {
			t.Fatal(err)
		}
	}
	// What the cache holds is what a purge gives back: measured that way,
	// the lookups' garbage and anything else the process allocates cancel.
	var full, empty runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&full)
	n, estimate := c.Len(), c.Bytes()/c.Len()
	c.purge()
	runtime.GC()
	runtime.ReadMemStats(&empty)
	perEntry := (int(full.HeapAlloc) - int(empty.HeapAlloc)) / n
	t.Logf("%d entries: %d heap bytes each, estimated %d", n, perEntry, estimate)
	if estimate < perEntry*9/10 {
		t.Errorf("entrySize estimates %d bytes an entry, the heap grew by %d: raise entryOverhead", estimate, perEntry)
	}
}

// TestCacheBounds: the cache never holds more than its bytes or entries,
// evicting the least recently used; an evicted credential is read again
// from the store.
func TestCacheBounds(t *testing.T) {
	st := openTestStore(t)
	secrets := seedTokens(t, st, 100, nil)
	size := entrySize(&entry{user: "user0000"})
	c := newCredCache(st, 1000, 10*size, time.Hour, time.Now)
	for _, s := range secrets {
		if _, err := c.Token(t.Context(), s, noBound); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 10 || c.Bytes() > 10*size {
		t.Fatalf("%d entries, %d bytes; want 10 entries within %d bytes", c.Len(), c.Bytes(), 10*size)
	}
	misses := c.misses.Load()
	c.Token(t.Context(), secrets[99], noBound) // most recent: a hit
	c.Token(t.Context(), secrets[0], noBound)  // evicted long ago: a miss
	if got := c.misses.Load() - misses; got != 1 {
		t.Errorf("%d misses, want 1", got)
	}
	byLen := newCredCache(st, 5, 1<<30, time.Hour, time.Now)
	for _, s := range secrets[:20] {
		byLen.Token(t.Context(), s, noBound)
	}
	if byLen.Len() != 5 {
		t.Errorf("entry bound 5: %d entries", byLen.Len())
	}
	off := newCredCache(st, 100, -1, time.Hour, time.Now)
	for _, s := range secrets[:3] {
		if p, err := off.Token(t.Context(), s, noBound); err != nil || p.User == "" {
			t.Fatalf("cache off: %+v, %v", p, err)
		}
	}
	if off.Len() != 0 {
		t.Errorf("a cache turned off holds %d entries", off.Len())
	}
}

// TestCacheEvents: an event removes exactly what it names, by stored hash.
func TestCacheEvents(t *testing.T) {
	st := openTestStore(t)
	secrets := seedTokens(t, st, 3, nil)
	c := newCredCache(st, 100, 1<<20, time.Hour, time.Now)
	for _, s := range secrets {
		c.Token(t.Context(), s, noBound)
	}
	c.Event(store.Event{Kind: store.EventToken, Key: token.HashToken(secrets[0])})
	c.Event(store.Event{Kind: store.EventUser, Key: "user0001"})
	if c.Len() != 1 {
		t.Fatalf("%d entries left, want 1", c.Len())
	}
	c.Event(store.Event{Kind: store.EventToken, Key: "not-hex"})
	if c.Len() != 0 {
		t.Errorf("an event with a malformed hash left %d entries; want all dropped", c.Len())
	}
}
