package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

const (
	masked          = "********"
	defaultPageSize = 50
	maxPageSize     = 100
	createdAtLayout = "2006-01-02T15:04:05.000000Z"
)

// apiKeyJSON is st2's ApiKey. Key is set only in the create response.
type apiKeyJSON struct {
	ID        string         `json:"id"`
	UID       string         `json:"uid"`
	User      string         `json:"user"`
	KeyHash   string         `json:"key_hash,omitempty"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt string         `json:"created_at"`
	Enabled   bool           `json:"enabled"`
}

type apiKeyCreated struct {
	ID        string         `json:"id"`
	UID       string         `json:"uid"`
	User      string         `json:"user"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt string         `json:"created_at"`
	Enabled   bool           `json:"enabled"`
	Key       *string        `json:"key"`
}

// maskedKey is how a key is shown on reads: key_hash and uid hidden.
func maskedKey(k store.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, UID: masked, User: k.User, KeyHash: masked, Metadata: k.Metadata,
		CreatedAt: k.CreatedAt.UTC().Format(createdAtLayout), Enabled: k.Enabled}
}

// apiKeyFields are the members st2's ApiKey schema allows
// (additionalProperties: false).
var apiKeyFields = map[string]bool{
	"id": true, "uid": true, "user": true, "key_hash": true, "metadata": true,
	"created_at": true, "enabled": true,
}

// apiKeyBody is a validated POST or PUT body.
type apiKeyBody struct {
	id, user, keyHash string
	metadata          map[string]any
	enabled           *bool
	createdAt         time.Time
}

func parseAPIKeyBody(r *http.Request) (apiKeyBody, error) {
	obj, err := readObject(r)
	if err != nil {
		return apiKeyBody{}, err
	}
	if err := checkAdditional(obj); err != nil {
		return apiKeyBody{}, err
	}
	var b apiKeyBody
	for _, f := range []struct {
		name string
		dst  *string
	}{{"id", &b.id}, {"user", &b.user}, {"key_hash", &b.keyHash}} {
		if *f.dst, err = optString(obj, f.name); err != nil {
			return apiKeyBody{}, err
		}
	}
	if _, err := optString(obj, "uid"); err != nil {
		return apiKeyBody{}, err
	}
	if b.metadata, err = optObject(obj, "metadata"); err != nil {
		return apiKeyBody{}, err
	}
	if err := checkMetadata(b.metadata, 0); err != nil {
		return apiKeyBody{}, err
	}
	if b.user != "" && !validUsername(b.user) {
		return apiKeyBody{}, badRequest("%s is not a valid user name", pyRepr(b.user))
	}
	if v, ok := obj["enabled"]; ok && v != nil {
		e, isBool := v.(bool)
		if !isBool {
			return apiKeyBody{}, badRequest("%s is not of type 'boolean'", pyRepr(v))
		}
		b.enabled = &e
	}
	if b.createdAt, err = optTime(obj, "created_at"); err != nil {
		return apiKeyBody{}, err
	}
	return b, nil
}

