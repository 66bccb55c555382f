package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// basicCache remembers successful Basic logins of the callers of routes
// other than POST /auth/v1/tokens (LoginCaller), so that a service polling
// with a password does not cost a bcrypt per call. It is keyed by an HMAC
// of user and password under a key made at start and never stored: the
// password itself is never kept, and the keys are useless outside this
// process.
type basicCache struct {
	key     []byte
	entries *expirable.LRU[string, backend.Identity]
}

func newBasicCache(ttl time.Duration) *basicCache {
	if ttl <= 0 {
		ttl = DefaultBasicCacheTTL
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &basicCache{key: key, entries: expirable.NewLRU[string, backend.Identity](10_000, nil, ttl)}
}

func (c *basicCache) mac(user, password string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	return hex.EncodeToString(m.Sum(nil))
}

func (c *basicCache) get(user, password string) (backend.Identity, bool) {
	return c.entries.Get(c.mac(user, password))
}

func (c *basicCache) put(user, password string, id backend.Identity) {
	c.entries.Add(c.mac(user, password), id)
}

// forget drops every remembered login of user: the password changed, or
// the user was removed or disabled.
func (c *basicCache) forget(user string) {
	for _, k := range c.entries.Keys() {
		if id, ok := c.entries.Peek(k); ok && id.Username == user {
			c.entries.Remove(k)
		}
	}
}
