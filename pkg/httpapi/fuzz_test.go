package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// FuzzParseBasic checks ParseBasic on any header (never panics; what it
// accepts is a sane user name and a UTF-8 password that refBasic also
// reads from that header) and the round trip of any sane user name and
// UTF-8 password through "Basic " + base64(user:password). Seeds are in
// testdata/fuzz/FuzzParseBasic; run with
//
//	go test -run '^$' -fuzz '^FuzzParseBasic$' ./pkg/httpapi/
func FuzzParseBasic(f *testing.F) {
	f.Fuzz(func(t *testing.T, header, user, password string) {
		checkBasicRoundTrip(t, user, password)
		checkParseBasic(t, header)
	})
}

// Limits ParseBasic documents: the header and the user name.
const (
	maxBasicHeader = 4096
	maxUserBytes   = 256
)

func checkParseBasic(t *testing.T, header string) {
	t.Helper()
	user, password, ok := httpapi.ParseBasic(header)
	if !ok {
		if user != "" || password != "" {
			t.Fatalf("ParseBasic(%q) = %q, %q, false: want empty results", header, user, password)
		}
		if _, _, refOK := refBasic(header); refOK {
			t.Fatalf("ParseBasic(%q) refused what refBasic accepts", header)
		}
		return
	}
	switch {
	case !saneUser(user):
		t.Fatalf("ParseBasic(%q) accepted user %q: empty, too long, not UTF-8, a colon or a control character", header, user)
	case !utf8.ValidString(password):
		t.Fatalf("ParseBasic(%q) accepted a password that is not UTF-8: %q", header, password)
	case len(header) > maxBasicHeader:
		t.Fatalf("ParseBasic accepted a %d-byte header", len(header))
	}
	u, p, refOK := refBasic(header)
	if !refOK || u != user || p != password {
		t.Fatalf("ParseBasic(%q) = %q, %q; refBasic = %q, %q, %v", header, user, password, u, p, refOK)
	}
}

// checkBasicRoundTrip: a user name ParseBasic documents as valid, with any
// UTF-8 password, comes back unchanged; anything over the size limits is
// refused whole.
func checkBasicRoundTrip(t *testing.T, user, password string) {
	t.Helper()
	if !saneUser(user) || !utf8.ValidString(password) {
		return
	}
	header := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	u, p, ok := httpapi.ParseBasic(header)
	if len(header) > maxBasicHeader {
		if ok {
			t.Fatalf("ParseBasic accepted a %d-byte header", len(header))
		}
		return
	}
	if !ok || u != user || p != password {
		t.Fatalf("ParseBasic(Basic b64(%q:%q)) = %q, %q, %v", user, password, u, p, ok)
	}
}

// saneUser is what ParseBasic may hand a backend as a user name.
func saneUser(user string) bool {
	return user != "" && len(user) <= maxUserBytes && utf8.ValidString(user) &&
		!strings.Contains(user, ":") && strings.IndexFunc(user, unicode.IsControl) < 0
}

// refBasic is st2auth's reading written out plainly: "<scheme> <base64>",
// scheme "basic" in any ASCII case (Python's lower()), standard padded
// base64, split on the first colon.
func refBasic(header string) (user, password string, ok bool) {
	if len(header) > maxBasicHeader {
		return "", "", false
	}
	i := strings.IndexByte(header, ' ')
	if i < 0 || !asciiEqualFold(header[:i], "basic") || i+1 == len(header) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(header[i+1:])
	if err != nil {
		return "", "", false
	}
	user, password, ok = strings.Cut(string(raw), ":")
	if !ok || !saneUser(user) || !utf8.ValidString(password) {
		return "", "", false
	}
	return user, password, true
}

