//go:build pam

package pam_test

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam/pamtest"
)

// BenchmarkPAMLogin measures one successful login through libpam: a
// pam_pwdfile service with a SHA-512-crypt hash (5000 rounds), plus
// pam_permit for the account stage, on a fresh locked OS thread each time.
func BenchmarkPAMLogin(b *testing.B) {
	skipWithoutModules(b)
	be := pwdfileBackend(b, "nodelay", nil)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := be.Authenticate(ctx, "alice", "alice-password"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPAMLoginParallel runs logins from GOMAXPROCS goroutines against
// the default cap of 4 transactions and a queue long enough never to
// answer ErrBusy.
func BenchmarkPAMLoginParallel(b *testing.B) {
	skipWithoutModules(b)
	be := pwdfileBackend(b, "nodelay", func(c *pam.Config) { c.QueueTimeout = time.Minute })
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := be.Authenticate(b.Context(), "alice", "alice-password"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPAMTransaction measures libpam and the backend alone: a
// pam_permit service (no hashing), so what remains is pam_start (which
// dlopens the modules), the two stages, pam_end and the fresh OS thread.
func BenchmarkPAMTransaction(b *testing.B) {
	skipWithoutModules(b)
	be := open(b, pamtest.ConfDir(b, map[string]string{"permit": permitService}), "permit", nil)
	for b.Loop() {
		if _, err := be.Authenticate(b.Context(), "alice", "x"); err != nil {
			b.Fatal(err)
		}
	}
}

// skipWithoutModules skips b, even under GATEHOUSE_REQUIRE_INTEGRATION=1:
// a benchmark measures, it does not gate.
func skipWithoutModules(b *testing.B) {
	if dir, searched := pamtest.FindModuleDir("pam_pwdfile.so", "pam_permit.so"); dir == "" {
		b.Skipf("pam_pwdfile.so and pam_permit.so not found in %v", searched)
	}
}
