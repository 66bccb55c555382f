package oidc

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// VerifyIDToken runs the ID token checks of a callback on raw, expecting
// nonce, for tests that bring a token the provider issued elsewhere.
func (p *Provider) VerifyIDToken(ctx context.Context, raw, nonce string) (backend.Identity, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return backend.Identity{}, err
	}
	return p.verifyIDToken(ctx, d, raw, nonceHash(nonce))
}
