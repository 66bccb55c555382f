package httpapi

import (
	"net"
	"net/http"
	"slices"
	"strings"
)

// The CORS headers st2 sends on every response (st2common middleware/cors.py).
const (
	corsMethods = "GET,POST,PUT,DELETE,OPTIONS"
	corsHeaders = "Content-Type,Authorization,X-Auth-Token,St2-Api-Key,X-CSRF-Token,X-Request-ID"
	corsExpose  = "Content-Type,X-Limit,X-Total-Count,X-Request-ID"
)

// cors sends st2's CORS headers and answers OPTIONS on any path with 200
// before routing, as st2 does. The headers go only on answers to requests
// that carry an Origin (browsers always send one on a cross-origin call;
// services never need them, and introspection is the hot path). The allowed
// origin is the request's Origin when it is in the allow-list, "*" when the
// list holds "*", and otherwise the list's first entry, which a browser
// will refuse to match: an unknown origin is never echoed.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			s.setCORS(w.Header(), origin)
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// setCORS sets st2's CORS headers for a request from origin.
func (s *Server) setCORS(h http.Header, origin string) {
	allowed := s.allowedOrigin(origin)
	if allowed == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", allowed)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", corsMethods)
	h.Set("Access-Control-Allow-Headers", corsHeaders)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Expose-Headers", corsExpose)
}

func (s *Server) allowedOrigin(origin string) string {
	list := s.cfg.AllowedOrigins
	switch {
	case len(list) == 0:
		return ""
	case slices.Contains(list, "*"):
		return "*"
	case origin != "" && slices.Contains(list, strings.TrimSuffix(origin, "/")):
		return origin
	default:
		return list[0]
	}
}

// hostsExempt are served whatever the Host header: load balancers and
// Prometheus often address a replica by its IP.
var hostsExempt = []string{"/healthz", "/readyz", "/metrics"}

// allowedHosts refuses a Host header outside auth.allowed_hosts with 400,
// when the list is set.
func (s *Server) allowedHosts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.cfg.AllowedHosts) == 0 || slices.Contains(hostsExempt, r.URL.Path) || s.hostAllowed(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		s.writeError(w, r, badRequest("Host %q is not allowed.", truncate(r.Host, 64)))
	})
}

// hostAllowed matches host:port exactly, or the host alone, case-insensitively.
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	for _, a := range s.cfg.AllowedHosts {
		if strings.EqualFold(a, hostport) || strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
