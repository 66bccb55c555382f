package ldap_test

import (
	"net"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/backendtest"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap/ldaptest"
)

// TestConformance runs the backend suite against a real slapd; the
// unreachable case points the same settings at a port nobody listens on.
func TestConformance(t *testing.T) {
	s := ldaptest.Start(t)
	backendtest.Run(t, open(t, kwargs(s, nil)), backendtest.Fixture{
		User: "alice", Password: ldaptest.Password("alice"),
		Unreachable: func(t *testing.T) backend.Backend {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			return open(t, kwargs(s, map[string]any{"port": float64(port)}))
		},
		Slow: timeout + slack,
	})
}
