package main

import (
	"io"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam"
)

// newRegistry lists every backend built into this binary, one line each.
// A new backend is one package that passes backendtest.Run and one line
// here. pam needs cgo and libpam's headers (`make build` adds the pam tag
// when they are installed); without the tag its stub still registers, so
// `backend: pam` fails at start saying how to rebuild, not "unknown
// backend".
func newRegistry() *backend.Registry {
	reg := backend.NewRegistry()
	reg.Register(htpasswd.Name, htpasswd.Factory)
	reg.Register(ldap.Name, ldap.Factory)
	reg.Register(pam.Name, pam.Factory)
	return reg
}

// closeBackend releases what a backend holds (LDAP's pooled connections)
// at shutdown.
func closeBackend(b backend.Backend, log *slog.Logger) {
	c, ok := b.(io.Closer)
	if !ok {
		return
	}
	if err := c.Close(); err != nil {
		log.Warn("closing the backend", slog.String("error", err.Error()))
	}
}
