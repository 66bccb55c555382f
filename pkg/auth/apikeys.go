package auth

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// The texts of the EFORBIDDEN answers that keep key management with admins.
const (
	msgImportAdminOnly    = "Only admins may create an API key with key_hash (st2 import)."
	msgCreatedAtAdminOnly = "Only admins may set created_at of an API key."
	msgKeyLocked          = "This API key was disabled by an admin, by revocation or by the removal of its user; only an admin may enable it again."
)

// NewAPIKey is what a caller asks for when it creates an API key. Zero
// fields take defaults: a new id, the caller as owner, a new secret,
// metadata {}, enabled, created now. The transport has checked the
// formats of ID and KeyHash.
type NewAPIKey struct {
	ID string
	// User owns the key; only admins name another user.
	User string
	// KeyHash imports a key made elsewhere (st2's `apikey load`): no
	// secret is made. Admins only.
	KeyHash  string
	Metadata map[string]any
	Enabled  *bool
	// CreatedAt backdates the key (st2 import). Admins only.
	CreatedAt time.Time
	// Scope limits the key; "" gives it the caller's own scope. Never
	// wider than the caller's (EFORBIDDEN).
	Scope string
	// ExpiresAt or TTL (not both) make the key expire; neither: never.
	ExpiresAt time.Time
	TTL       time.Duration
}

// CreateAPIKey makes and stores a key for caller. It returns the key and
// its secret, which is shown once (nil for an imported key_hash).
// Refusals are EFORBIDDEN; a taken id or hash is ECONFLICT.
func (s *Service) CreateAPIKey(ctx context.Context, caller Principal, req NewAPIKey) (store.APIKey, *string, error) {
	k, plain, err := s.newAPIKey(caller, req)
	if err != nil {
		return k, nil, err
	}
	sctx, cancel := s.storeCtx(ctx)
	defer cancel()
	if err := s.cfg.Store.CreateAPIKey(sctx, k); err != nil {
		return k, nil, err
	}
	s.metrics.apiKeys.WithLabelValues("created").Inc()
	s.audit(ctx, auditKeyCreated, outcomeSuccess, k.User, slog.String("key_id", k.ID), slog.String("by", caller.User),
		slog.Bool("imported", plain == nil))
	return k, plain, nil
}

// newAPIKey builds the key to store from a create request.
func (s *Service) newAPIKey(caller Principal, req NewAPIKey) (store.APIKey, *string, error) {
	now := s.now().Truncate(time.Microsecond)
	k := store.APIKey{ID: req.ID, User: req.User, KeyHash: req.KeyHash, Metadata: req.Metadata,
		CreatedAt: req.CreatedAt, Enabled: req.Enabled == nil || *req.Enabled}
	if k.User == "" {
		k.User = caller.User
	}
	if err := mayChange(caller); err != nil {
		return k, nil, err
	}
	if err := s.checkCreateRights(caller, k.User, req); err != nil {
		return k, nil, err
	}
	var err error
	if k.Scope, err = newScope(caller, req.Scope); err != nil {
		return k, nil, err
	}
	if k.ExpiresAt, err = keyExpiry(now, req); err != nil {
		return k, nil, err
	}
	if k.ID == "" {
		k.ID = token.NewID(now)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now
	}
	if k.Metadata == nil {
		k.Metadata = map[string]any{}
	}
	if k.KeyHash != "" {
		return k, nil, nil
	}
	plain := token.NewAPIKey()
	k.KeyHash = token.HashAPIKey(plain)
	return k, &plain, nil
}

// maxKeyTTL bounds a key's ttl, so that its expiry stays a time every
// store and JSON reader can hold.
const maxKeyTTL = 100 * 365 * 24 * time.Hour

// keyExpiry is when a new key expires: ExpiresAt, now + TTL, or never.
func keyExpiry(now time.Time, req NewAPIKey) (time.Time, error) {
	switch {
	case !req.ExpiresAt.IsZero() && req.TTL != 0:
		return time.Time{}, Errorf(EINVALID, "Give expires_at or ttl, not both.")
	case req.TTL < 0 || req.TTL > maxKeyTTL:
		return time.Time{}, Errorf(EINVALID, "ttl must be between 1 and %d seconds.", int64(maxKeyTTL/time.Second))
	case req.TTL > 0:
		return now.Add(req.TTL), nil
	case !req.ExpiresAt.IsZero() && !req.ExpiresAt.After(now):
		return time.Time{}, Errorf(EINVALID, "expires_at %s is not in the future.", req.ExpiresAt.UTC().Format(time.RFC3339))
	case req.ExpiresAt.Sub(now) > maxKeyTTL:
		return time.Time{}, Errorf(EINVALID, "expires_at is more than 100 years away.")
	}
	return req.ExpiresAt.UTC().Truncate(time.Microsecond), nil
}

