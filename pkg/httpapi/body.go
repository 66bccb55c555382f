package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxBodyBytes caps every request body.
const maxBodyBytes = 64 << 10

// readObject reads a request body into an object. A body that parses as
// JSON (or starts with "{") is read as JSON whatever its Content-Type says:
// curl -d labels everything a form, and reading {"ttl": 60} as a form
// would lose the ttl without a word. Otherwise, as st2's router does: an
// empty body is {}; a form body (application/x-www-form-urlencoded or
// multipart/form-data) is parsed as a query string, each key holding a
// list of strings (so "ttl=60" later fails validation, as in st2); a body
// labelled JSON must be JSON; anything else is a 400 saying what was
// expected.
func readObject(r *http.Request) (map[string]any, error) {
	raw, err := readBody(r)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.Trim(raw, jsonSpace)
	if len(trimmed) == 0 {
		return map[string]any{}, nil
	}
	ct := r.Header.Get("Content-Type")
	switch kind := bodyKind(ct); {
	case looksLikeJSON(trimmed) || kind == kindJSON:
		return decodeJSONObject(raw)
	case kind == kindForm:
		return decodeForm(raw)
	case ct == "":
		return nil, badRequest("Failed to parse request body: %s", msgExpectedBody)
	default:
		return nil, badRequest("Failed to parse request body: Unsupported Content-Type: %q; %s", ct, msgExpectedBody)
	}
}

// msgExpectedBody says what a body may be.
const msgExpectedBody = "expected a JSON object or an application/x-www-form-urlencoded form"

// readBody reads the whole body: a body over the cap is the
// *http.MaxBytesError limitBody's reader returns (413), any other failure
// the client's (400).
func readBody(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(r.Body)
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &maxBytes):
		return nil, err
	case err != nil: // a broken chunk, a body cut short
		return nil, badRequest("Failed to parse request body: the body could not be read")
	}
	return raw, nil
}

// Kinds of body a Content-Type declares.
const (
	kindOther = iota // none, unparsable or anything else
	kindJSON         // application/json, anything+json
	kindForm         // application/x-www-form-urlencoded, multipart/form-data
)

func bodyKind(ct string) int {
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		return kindOther
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return kindJSON
	case mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data":
		return kindForm
	}
	return kindOther
}

// looksLikeJSON reports whether a trimmed, non-empty body is meant as JSON:
// it opens an object (broken or not: no form starts with "{"), or it is a
// whole JSON value.
func looksLikeJSON(trimmed []byte) bool {
	return trimmed[0] == '{' || json.Valid(trimmed)
}

// jsonSpace is JSON's whitespace (RFC 8259): nothing else may surround a
// value. bytes.TrimSpace would also drop \f, \v and U+00A0.
const jsonSpace = " \t\r\n"

func decodeJSONObject(raw []byte) (map[string]any, error) {
	if len(bytes.Trim(raw, jsonSpace)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("Failed to parse request body: %s", jsonErrorText(err))
	}
	if len(bytes.Trim(raw[dec.InputOffset():], jsonSpace)) != 0 {
		return nil, badRequest("Failed to parse request body: extra data after JSON value")
	}
	// encoding/json quietly turns invalid UTF-8 into U+FFFD: refuse it.
	if !utf8.Valid(raw) {
		return nil, badRequest("Failed to parse request body: the body is not UTF-8")
	}
	// It also keeps the last of two equal keys, where other parsers keep
	// the first: refuse what two readers may read differently.
	if key, ok := duplicateKey(raw); ok {
		return nil, badRequest("Failed to parse request body: duplicate key %q", truncateUTF8(key, 64))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("%s is not of type 'object'", pyRepr(v))
	}
	return obj, nil
}

// jsonFrame is an object or array duplicateKey is inside.
type jsonFrame struct {
	keys    map[string]bool // the object's keys so far; nil for an array
	wantKey bool            // the object's next string token is a key
}

// duplicateKey reports the first key that appears twice in one object of
// raw, at any depth, after unescaping ("t\u0074l" is "ttl"). raw must be
// valid JSON; its depth is bounded by the decoder that checked it.
func duplicateKey(raw []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers past float64 are not an error here
	var stack []*jsonFrame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // io.EOF
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if key, isString := tok.(string); isString && top != nil && top.wantKey {
			if top.keys[key] {
				return key, true
			}
			top.keys[key], top.wantKey = true, false
			continue
		}
		if top != nil && top.keys != nil {
			top.wantKey = true // after this value (or the end of the object) comes a key
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &jsonFrame{keys: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &jsonFrame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// jsonErrorText keeps the decoder's explanation but never echoes the body.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("invalid JSON at offset %d", syn.Offset)
	}
	return "invalid JSON"
}

func decodeForm(raw []byte) (map[string]any, error) {
	q, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, badRequest("Failed to parse request body: invalid form encoding")
	}
	obj := make(map[string]any, len(q))
	for k, vs := range q {
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		obj[k] = list
	}
	return obj, nil
}

// pyRepr writes a decoded JSON value as Python's repr would, so that
// validation messages read like st2's jsonschema messages
// ('abc' is not of type 'integer', 'null').
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return x.String()
	case string:
		if strings.Contains(x, "'") && !strings.Contains(x, `"`) {
			return `"` + x + `"`
		}
		return "'" + strings.ReplaceAll(x, "'", `\'`) + "'"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k) + ": " + pyRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	default:
		return fmt.Sprint(x)
	}
}

// parseTTL validates the "ttl" member of a token request the way st2's
// schema does ({"type": ["integer", "null"], "minimum": 1}). present is false
// for a missing or null ttl (use the default). The value is returned as a
// big integer because clients may send any number of digits; the caller
// compares it with the maximum and reports it verbatim.
func parseTTL(v any, present bool) (ttl *big.Int, set bool, err error) {
	if !present || v == nil {
		return nil, false, nil
	}
	n, ok := v.(json.Number)
	if !ok || !isJSONInteger(string(n)) {
		return nil, false, badRequest("%s is not of type 'integer', 'null'", pyRepr(v))
	}
	ttl, ok = new(big.Int).SetString(string(n), 10)
	if !ok {
		return nil, false, badRequest("%s is not of type 'integer', 'null'", pyRepr(v))
	}
	if ttl.Sign() < 1 {
		return nil, false, badRequest("%s is less than the minimum of 1", ttl.String())
	}
	return ttl, true, nil
}

// isJSONInteger reports whether a JSON number literal is written as an
// integer: JSON Schema draft 4, which st2 uses, treats 1.0 and 1e2 as numbers
// that are not integers.
func isJSONInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
