package ldap

import (
	"container/list"
	"slices"
	"sync"
	"time"
)

// groupCache remembers each user's groups for a while, like st2's
// cachetools.TTLCache: entries expire ttl after they were stored, and when
// size entries are held the least recently used one makes room.
type groupCache struct {
	ttl  time.Duration
	size int
	now  func() time.Time

	mu    sync.Mutex
	items map[string]*list.Element // of *cacheItem
	lru   list.List                // front: most recently used
}

type cacheItem struct {
	key     string
	groups  []string
	expires time.Time
}

func newGroupCache(ttl time.Duration, size int) *groupCache {
	return &groupCache{ttl: ttl, size: size, now: time.Now, items: map[string]*list.Element{}}
}

// get returns a copy of the groups stored under key, if not expired.
func (c *groupCache) get(key string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	it := e.Value.(*cacheItem)
	if !c.now().Before(it.expires) {
		c.remove(e)
		return nil, false
	}
	c.lru.MoveToFront(e)
	return slices.Clone(it.groups), true
}

// put stores a copy of groups under key.
func (c *groupCache) put(key string, groups []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if e, ok := c.items[key]; ok {
		c.remove(e)
	}
	for c.lru.Len() >= c.size {
		c.evict(now)
	}
	it := &cacheItem{key: key, groups: slices.Clone(groups), expires: now.Add(c.ttl)}
	c.items[key] = c.lru.PushFront(it)
}

// evict removes the expired entries, or if there are none the least
// recently used one.
func (c *groupCache) evict(now time.Time) {
	removed := false
	for e := c.lru.Back(); e != nil; {
		prev := e.Prev()
		if !now.Before(e.Value.(*cacheItem).expires) {
			c.remove(e)
			removed = true
		}
		e = prev
	}
	if !removed {
		c.remove(c.lru.Back())
	}
}

func (c *groupCache) remove(e *list.Element) {
	delete(c.items, e.Value.(*cacheItem).key)
	c.lru.Remove(e)
}

// len is the number of entries held, expired or not.
func (c *groupCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