// checkCreateRights refuses what only admins may ask for: a key for
// another user; key_hash, which would let a caller pick a weak key (st2
// import is an admin's migration); and created_at, which rewrites history.
func (s *Service) checkCreateRights(caller Principal, owner string, req NewAPIKey) error {
	if s.IsAdmin(caller.User) {
		return nil
	}
	switch {
	case owner != caller.User:
		return Errorf(EFORBIDDEN, "User %q may not create API keys for user %q.", caller.User, owner)
	case req.KeyHash != "":
		return Errorf(EFORBIDDEN, msgImportAdminOnly)
	case !req.CreatedAt.IsZero():
		return Errorf(EFORBIDDEN, msgCreatedAtAdminOnly)
	}
	return nil
}

// APIKeyQuery is one page of a key listing.
type APIKeyQuery struct {
	// User narrows the list to one owner; only admins may name another
	// user than themselves.
	User          string
	Limit, Offset int
	// ShowSecrets asks for key_hash (st2 apikey list --show-secrets, for
	// export); honoured for admins only.
	ShowSecrets bool
}

// APIKeyPage is one page of keys.
type APIKeyPage struct {
	Keys []store.APIKey
	// Total is how many keys the whole listing holds.
	Total int
	// ShowSecrets says whether the caller may see the keys' hashes.
	ShowSecrets bool
}

