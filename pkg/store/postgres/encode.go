package postgres

import (
	"encoding/json"
	"fmt"
	"time"
)

// ts is t as PostgreSQL keeps it: truncated to the microsecond.
func ts(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

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
