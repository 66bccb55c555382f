package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// HashToken returns the form in which stores keep a token: SHA-256 hex.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// HashAPIKey returns the form in which stores keep an API key, st2's:
// hex(sha512("saltnpepper"+key)).
func HashAPIKey(key string) string {
	sum := sha512.Sum512([]byte("saltnpepper" + key))
	return hex.EncodeToString(sum[:])
}

// randomHex returns n random bytes as 2n hex characters.
func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand documents a panic instead)
	return b
}

// t0 is a fixed time with nanoseconds and a non-UTC zone, so round trips
// prove truncation to the microsecond and conversion to UTC.
var t0 = time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))

// newToken returns a token of user, created at t0, expiring an hour later,
// with a random id and hash.
func newToken(user string) store.Token {
	return store.Token{
		ID:        randomHex(12),
		Hash:      randomHex(32),
		User:      user,
		Groups:    []string{"users", "cn=ops,ou=groups,dc=example,dc=org"},
		Metadata:  map[string]any{"ip": "192.0.2.1"},
		CreatedAt: t0,
		ExpiresAt: t0.Add(time.Hour),
	}
}

// newAPIKey returns an enabled key of user with a random id and hash.
func newAPIKey(user string, created time.Time) store.APIKey {
	return store.APIKey{
		ID:        randomHex(12),
		KeyHash:   randomHex(64),
		User:      user,
		Metadata:  map[string]any{"used_by": "ci"},
		CreatedAt: created,
		Enabled:   true,
	}
}

// normalized is what a store must read back for t: times truncated to the
// microsecond and in UTC, Groups and Metadata never nil.
func normalizedToken(t store.Token) store.Token {
	t.CreatedAt = t.CreatedAt.Truncate(time.Microsecond).UTC()
	t.ExpiresAt = t.ExpiresAt.Truncate(time.Microsecond).UTC()
	if t.Groups == nil {
		t.Groups = []string{}
	}
	if t.Metadata == nil {
		t.Metadata = map[string]any{}
	}
	return t
}

func normalizedAPIKey(k store.APIKey) store.APIKey {
	k.CreatedAt = k.CreatedAt.Truncate(time.Microsecond).UTC()
	k.ExpiresAt = k.ExpiresAt.Truncate(time.Microsecond).UTC()
	k.LastUsedAt = k.LastUsedAt.Truncate(time.Microsecond).UTC()
	k.PrevExpiresAt = k.PrevExpiresAt.Truncate(time.Microsecond).UTC()
	if k.Metadata == nil {
		k.Metadata = map[string]any{}
	}
	return k
}

func checkToken(t testing.TB, got, want store.Token) {
	t.Helper()
	want = normalizedToken(want)
	checkUTC(t, got.CreatedAt, got.ExpiresAt)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("token:\n got %#v\nwant %#v", got, want)
	}
}

func checkAPIKey(t testing.TB, got, want store.APIKey) {
	t.Helper()
	want = normalizedAPIKey(want)
	checkUTC(t, got.CreatedAt, got.ExpiresAt, got.LastUsedAt, got.PrevExpiresAt)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("api key:\n got %#v\nwant %#v", got, want)
	}
}

func checkUTC(t testing.TB, times ...time.Time) {
	t.Helper()
	for _, tm := range times {
		if tm.Location() != time.UTC {
			t.Errorf("time %v is in %v, want UTC", tm, tm.Location())
		}
	}
}

// wantErr fails t unless errors.Is(err, want).
func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// must fails t if err is not nil.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