// ListAPIKeys lists the caller's own keys, or anyone's for an admin.
func (s *Service) ListAPIKeys(ctx context.Context, caller Principal, q APIKeyQuery) (APIKeyPage, error) {
	admin := s.IsAdmin(caller.User)
	if !admin {
		if q.User != "" && q.User != caller.User {
			return APIKeyPage{}, Errorf(EFORBIDDEN, "User %q may not list API keys of user %q.", caller.User, q.User)
		}
		q.User = caller.User
	}
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	keys, total, err := s.cfg.Store.ListAPIKeys(ctx, store.APIKeyFilter{User: q.User, Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		return APIKeyPage{}, err
	}
	return APIKeyPage{Keys: keys, Total: total, ShowSecrets: admin && q.ShowSecrets}, nil
}

// APIKey finds a key by its secret or its id, as st2 does, among the keys
// caller may see: another user's key is ENOTFOUND for a non-admin.
func (s *Service) APIKey(ctx context.Context, caller Principal, ref string) (store.APIKey, error) {
	ctx, cancel := s.storeCtx(ctx)
	defer cancel()
	k, err := s.cfg.Store.APIKeyByHash(ctx, token.HashAPIKey(ref))
	if errors.Is(err, store.ErrNotFound) && token.IsID(ref) {
		k, err = s.cfg.Store.APIKeyByID(ctx, ref)
	}
	if err != nil {
		return k, err
	}
	if k.User != caller.User && !s.IsAdmin(caller.User) {
		return k, store.ErrNotFound
	}
	return k, nil
}

// APIKeyUpdate is what may change in a key. Zero fields stay as they are.
type APIKeyUpdate struct {
	// User gives the key to another user: admins only.
	User string
	// KeyHash may only repeat the key's own (EINVALID otherwise).
	KeyHash  string
	Metadata map[string]any
	Enabled  *bool
	// Scope and ExpiresAt may only repeat the key's own (EINVALID
	// otherwise): st2 clients send back the whole key they read.
	Scope     string
	ExpiresAt time.Time
}

// UpdateAPIKey changes the key ref names (see APIKey). A key an admin
// disables for another user is locked; a locked key is enabled only by an
// admin, which unlocks it. Owners may switch their unlocked keys off and
// on at will.
func (s *Service) UpdateAPIKey(ctx context.Context, caller Principal, ref string, u APIKeyUpdate) (store.APIKey, error) {
	k, err := s.APIKey(ctx, caller, ref)
	if err != nil {
		return k, err
	}
	if err := mayChange(caller); err != nil {
		return k, err
	}
	if u.KeyHash != "" && strings.ToLower(u.KeyHash) != k.KeyHash {
		return k, Errorf(EINVALID, "Update of key_hash is not allowed.")
	}
	if u.Scope != "" && u.Scope != scopeOrWrite(k.Scope) {
		return k, Errorf(EINVALID, "The scope of an API key cannot change; create a new key.")
	}
	if !u.ExpiresAt.IsZero() && !u.ExpiresAt.Equal(k.ExpiresAt) {
		return k, Errorf(EINVALID, "The expiry of an API key cannot change; create a new key or rotate it.")
	}
	wasEnabled := k.Enabled
	if err := s.applyUpdate(caller, &k, u); err != nil {
		return k, err
	}
	sctx, cancel := s.storeCtx(ctx)
	defer cancel()
	err = s.cfg.Store.UpdateAPIKey(sctx, k)
	s.forgetKey(k)
	if err != nil {
		return k, err
	}
	if k.Enabled != wasEnabled {
		s.auditSwitched(ctx, caller, k)
	}
	return k, nil
}

func (s *Service) auditSwitched(ctx context.Context, caller Principal, k store.APIKey) {
	action, event := "disabled", auditKeyDisabled
	if k.Enabled {
		action, event = "enabled", auditKeyEnabled
	}
	s.metrics.apiKeys.WithLabelValues(action).Inc()
	s.audit(ctx, event, outcomeSuccess, k.User, slog.String("key_id", k.ID), slog.String("by", caller.User),
		slog.Bool("locked", k.Locked))
}

// applyUpdate copies the changeable fields of u onto k.
func (s *Service) applyUpdate(caller Principal, k *store.APIKey, u APIKeyUpdate) error {
	if u.User != "" && u.User != k.User {
		if !s.IsAdmin(caller.User) {
			return Errorf(EFORBIDDEN, "User %q may not give API keys to user %q.", caller.User, u.User)
		}
		k.User = u.User
	}
	if u.Enabled != nil && *u.Enabled != k.Enabled {
		if err := s.setEnabled(caller, k, *u.Enabled); err != nil {
			return err
		}
	}
	if u.Metadata != nil {
		k.Metadata = u.Metadata
	}
	return nil
}

// setEnabled switches k on or off for caller.
func (s *Service) setEnabled(caller Principal, k *store.APIKey, on bool) error {
	admin := s.IsAdmin(caller.User)
	switch {
	case on && admin:
		k.Locked = false
	case on && k.Locked:
		return Errorf(EFORBIDDEN, msgKeyLocked)
	case !on && admin && k.User != caller.User:
		k.Locked = true
	}
	k.Enabled = on
	return nil
}

// DeleteAPIKey deletes the key ref names (see APIKey).
func (s *Service) DeleteAPIKey(ctx context.Context, caller Principal, ref string) error {
	k, err := s.APIKey(ctx, caller, ref)
	if err != nil {
		return err
	}
	if err := mayChange(caller); err != nil {
		return err
	}
	sctx, cancel := s.storeCtx(ctx)
	defer cancel()
	err = s.cfg.Store.DeleteAPIKey(sctx, k.ID)
	s.forgetKey(k)
	s.keyUses.Delete(k.ID)
	if err != nil {
		return err
	}
	s.metrics.apiKeys.WithLabelValues("deleted").Inc()
	s.audit(ctx, auditKeyDeleted, outcomeSuccess, k.User, slog.String("key_id", k.ID), slog.String("by", caller.User))
	return nil
}

// forgetKey drops k from this replica's cache under its current and its
// previous secret (other replicas hear of it from the store).
func (s *Service) forgetKey(k store.APIKey) {
	s.cache.Event(store.Event{Kind: store.EventAPIKey, Key: k.KeyHash})
	if k.PrevKeyHash != "" {
		s.cache.Event(store.Event{Kind: store.EventAPIKey, Key: k.PrevKeyHash})
	}
}

// maxGrace bounds a rotation's grace period.
const maxGrace = 30 * 24 * time.Hour

// RotateAPIKey gives the key ref names (see APIKey) a new secret, shown
// once, and keeps its id, owner, scope, expiry and metadata. The old
// secret keeps working for grace (0: it stops at once), on every replica,
// and stops when grace ends without anything else happening: each
// replica's cache holds the end of the grace period with the old secret.
// A secret from an earlier rotation stops at once. Admins and the owner
// may rotate; an imported or disabled key may be rotated too.
func (s *Service) RotateAPIKey(ctx context.Context, caller Principal, ref string, grace time.Duration) (store.APIKey, string, error) {
	if grace < 0 || grace > maxGrace {
		return store.APIKey{}, "", Errorf(EINVALID, "grace must be between 0 and %d seconds.", int64(maxGrace/time.Second))
	}
	k, err := s.APIKey(ctx, caller, ref)
	if err != nil {
		return k, "", err
	}
	if err := mayChange(caller); err != nil {
		return k, "", err
	}
	plain := token.NewAPIKey()
	sctx, cancel := s.storeCtx(ctx)
	defer cancel()
	rotated, err := s.cfg.Store.RotateAPIKey(sctx, k.ID, token.HashAPIKey(plain), s.now().Add(grace))
	s.forgetKey(k) // the current secret becomes the previous one; an older one stops
	if err != nil {
		return k, "", err
	}
	s.metrics.apiKeys.WithLabelValues("rotated").Inc()
	s.audit(ctx, auditKeyRotated, outcomeSuccess, k.User, slog.String("key_id", k.ID), slog.String("by", caller.User),
		slog.Duration("grace", grace))
	return rotated, plain, nil
}
