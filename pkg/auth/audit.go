package auth

import (
	"context"
	"log/slog"
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
	auditKeyRotated   = "apikey_rotated"
	auditTokenRenewed = "token_renewed"
	auditUserRemoved  = "user_removed"
	auditUserCreated  = "user_created"
	auditUserUpdated  = "user_updated"
	auditUserDeleted  = "user_deleted"
	auditPassword     = "password_changed"
	auditUnlock       = "throttle_cleared"

	outcomeSuccess     = "success"
	outcomeInvalid     = "invalid"
	outcomeUnavailable = "unavailable"
	outcomeAbandoned   = "abandoned"
	outcomeThrottled   = "throttled"
	outcomeMustChange  = "password_change_required"
)

// audit writes one security event as one JSON line, tagged "log":"audit",
// with who and, inside a request, from where and which request. It never
// takes a password, token or key: callers pass ids, which are not
// secrets. slog's JSON handler escapes control characters, so an event is
// always one line. Events the Service raises by itself (background work)
// have no client address and no request id.
func (s *Service) audit(ctx context.Context, event, outcome, user string, attrs ...slog.Attr) {
	base := []slog.Attr{
		slog.String("log", "audit"),
		slog.String("event", event),
		slog.String("outcome", outcome),
		slog.String("user", user),
	}
	if rq := RequestFrom(ctx); rq != nil {
		base = append(base, slog.String("remote", rq.ClientAddr.String()), slog.String("request_id", rq.ID))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "audit", append(base, attrs...)...)
}

// route is the route of the request ctx carries, for login audit lines.
func route(ctx context.Context) string {
	if rq := RequestFrom(ctx); rq != nil {
		return rq.Route
	}
	return ""
}
