//go:build pam

package main

import (
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam"
)

// The pam backend needs cgo and libpam's headers; `make build` adds the tag
// when they are installed.
func init() {
	optionalBackends = append(optionalBackends, func(r *backend.Registry) { r.Register(pam.Name, pam.Factory) })
}
