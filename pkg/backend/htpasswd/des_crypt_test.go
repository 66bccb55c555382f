package htpasswd

import (
	"crypto/des"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// Vectors from perl's crypt() (glibc/libxcrypt crypt(3)), except the first,
// which is the DES entry of st2-auth-backend-flat-file's test fixture.
var desVectors = []struct {
	name, password, hash string
}{
	{"st2 fixture", "testpassword", "8TBeGtbfjQ.R2"},
	{"empty password", "", "..X8NBuQ4l6uQ"},
	{"one char", "a", "zzJZ5PtvFqi9o"},
	{"eight chars", "password", "abJnggxhB/yWI"},
	{"seven chars", "passwor", "abU8vmpRMaIQk"},
	{"only 8 bytes count", "password1234", "abJnggxhB/yWI"},
	{"latin1 bytes", "\xe9t\xe9", "/.PqbL4WOxa6Q"},
	{"high bit ignored", "\x80\x81\xff", "AzkgYnee/aTg2"},
	{"high bit ignored, same key", "\x00\x01\x7f", "AzkgYnee/aTg2"},
	{"digits", "12345678", "9Zhas0ccxjxjA"},
	{"salt ./", "U*U", "./BQRb//YXzGY"},
	{"space", "pass word", ".z1js/JajEofs"},
	{"x", "x", "./7H4fGCYxIHQ"},
	{"colon", "hello:world", "Zzxx7S4smMfMI"},
}

func TestDESCryptVectors(t *testing.T) {
	for _, tc := range desVectors {
		t.Run(tc.name, func(t *testing.T) {
			if got := desCrypt(tc.password, tc.hash); got != tc.hash {
				t.Errorf("desCrypt(%q, %q) = %q, want %q", tc.password, tc.hash[:2], got, tc.hash)
			}
			if !isDESHash(tc.hash) {
				t.Errorf("isDESHash(%q) = false", tc.hash)
			}
		})
	}
}

// With salt ".." (0) the cipher inside DES crypt is plain DES, so it must
// agree with crypto/des on random keys and blocks.
func TestDESMatchesCryptoDES(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		key, block := rng.Uint64(), rng.Uint64()
		var k, in, want [8]byte
		binary.BigEndian.PutUint64(k[:], key)
		binary.BigEndian.PutUint64(in[:], block)
		c, err := des.NewCipher(k[:])
		if err != nil {
			t.Fatal(err)
		}
		c.Encrypt(want[:], in[:])
		ks := desSubkeys(key)
		if got := desEncrypt(block, &ks, 0); got != binary.BigEndian.Uint64(want[:]) {
			t.Fatalf("key %016x block %016x: got %016x, want %x", key, block, got, want)
		}
	}
}

func TestDESCryptBadSalt(t *testing.T) {
	for _, setting := range []string{"", "a", "a:", "!!", "a\x00"} {
		t.Run(setting, func(t *testing.T) {
			if got := desCrypt("pw", setting); got != "" {
				t.Errorf("desCrypt(pw, %q) = %q, want empty", setting, got)
			}
		})
	}
}

func TestIsDESHash(t *testing.T) {
	tests := []struct {
		name string
		hash string
		want bool
	}{
		{"valid", "8TBeGtbfjQ.R2", true},
		{"too short", "8TBeGtbfjQ.R", false},
		{"too long", "8TBeGtbfjQ.R2x", false},
		{"bad char", "8TBeGtbfjQ.R!", false},
		{"plaintext", "testpassword", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isDESHash(tc.hash); got != tc.want {
				t.Errorf("isDESHash(%q) = %v, want %v", tc.hash, got, tc.want)
			}
		})
	}
}

func TestCryptIndex(t *testing.T) {
	for i := 0; i < len(cryptAlphabet); i++ {
		if got := cryptIndex(cryptAlphabet[i]); got != i {
			t.Errorf("cryptIndex(%q) = %d, want %d", cryptAlphabet[i], got, i)
		}
	}
	for _, c := range []byte{'-', '+', '=', ':', '$', 0, 0xff} {
		if got := cryptIndex(c); got != -1 {
			t.Errorf("cryptIndex(%q) = %d, want -1", c, got)
		}
	}
}
