package auth

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// metrics are the domain's Prometheus series. The Service does not
// register them: the transport puts Collectors in its own registry, so
// that several services (tests, benchmarks) can live in one process.
type metrics struct {
	logins  *prometheus.CounterVec
	issued  prometheus.Counter
	revoked prometheus.Counter
	apiKeys *prometheus.CounterVec
	all     []prometheus.Collector
}

func newMetrics(s *Service) *metrics {
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_logins_total", Help: "Password logins by backend and outcome (success, invalid, throttled, unavailable, abandoned).",
		}, []string{"backend", "outcome"}),
		issued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_tokens_issued_total", Help: "Access tokens issued.",
		}),
		revoked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_tokens_revoked_total", Help: "Access tokens revoked (revoke, logout, or all of a user's).",
		}),
		apiKeys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_api_keys_total", Help: "API key changes by action (created, enabled, disabled, deleted, rotated).",
		}, []string{"action"}),
	}
	m.all = append(m.all, m.logins, m.issued, m.revoked, m.apiKeys)
	m.all = append(m.all, cacheCollectors(s.cache)...)
	if ps, ok := s.cfg.Store.(store.PoolStater); ok {
		m.all = append(m.all, poolCollectors(ps)...)
	}
	return m
}

// Collectors returns the Service's Prometheus collectors: logins, tokens
// issued and revoked, API key changes, the validation cache and, for a
// pooled store, its connections.
func (s *Service) Collectors() []prometheus.Collector {
	return append([]prometheus.Collector(nil), s.metrics.all...)
}

func cacheCollectors(c *credCache) []prometheus.Collector {
	var out []prometheus.Collector
	for result, n := range map[string]func() uint64{"hit": c.hits.Load, "miss": c.misses.Load} {
		out = append(out, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_validation_cache_requests_total", Help: "Validation cache lookups by result.",
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 { return float64(n()) }))
	}
	return append(out,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_validation_cache_entries", Help: "Entries in the validation cache.",
		}, func() float64 { return float64(c.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_validation_cache_bytes", Help: "Estimated bytes held by the validation cache (bounded by cache_max_bytes).",
		}, func() float64 { return float64(c.Bytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_validation_cache_trusted", Help: "1 while the validation cache is in use (the revocation listener is connected, or the store is not shared).",
		}, func() float64 { return boolFloat(c.trusted.Load()) }))
}

func poolCollectors(ps store.PoolStater) []prometheus.Collector {
	var out []prometheus.Collector
	for state, f := range map[string]func(store.PoolStats) int{
		"max": func(p store.PoolStats) int { return p.Max }, "open": func(p store.PoolStats) int { return p.Open },
		"in_use": func(p store.PoolStats) int { return p.InUse },
	} {
		out = append(out, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_db_pool_connections", Help: "Database pool connections by state.",
			ConstLabels: prometheus.Labels{"state": state},
		}, func() float64 { return float64(f(ps.PoolStats())) }))
	}
	return append(out, prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "gatehouse_db_pool_waits_total", Help: "Times a request waited for a free database connection.",
	}, func() float64 { return float64(ps.PoolStats().Waited) }))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
