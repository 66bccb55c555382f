package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

// healthz is GET /healthz: the process is up.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz is GET /readyz: the database answers and we are not shutting down.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return auth.Errorf(auth.EUNAVAILABLE, "Shutting down.")
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := s.auth.Ping(ctx); err != nil {
		return &auth.Error{Code: auth.EUNAVAILABLE, Message: "Database unreachable.", Err: err}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
