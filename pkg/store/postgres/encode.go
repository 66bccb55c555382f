package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// ts is t as PostgreSQL keeps it: truncated to the microsecond.
func ts(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// nullTime is ts(t), or NULL for the zero time.
func nullTime(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: ts(t), Valid: true}
}

// fromNullTime is the inverse of nullTime, in UTC.
func fromNullTime(n pgtype.Timestamptz) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return n.Time.UTC()
}

// nullString is s, or NULL for "".
func nullString(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

// encodeMetadata returns m as JSON; nil becomes {}.
func encodeMetadata(m map[string]any) ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return b, nil
}

// decodeMetadata parses JSON; it never returns a nil map.
func decodeMetadata(b []byte) (map[string]any, error) {
	if len(b) == 2 && b[0] == '{' && b[1] == '}' {
		return map[string]any{}, nil // most credentials: no decoder for "{}"
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}
