package storetest

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Dumper is implemented by stores that can show their whole content as
// text, as the sqlite and postgres stores do.
type Dumper interface {
	// Dump returns every column of every row of every table as text.
	Dump(ctx context.Context) (string, error)
}

// Dump returns the dump of s, failing t if s is not a Dumper or the dump
// fails.
func Dump(t testing.TB, s store.Store) string {
	t.Helper()
	d, ok := s.(Dumper)
	if !ok {
		t.Fatalf("%T does not implement storetest.Dumper", s)
	}
	dump, err := d.Dump(context.Background())
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return dump
}

// AssertNoSecrets fails t if any of secrets occurs in dump, as is or as the
// hex or base64 (standard or URL, padded or not) encoding of its bytes. An
// empty secret is a mistake in the test and fails it too.
func AssertNoSecrets(t testing.TB, dump string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if secret == "" {
			t.Fatal("AssertNoSecrets: empty secret")
		}
		for _, form := range encodings(secret) {
			if strings.Contains(dump, form) {
				t.Errorf("secret %.6s… found in the database (as %.12s…)", secret, form)
			}
		}
	}
}

// AssertStoreHasNoSecrets dumps s (see Dump) and calls AssertNoSecrets.
func AssertStoreHasNoSecrets(t testing.TB, s store.Store, secrets ...string) {
	t.Helper()
	AssertNoSecrets(t, Dump(t, s), secrets...)
}

func encodings(secret string) []string {
	b := []byte(secret)
	return []string{
		secret,
		hex.EncodeToString(b),
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
	}
}

// testNoSecretsStored stores a token and an API key by their hashes and
// checks that the dump has the hashes but neither secret.
func testNoSecretsStored(t *testing.T, s store.Store) {
	ctx := t.Context()
	secretToken := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	secretKey := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	tok := newToken("alice")
	tok.Hash = HashToken(secretToken)
	key := newAPIKey("alice", t0)
	key.KeyHash = HashAPIKey(secretKey)
	must(t, "CreateToken", s.CreateToken(ctx, tok))
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, key))

	dump := Dump(t, s)
	for _, h := range []string{tok.Hash, key.KeyHash, tok.ID, key.ID} {
		if !strings.Contains(dump, h) {
			t.Fatalf("dump lacks %s: it does not show every column", h)
		}
	}
	AssertNoSecrets(t, dump, secretToken, secretKey)
}
