package authn

import (
	"net/http"
	"time"
)

// CacheLen is the number of entries in m's cache.
func CacheLen(m *Middleware) int { return m.cache.len() }

// SetNow replaces m's clock.
func SetNow(m *Middleware, now func() time.Time) { m.now = now }

// ClientOf is the HTTP client m asks Gatehouse with.
func ClientOf(m *Middleware) *http.Client { return m.cfg.Client }
