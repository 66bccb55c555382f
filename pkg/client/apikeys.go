package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// apiKeysPath is the API key collection. Gatehouse serves it under
// /api/v1, /v1 and /auth/v1; the last keeps every call of this client under
// one prefix, which is what a reverse proxy forwards to Gatehouse.
const apiKeysPath = "/auth/v1/apikeys"

// keysRequest is a call to the API key collection (ref "") or to one key:
// under the server's apiKeysPath, or under Options.APIKeysURL + /apikeys
// (st2's layout) when that is set.
func (c *Client) keysRequest(method, ref string, want int) request {
	r := request{method: method, path: apiKeysPath, want: want}
	if c.apiKeys != nil {
		r.base, r.path = c.apiKeys, "/apikeys"
	}
	if ref != "" {
		r.path += "/" + url.PathEscape(ref)
	}
	return r
}

// APIKey is st2's ApiKey. KeyHash and UID read "********" unless the
// server was asked to show secrets; Key is set only in a create answer.
type APIKey struct {
	ID        string         `json:"id"`
	UID       string         `json:"uid,omitempty"`
	User      string         `json:"user"`
	KeyHash   string         `json:"key_hash,omitempty"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt string         `json:"created_at,omitempty"`
	Enabled   bool           `json:"enabled"`
	Key       *string        `json:"key,omitempty"`
	// Scope, ExpiresAt and LastUsedAt are Gatehouse's: read, never sent
	// back on update (the server keeps them).
	Scope      string  `json:"-"`
	ExpiresAt  *string `json:"-"`
	LastUsedAt *string `json:"-"`

	// Raw is the object as the server sent it.
	Raw json.RawMessage `json:"-"`
}

// NewAPIKey is a create request. Empty fields are left out, so the server
// fills them: User the caller, ID and CreatedAt now, Enabled true. With
// KeyHash (migrating a key from st2) no key is generated.
type NewAPIKey struct {
	ID        string         `json:"id,omitempty"`
	User      string         `json:"user,omitempty"`
	KeyHash   string         `json:"key_hash,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	CreatedAt string         `json:"created_at,omitempty"`
	Enabled   *bool          `json:"enabled,omitempty"`
	// Scope limits the key ("read", "path:/hooks/a"); "" is the
	// caller's own scope.
	Scope string `json:"scope,omitempty"`
	// TTL (seconds) or ExpiresAt (RFC 3339) make the key expire.
	TTL       int    `json:"ttl,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// CreateAPIKey is POST /apikeys; the answer's Key is the only time the
// key is shown (nil when KeyHash was given).
func (c *Client) CreateAPIKey(ctx context.Context, k NewAPIKey) (APIKey, error) {
	var out APIKey
	r := c.keysRequest(http.MethodPost, "", http.StatusCreated)
	r.body = k
	resp, err := c.doJSON(ctx, r, &out)
	out.Raw = resp.Body
	out.readLifecycle()
	return out, err
}

// readLifecycle fills Scope, ExpiresAt and LastUsedAt from Raw.
func (k *APIKey) readLifecycle() {
	var l struct {
		Scope      string  `json:"scope"`
		ExpiresAt  *string `json:"expires_at"`
		LastUsedAt *string `json:"last_used_at"`
	}
	if json.Unmarshal(k.Raw, &l) == nil {
		k.Scope, k.ExpiresAt, k.LastUsedAt = l.Scope, l.ExpiresAt, l.LastUsedAt
	}
}

// RotateAPIKey gives the key ref names a new secret (POST
// /apikeys/{ref}/rotate), shown once in the answer's Key; the old one
// keeps working for grace seconds.
func (c *Client) RotateAPIKey(ctx context.Context, ref string, grace int) (APIKey, error) {
	var out APIKey
	r := c.keysRequest(http.MethodPost, ref, http.StatusOK)
	r.path += "/rotate"
	r.body = map[string]int{"grace": grace}
	resp, err := c.doJSON(ctx, r, &out)
	out.Raw = resp.Body
	out.readLifecycle()
	return out, err
}

// ListOptions narrow a list. Limit 0 is the server's default (50); -1 is
// every key (admins only).
type ListOptions struct {
	User        string
	Limit       int
	Offset      int
	ShowSecrets bool
}

// APIKeyPage is one page of a list.
type APIKeyPage struct {
	Keys  []APIKey
	Total int // X-Total-Count
	Limit int // X-Limit
	Raw   json.RawMessage
}

// ListAPIKeys is GET /apikeys.
func (c *Client) ListAPIKeys(ctx context.Context, o ListOptions) (APIKeyPage, error) {
	q := url.Values{}
	if o.User != "" {
		q.Set("user", o.User)
	}
	if o.Limit != 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset != 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.ShowSecrets {
		q.Set("show_secrets", "true")
	}
	var raws []json.RawMessage
	r := c.keysRequest(http.MethodGet, "", http.StatusOK)
	r.query = q
	resp, err := c.doJSON(ctx, r, &raws)
	if err != nil {
		return APIKeyPage{}, err
	}
	page := APIKeyPage{Keys: make([]APIKey, len(raws)), Raw: resp.Body}
	for i, r := range raws {
		if err := json.Unmarshal(r, &page.Keys[i]); err != nil {
			return APIKeyPage{}, &APIError{Status: resp.Status, URL: c.URL(), Message: "unexpected answer from " + c.URL() + ": an API key that is not st2's ApiKey"}
		}
		page.Keys[i].Raw = r
		page.Keys[i].readLifecycle()
	}
	page.Total, _ = strconv.Atoi(resp.Header.Get("X-Total-Count"))
	page.Limit, _ = strconv.Atoi(resp.Header.Get("X-Limit"))
	return page, nil
}

// GetAPIKey is GET /apikeys/{id_or_key}.
func (c *Client) GetAPIKey(ctx context.Context, ref string) (APIKey, error) {
	var out APIKey
	resp, err := c.doJSON(ctx, c.keysRequest(http.MethodGet, ref, http.StatusOK), &out)
	out.Raw = resp.Body
	out.readLifecycle()
	return out, err
}

// UpdateAPIKey is PUT /apikeys/{k.ID} with the whole object, as st2's
// `apikey enable|disable` sends it; a masked key_hash means "unchanged".
func (c *Client) UpdateAPIKey(ctx context.Context, k APIKey) (APIKey, error) {
	body := k
	body.Key = nil
	var out APIKey
	r := c.keysRequest(http.MethodPut, k.ID, http.StatusOK)
	r.body = body
	resp, err := c.doJSON(ctx, r, &out)
	out.Raw = resp.Body
	out.readLifecycle()
	return out, err
}

// DeleteAPIKey is DELETE /apikeys/{id_or_key}.
func (c *Client) DeleteAPIKey(ctx context.Context, ref string) error {
	_, err := c.do(ctx, c.keysRequest(http.MethodDelete, ref, http.StatusNoContent))
	return err
}
