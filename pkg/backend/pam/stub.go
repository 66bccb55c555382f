//go:build !pam

package pam

import (
	"errors"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// errNotBuilt is what Factory returns in a binary built without the pam tag.
var errNotBuilt = errors.New("pam backend: this gatehouse was built without PAM support (rebuild with libpam0g-dev installed: make build)")

// Factory always fails in this build: Gatehouse was compiled without the
// "pam" build tag (cgo and libpam headers), and says how to rebuild.
func Factory(map[string]any, *slog.Logger) (backend.Backend, error) {
	return nil, errNotBuilt
}
