package htpasswd

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name       string
		line       string
		user, hash string
		ok         bool
	}{
		{"entry", "alice:$apr1$x$y", "alice", "$apr1$x$y", true},
		{"trimmed", " \talice:hash \r\n", "alice", "hash", true},
		{"first colon splits", "alice:ha:sh", "alice", "ha:sh", true},
		{"empty hash", "alice:", "alice", "", true},
		{"space inside user kept", "al ice:hash", "al ice", "hash", true},
		{"space before colon kept", "alice :hash", "alice ", "hash", true},
		{"blank", "   ", "", "", false},
		{"empty", "", "", "", false},
		{"comment", "#alice:hash", "", "", false},
		{"indented comment", "  # alice:hash", "", "", false},
		{"no colon", "alice hash", "", "", false},
		{"empty user", ":hash", "", "", false},
		{"hash inside user position", "a#b:hash", "a#b", "hash", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user, hash, ok := ParseLine(tc.line)
			if user != tc.user || hash != tc.hash || ok != tc.ok {
				t.Errorf("ParseLine(%q) = %q, %q, %v; want %q, %q, %v",
					tc.line, user, hash, ok, tc.user, tc.hash, tc.ok)
			}
		})
	}
}

func TestParseHash(t *testing.T) {
	const bc = "ABCDEFGHIJKLMNOPQRSTUupTJBGMnUhsOsfbpwyG/qCCtHFwy8Jdy"
	tests := []struct {
		name string
		hash string
		want scheme
		cost int
	}{
		{"bcrypt 2y", "$2y$04$" + bc, schemeBcrypt, 4},
		{"bcrypt 2a", "$2a$12$" + bc, schemeBcrypt, 12},
		{"bcrypt 2b", "$2b$31$" + bc, schemeBcrypt, 31},
		{"bcrypt 2x", "$2x$04$" + bc, schemeUnusable, 0},
		{"bcrypt no minor", "$2$04$" + bc + "x", schemeUnusable, 0},
		{"bcrypt cost 3", "$2y$03$" + bc, schemeUnusable, 0},
		{"bcrypt cost 32", "$2y$32$" + bc, schemeUnusable, 0},
		{"bcrypt cost letters", "$2y$1a$" + bc, schemeUnusable, 0},
		{"bcrypt bad char", "$2y$04$" + bc[:52] + "!", schemeUnusable, 0},
		{"bcrypt short", "$2y$04$" + bc[:52], schemeUnusable, 0},
		{"bcrypt long", "$2y$04$" + bc + "x", schemeUnusable, 0},
		{"apr1", "$apr1$salt$hash", schemeAPR1, 0},
		{"md5", "$1$salt$hash", schemeMD5, 0},
		{"sha256", "$5$rounds=5000$salt$hash", schemeSHA256, 0},
		{"sha512", "$6$salt$hash", schemeSHA512, 0},
		{"sha1", "{SHA}abc=", schemeSHA1, 0},
		{"des", "8TBeGtbfjQ.R2", schemeDES, 0},
		{"yescrypt", "$y$j9T$salt$hash", schemeUnusable, 0},
		{"argon2", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", schemeUnusable, 0},
		{"plaintext", "hunter2", schemeUnusable, 0},
		{"empty", "", schemeUnusable, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := parseHash(tc.hash)
			if h.scheme != tc.want || h.cost != tc.cost {
				t.Errorf("parseHash(%q) = scheme %d cost %d, want %d, %d", tc.hash, h.scheme, h.cost, tc.want, tc.cost)
			}
			if tc.want == schemeBcrypt && !strings.HasPrefix(h.value, "$2a$") {
				t.Errorf("bcrypt value %q not rewritten to $2a$", h.value)
			}
		})
	}
}

func TestDummyCost(t *testing.T) {
	bc := func(cost int) storedHash { return storedHash{scheme: schemeBcrypt, cost: cost} }
	other := storedHash{scheme: schemeAPR1}
	tests := []struct {
		name  string
		users map[string]storedHash
		want  int
	}{
		{"no users", nil, defaultDummyCost},
		{"no bcrypt", map[string]storedHash{"a": other}, defaultDummyCost},
		{"one cost", map[string]storedHash{"a": bc(5), "b": other}, 5},
		{"most common", map[string]storedHash{"a": bc(12), "b": bc(5), "c": bc(5)}, 5},
		{"tie takes higher", map[string]storedHash{"a": bc(12), "b": bc(5), "c": bc(8), "d": bc(12), "e": bc(8)}, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 { // map order varies between runs
				if got := dummyCost(tc.users); got != tc.want {
					t.Fatalf("dummyCost = %d, want %d", got, tc.want)
				}
			}
		})
	}
}

// The dummy hash is well-formed, of the requested cost, and checking it
// does the full work (so it is a real comparison, not an early error).
func TestDummyBcrypt(t *testing.T) {
	for _, cost := range []int{bcrypt.MinCost, 10, bcrypt.MaxCost} {
		d := dummyBcrypt(cost)
		if got, err := bcrypt.Cost(d); err != nil || got != cost {
			t.Errorf("Cost(dummyBcrypt(%d)) = %d, %v", cost, got, err)
		}
		if h := parseHash(string(d)); h.scheme != schemeBcrypt {
			t.Errorf("dummyBcrypt(%d) = %q does not parse as bcrypt", cost, d)
		}
	}
	err := bcrypt.CompareHashAndPassword(dummyBcrypt(bcrypt.MinCost), []byte("x"))
	if err != bcrypt.ErrMismatchedHashAndPassword {
		t.Errorf("Compare against dummy = %v, want ErrMismatchedHashAndPassword", err)
	}
}

func TestParseTableUnusableLines(t *testing.T) {
	tab := parseTable("# c\nalice:plain\n\nbob:" + sha1Test + "\ncarol:$y$x\n")
	if got := len(tab.users); got != 3 {
		t.Errorf("users = %d, want 3", got)
	}
	if len(tab.unusable) != 2 || tab.unusable[0] != 2 || tab.unusable[1] != 5 {
		t.Errorf("unusable lines = %v, want [2 5]", tab.unusable)
	}
}
