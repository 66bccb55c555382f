package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

// requestID returns the id of the request ctx belongs to, set by the
// requestID middleware.
func requestID(ctx context.Context) string {
	if rq := auth.RequestFrom(ctx); rq != nil {
		return rq.ID
	}
	return ""
}

// requestID echoes a sane incoming X-Request-ID or makes a uuid4, and sets
// it on the response, as st2's request_id middleware does. It also puts in
// the context what the domain needs to know of the request (its id and
// client address; the route follows once routed, see handle) and so
// starts the request's store budget.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !saneRequestID(id) {
			id = newUUID4()
		}
		w.Header().Set("X-Request-ID", id)
		rq := &auth.Request{ID: id, ClientAddr: s.clientAddr(r)}
		next.ServeHTTP(w, r.WithContext(s.auth.WithRequest(r.Context(), rq)))
	})
}

// saneRequestID accepts up to 128 characters of [A-Za-z0-9._:-], so that an
// echoed id can never split a header or a log line.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

func newUUID4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:16])
	return string(out[:])
}

// recoverer turns a panic into a logged 500 with the fixed body: no stack
// trace ever reaches the client.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (rec *statusRecorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *statusRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(b)
}

func (rec *statusRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// accessLog writes one line per request, and counts it in the metrics; it
// sits outside recoverer, so that a request that panicked is logged and
// counted with its 500. It logs the matched route pattern
// (/api/v1/apikeys/{ref}), never the raw path (an API key may be the ref),
// the query string (webhooks put credentials there) or any header.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route, elapsed := routePattern(r), time.Since(start)
		s.metrics.observe(route, r.Method, rec.status, elapsed)
		level := slog.LevelInfo
		if rec.status < 400 && quietRoutes[route] {
			level = slog.LevelDebug // auth.debug shows them
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.String("remote", r.RemoteAddr))
	})
}

// quietRoutes are checks other services make on every request they serve:
// their successful answers are logged at debug level, so the log is not
// one line per request of every service behind Gatehouse. Failures, and
// everything else, are logged at info; /metrics counts them all.
var quietRoutes = map[string]bool{
	"/auth/v1/introspect": true, "/auth/v1/verify": true, "/auth/v1/me": true,
	"/auth/v1/tokens/validate": true, "/auth/tokens/validate": true, "/v1/tokens/validate": true,
	"/tokens/validate": true, "/healthz": true, "/readyz": true, "/metrics": true,
}

// routePattern is the chi pattern that matched, or "unmatched".
func routePattern(r *http.Request) string {
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePattern() != "" {
		return rctx.RoutePattern()
	}
	return "unmatched"
}
