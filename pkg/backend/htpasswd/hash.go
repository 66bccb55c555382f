package htpasswd

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/GehirnInc/crypt"
	"github.com/GehirnInc/crypt/apr1_crypt"
	"github.com/GehirnInc/crypt/md5_crypt"
	"github.com/GehirnInc/crypt/sha256_crypt"
	"github.com/GehirnInc/crypt/sha512_crypt"
	"golang.org/x/crypto/bcrypt"
)

// scheme is a password hash format found in an htpasswd file.
type scheme int

const (
	schemeUnusable scheme = iota // plaintext, unknown or malformed: never matches
	schemeBcrypt                 // $2y$, $2a$, $2b$
	schemeAPR1                   // $apr1$ (Apache MD5)
	schemeMD5                    // $1$ (md5_crypt)
	schemeSHA256                 // $5$ (sha256_crypt)
	schemeSHA512                 // $6$ (sha512_crypt)
	schemeSHA1                   // {SHA} base64(sha1(password)), unsalted
	schemeDES                    // traditional 13-character DES crypt
)

// bcryptMaxPassword is the longest password bcrypt uses. Longer passwords
// are refused rather than silently truncated.
const bcryptMaxPassword = 72

// defaultDummyCost is the bcrypt cost of the dummy check when the file has no
// bcrypt entries.
const defaultDummyCost = DefaultCost

// dummySaltAndHash completes a bcrypt hash of any cost. No password is known
// to match it, and the result of a dummy check is ignored anyway.
const dummySaltAndHash = "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"

// storedHash is one parsed password hash from the file.
type storedHash struct {
	scheme scheme
	value  string // as in the file, except $2y$ is stored as $2a$
	cost   int    // bcrypt cost; 0 for other schemes
}

// parseHash classifies a hash field. It does no hashing work.
func parseHash(h string) storedHash {
	switch {
	case strings.HasPrefix(h, "$2"):
		return parseBcrypt(h)
	case strings.HasPrefix(h, apr1_crypt.MagicPrefix):
		return storedHash{scheme: schemeAPR1, value: h}
	case strings.HasPrefix(h, md5_crypt.MagicPrefix):
		return storedHash{scheme: schemeMD5, value: h}
	case strings.HasPrefix(h, sha256_crypt.MagicPrefix):
		return storedHash{scheme: schemeSHA256, value: h}
	case strings.HasPrefix(h, sha512_crypt.MagicPrefix):
		return storedHash{scheme: schemeSHA512, value: h}
	case strings.HasPrefix(h, "{SHA}"):
		return storedHash{scheme: schemeSHA1, value: h}
	case isDESHash(h):
		return storedHash{scheme: schemeDES, value: h}
	}
	return storedHash{scheme: schemeUnusable}
}

// parseBcrypt accepts exactly "$2a$", "$2b$" or "$2y$", a two-digit cost in
// bcrypt's range and 53 characters of salt and hash. x/crypto is laxer (any
// minor version letter, trailing garbage ignored), so the shape is checked
// here. $2y$ (PHP/Apache) and $2b$ are $2a$ fixed for bugs that x/crypto never
// had; x/crypto is given the $2a$ spelling.
func parseBcrypt(h string) storedHash {
	if len(h) != 60 || h[3] != '$' || h[6] != '$' || !isCryptBase64(h[7:]) {
		return storedHash{scheme: schemeUnusable}
	}
	if v := h[2]; v != 'a' && v != 'b' && v != 'y' {
		return storedHash{scheme: schemeUnusable}
	}
	cost, ok := twoDigits(h[4:6])
	if !ok || cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return storedHash{scheme: schemeUnusable}
	}
	return storedHash{scheme: schemeBcrypt, value: "$2a$" + h[4:], cost: cost}
}

// twoDigits parses exactly two decimal digits.
func twoDigits(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// isCryptBase64 reports whether s is non-empty and uses only cryptAlphabet.
func isCryptBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		if cryptIndex(s[i]) < 0 {
			return false
		}
	}
	return s != ""
}

// dummyBcrypt returns a well-formed bcrypt hash of the given cost for the
// timing-equalising check of unknown users. Building it costs nothing;
// comparing a password against it costs the same as against a real hash.
func dummyBcrypt(cost int) []byte {
	return fmt.Appendf(nil, "$2a$%02d$%s", cost, dummySaltAndHash)
}

// verify reports whether password matches h. It does the full hashing work
// for every usable scheme, whatever the password.
func (h storedHash) verify(password string) bool {
	switch h.scheme {
	case schemeBcrypt:
		err := bcrypt.CompareHashAndPassword([]byte(h.value), []byte(password))
		// x/crypto's Compare (unlike Generate) silently uses only the first
		// 72 bytes; a longer password must not match a hash of its prefix.
		return err == nil && len(password) <= bcryptMaxPassword
	case schemeAPR1:
		return verifyCrypt(apr1_crypt.New(), h.value, password)
	case schemeMD5:
		return verifyCrypt(md5_crypt.New(), h.value, password)
	case schemeSHA256:
		return verifyCrypt(sha256_crypt.New(), h.value, password)
	case schemeSHA512:
		return verifyCrypt(sha512_crypt.New(), h.value, password)
	case schemeSHA1:
		return constantTimeEqual(sha1Hash(password), h.value)
	case schemeDES:
		return constantTimeEqual(desCrypt(password, h.value), h.value)
	}
	return false
}

// verifyCrypt checks an MD5- or SHA-crypt hash. The library recomputes the
// whole string, rounds= and salt included, and compares in constant time, so
// a malformed hash simply does not match.
func verifyCrypt(c crypt.Crypter, value, password string) bool {
	return c.Verify(value, []byte(password)) == nil
}

// sha1Hash returns "{SHA}" and the standard base64 of SHA-1(password).
func sha1Hash(password string) string {
	sum := sha1.Sum([]byte(password))
	return "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
}

// constantTimeEqual compares two strings in time independent of their
// contents (but not of their lengths, which are not secret here).
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
