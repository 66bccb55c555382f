package httpapi

import (
	"math/big"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

// What the external tests of this package reach inside for.

// Error is the answer a client gets for an error.
type Error = apiError

// ModeProxy is auth.ModeProxy, for Config.Mode.
const ModeProxy = auth.ModeProxy

// ParseBasic is parseBasic, for the fuzz tests.
func ParseBasic(header string) (user, password string, ok bool) { return parseBasic(header) }

// ParseTTL is parseTTL, for the fuzz tests; its refusals are the answers
// the client would get.
func ParseTTL(v any, present bool) (*big.Int, bool, error) {
	ttl, set, err := parseTTL(v, present)
	if err != nil {
		return ttl, set, toError(err)
	}
	return ttl, set, nil
}

// Walk calls fn for every route, for the test that compares the router with
// api/openapi.yaml.
func (s *Server) Walk(fn chi.WalkFunc) error {
	return chi.Walk(s.router, fn)
}

// Config returns the configuration the server was built with, the HTTP
// layer's defaults filled.
func (s *Server) Config() Config { return s.cfg }
