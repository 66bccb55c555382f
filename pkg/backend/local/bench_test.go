package local_test

import (
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
)

// The benchmarks compare a local login at the default parameters with the
// bare argon2id call it is built on; the login (SQLite read, PHC parsing,
// the hashing slot) should cost at most 10% more. Run them in one go so
// that both see the same machine:
//
//	go test -run '^$' -bench . -benchtime 100x ./pkg/backend/local/

const benchPassword = "correct horse battery staple"

// BenchmarkLogin is a successful login through Backend, store read
// included.
func BenchmarkLogin(b *testing.B) {
	s := newSQLite(b)
	be := newBackend(b, s, local.DefaultParams(), nil)
	addUser(b, s, "bench", benchPassword, "", local.DefaultParams(), nil)
	ctx := b.Context()
	for b.Loop() {
		if _, err := be.Authenticate(ctx, "bench", benchPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnknownUser is the refusal of a name not in the store (the
// dummy check); it should match BenchmarkLogin.
func BenchmarkUnknownUser(b *testing.B) {
	be := newBackend(b, newSQLite(b), local.DefaultParams(), nil)
	ctx := b.Context()
	for b.Loop() {
		if _, err := be.Authenticate(ctx, "nobody", benchPassword); err == nil {
			b.Fatal("unknown user accepted")
		}
	}
}

// BenchmarkSpend is what a chain spends on this backend for a login owned
// by another link; it should match BenchmarkUnknownUser.
func BenchmarkSpend(b *testing.B) {
	be := newBackend(b, newSQLite(b), local.DefaultParams(), nil)
	ctx := b.Context()
	for b.Loop() {
		be.Spend(ctx)
	}
}

// BenchmarkIDKey is argon2.IDKey alone at the default parameters.
func BenchmarkIDKey(b *testing.B) {
	p := local.DefaultParams()
	salt, pw := make([]byte, 16), []byte(benchPassword)
	for b.Loop() {
		argon2.IDKey(pw, salt, p.Iterations, p.Memory, p.Parallelism, 32)
	}
}
