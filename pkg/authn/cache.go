package authn

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// cacheKey identifies a credential in the cache: SHA-256 of its kind and
// value, so the map holds no secret that a heap dump could show, and the
// same string as a token and as a key are two entries.
type cacheKey [sha256.Size]byte

func keyOf(c Credential) cacheKey {
	h := sha256.New()
	h.Write([]byte(c.Kind))
	h.Write([]byte{0})
	h.Write([]byte(c.Value))
	var k cacheKey
	h.Sum(k[:0])
	return k
}

// cache is a small LRU of active answers. It is safe for concurrent use.
// A nil *cache caches nothing.
type cache struct {
	mu      sync.Mutex
	size    int
	ttl     time.Duration
	entries map[cacheKey]*list.Element
	order   *list.List // front: most recently used
}

type cacheEntry struct {
	key     cacheKey
	id      Identity
	expires time.Time
}

// newCache returns nil (no cache) when size or ttl is not positive.
func newCache(size int, ttl time.Duration) *cache {
	if size <= 0 || ttl <= 0 {
		return nil
	}
	return &cache{size: size, ttl: ttl, entries: make(map[cacheKey]*list.Element), order: list.New()}
}

// get returns a copy of the live entry for k.
func (c *cache) get(k cacheKey, now time.Time) (Identity, bool) {
	if c == nil {
		return Identity{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return Identity{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.removeLocked(el)
		return Identity{}, false
	}
	c.order.MoveToFront(el)
	return e.id.clone(), true
}

// put stores id for k until now+ttl or the token's expiry, whichever comes
// first. An answer that is already expired is not stored.
func (c *cache) put(k cacheKey, id Identity, now time.Time) {
	if c == nil {
		return
	}
	expires := now.Add(c.ttl)
	if !id.ExpiresAt.IsZero() && id.ExpiresAt.Before(expires) {
		expires = id.ExpiresAt
	}
	if !now.Before(expires) {
		return
	}
	id = id.clone()
	id.Credential = Credential{} // where it was found belongs to each request
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		el.Value = &cacheEntry{key: k, id: id, expires: expires}
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.size {
		c.removeLocked(c.order.Back())
	}
	c.entries[k] = c.order.PushFront(&cacheEntry{key: k, id: id, expires: expires})
}

func (c *cache) removeLocked(el *list.Element) {
	c.order.Remove(el)
	delete(c.entries, el.Value.(*cacheEntry).key)
}

// len is the number of entries, live or not.
func (c *cache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
