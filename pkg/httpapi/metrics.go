package httpapi

import (
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

// metrics are the server's Prometheus series, in a registry of its own so
// that several servers (tests, benchmarks) can live in one process: the
// HTTP requests, the process, and the domain's series (auth.Service's
// Collectors: logins, tokens, API keys, the validation cache, the pool).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(a *auth.Service) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_http_request_duration_seconds", Help: "HTTP request latency by route pattern and method.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(a.Collectors()...)
	return m
}

// observe counts one request. route must be a route pattern or
// "unmatched" (see routePattern); the method is bounded here, so that no
// client can add series by choosing what it sends.
func (m *metrics) observe(route, method string, status int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// standardMethods are the methods of RFC 9110 and RFC 5789 (PATCH); they
// are case-sensitive, so "get" is not one of them.
var standardMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
	http.MethodConnect: true, http.MethodTrace: true,
}

// methodLabel is the method as a metrics label: a standard method as it
// is, anything else "other". net/http accepts any token as a method, and
// every distinct label value would be a new series kept for the life of
// the process.
func methodLabel(method string) string {
	if standardMethods[method] {
		return method
	}
	return "other"
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// msgMetricsForbidden is the 403 of /metrics for an address outside
// Config.MetricsAllowed.
const msgMetricsForbidden = "Forbidden - metrics are not served to this address."

// metricsGuard serves next only to the client addresses in
// Config.MetricsAllowed, or to anyone when the list is empty.
func (s *Server) metricsGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.cfg.MetricsAllowed) > 0 && !s.metricsAllowed(s.clientAddr(r)) {
			s.writeError(w, r, forbidden(msgMetricsForbidden))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) metricsAllowed(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range s.cfg.MetricsAllowed {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
