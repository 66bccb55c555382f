package main

import (
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap"
)

// newRegistry lists every backend built into this binary. Backends that need
// cgo (pam) add themselves in files with build tags.
func newRegistry() *backend.Registry {
	reg := backend.NewRegistry()
	reg.Register(htpasswd.Name, htpasswd.Factory)
	reg.Register(ldap.Name, ldap.Factory)
	for _, add := range optionalBackends {
		add(reg)
	}
	return reg
}

// optionalBackends is filled by files compiled only with some build tags.
var optionalBackends []func(*backend.Registry)
