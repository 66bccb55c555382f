package httpapi

import (
	"context"
	"log/slog"
	"net/http"
)

// Audit events and outcomes.
const (
	auditLogin        = "login"
	auditTokenIssued  = "token_issued"
	auditTokenRevoked = "token_revoked"
	auditKeyCreated   = "apikey_created"
	auditKeyEnabled   = "apikey_enabled"
	auditKeyDisabled  = "apikey_disabled"
	auditKeyDeleted   = "apikey_deleted"
	auditUserRemoved  = "user_removed"

	outcomeSuccess     = "success"
	outcomeInvalid     = "invalid"
	outcomeUnavailable = "unavailable"
	outcomeThrottled   = "throttled"
)

// audit writes one security event as one JSON line, tagged "log":"audit",
// with who, from where and which request. It never takes a password,
// token or key: callers pass ids, which are not secrets. slog's JSON
// handler escapes control characters, so an event is always one line.
func (s *Server) audit(r *http.Request, event, outcome, user string, attrs ...slog.Attr) {
	base := []slog.Attr{
		slog.String("log", "audit"),
		slog.String("event", event),
		slog.String("outcome", outcome),
		slog.String("user", user),
		slog.String("remote", s.clientAddr(r).String()),
		slog.String("request_id", RequestID(r.Context())),
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "audit", append(base, attrs...)...)
}

// auditBackground writes a security event the server raised by itself,
// outside any request: it has no client address and no request id.
func (s *Server) auditBackground(ctx context.Context, event, outcome, user string, attrs ...slog.Attr) {
	base := []slog.Attr{
		slog.String("log", "audit"),
		slog.String("event", event),
		slog.String("outcome", outcome),
		slog.String("user", user),
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "audit", append(base, attrs...)...)
}
