package htpasswd

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

const benchPassword = "correct horse battery staple"

// benchHash is one cost-10 bcrypt hash shared by both benchmarks, so that
// they measure the same work.
var benchHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(benchPassword), 10)
	if err != nil {
		panic(err)
	}
	return h
})

// BenchmarkAuthenticateBcrypt10 measures a successful login of a cost-10
// bcrypt user through the Backend, reload check included.
func BenchmarkAuthenticateBcrypt10(b *testing.B) {
	path := filepath.Join(b.TempDir(), "htpasswd")
	if err := os.WriteFile(path, append([]byte("bench:"), benchHash()...), 0o600); err != nil {
		b.Fatal(err)
	}
	be, err := New(Config{FilePath: path}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	for b.Loop() {
		if _, err := be.Authenticate(ctx, "bench", benchPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawBcrypt10 is the library call alone, for comparison with
// BenchmarkAuthenticateBcrypt10.
func BenchmarkRawBcrypt10(b *testing.B) {
	h, pw := benchHash(), []byte(benchPassword)
	for b.Loop() {
		if err := bcrypt.CompareHashAndPassword(h, pw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateUnknownUser measures the dummy check of an unknown
// user in a file of cost-10 entries; it should match the two above.
func BenchmarkAuthenticateUnknownUser(b *testing.B) {
	path := filepath.Join(b.TempDir(), "htpasswd")
	if err := os.WriteFile(path, append([]byte("bench:"), benchHash()...), 0o600); err != nil {
		b.Fatal(err)
	}
	be, err := New(Config{FilePath: path}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	for b.Loop() {
		if _, err := be.Authenticate(ctx, "nobody", benchPassword); err == nil {
			b.Fatal("unknown user accepted")
		}
	}
}

// BenchmarkSpend measures what a chain spends on the file for a login
// owned by an earlier link; it should match BenchmarkAuthenticateUnknownUser.
func BenchmarkSpend(b *testing.B) {
	path := filepath.Join(b.TempDir(), "htpasswd")
	if err := os.WriteFile(path, append([]byte("bench:"), benchHash()...), 0o600); err != nil {
		b.Fatal(err)
	}
	be, err := New(Config{FilePath: path}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	for b.Loop() {
		be.Spend(ctx)
	}
}
