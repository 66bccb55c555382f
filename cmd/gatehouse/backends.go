package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/chain"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/kerberos"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam"
	"github.com/gatehouse-auth/gatehouse/pkg/config"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// newRegistry lists every backend built into this binary, one line each.
// A new backend is one package that passes backendtest.Run and one line
// here. pam needs cgo and libpam's headers (`make build` adds the pam tag
// when they are installed); without the tag its stub still registers, so
// `backend: pam` fails at start saying how to rebuild, not "unknown
// backend".
//
// local keeps its users in the store, so its factory needs users; a nil
// users (checking the configuration before the store is opened) builds a
// local backend whose every store call fails, which is enough to check
// its options.
func newRegistry(users store.UserStore) *backend.Registry {
	if users == nil {
		users = noUsers{}
	}
	reg := backend.NewRegistry()
	reg.Register(htpasswd.Name, htpasswd.Factory)
	reg.Register(ldap.Name, ldap.Factory)
	reg.Register(local.Name, local.Factory(users))
	reg.Register(pam.Name, pam.Factory)
	reg.Register(kerberos.Name, kerberos.Factory)
	reg.Register(oidc.Name, oidc.Factory)
	return reg
}

// backends is what serve builds from auth.backend or auth.backends.
type backends struct {
	// backend checks passwords: the one configured backend, or a chain.
	backend backend.Backend
	// name labels metrics and audit lines: the backend's name, or the
	// chain's names joined with "+".
	name string
	// local is the local backend when the chain has one, else nil.
	local *local.Backend
	// negotiator is the first backend that accepts Kerberos tickets
	// (kerberos), else nil.
	negotiator backend.Negotiator
	// sso is the single sign-on method (oidc) when one is listed, else
	// nil. It checks no passwords, so it is not a link of the chain.
	sso httpapi.SSO
}

// openBackends builds the configured backends in order; more than one
// are chained (chain.New) with auth.break_glass_users.
func openBackends(reg *backend.Registry, cfg config.Config, log *slog.Logger) (backends, error) {
	specs := cfg.Auth.Chain()
	var out backends
	links := make([]chain.Link, 0, len(specs))
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		b, err := openOne(reg, s, len(specs) > 1, log)
		if err != nil {
			closeLinks(links, log)
			return backends{}, err
		}
		if l, ok := b.(*local.Backend); ok {
			out.local = l
		}
		if n, ok := b.(backend.Negotiator); ok && out.negotiator == nil {
			out.negotiator = n
		}
		if sso, ok := b.(httpapi.SSO); ok {
			out.sso = sso
			continue
		}
		links = append(links, chain.Link{Name: s.Name, Backend: b})
		names = append(names, s.Name)
	}
	out.name = strings.Join(names, "+")
	switch len(links) {
	case 0: // single sign-on only: every password is refused
		out.name = oidc.Name
		return out, nil
	case 1:
		out.backend = links[0].Backend
		return out, nil
	}
	c, err := chain.New(links, cfg.Auth.BreakGlassUsers, log)
	if err != nil {
		closeLinks(links, log)
		return backends{}, err
	}
	out.backend = c
	return out, nil
}

// openOne builds one backend; in a chain its errors name it, alone they
// are the factory's own, as before chains.
func openOne(reg *backend.Registry, s config.BackendSpec, named bool, log *slog.Logger) (backend.Backend, error) {
	f, ok := reg.Lookup(s.Name)
	if named || !ok {
		return reg.Open(s.Name, s.Kwargs, log)
	}
	return f(s.Kwargs, log)
}

func closeLinks(links []chain.Link, log *slog.Logger) {
	for _, l := range links {
		closeBackend(l.Backend, log)
	}
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

// errNoStore is noUsers' answer to everything.
var errNoStore = errors.New("no user store while checking the configuration")

// noUsers stands in for the store while the configuration is checked.
type noUsers struct{}

func (noUsers) CreateUser(context.Context, store.User) error { return errNoStore }
func (noUsers) UserByName(context.Context, string) (store.User, error) {
	return store.User{}, errNoStore
}
func (noUsers) ListUsers(context.Context, store.UserFilter) ([]store.User, int, error) {
	return nil, 0, errNoStore
}
func (noUsers) UpdateUser(context.Context, store.User) error { return errNoStore }
func (noUsers) DeleteUser(context.Context, string) error     { return errNoStore }

// localHasher is the local backend as the user API's hasher, or nil (an
// untyped nil, so the API sees "no local backend") when there is none.
func localHasher(bs backends) httpapi.Hasher {
	if bs.local == nil {
		return nil
	}
	return bs.local
}
