package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// ExportedAPIKey is one object of StackStorm's `st2 apikey list -j
// --show-secrets` output: id, uid, user, key_hash, metadata, created_at,
// enabled. Unknown members are ignored.
type ExportedAPIKey struct {
	ID        string         `json:"id"`
	UID       string         `json:"uid"`
	User      string         `json:"user"`
	KeyHash   string         `json:"key_hash"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt string         `json:"created_at"`
	Enabled   *bool          `json:"enabled"`
}

// ExportItem is one entry of an export file: the key, or why it could not
// be read.
type ExportItem struct {
	Index int // from 1
	Key   ExportedAPIKey
	Err   error
}

// Name identifies the item in messages: its id, else its position.
func (it ExportItem) Name() string {
	if it.Key.ID != "" {
		return it.Key.ID
	}
	return fmt.Sprintf("#%d", it.Index)
}

// ParseExport reads an st2 export: a JSON list of ApiKey objects, or a
// single object. An entry of the wrong shape is returned with Err set, so
// one bad entry does not hide the others.
func ParseExport(data []byte) ([]ExportItem, error) {
	data = bytes.TrimSpace(data)
	var raws []json.RawMessage
	switch {
	case len(data) == 0:
		return nil, errors.New("the file is empty")
	case data[0] == '[':
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, fmt.Errorf("not a JSON list of API keys: %w", err)
		}
	case data[0] == '{':
		raws = []json.RawMessage{data}
	default:
		return nil, errors.New("not JSON: expected the output of `st2 apikey list -j --show-secrets`")
	}
	items := make([]ExportItem, len(raws))
	for i, raw := range raws {
		items[i].Index = i + 1
		if err := json.Unmarshal(raw, &items[i].Key); err != nil {
			items[i].Err = fmt.Errorf("not an st2 ApiKey object: %w", err)
		}
	}
	return items, nil
}

// masked is how st2 and Gatehouse show a hidden key_hash or uid.
const masked = "********"

// Request is the create request that imports k, as `st2 apikey load` does:
// user, key_hash, metadata, enabled, plus id and created_at when they are
// valid (else the server makes new ones). The uid is derived by the
// server.
func (k ExportedAPIKey) Request() (NewAPIKey, error) {
	hash := strings.ToLower(strings.TrimSpace(k.KeyHash))
	if (hash == "" || hash == masked) && strings.HasPrefix(k.UID, "api_key:") {
		hash = strings.ToLower(strings.TrimPrefix(k.UID, "api_key:"))
	}
	switch {
	case hash == "" || hash == masked:
		return NewAPIKey{}, errors.New("key_hash is masked or missing; export with `st2 apikey list -j --show-secrets`")
	case !token.IsKeyHash(hash):
		return NewAPIKey{}, errors.New("key_hash is not 128 hex characters (sha512)")
	}
	req := NewAPIKey{User: k.User, KeyHash: hash, Metadata: k.Metadata, Enabled: k.Enabled}
	if id := strings.ToLower(k.ID); token.IsID(id) {
		req.ID = id
	}
	if t, err := time.Parse(time.RFC3339Nano, k.CreatedAt); err == nil {
		req.CreatedAt = t.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return req, nil
}

// ImportOutcome is what became of one imported key.
type ImportOutcome int

const (
	Imported ImportOutcome = iota // created
	Present                       // the server already has this id or key_hash (409)
	Failed                        // refused, or not importable
)

// ImportAPIKey creates k on the server with its key_hash, so the key that
// hashes to it keeps working. A 409 is Present, not an error. The error is
// set for Failed; a *ConnError, *TLSError or 401 will fail every other key
// too.
func (c *Client) ImportAPIKey(ctx context.Context, k ExportedAPIKey) (ImportOutcome, error) {
	req, err := k.Request()
	if err != nil {
		return Failed, err
	}
	_, err = c.CreateAPIKey(ctx, req)
	switch {
	case err == nil:
		return Imported, nil
	case StatusOf(err) == http.StatusConflict:
		return Present, nil
	}
	return Failed, err
}
