package httpapi

import (
	"context"
	"net/http"
	"time"
)

// healthz is GET /healthz: the process is up.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz is GET /readyz: the database answers and we are not shutting down.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return newError(http.StatusServiceUnavailable, "Shutting down.")
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Message: "Database unreachable.", Err: err}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
