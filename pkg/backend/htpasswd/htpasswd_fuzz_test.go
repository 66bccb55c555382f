package htpasswd

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzParseLine checks ParseLine's invariants and that classifying and
// verifying any hash field never panics. Seeds are in
// testdata/fuzz/FuzzParseLine; run with
//
//	go test -fuzz FuzzParseLine ./pkg/backend/htpasswd/
func FuzzParseLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line string) {
		user, hash, ok := ParseLine(line)
		if !ok {
			if user != "" || hash != "" {
				t.Fatalf("ParseLine(%q) = %q, %q, false: want empty results", line, user, hash)
			}
			return
		}
		checkEntry(t, line, user, hash)
		if u, h, ok := ParseLine(user + ":" + hash); !ok || u != user || h != hash {
			t.Fatalf("re-parsing %q:%q gave %q, %q, %v", user, hash, u, h, ok)
		}
		verifyCheap(hash)
	})
}

// checkEntry checks a successful ParseLine result against its input.
func checkEntry(t *testing.T, line, user, hash string) {
	t.Helper()
	switch {
	case user == "" || strings.Contains(user, ":") || user[0] == '#':
		t.Fatalf("ParseLine(%q) gave bad user %q", line, user)
	case user+":"+hash != strings.TrimSpace(line):
		t.Fatalf("ParseLine(%q) = %q, %q: not the trimmed line split at ':'", line, user, hash)
	case strings.TrimLeftFunc(user, unicode.IsSpace) != user:
		t.Fatalf("ParseLine(%q) gave user %q with leading space", line, user)
	}
}

// verifyCheap classifies hash and verifies a password against it, skipping
// the cases whose cost the input controls (bcrypt cost, SHA-crypt rounds)
// so that the fuzzer cannot stall.
func verifyCheap(hash string) {
	h := parseHash(hash)
	if h.scheme == schemeBcrypt || strings.Contains(hash, "rounds=") {
		return
	}
	h.verify("testpassword")
	h.verify("")
}
