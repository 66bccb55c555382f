package auth

import (
	"container/list"
	"context"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// cacheKey names a cached credential without its secret: the kind and
// the raw SHA-256 of a token, or the first half of an API key's SHA-512.
// Thirty-three bytes in the map instead of a 66-byte hex string.
type cacheKey struct {
	kind byte // 't' or 'k'
	sum  [32]byte
}

// entry is what the cache keeps of a token or key: what a Principal
// needs and nothing else (no hash, no id of a token, no secret).
type entry struct {
	key      cacheKey
	user     string
	groups   []string
	metadata map[string]any // nil when empty
	keyID    string         // API keys only
	created  int64          // Unix microseconds
	expires  int64          // Unix microseconds; tokens only
	added    int64          // Unix nanoseconds, for maxAge
	enabled  bool           // API keys only
	session  bool           // tokens only: a browser session
	size     int            // estimated bytes, counted against maxBytes
}

// entryOverhead is what an entry costs besides its strings: the struct,
// its list element and its map slot, measured with the runtime's
// allocation counters (see TestCacheEntrySize).
const entryOverhead = 288

// credCache keeps recent validation results so that a valid credential is
// answered without a database round trip. It is bounded by entries and by
// bytes (estimated from each entry's strings), whichever binds first.
//
// Correctness rules, in order of importance:
//   - A revocation removes the entry (Event), locally at once and on every
//     other replica through the store's Notifier.
//   - While the Notifier is not delivering (disconnected, reconnecting),
//     nothing is read from or written to the cache: trusted is false.
//   - A lookup that raced with an invalidation does not fill the cache: gen
//     is bumped by every invalidation and checked before adding.
//   - Expired tokens are never served: expiry is checked on every read.
//   - maxAge bounds how long any entry lives, as a last safety net.
type credCache struct {
	mu       sync.Mutex
	order    *list.List // of *entry, most recently used first
	index    map[cacheKey]*list.Element
	bytes    int
	maxBytes int
	maxLen   int

	gen     atomic.Uint64
	trusted atomic.Bool
	maxAge  time.Duration
	st      store.Store
	now     func() time.Time
	hits    atomic.Uint64
	misses  atomic.Uint64
}

func newCredCache(st store.Store, size, maxBytes int, maxAge time.Duration, now func() time.Time) *credCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	switch {
	case maxBytes == 0:
		maxBytes = DefaultCacheBytes
	case maxBytes < 0:
		maxBytes = 0 // off: every entry is over the bound, so none is kept
	}
	if maxAge <= 0 {
		maxAge = DefaultCacheMaxAge
	}
	c := &credCache{order: list.New(), index: map[cacheKey]*list.Element{}, maxBytes: maxBytes, maxLen: size,
		maxAge: maxAge, st: st, now: now}
	// A store shared between processes must be listened to before its
	// results may be cached; a single-process store is trusted at once.
	_, shared := st.(store.Notifier)
	c.trusted.Store(!shared)
	return c
}

// get returns a fresh entry for k.
func (c *credCache) get(k cacheKey) (entry, bool) {
	if !c.trusted.Load() {
		return entry{}, false
	}
	c.mu.Lock()
	el, ok := c.index[k]
	if ok {
		c.order.MoveToFront(el)
	}
	var e entry
	if ok {
		e = *el.Value.(*entry)
	}
	c.mu.Unlock()
	if !ok || c.now().UnixNano()-e.added > int64(c.maxAge) {
		c.misses.Add(1)
		return entry{}, false
	}
	c.hits.Add(1)
	return e, true
}

// put adds e unless an invalidation happened since gen was read, then
// evicts the least recently used entries past either bound.
func (c *credCache) put(gen uint64, e *entry) {
	e.added = c.now().UnixNano()
	e.size = entrySize(e)
	if !c.trusted.Load() || c.gen.Load() != gen || e.size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen { // an invalidation slipped in
		return
	}
	if old, ok := c.index[e.key]; ok {
		c.removeLocked(old)
	}
	c.index[e.key] = c.order.PushFront(e)
	c.bytes += e.size
	for c.bytes > c.maxBytes || c.order.Len() > c.maxLen {
		c.removeLocked(c.order.Back())
	}
}

func (c *credCache) removeLocked(el *list.Element) {
	e := c.order.Remove(el).(*entry)
	delete(c.index, e.key)
	c.bytes -= e.size
}

// entrySize estimates what e holds: its fixed overhead plus its strings,
// groups and metadata.
func entrySize(e *entry) int {
	n := entryOverhead + len(e.user) + len(e.keyID)
	if len(e.groups) > 0 {
		n += 24 // the slice's backing array, rounded up
	}
	for _, g := range e.groups {
		n += 32 + len(g) // a slot and the string, rounded to its size class
	}
	return n + metadataSize(e.metadata)
}

// metadataSize estimates a metadata map's bytes: a map header, and per
// item its key, a slot, and the value (strings by length, anything
// nested by a fixed guess: metadata is small and rarely nested).
func metadataSize(m map[string]any) int {
	if len(m) == 0 {
		return 0
	}
	n := 48
	for k, v := range m {
		n += 32 + len(k)
		if s, ok := v.(string); ok {
			n += len(s)
		} else {
			n += 64
		}
	}
	return n
}