func checkAdditional(obj map[string]any) error {
	var extra []string
	for k := range obj {
		if !apiKeyFields[k] {
			extra = append(extra, pyRepr(k))
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	verb := "was"
	if len(extra) > 1 {
		verb = "were"
	}
	return badRequest("Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb)
}

func optString(obj map[string]any, name string) (string, error) {
	v, ok := obj[name]
	if !ok || v == nil {
		return "", nil
	}
	s, isString := v.(string)
	if !isString {
		return "", badRequest("%s is not of type 'string'", pyRepr(v))
	}
	return s, nil
}

func optObject(obj map[string]any, name string) (map[string]any, error) {
	v, ok := obj[name]
	if !ok || v == nil {
		return nil, nil
	}
	m, isObject := v.(map[string]any)
	if !isObject {
		return nil, badRequest("%s is not of type 'object'", pyRepr(v))
	}
	return m, nil
}

func optTime(obj map[string]any, name string) (time.Time, error) {
	s, err := optString(obj, name)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badRequest("%s does not match ISO8601 UTC format", pyRepr(s))
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// createAPIKey is POST /api/v1/apikeys. A caller makes keys for itself;
// admins for anyone. With key_hash (st2's `apikey load` migration) no key is
// generated and "key" is null.
func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	b, err := parseAPIKeyBody(r)
	if err != nil {
		return err
	}
	k, plain, err := s.newAPIKey(p, b)
	if err != nil {
		return err
	}
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	if err := s.cfg.Store.CreateAPIKey(ctx, k); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return newError(http.StatusConflict, "ApiKey with this id or key_hash already exists.")
		}
		return err
	}
	s.metrics.apiKeys.WithLabelValues("created").Inc()
	s.audit(r, auditKeyCreated, outcomeSuccess, k.User, slog.String("key_id", k.ID), slog.String("by", p.User),
		slog.Bool("imported", plain == nil))
	writeJSON(w, http.StatusCreated, apiKeyCreated{ID: k.ID, UID: "api_key:" + k.KeyHash, User: k.User,
		Metadata: k.Metadata, CreatedAt: k.CreatedAt.Format(createdAtLayout), Enabled: k.Enabled, Key: plain})
	return nil
}

// newAPIKey builds the key to store from a create body.
func (s *Server) newAPIKey(p Principal, b apiKeyBody) (store.APIKey, *string, error) {
	now := s.now().Truncate(time.Microsecond)
	k := store.APIKey{ID: b.id, User: b.user, KeyHash: strings.ToLower(b.keyHash), Metadata: b.metadata,
		CreatedAt: b.createdAt, Enabled: b.enabled == nil || *b.enabled}
	if k.User == "" {
		k.User = p.User
	}
	if k.ID != "" && !token.IsID(k.ID) {
		return k, nil, badRequest("%s is not a valid id: 24 lowercase hex characters expected", pyRepr(k.ID))
	}
	if k.KeyHash != "" && !token.IsKeyHash(k.KeyHash) {
		return k, nil, badRequest("key_hash must be 128 hex characters (sha512)")
	}
	if err := s.checkCreateRights(p, k.User, b); err != nil {
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

// Texts of the 403s that keep key management with admins.
const (
	msgImportAdminOnly    = "Only admins may create an API key with key_hash (st2 import)."
	msgCreatedAtAdminOnly = "Only admins may set created_at of an API key."
	msgKeyLocked          = "This API key was disabled by an admin, by revocation or by the removal of its user; only an admin may enable it again."
)

// checkCreateRights refuses what only admins may put in a create body: a
// key for another user; key_hash, which would let a caller pick a weak key
// (st2 import is an admin's migration); and created_at, which rewrites
// history.
func (s *Server) checkCreateRights(p Principal, owner string, b apiKeyBody) error {
	if s.isAdmin(p.User) {
		return nil
	}
	switch {
	case owner != p.User:
		return newError(http.StatusForbidden, "User %q may not create API keys for user %q.", p.User, owner)
	case b.keyHash != "":
		return newError(http.StatusForbidden, msgImportAdminOnly)
	case !b.createdAt.IsZero():
		return newError(http.StatusForbidden, msgCreatedAtAdminOnly)
	}
	return nil
}

// listAPIKeys is GET /api/v1/apikeys: the caller's own keys, or everyone's
// for an admin, one page at a time.
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	admin := s.isAdmin(p.User)
	f, err := pageFilter(r, admin)
	if err != nil {
		return err
	}
	// ?user= (st2 apikey list -u) narrows the list; only admins may name
	// someone else. Everyone else only ever sees their own keys.
	f.User = r.URL.Query().Get("user")
	if f.User != "" && !validUsername(f.User) {
		return badRequest("%s is not a valid user name", pyRepr(f.User))
	}
	if !admin {
		if f.User != "" && f.User != p.User {
			return newError(http.StatusForbidden, "User %q may not list API keys of user %q.", p.User, f.User)
		}
		f.User = p.User
	}
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	keys, total, err := s.cfg.Store.ListAPIKeys(ctx, f)
	if err != nil {
		return err
	}
	show := admin && isTrue(r.URL.Query().Get("show_secrets"))
	out := make([]apiKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = maskedKey(k)
		if show { // st2 apikey list --show-secrets, for export
			out[i].KeyHash, out[i].UID = k.KeyHash, "api_key:"+k.KeyHash
		}
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	w.Header().Set("X-Limit", strconv.Itoa(f.Limit))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pageFilter reads limit and offset as st2 does: limit defaults to 50,
// -1 means all (admins only), at most 100 a page for everyone else.
func pageFilter(r *http.Request, admin bool) (store.APIKeyFilter, error) {
	q := r.URL.Query()
	f := store.APIKeyFilter{Limit: defaultPageSize}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return f, badRequest("Limit, %q specified, must be a positive number.", v)
		case n <= -2:
			return f, badRequest("Limit, %q specified, must be a positive number.", v)
		case n == -1 && !admin:
			return f, newError(http.StatusForbidden, "Administrator access required to be able to specify limit=-1 and retrieve all the records")
		case n > maxPageSize && !admin:
			return f, newError(http.StatusForbidden, "Limit %q specified, maximum value is \"%d\"", v, maxPageSize)
		case n > 0 || n == -1:
			f.Limit = n
		}
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, badRequest("Offset, %q specified, must be a positive number.", v)
		}
		f.Offset = n
	}
	return f, nil
}

// lookupAPIKey finds a key by its value or its id, as st2 does, among the
// keys the caller may see. Other users' keys are "not found" for non-admins.
func (s *Server) lookupAPIKey(r *http.Request, p Principal, ref string) (store.APIKey, error) {
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	k, err := s.cfg.Store.APIKeyByHash(ctx, token.HashAPIKey(ref))
	if errors.Is(err, store.ErrNotFound) && token.IsID(ref) {
		k, err = s.cfg.Store.APIKeyByID(ctx, ref)
	}
	if err != nil {
		return k, err
	}
	if k.User != p.User && !s.isAdmin(p.User) {
		return k, store.ErrNotFound
	}
	return k, nil
}

// getAPIKey is GET /api/v1/apikeys/{id_or_key}.
func (s *Server) getAPIKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	ref := pathParam(r, "ref")
	k, err := s.lookupAPIKey(r, p, ref)
	if err != nil {
		return notFoundAs(err, newError(http.StatusNotFound, "ApiKey matching %s for reference and id not found.", ref))
	}
	writeJSON(w, http.StatusOK, maskedKey(k))
	return nil
}

