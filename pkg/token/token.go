// Package token mints the secrets Gatehouse hands out and the hashes it keeps
// instead of them.
//
// Access tokens are 128 bits from crypto/rand written as 32 lowercase hex
// characters, the shape of st2's uuid4().hex tokens, so st2 clients that
// assume it keep working. They are stored as SHA-256 hex: the token is random
// and long, so a fast hash is enough and a lookup is by hash alone. API keys
// are 86 characters of [0-9A-Za-z] like st2's and are stored the way st2
// stores them, hex(sha512("saltnpepper"+key)), so key hashes exported from
// StackStorm keep working after a migration.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// TokenBytes is how many random bytes an access token carries.
const TokenBytes = 16

// APIKeyLen is the length of an API key, as st2 makes them.
const APIKeyLen = 86

const apiKeyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// apiKeySalt is st2's fixed salt (st2common/util/auth.py).
const apiKeySalt = "saltnpepper"

// NewToken returns a new access token. crypto/rand never fails on the
// platforms Go supports (it panics rather than return weak bytes).
func NewToken() string {
	return hex.EncodeToString(randomBytes(TokenBytes))
}

// HashToken returns the stored form of an access token: SumToken in hex.
func HashToken(plain string) string {
	sum := SumToken(plain)
	return hex.EncodeToString(sum[:])
}

// SumToken is the SHA-256 of an access token, the raw bytes of its
// stored form.
func SumToken(plain string) [sha256.Size]byte { return sha256.Sum256([]byte(plain)) }

// NewAPIKey returns a new API key: APIKeyLen characters drawn uniformly from
// [0-9A-Za-z] (about 512 bits).
func NewAPIKey() string {
	key := make([]byte, 0, APIKeyLen)
	// 62 letters: reject bytes >= 248 (4*62) so every letter is equally likely.
	for len(key) < APIKeyLen {
		for _, b := range randomBytes(APIKeyLen) {
			if b < 248 && len(key) < APIKeyLen {
				key = append(key, apiKeyAlphabet[b%62])
			}
		}
	}
	return string(key)
}

// HashAPIKey returns st2's stored form of an API key: SumAPIKey in hex.
func HashAPIKey(key string) string {
	sum := SumAPIKey(key)
	return hex.EncodeToString(sum[:])
}

// SumAPIKey is sha512("saltnpepper" + key), the raw bytes of an API key's
// stored form.
func SumAPIKey(key string) [sha512.Size]byte { return sha512.Sum512([]byte(apiKeySalt + key)) }

// NewID returns a 24-hex-character id shaped like a MongoDB ObjectId (four
// bytes of creation time, eight random bytes), as st2 clients expect.
func NewID(now time.Time) string {
	var id [12]byte
	binary.BigEndian.PutUint32(id[:4], uint32(now.Unix()))
	copy(id[4:], randomBytes(8))
	return hex.EncodeToString(id[:])
}

// IsTokenShaped reports whether s has the shape of an access token: 32
// lowercase hex digits (NewToken's, and st2's UUID hex).
func IsTokenShaped(s string) bool { return len(s) == 2*TokenBytes && isLowerHex(s) }

// IsID reports whether s has the shape of an id made by NewID.
func IsID(s string) bool {
	return len(s) == 24 && isLowerHex(s)
}

// IsKeyHash reports whether s has the shape of a stored API key hash.
func IsKeyHash(s string) bool {
	return len(s) == 128 && isLowerHex(s)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // documented never to return an error
	return b
}