// asciiEqualFold compares s with the lower-case ASCII word lower, ignoring
// the case of ASCII letters only.
func asciiEqualFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// FuzzParseTTL feeds any body through the decoder the token handler uses
// (json.Decoder with UseNumber) and then ParseTTL, and sends the same body
// to the real handler (without credentials, so it stops at the 401 after
// the body checks). It checks that nothing panics, that a TTL is only ever
// accepted as an integer literal ≥ 1, that every refusal is a 400
// *httpapi.Error, and that the handler gives the same answer. Seeds are in
// testdata/fuzz/FuzzParseTTL; run with
//
//	go test -run '^$' -fuzz '^FuzzParseTTL$' ./pkg/httpapi/
func FuzzParseTTL(f *testing.F) {
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTTLLiteral(t, string(body))
		status, fault := postTokenBody(t, srv, body)
		if status >= 500 {
			t.Fatalf("body %q: status %d %q", body, status, fault)
		}
		if len(body) > maxBody {
			if status != http.StatusRequestEntityTooLarge {
				t.Fatalf("%d-byte body: status %d, want 413", len(body), status)
			}
			return
		}
		obj, err := decodeLikeHandler(body)
		if err != nil {
			if status != http.StatusBadRequest {
				t.Fatalf("body %q does not decode (%v) but the handler answered %d %q", body, err, status, fault)
			}
			return
		}
		v, present := obj["ttl"]
		ttl, set, err := httpapi.ParseTTL(v, present)
		checkParseTTL(t, v, present, ttl, set, err)
		if !strictJSONBody(body) {
			// Trailing '}' or ']', bytes that are not UTF-8, or a body of
			// non-JSON white space (\f, U+00A0) decode leniently with
			// encoding/json, but are not JSON: the handler refuses them.
			if status != http.StatusBadRequest {
				t.Fatalf("body %q is not strict JSON but the handler answered %d %q", body, status, fault)
			}
			return
		}
		if hasDuplicateKeys(body) {
			// encoding/json keeps the last of two equal keys; the handler
			// refuses them.
			if status != http.StatusBadRequest || !strings.HasPrefix(fault, "Failed to parse request body: duplicate key ") {
				t.Fatalf("body %q repeats a key but the handler answered %d %q", body, status, fault)
			}
			return
		}
		checkHandlerAgrees(t, body, obj, err, status, fault)
	})
}

// checkHandlerAgrees compares the handler's answer to a JSON object body
// with ParseTTL's verdict err.
func checkHandlerAgrees(t *testing.T, body []byte, obj map[string]any, err error, status int, fault string) {
	t.Helper()
	if err != nil {
		var e *httpapi.Error
		errors.As(err, &e)
		if status != http.StatusBadRequest || fault != e.Message {
			t.Fatalf("body %q: ParseTTL says %q but the handler answered %d %q", body, e.Message, status, fault)
		}
		return
	}
	if u, ok := obj["user"]; ok && u != nil {
		if status != http.StatusBadRequest && status != http.StatusUnauthorized {
			t.Fatalf("body %q: status %d %q", body, status, fault)
		}
		return
	}
	if status != http.StatusUnauthorized {
		t.Fatalf("body %q has a good TTL and no credentials, but the handler answered %d %q", body, status, fault)
	}
}

// integerLiteral is a JSON number written as an integer (JSON Schema draft
// 4: 1.0 and 1e2 are not integers).
var integerLiteral = regexp.MustCompile(`^-?[0-9]+$`)

// checkParseTTL checks one ParseTTL result against its input.
func checkParseTTL(t *testing.T, v any, present bool, ttl *big.Int, set bool, err error) {
	t.Helper()
	if err != nil {
		var e *httpapi.Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Message == "" {
			t.Fatalf("ParseTTL(%#v): error %#v is not a 400 *httpapi.Error with a message", v, err)
		}
		if set || ttl != nil {
			t.Fatalf("ParseTTL(%#v): error %v with a value %v, %v", v, err, ttl, set)
		}
		return
	}
	if !set {
		if ttl != nil || (present && v != nil) {
			t.Fatalf("ParseTTL(%#v, %v) = %v, unset, no error", v, present, ttl)
		}
		return
	}
	n, isNumber := v.(json.Number)
	if !isNumber || !integerLiteral.MatchString(string(n)) {
		t.Fatalf("ParseTTL accepted %#v, which is not an integer literal", v)
	}
	want, _ := new(big.Int).SetString(string(n), 10)
	if ttl == nil || ttl.Cmp(want) != 0 || ttl.Sign() < 1 {
		t.Fatalf("ParseTTL(%s) = %v: want %v ≥ 1", n, ttl, want)
	}
}