// updateAPIKey is PUT /api/v1/apikeys/{id_or_key}: enable, disable, change
// metadata or owner. key_hash may be sent back masked or unchanged, never
// different.
func (s *Server) updateAPIKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	ref := pathParam(r, "ref")
	b, err := parseAPIKeyBody(r)
	if err != nil {
		return err
	}
	k, err := s.lookupAPIKey(r, p, ref)
	if err != nil {
		return notFoundAs(err, newError(http.StatusNotFound, "ApiKey with key or id=%s not found.", ref))
	}
	if b.keyHash != "" && b.keyHash != masked && strings.ToLower(b.keyHash) != k.KeyHash {
		return badRequest("Update of key_hash is not allowed.")
	}
	wasEnabled := k.Enabled
	if err := s.applyUpdate(p, &k, b); err != nil {
		return err
	}
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	err = s.cfg.Store.UpdateAPIKey(ctx, k)
	s.cache.Event(store.Event{Kind: store.EventAPIKey, Key: k.KeyHash})
	if err != nil {
		return notFoundAs(err, newError(http.StatusNotFound, "ApiKey with key or id=%s not found.", ref))
	}
	if k.Enabled != wasEnabled {
		action, event := "disabled", auditKeyDisabled
		if k.Enabled {
			action, event = "enabled", auditKeyEnabled
		}
		s.metrics.apiKeys.WithLabelValues(action).Inc()
		s.audit(r, event, outcomeSuccess, k.User, slog.String("key_id", k.ID), slog.String("by", p.User),
			slog.Bool("locked", k.Locked))
	}
	writeJSON(w, http.StatusOK, maskedKey(k))
	return nil
}

// applyUpdate copies the changeable fields of a PUT body onto k.
func (s *Server) applyUpdate(p Principal, k *store.APIKey, b apiKeyBody) error {
	if b.user != "" && b.user != k.User {
		if !s.isAdmin(p.User) {
			return newError(http.StatusForbidden, "User %q may not give API keys to user %q.", p.User, b.user)
		}
		k.User = b.user
	}
	if b.enabled != nil && *b.enabled != k.Enabled {
		if err := s.setEnabled(p, k, *b.enabled); err != nil {
			return err
		}
	}
	if b.metadata != nil {
		k.Metadata = b.metadata
	}
	return nil
}

// setEnabled switches k on or off for p. A key an admin disables for
// another user is locked; a locked key is enabled only by an admin, which
// unlocks it. Owners may switch their unlocked keys off and on at will.
func (s *Server) setEnabled(p Principal, k *store.APIKey, on bool) error {
	admin := s.isAdmin(p.User)
	switch {
	case on && admin:
		k.Locked = false
	case on && k.Locked:
		return newError(http.StatusForbidden, msgKeyLocked)
	case !on && admin && k.User != p.User:
		k.Locked = true
	}
	k.Enabled = on
	return nil
}

// deleteAPIKey is DELETE /api/v1/apikeys/{id_or_key}: 204, no body.
func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	ref := pathParam(r, "ref")
	notFound := newError(http.StatusNotFound, "ApiKey with key or id=%s not found.", ref)
	k, err := s.lookupAPIKey(r, p, ref)
	if err != nil {
		return notFoundAs(err, notFound)
	}
	ctx, cancel := s.storeCtx(r.Context())
	defer cancel()
	err = s.cfg.Store.DeleteAPIKey(ctx, k.ID)
	s.cache.Event(store.Event{Kind: store.EventAPIKey, Key: k.KeyHash})
	if err != nil {
		return notFoundAs(err, notFound)
	}
	s.metrics.apiKeys.WithLabelValues("deleted").Inc()
	s.audit(r, auditKeyDeleted, outcomeSuccess, k.User, slog.String("key_id", k.ID), slog.String("by", p.User))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// isTrue reads a query flag as st2 does (show_secrets=True).
func isTrue(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// Metadata limits: stores refuse deeper JSON (SQLite's json_valid stops at
// about 1000 levels), NUL (PostgreSQL's jsonb) and numbers beyond float64.
const maxMetadataDepth = 32

// checkMetadata refuses metadata a store could not keep or read back.
func checkMetadata(v any, depth int) error {
	if depth > maxMetadataDepth {
		return badRequest("metadata is nested more than %d levels deep", maxMetadataDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if err := checkMetadataString(k); err != nil {
				return err
			}
			if err := checkMetadata(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkMetadata(e, depth+1); err != nil {
				return err
			}
		}
	case string:
		return checkMetadataString(x)
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return badRequest("metadata number %s is out of range", truncate(string(x), 32))
		}
	}
	return nil
}

func checkMetadataString(s string) error {
	if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
		return badRequest("metadata strings must be UTF-8 without NUL characters")
	}
	return nil
}
