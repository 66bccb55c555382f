//go:build pam

package pam_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/backendtest"
)

// TestConformance runs the backend suite against real libpam with a
// pam_pwdfile service.
func TestConformance(t *testing.T) {
	backendtest.Run(t, pwdfileBackend(t, "nodelay", nil), backendtest.Fixture{User: "alice", Password: "alice-password"})
}