// checkTTLLiteral calls ParseTTL on the input as a json.Number directly, for
// literals the decoder would never produce: exactly the integer literals
// whose value is at least 1 are accepted.
func checkTTLLiteral(t *testing.T, lit string) {
	t.Helper()
	ttl, set, err := httpapi.ParseTTL(json.Number(lit), true)
	checkParseTTL(t, json.Number(lit), true, ttl, set, err)
	n, ok := new(big.Int).SetString(lit, 10)
	wantSet := integerLiteral.MatchString(lit) && ok && n.Sign() > 0
	if set != wantSet {
		t.Fatalf("ParseTTL(json.Number(%q)) set = %v, want %v", lit, set, wantSet)
	}
}

// maxBody is the handler's body cap (64 KiB).
const maxBody = 64 << 10

// decodeLikeHandler reads a JSON body as the token handler does: blank is
// {}, else one value through json.Decoder with UseNumber, nothing after it
// (as dec.More sees it), and an object.
func decodeLikeHandler(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("extra data")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not an object")
	}
	return obj, nil
}

// strictJSONBody reports whether body is empty or exactly one JSON text
// (RFC 8259: UTF-8, white space only " \t\r\n", one value).
func strictJSONBody(body []byte) bool {
	trimmed := bytes.Trim(body, " \t\r\n")
	return len(trimmed) == 0 || (utf8.Valid(body) && json.Valid(trimmed))
}

// hasDuplicateKeys reports whether an object in body, which must be valid
// JSON, holds one key twice: a recursive walk, where the handler loops.
func hasDuplicateKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dup, _ := walkForDuplicates(dec)
	return dup
}

func walkForDuplicates(dec *json.Decoder) (bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return false, nil
	}
	seen := map[string]bool{}
	for dec.More() {
		if tok == json.Delim('{') {
			k, err := dec.Token()
			if err != nil {
				return false, err
			}
			if seen[k.(string)] {
				return true, nil
			}
			seen[k.(string)] = true
		}
		if dup, err := walkForDuplicates(dec); dup || err != nil {
			return dup, err
		}
	}
	_, err = dec.Token() // the closing delimiter
	return false, err
}

// newFuzzServer is the real API over a real SQLite store, with a backend
// that refuses everyone (the fuzzed requests carry no credentials).
func newFuzzServer(f *testing.F) *httpapi.Server {
	st, err := storeopen.Open(context.Background(), "sqlite:"+filepath.Join(f.TempDir(), "gatehouse.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	return httpapi.NewServer(httpapi.Config{Store: st, Backend: refuseAll{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

type refuseAll struct{}

func (refuseAll) Authenticate(context.Context, string, string) (backend.Identity, error) {
	return backend.Identity{}, backend.ErrInvalidCredentials
}

// postTokenBody posts body as JSON to the token route without credentials
// and returns the status and faultstring.
func postTokenBody(t *testing.T, srv http.Handler, body []byte) (int, string) {
	t.Helper()
	r := httptest.NewRequest("POST", "/auth/v1/tokens", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, r)
	var fb struct {
		Faultstring string `json:"faultstring"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &fb); err != nil {
		t.Fatalf("body %q: answer %d %q is not JSON", body, rec.Code, rec.Body.Bytes())
	}
	return rec.Code, fb.Faultstring
}
