package auth

import (
	"context"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// cached is what the cache keeps of a token or key: never the secret.
type cached struct {
	token   *store.Token
	key     *store.APIKey
	addedAt time.Time
}

// credCache keeps recent validation results so that a valid credential is
// answered without a database round trip.
//
// Correctness rules, in order of importance:
//   - A revocation removes the entry (Invalidate), locally at once and on
//     every other replica through the store's Notifier.
//   - While the Notifier is not delivering (disconnected, reconnecting),
//     nothing is read from or written to the cache: trusted is false.
//   - A lookup that raced with an invalidation does not fill the cache: gen
//     is bumped by every invalidation and checked before adding.
//   - Expired tokens are never served: expiry is checked on every read.
//   - maxAge bounds how long any entry lives, as a last safety net.
type credCache struct {
	entries *lru.Cache[string, cached]
	gen     atomic.Uint64
	trusted atomic.Bool
	maxAge  time.Duration
	st      store.Store
	now     func() time.Time
	hits    atomic.Uint64
	misses  atomic.Uint64
}

func newCredCache(st store.Store, size int, maxAge time.Duration, now func() time.Time) *credCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	if maxAge <= 0 {
		maxAge = DefaultCacheMaxAge
	}
	entries, _ := lru.New[string, cached](size) // only fails for size <= 0
	c := &credCache{entries: entries, maxAge: maxAge, st: st, now: now}
	// A store shared between processes must be listened to before its
	// results may be cached; a single-process store is trusted at once.
	_, shared := st.(store.Notifier)
	c.trusted.Store(!shared)
	return c
}

func tokenKey(hash string) string  { return "t:" + hash }
func apiKeyKey(hash string) string { return "k:" + hash }

// get returns a fresh entry for k.
func (c *credCache) get(k string) (cached, bool) {
	if !c.trusted.Load() {
		return cached{}, false
	}
	e, ok := c.entries.Get(k)
	if !ok || c.now().Sub(e.addedAt) > c.maxAge {
		c.misses.Add(1)
		return cached{}, false
	}
	c.hits.Add(1)
	return e, true
}

// put adds an entry unless an invalidation happened since gen was read.
func (c *credCache) put(k string, gen uint64, e cached) {
	e.addedAt = c.now()
	if c.trusted.Load() && c.gen.Load() == gen {
		c.entries.Add(k, e)
	}
}

// ctxBound bounds a store call: Service.storeCtx.
type ctxBound func(context.Context) (context.Context, context.CancelFunc)

// Token returns the token with that secret, from the cache or the store.
// Expiry is the caller's to check.
//
// The store is asked under bound(ctx), called only on a miss: a hit is the
// hot path and costs no timer.
func (c *credCache) Token(ctx context.Context, plain string, bound ctxBound) (store.Token, error) {
	hash := token.HashToken(plain)
	if e, ok := c.get(tokenKey(hash)); ok && e.token != nil {
		return *e.token, nil
	}
	gen := c.gen.Load()
	ctx, cancel := bound(ctx)
	defer cancel()
	t, err := c.st.TokenByHash(ctx, hash)
	if err != nil {
		return t, err
	}
	c.put(tokenKey(hash), gen, cached{token: &t})
	return t, nil
}

// APIKey returns the key with that secret, from the cache or the store.
func (c *credCache) APIKey(ctx context.Context, plain string, bound ctxBound) (store.APIKey, error) {
	hash := token.HashAPIKey(plain)
	if e, ok := c.get(apiKeyKey(hash)); ok && e.key != nil {
		return *e.key, nil
	}
	gen := c.gen.Load()
	ctx, cancel := bound(ctx)
	defer cancel()
	k, err := c.st.APIKeyByHash(ctx, hash)
	if err != nil {
		return k, err
	}
	c.put(apiKeyKey(hash), gen, cached{key: &k})
	return k, nil
}

// Event implements store.NotifyHandler: drop what the event names.
func (c *credCache) Event(ev store.Event) {
	c.gen.Add(1)
	switch ev.Kind {
	case store.EventToken:
		c.entries.Remove(tokenKey(ev.Key))
	case store.EventAPIKey:
		c.entries.Remove(apiKeyKey(ev.Key))
	case store.EventUser:
		c.removeUser(ev.Key)
	default:
		c.entries.Purge()
	}
}

// removeUser drops every cached token of user. Rare (an admin revoking a
// user), so a scan is fine.
func (c *credCache) removeUser(user string) {
	for _, k := range c.entries.Keys() {
		if e, ok := c.entries.Peek(k); ok && e.token != nil && e.token.User == user {
			c.entries.Remove(k)
		}
	}
}

// removeUserKeys drops every cached API key of user.
func (c *credCache) removeUserKeys(user string) {
	c.gen.Add(1)
	for _, k := range c.entries.Keys() {
		if e, ok := c.entries.Peek(k); ok && e.key != nil && e.key.User == user {
			c.entries.Remove(k)
		}
	}
}

// Connected implements store.NotifyHandler: events may have been missed,
// so start empty, then trust the cache again.
func (c *credCache) Connected() {
	c.gen.Add(1)
	c.entries.Purge()
	c.trusted.Store(true)
}

// Disconnected implements store.NotifyHandler: stop trusting the cache.
func (c *credCache) Disconnected(error) {
	c.trusted.Store(false)
	c.gen.Add(1)
	c.entries.Purge()
}

var _ store.NotifyHandler = (*credCache)(nil)
