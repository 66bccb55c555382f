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
	"strings"
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
	// The cookie that binds a browser login to its browser.
	bindingHashLabel = "gatehouse oidc browser binding\x00"
	// A device login's handle: the hash that finds its row, and the key
	// that opens the provider's device code in it.
	handleHashLabel = "gatehouse oidc device handle\x00"
	deviceKeyLabel  = "gatehouse oidc device key\x00"
)

func hashOf(label, s string) string {
	sum := sha256.Sum256([]byte(label + s))
	return hex.EncodeToString(sum[:])
}

// stateHash is what the store keys a pending login by.
func stateHash(state string) string { return hashOf(stateHashLabel, state) }

// nonceHash is what the store keeps of the nonce.
func nonceHash(nonce string) string { return hashOf(nonceHashLabel, nonce) }

// bindingHash is what a pending browser login keeps of its binding cookie.
func bindingHash(binding string) string { return hashOf(bindingHashLabel, binding) }

// sealedSecrets is what a pending login seals under its state: the PKCE
// verifier and, for a browser login, a space and the hash of its binding
// cookie (a verifier is base64url: it holds no space).
func sealedSecrets(verifier, binding string) string {
	if binding == "" {
		return verifier
	}
	return verifier + " " + bindingHash(binding)
}

// openSecrets is sealedSecrets' inverse: the verifier and the binding
// hash ("" for a terminal login).
func openSecrets(s string) (verifier, binding string) {
	verifier, binding, _ = strings.Cut(s, " ")
	return verifier, binding
}

// sameHash compares two hashes in constant time.
func sameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// handleHash is what the store keys a pending device login by.
func handleHash(handle string) string { return hashOf(handleHashLabel, handle) }

// aead is AES-256-GCM keyed by a secret the client holds (the state, or a
// device login's handle): a database reader, who sees only its hash,
// cannot open what is sealed.
func aead(label, secret string) cipher.AEAD {
	key := sha256.Sum256([]byte(label + secret))
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
func seal(state, verifier string) []byte { return sealWith(sealKeyLabel, state, verifier) }

// open is seal's inverse.
func open(state string, sealed []byte) (string, error) { return openWith(sealKeyLabel, state, sealed) }

// sealWith encrypts plain under a key derived from label and secret.
func sealWith(label, secret, plain string) []byte {
	g := aead(label, secret)
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, []byte(plain), nil)
}

// openWith is sealWith's inverse.
func openWith(label, secret string, sealed []byte) (string, error) {
	g := aead(label, secret)
	if len(sealed) < g.NonceSize() {
		return "", errors.New("sealed verifier too short")
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], nil)
	return string(plain), err
}
