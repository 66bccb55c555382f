package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

const (
	masked          = "********"
	defaultPageSize = 50
	maxPageSize     = 100
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
	keyLifecycle
}

// keyLifecycle are the members Gatehouse adds to st2's ApiKey: scope,
// expiry (null: never) and last use (null: not yet).
type keyLifecycle struct {
	Scope      string  `json:"scope"`
	ExpiresAt  *string `json:"expires_at"`
	LastUsedAt *string `json:"last_used_at"`
}

func lifecycleOf(k store.APIKey) keyLifecycle {
	return keyLifecycle{Scope: scopeOf(k.Scope), ExpiresAt: optTimeString(k.ExpiresAt),
		LastUsedAt: optTimeString(k.LastUsedAt)}
}

// optTimeString is t in st2's layout, or nil for the zero time.
func optTimeString(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(auth.TimeLayout)
	return &s
}

type apiKeyCreated struct {
	ID        string         `json:"id"`
	UID       string         `json:"uid"`
	User      string         `json:"user"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt string         `json:"created_at"`
	Enabled   bool           `json:"enabled"`
	Key       *string        `json:"key"`
	keyLifecycle
}

// createdKey is the body that shows a key's secret, once.
func createdKey(k store.APIKey, plain *string) apiKeyCreated {
	return apiKeyCreated{ID: k.ID, UID: "api_key:" + k.KeyHash, User: k.User, Metadata: k.Metadata,
		CreatedAt: k.CreatedAt.UTC().Format(auth.TimeLayout), Enabled: k.Enabled, Key: plain, keyLifecycle: lifecycleOf(k)}
}

// maskedKey is how a key is shown on reads: key_hash and uid hidden.
func maskedKey(k store.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, UID: masked, User: k.User, KeyHash: masked, Metadata: k.Metadata,
		CreatedAt: k.CreatedAt.UTC().Format(auth.TimeLayout), Enabled: k.Enabled, keyLifecycle: lifecycleOf(k)}
}

// apiKeyFields are the members st2's ApiKey schema allows
// (additionalProperties: false), and Gatehouse's scope, expiry and last
// use (last_used_at is accepted so that a body read with GET can be sent
// back with PUT, as st2 clients do, and ignored).
var apiKeyFields = map[string]bool{
	"id": true, "uid": true, "user": true, "key_hash": true, "metadata": true,
	"created_at": true, "enabled": true, "scope": true, "expires_at": true, "ttl": true, "last_used_at": true,
}

// apiKeyBody is a validated POST or PUT body.
type apiKeyBody struct {
	id, user, keyHash string
	metadata          map[string]any
	enabled           *bool
	createdAt         time.Time
	scope             string
	expiresAt         time.Time
	ttl               time.Duration
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
	if b.user != "" && !auth.ValidUsername(b.user) {
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
	return b, parseKeyLifecycle(obj, &b)
}

// parseKeyLifecycle reads scope, expires_at and ttl.
func parseKeyLifecycle(obj map[string]any, b *apiKeyBody) (err error) {
	if b.scope, err = optScope(obj); err != nil {
		return err
	}
	if b.expiresAt, err = optTime(obj, "expires_at"); err != nil {
		return err
	}
	v, present := obj["ttl"]
	ttl, set, err := parseTTL(v, present)
	if err != nil || !set {
		return err
	}
	if !ttl.IsInt64() || ttl.Int64() > maxKeyTTLSeconds {
		return badRequest("ttl %s is greater than max allowed %d.", ttl, maxKeyTTLSeconds)
	}
	b.ttl = time.Duration(ttl.Int64()) * time.Second
	return nil
}

// maxKeyTTLSeconds bounds an API key's ttl: 100 years.
const maxKeyTTLSeconds = 100 * 365 * 24 * 3600

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
	req, err := newAPIKeyRequest(b)
	if err != nil {
		return err
	}
	k, plain, err := s.auth.CreateAPIKey(r.Context(), p, req)
	if err != nil {
		return withMessage(err, auth.ECONFLICT, "ApiKey with this id or key_hash already exists.")
	}
	writeJSON(w, http.StatusCreated, createdKey(k, plain))
	return nil
}

// newAPIKeyRequest checks the formats of a create body's id and key_hash.
func newAPIKeyRequest(b apiKeyBody) (auth.NewAPIKey, error) {
	req := auth.NewAPIKey{ID: b.id, User: b.user, KeyHash: strings.ToLower(b.keyHash), Metadata: b.metadata,
		Enabled: b.enabled, CreatedAt: b.createdAt, Scope: b.scope, ExpiresAt: b.expiresAt, TTL: b.ttl}
	if req.ID != "" && !token.IsID(req.ID) {
		return req, badRequest("%s is not a valid id: 24 lowercase hex characters expected", pyRepr(req.ID))
	}
	if req.KeyHash != "" && !token.IsKeyHash(req.KeyHash) {
		return req, badRequest("key_hash must be 128 hex characters (sha512)")
	}
	return req, nil
}

// listAPIKeys is GET /api/v1/apikeys: the caller's own keys, or everyone's
// for an admin, one page at a time.
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	q, err := pageQuery(r, s.auth.IsAdmin(p.User))
	if err != nil {
		return err
	}
	page, err := s.auth.ListAPIKeys(r.Context(), p, q)
	if err != nil {
		return err
	}
	out := make([]apiKeyJSON, len(page.Keys))
	for i, k := range page.Keys {
		out[i] = maskedKey(k)
		if page.ShowSecrets { // st2 apikey list --show-secrets, for export
			out[i].KeyHash, out[i].UID = k.KeyHash, "api_key:"+k.KeyHash
		}
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(page.Total))
	w.Header().Set("X-Limit", strconv.Itoa(q.Limit))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pageQuery reads a listing's query: the page, and ?user= (st2 apikey
// list -u), which narrows the list (only admins may name someone else).
func pageQuery(r *http.Request, admin bool) (auth.APIKeyQuery, error) {
	q, err := pageFilter(r, admin)
	if err != nil {
		return q, err
	}
	q.User = r.URL.Query().Get("user")
	if q.User != "" && !auth.ValidUsername(q.User) {
		return q, badRequest("%s is not a valid user name", pyRepr(q.User))
	}
	q.ShowSecrets = isTrue(r.URL.Query().Get("show_secrets"))
	return q, nil
}

// pageFilter reads limit and offset as st2 does: limit defaults to 50,
// -1 means all (admins only), at most 100 a page for everyone else.
func pageFilter(r *http.Request, admin bool) (auth.APIKeyQuery, error) {
	q := r.URL.Query()
	f := auth.APIKeyQuery{Limit: defaultPageSize}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return f, badRequest("Limit, %q specified, must be a positive number.", v)
		case n <= -2:
			return f, badRequest("Limit, %q specified, must be a positive number.", v)
		case n == -1 && !admin:
			return f, forbidden("Administrator access required to be able to specify limit=-1 and retrieve all the records")
		case n > maxPageSize && !admin:
			return f, forbidden("Limit %q specified, maximum value is \"%d\"", v, maxPageSize)
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

// getAPIKey is GET /api/v1/apikeys/{id_or_key}.
func (s *Server) getAPIKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	ref := pathParam(r, "ref")
	k, err := s.auth.APIKey(r.Context(), p, ref)
	if err != nil {
		return withMessage(err, auth.ENOTFOUND, fmt.Sprintf("ApiKey matching %s for reference and id not found.", ref))
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
	if b.ttl != 0 {
		return badRequest("ttl is for creating a key; its expiry cannot change.")
	}
	u := auth.APIKeyUpdate{User: b.user, KeyHash: b.keyHash, Metadata: b.metadata, Enabled: b.enabled,
		Scope: b.scope, ExpiresAt: b.expiresAt}
	if u.KeyHash == masked {
		u.KeyHash = ""
	}
	k, err := s.auth.UpdateAPIKey(r.Context(), p, ref, u)
	if err != nil {
		return withMessage(err, auth.ENOTFOUND, fmt.Sprintf("ApiKey with key or id=%s not found.", ref))
	}
	writeJSON(w, http.StatusOK, maskedKey(k))
	return nil
}

// rotateAPIKey is POST /api/v1/apikeys/{id_or_key}/rotate, body
// {"grace": seconds} optional (default 0): 200 with the new key, shown
// once, and the same id. The old key works until the grace ends.
func (s *Server) rotateAPIKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	ref := pathParam(r, "ref")
	body, err := readObject(r)
	if err != nil {
		return err
	}
	var grace time.Duration
	if v, ok := body["grace"]; ok && v != nil {
		n, isNumber := v.(json.Number)
		g, convErr := strconv.ParseInt(string(n), 10, 64)
		if !isNumber || !isJSONInteger(string(n)) || convErr != nil || g < 0 || g > maxGraceSeconds {
			return badRequest("grace must be an integer number of seconds from 0 to %d.", maxGraceSeconds)
		}
		grace = time.Duration(g) * time.Second
	}
	k, plain, err := s.auth.RotateAPIKey(r.Context(), p, ref, grace)
	if err != nil {
		return withMessage(err, auth.ENOTFOUND, fmt.Sprintf("ApiKey with key or id=%s not found.", ref))
	}
	writeJSON(w, http.StatusOK, createdKey(k, &plain))
	return nil
}

// maxGraceSeconds bounds a rotation's grace period: 30 days.
const maxGraceSeconds = 30 * 24 * 3600

// deleteAPIKey is DELETE /api/v1/apikeys/{id_or_key}: 204, no body.
func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	ref := pathParam(r, "ref")
	if err := s.auth.DeleteAPIKey(r.Context(), p, ref); err != nil {
		return withMessage(err, auth.ENOTFOUND, fmt.Sprintf("ApiKey with key or id=%s not found.", ref))
	}
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
