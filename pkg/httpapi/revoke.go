package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// revoke is POST /auth/v1/revoke (RFC 7009). A caller may revoke its own
// tokens and keys; service accounts and admins anyone's. The answer is 200
// whether or not there was anything to revoke, so it reveals nothing.
// A revoked token is deleted; a revoked API key is disabled.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.rfcCaller(r)
	if err != nil {
		return err
	}
	tok, hint, err := readRFCForm(r)
	if err != nil {
		return err
	}
	p, err := s.lookupAny(r, tok, hint)
	switch {
	case errors.Is(err, errInactive):
		if err := s.scanMiss(r.Context(), caller.User); err != nil {
			return err
		}
	case err != nil:
		return err
	case p.User == caller.User || s.privileged(caller.User):
		if err := s.revokePrincipal(r, p, caller.User, "revoke"); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// revokePrincipal deletes a token or disables a key, and drops it from this
// replica's cache at once (other replicas hear of it from the store).
func (s *Server) revokePrincipal(r *http.Request, p Principal, by, how string) error {
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	if p.Kind == authn.KindToken {
		deleted, err := s.cfg.Store.DeleteToken(ctx, p.TokenHash)
		s.cache.Event(store.Event{Kind: store.EventToken, Key: p.TokenHash})
		if deleted {
			s.metrics.revoked.Inc()
			s.audit(r, auditTokenRevoked, outcomeSuccess, p.User, slog.String("by", by), slog.String("how", how))
		}
		return err
	}
	k, err := s.cfg.Store.APIKeyByID(ctx, p.KeyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile: revoked all the same
	}
	if err != nil {
		return err
	}
	k.Enabled, k.Locked = false, true // RFC 7009 revocation is final: only an admin undoes it
	err = s.cfg.Store.UpdateAPIKey(ctx, k)
	s.cache.Event(store.Event{Kind: store.EventAPIKey, Key: k.KeyHash})
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile: revoked all the same
	}
	if err == nil {
		s.metrics.apiKeys.WithLabelValues("disabled").Inc()
		s.audit(r, auditKeyDisabled, outcomeSuccess, k.User, slog.String("key_id", k.ID), slog.String("by", by), slog.String("how", how))
	}
	return err
}

// logout is DELETE /auth/v1/tokens/current: the caller's own token.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if p.Kind != authn.KindToken {
		return badRequest("Only a token can log out; disable or delete an API key instead.")
	}
	if err := s.revokePrincipal(r, p, p.User, "logout"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revokeUserTokens is DELETE /auth/v1/users/{user}/tokens: an admin revokes
// every token of a user and, with ?apikeys=true, disables and locks every
// API key of the user too.
func (s *Server) revokeUserTokens(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if !s.isAdmin(p.User) {
		return newError(http.StatusForbidden, "Only admins may revoke another user's tokens.")
	}
	user := pathParam(r, "user")
	if !validUsername(user) {
		return errNotFound
	}
	withKeys := isTrue(r.URL.Query().Get("apikeys"))
	n, keys, err := s.cutUser(r.Context(), user, withKeys)
	if n > 0 || err == nil {
		s.audit(r, auditTokenRevoked, outcomeSuccess, user, slog.String("by", p.User), slog.String("how", "all"),
			slog.Int("count", n))
	}
	for _, k := range keys {
		s.audit(r, auditKeyDisabled, outcomeSuccess, user, slog.String("key_id", k.ID), slog.String("by", p.User),
			slog.String("how", "all"))
	}
	if err != nil {
		return err
	}
	out := map[string]any{"user": user, "revoked": n}
	if withKeys {
		out["apikeys_disabled"] = len(keys)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
