package local

import (
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// small are cheap parameters for tests.
var small = Params{Memory: 64, Iterations: 1, Parallelism: 1}

func TestHashPasswordFormat(t *testing.T) {
	h, err := HashPassword("correct horse", DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h) {
		t.Fatalf("HashPassword = %q, not a PHC argon2id string", h)
	}
	s := parseStored(h)
	if s.kind != kindArgon2id || s.params != DefaultParams() || s.outdated(DefaultParams()) {
		t.Fatalf("parsed back as %+v", s)
	}
	if !s.verify("correct horse") || s.verify("correct horse ") || s.verify("") {
		t.Error("verify does not tell the password from others")
	}
	again, _ := HashPassword("correct horse", DefaultParams())
	if again == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestHashPasswordRefuses(t *testing.T) {
	for name, p := range map[string]Params{
		"no threads":        {Memory: 64, Iterations: 1},
		"too little memory": {Memory: 15, Iterations: 1, Parallelism: 2},
		"too much memory":   {Memory: MaxMemory + 1, Iterations: 1, Parallelism: 1},
		"no passes":         {Memory: 64, Parallelism: 1},
		"too many passes":   {Memory: 64, Iterations: MaxIterations + 1, Parallelism: 1},
	} {
		if _, err := HashPassword("password", p); err == nil {
			t.Errorf("%s: HashPassword(%v) succeeded", name, p)
		}
	}
	if _, err := HashPassword("", small); err == nil {
		t.Error("an empty password was hashed")
	}
}

// TestParseStored: anything but a well-formed argon2id or bcrypt hash
// within limits is unusable, and never matches.
func TestParseStored(t *testing.T) {
	good, _ := HashPassword("password", small)
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=…, salt, hash
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	bc, _ := bcrypt.GenerateFromPassword([]byte("password"), 4)
	unusable := map[string]string{
		"empty":             "",
		"plaintext":         "password",
		"argon2i":           strings.Replace(good, "argon2id", "argon2i", 1),
		"version 16":        with(2, "v=16"),
		"params reordered":  with(3, "t=1,m=64,p=1"),
		"params signed":     with(3, "m=+64,t=1,p=1"),
		"huge memory":       with(3, "m=4294967295,t=1,p=1"),
		"threads over 255":  with(3, "m=8192,t=1,p=256"),
		"many passes":       with(3, "m=64,t=1000,p=1"),
		"padded salt":       with(4, parts[4]+"=="),
		"short salt":        with(4, "AAAA"),
		"short hash":        with(5, "AAAAAAAAAAA"),
		"extra field":       good + "$x",
		"bcrypt $2x$":       "$2x$" + string(bc[4:]),
		"bcrypt cost 17":    "$2a$17$" + string(bc[7:]),
		"bcrypt truncated":  string(bc[:59]),
		"bcrypt cost digit": "$2a$4$" + string(bc[7:]) + "x",
	}
	for name, h := range unusable {
		if s := parseStored(h); s.kind != kindUnusable || s.verify("password") {
			t.Errorf("%s: %q parsed as %v", name, h, s)
		}
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		s := parseStored(prefix + string(bc[4:]))
		if s.kind != kindBcrypt || !s.verify("password") || s.verify("Password") || !s.outdated(DefaultParams()) {
			t.Errorf("%s bcrypt: %v", prefix, s)
		}
	}
}

// TestBcryptLongPassword: bcrypt reads 72 bytes; a longer password must
// not match a hash of its prefix.
func TestBcryptLongPassword(t *testing.T) {
	long := strings.Repeat("a", 72)
	bc, _ := bcrypt.GenerateFromPassword([]byte(long), 4)
	s := parseStored(string(bc))
	if !s.verify(long) || s.verify(long+"b") {
		t.Error("a 73-byte password matched the hash of its first 72 bytes, or 72 bytes did not match")
	}
}

func TestOutdated(t *testing.T) {
	h, _ := HashPassword("password", small)
	s := parseStored(h)
	if s.outdated(small) {
		t.Error("a hash at the current parameters is outdated")
	}
	for _, p := range []Params{{128, 1, 1}, {64, 2, 1}, {64, 1, 2}} {
		if !s.outdated(p) {
			t.Errorf("a hash at %v is not outdated under %v", small, p)
		}
	}
	if DefaultParams().weak() || !small.weak() || !(Params{Memory: 19456, Iterations: 1, Parallelism: 1}).weak() {
		t.Error("weak() is wrong")
	}
}