// ctxBound bounds a store call: Service.storeCtx.
type ctxBound func(context.Context) (context.Context, context.CancelFunc)

// Token returns the token with that secret as a Principal, from the cache
// or the store. Expiry is the caller's to check (Principal.ExpiresAt).
//
// The store is asked under bound(ctx), called only on a miss: a hit is the
// hot path and costs no timer.
func (c *credCache) Token(ctx context.Context, plain string, bound ctxBound) (Principal, error) {
	sum := token.SumToken(plain)
	k := cacheKey{kind: 't', sum: sum}
	hash := hex.EncodeToString(sum[:])
	if e, ok := c.get(k); ok {
		return e.tokenPrincipal(hash), nil
	}
	gen := c.gen.Load()
	ctx, cancel := bound(ctx)
	defer cancel()
	t, err := c.st.TokenByHash(ctx, hash)
	if err != nil {
		return Principal{}, err
	}
	e := &entry{key: k, user: t.User, groups: t.Groups, metadata: nonEmpty(t.Metadata),
		created: t.CreatedAt.UnixMicro(), expires: t.ExpiresAt.UnixMicro(), session: t.Session}
	c.put(gen, e)
	return e.tokenPrincipal(hash), nil
}

// APIKey returns the key with that secret as a Principal and whether it
// is enabled, from the cache or the store.
func (c *credCache) APIKey(ctx context.Context, plain string, bound ctxBound) (Principal, bool, error) {
	sum := token.SumAPIKey(plain)
	k := cacheKey{kind: 'k'}
	copy(k.sum[:], sum[:32])
	hash := hex.EncodeToString(sum[:])
	if e, ok := c.get(k); ok {
		return e.keyPrincipal(hash), e.enabled, nil
	}
	gen := c.gen.Load()
	ctx, cancel := bound(ctx)
	defer cancel()
	key, err := c.st.APIKeyByHash(ctx, hash)
	if err != nil {
		return Principal{}, false, err
	}
	e := &entry{key: k, user: key.User, metadata: nonEmpty(key.Metadata), keyID: key.ID,
		created: key.CreatedAt.UnixMicro(), enabled: key.Enabled}
	c.put(gen, e)
	return e.keyPrincipal(hash), e.enabled, nil
}

// nonEmpty keeps no map for empty metadata: most credentials have none.
func nonEmpty(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// Event implements store.NotifyHandler: drop what the event names. Events
// name tokens and keys by their stored (hex) hash.
func (c *credCache) Event(ev store.Event) {
	c.gen.Add(1)
	switch ev.Kind {
	case store.EventToken:
		c.remove('t', ev.Key)
	case store.EventAPIKey:
		c.remove('k', ev.Key)
	case store.EventUser:
		c.removeUser(ev.Key, 't')
	default:
		c.purge()
	}
}

// remove drops the entry of the credential whose stored hash is hash.
func (c *credCache) remove(kind byte, hash string) {
	k := cacheKey{kind: kind}
	if n, err := hex.Decode(k.sum[:], []byte(hash[:min(len(hash), 64)])); err != nil || n != 32 {
		c.purge() // not a hash we could have cached under: drop all to be safe
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[k]; ok {
		c.removeLocked(el)
	}
}

// removeUser drops every cached credential of kind of user. Rare (an admin
// revoking a user), so a scan is fine.
func (c *credCache) removeUser(user string, kind byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*entry); e.key.kind == kind && e.user == user {
			c.removeLocked(el)
		}
		el = next
	}
}

// removeUserKeys drops every cached API key of user.
func (c *credCache) removeUserKeys(user string) {
	c.gen.Add(1)
	c.removeUser(user, 'k')
}

func (c *credCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	c.index = map[cacheKey]*list.Element{} // a new map, so its buckets are freed too
	c.bytes = 0
}

// Len is the number of entries; Bytes their estimated size.
func (c *credCache) Len() int   { c.mu.Lock(); defer c.mu.Unlock(); return c.order.Len() }
func (c *credCache) Bytes() int { c.mu.Lock(); defer c.mu.Unlock(); return c.bytes }

// Connected implements store.NotifyHandler: events may have been missed,
// so start empty, then trust the cache again.
func (c *credCache) Connected() {
	c.gen.Add(1)
	c.purge()
	c.trusted.Store(true)
}

// Disconnected implements store.NotifyHandler: stop trusting the cache.
func (c *credCache) Disconnected(error) {
	c.trusted.Store(false)
	c.gen.Add(1)
	c.purge()
}

var _ store.NotifyHandler = (*credCache)(nil)

func (e *entry) tokenPrincipal(hash string) Principal {
	return Principal{User: e.user, Groups: e.groups, Kind: authn.KindToken, TokenHash: hash,
		IssuedAt: time.UnixMicro(e.created).UTC(), ExpiresAt: time.UnixMicro(e.expires).UTC(), Metadata: e.metadata,
		Backend: metaString(e.metadata, MetaBackend), Session: e.session}
}

func (e *entry) keyPrincipal(hash string) Principal {
	return Principal{User: e.user, Kind: authn.KindAPIKey, KeyID: e.keyID, KeyHash: hash,
		IssuedAt: time.UnixMicro(e.created).UTC(), Metadata: e.metadata}
}
