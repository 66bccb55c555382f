//go:build !pam

package main

import (
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam"
)

// Without the pam tag, "pam" is still a known backend name, so that
// `backend: pam` passes validation and then fails at start with the stub's
// message saying how to rebuild, rather than with "unknown backend".
func init() {
	optionalBackends = append(optionalBackends, func(r *backend.Registry) { r.Register(pam.Name, pam.Factory) })
}
