package local

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Params are argon2id's cost parameters. Every hash records those it was
// made with, so they can be raised (or lowered) later: a hash whose
// parameters differ from the configured ones still verifies, and is
// re-hashed with the configured ones at the user's next good login.
type Params struct {
	// Memory is the memory one hash uses, in KiB. Default 19456 (19 MiB).
	Memory uint32 `mapstructure:"argon2_memory"`
	// Iterations is the number of passes over the memory. Default 2.
	Iterations uint32 `mapstructure:"argon2_iterations"`
	// Parallelism is the number of threads (lanes) one hash uses. Default 1.
	Parallelism uint8 `mapstructure:"argon2_parallelism"`
}

// DefaultParams returns OWASP's second argon2id recommendation (Password
// Storage Cheat Sheet): m=19 MiB, t=2, p=1, about 25 ms on one core of a
// current server CPU. It is meant for a 2-core server that must stay
// responsive and bounded in memory: p=1 keeps a hash on one core, so with
// the default max_concurrent (half the CPUs) the other core keeps serving
// token checks during a burst of logins, and hashing never takes more than
// max_concurrent × 19 MiB. The larger OWASP settings (m=46 MiB, t=1, or
// m=64 MiB with more passes) cost two to four times the memory for the
// same or a little more time, which a small server feels first.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1}
}

// Limits on Params, for configuration and for hashes read from the store:
// a corrupt or hostile stored hash must not make one login take a minute
// or a gigabyte.
const (
	MaxMemory     = 1 << 20 // KiB (1 GiB)
	MaxIterations = 64
	// MaxBcryptCost bounds imported bcrypt hashes: cost 16 takes seconds.
	MaxBcryptCost = 16
)

const (
	saltLen = 16 // bytes, as RFC 9106 recommends
	keyLen  = 32 // bytes
)

// validate reports whether p can be used for new hashes.
func (p Params) validate() error {
	var errs []error
	if p.Parallelism < 1 {
		errs = append(errs, errors.New("argon2_parallelism: must be at least 1"))
	}
	if p.Memory < 8*uint32(p.Parallelism) || p.Memory > MaxMemory {
		errs = append(errs, fmt.Errorf("argon2_memory %d: want %d to %d KiB", p.Memory, 8*uint32(p.Parallelism), MaxMemory))
	}
	if p.Iterations < 1 || p.Iterations > MaxIterations {
		errs = append(errs, fmt.Errorf("argon2_iterations %d: want 1 to %d", p.Iterations, MaxIterations))
	}
	return backend.OneLine(errors.Join(errs...))
}

// weak reports whether p costs less than DefaultParams in memory × passes,
// the measure OWASP's equivalent settings keep constant.
func (p Params) weak() bool {
	d := DefaultParams()
	return uint64(p.Memory)*uint64(p.Iterations) < uint64(d.Memory)*uint64(d.Iterations)
}

// String is the parameter part of a PHC string: "m=19456,t=2,p=1".
func (p Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Iterations, p.Parallelism)
}

// HashPassword hashes password with argon2id and p, with a random 16-byte
// salt, into a PHC string:
//
//	$argon2id$v=19$m=<KiB>,t=<iterations>,p=<threads>$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. It does not apply the
// password policy (see CheckPolicy) and is not bounded by any backend's
// max_concurrent (see Backend.Hash); it fails for an empty password and
// parameters out of range.
func HashPassword(password string, p Params) (string, error) {
	if password == "" {
		return "", errors.New("local: cannot hash an empty password")
	}
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("local: %w", err)
	}
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // never fails (crypto/rand)
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$%s$%s$%s", argon2.Version, p,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// b64 is PHC's base64: the standard alphabet without padding, strict.
var b64 = base64.RawStdEncoding.Strict()

// kind is what a stored password hash is.
type kind int

const (
	kindUnusable kind = iota // malformed or unknown: never matches
	kindArgon2id
	kindBcrypt // $2a$, $2b$, $2y$, imported from htpasswd
)

// stored is a parsed password hash from the store.
type stored struct {
	kind      kind
	params    Params // argon2id
	salt, key []byte // argon2id
	bcrypt    []byte // the hash as x/crypto reads it ($2a$)
}

// parseStored classifies and parses a stored hash. It does no hashing.
func parseStored(h string) stored {
	switch {
	case strings.HasPrefix(h, "$argon2id$"):
		return parseArgon2id(h)
	case strings.HasPrefix(h, "$2"):
		return parseBcrypt(h)
	}
	return stored{}
}

// parseArgon2id parses a PHC argon2id string strictly: version 19, the
// parameters in the order m, t, p and within limits, a salt of 8 to 64
// bytes and a hash of 16 to 64.
func parseArgon2id(h string) stored {
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return stored{}
	}
	p, ok := parseParams(parts[3])
	if !ok || p.validate() != nil {
		return stored{}
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > 64 || len(key) < 16 || len(key) > 64 {
		return stored{}
	}
	return stored{kind: kindArgon2id, params: p, salt: salt, key: key}
}

// parseParams reads "m=<n>,t=<n>,p=<n>", exactly in that order.
func parseParams(s string) (Params, bool) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return Params{}, false
	}
	var v [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(fields[i], name)
		n, err := strconv.ParseUint(digits, 10, 32)
		if !ok || err != nil {
			return Params{}, false
		}
		v[i] = n
	}
	if v[2] > 255 {
		return Params{}, false
	}
	return Params{Memory: uint32(v[0]), Iterations: uint32(v[1]), Parallelism: uint8(v[2])}, true
}

// parseBcrypt accepts "$2a$", "$2b$" or "$2y$" with a two-digit cost up to
// MaxBcryptCost and 53 characters of salt and hash, as htpasswd files hold them. $2y$ and
// $2b$ are $2a$ without bugs x/crypto never had, so x/crypto is given $2a$.
func parseBcrypt(h string) stored {
	if len(h) != 60 || h[3] != '$' || h[6] != '$' || !strings.Contains("aby", h[2:3]) {
		return stored{}
	}
	value := []byte("$2a$" + h[4:])
	if cost, err := bcrypt.Cost(value); err != nil || cost > MaxBcryptCost {
		return stored{}
	}
	return stored{kind: kindBcrypt, bcrypt: value}
}

// verify reports whether password matches s, doing the full hashing work.
// An unusable hash matches nothing and costs nothing: callers spend a
// dummy check for it.
func (s stored) verify(password string) bool {
	switch s.kind {
	case kindArgon2id:
		p := s.params
		key := argon2.IDKey([]byte(password), s.salt, p.Iterations, p.Memory, p.Parallelism, uint32(len(s.key)))
		return subtle.ConstantTimeCompare(key, s.key) == 1
	case kindBcrypt:
		err := bcrypt.CompareHashAndPassword(s.bcrypt, []byte(password))
		// x/crypto compares only the first 72 bytes; a longer password
		// must not match a hash of its prefix.
		return err == nil && len(password) <= 72
	}
	return false
}

// outdated reports whether s should be re-hashed with p: it is not
// argon2id, or was made with other parameters or another hash length.
func (s stored) outdated(p Params) bool {
	return s.kind != kindArgon2id || s.params != p || len(s.key) != keyLen
}

// String names the scheme and parameters, for logs; never the hash.
func (s stored) String() string {
	switch s.kind {
	case kindArgon2id:
		return "argon2id " + s.params.String()
	case kindBcrypt:
		cost, _ := bcrypt.Cost(s.bcrypt)
		return fmt.Sprintf("bcrypt cost %d", cost)
	}
	return "unusable"
}
