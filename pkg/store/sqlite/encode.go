package sqlite

import (
	"encoding/json"
	"fmt"
	"time"
)

// micros is t as microseconds since the Unix epoch, truncated.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the inverse of micros, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// encodeMetadata returns m as JSON text; nil becomes "{}".
func encodeMetadata(m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("metadata: %w", err)
	}
	return string(b), nil
}

// decodeMetadata parses JSON text; it never returns a nil map.
func decodeMetadata(s string) (map[string]any, error) {
	if len(s) == 2 && s[0] == '{' && s[1] == '}' {
		return map[string]any{}, nil // most credentials: no decoder for "{}"
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}
