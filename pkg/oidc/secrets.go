package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
)

// newSecret is 32 random bytes, base64url: a state or a nonce.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Domain separation: the hash that finds a row and the key that opens its
// verifier are different functions of the state.
const (
	stateHashLabel = "gatehouse oidc state\x00"
	nonceHashLabel = "gatehouse oidc nonce\x00"
	sealKeyLabel   = "gatehouse oidc verifier key\x00"
)

func hashOf(label, s string) string {
	sum := sha256.Sum256([]byte(label + s))
	return hex.EncodeToString(sum[:])
}

// stateHash is what the store keys a pending login by.
func stateHash(state string) string { return hashOf(stateHashLabel, state) }

// nonceHash is what the store keeps of the nonce.
func nonceHash(nonce string) string { return hashOf(nonceHashLabel, nonce) }

// sameHash compares two hashes in constant time.
func sameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// aead is AES-256-GCM keyed by the state: a database reader, who sees
// only the state's hash, cannot open the PKCE verifier.
func aead(state string) cipher.AEAD {
	key := sha256.Sum256([]byte(sealKeyLabel + state))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return g
}

// seal encrypts the verifier under the state.
func seal(state, verifier string) []byte {
	g := aead(state)
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, []byte(verifier), nil)
}

// open is seal's inverse.
func open(state string, sealed []byte) (string, error) {
	g := aead(state)
	if len(sealed) < g.NonceSize() {
		return "", errors.New("sealed verifier too short")
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], nil)
	return string(plain), err
}
