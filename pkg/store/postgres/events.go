package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// channelPrefix starts the name of every channel Gatehouse notifies on.
const channelPrefix = "gatehouse_events_"

// maxIdentifier is PostgreSQL's longest identifier (NAMEDATALEN-1 bytes);
// a longer channel name would be truncated by LISTEN but not by pg_notify.
const maxIdentifier = 63

// plainSchema matches schema names that may appear verbatim in a channel
// name: those that need no quoting and would not be changed by folding.
var plainSchema = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// channelName returns the NOTIFY channel of the Gatehouse tables in schema.
// Channels belong to the database, not to a schema, so the schema is part
// of the name: deployments (or tests) in different schemas of one database
// never see each other's events. A plain schema name short enough is kept
// as is ("public" gives "gatehouse_events_public"); any other is replaced
// by "h" and 32 hex digits of its SHA-256.
func channelName(schema string) string {
	if plainSchema.MatchString(schema) && len(channelPrefix)+len(schema) <= maxIdentifier {
		return channelPrefix + schema
	}
	sum := sha256.Sum256([]byte(schema))
	return channelPrefix + "h" + hex.EncodeToString(sum[:16])
}

// eventReset is the payload kind that tells listeners to drop everything
// they cached; it is published instead of an event whose payload would be
// too long. It is not a store.EventKind: Listen turns it into Disconnected
// then Connected.
const eventReset = "reset"

// maxPayload bounds a payload, in UTF-8 bytes. PostgreSQL refuses payloads
// of 8000 bytes or more, counted in the server's encoding; half of that
// leaves room for any server encoding, none of which needs twice as many
// bytes as UTF-8 for a character. User names (at most 256 bytes) and
// hashes (64 or 128 hex digits) stay far below.
const maxPayload = 4000

// ErrReset is what Listen passes to NotifyHandler.Disconnected when a
// replica asked every cache to be dropped (it revoked a credential whose
// name did not fit in a notification), or when a notification could not be
// understood. Connected follows at once.
var ErrReset = errors.New("postgres: cache reset requested by a notification")

// encodeEvent returns the payload for ev: "<kind>:<key>", or "reset:" if
// that would exceed maxPayload.
func encodeEvent(ev store.Event) string {
	p := string(ev.Kind) + ":" + ev.Key
	if len(p) > maxPayload {
		return eventReset + ":"
	}
	return p
}

// decodeEvent parses a payload made by encodeEvent, splitting at the first
// colon only, since a user name may contain colons. ok is false for
// "reset:" and for anything it does not understand (say, a kind added by a
// newer Gatehouse): the listener then drops its whole cache, which is
// always safe.
func decodeEvent(payload string) (ev store.Event, ok bool) {
	kind, key, found := strings.Cut(payload, ":")
	if !found {
		return store.Event{}, false
	}
	switch k := store.EventKind(kind); k {
	case store.EventToken, store.EventAPIKey, store.EventUser:
		return store.Event{Kind: k, Key: key}, true
	}
	return store.Event{}, false
}

// publish queues ev on s's channel within tx. PostgreSQL sends it to the
// listeners when, and only if, tx commits.
func (s *Store) publish(ctx context.Context, tx pgx.Tx, ev store.Event) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, encodeEvent(ev))
	return err
}
