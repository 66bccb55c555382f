package local_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/backendtest"
)

// TestConformance runs the backend suite on both stores; the unreachable
// case is a backend whose store is closed.
func TestConformance(t *testing.T) {
	for kind, open := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			s := open(t)
			addUser(t, s, "alice", "alice-password", "", small, nil)
			backendtest.Run(t, newBackend(t, s, small, nil), backendtest.Fixture{
				User: "alice", Password: "alice-password",
				Unreachable: func(t *testing.T) backend.Backend {
					closed := open(t)
					b := newBackend(t, closed, small, nil)
					_ = closed.Close()
					return b
				},
			})
		})
	}
}
