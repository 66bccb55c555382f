package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

var _ auth.SSO = (*Provider)(nil)

// refused is a login that failed a check: 401 like a wrong password, the
// reason kept for the log only.
func refused(format string, args ...any) error {
	return fmt.Errorf("oidc: "+format+": %w", append(args, backend.ErrInvalidCredentials)...)
}

// oauthConfig is the client for one login.
func (p *Provider) oauthConfig(d *discovered, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret,
		Endpoint: d.prov.Endpoint(), RedirectURL: redirectURI, Scopes: p.scopes,
	}
}

// Begin starts a login (auth.SSO): it discovers the provider, keeps the
// state, nonce and PKCE verifier in pending and returns the provider's
// authorization URL. redirectURI is "" for a browser login (the
// configured redirect_url; next is where it ends; binding is the secret
// of the cookie that ties the login to this browser, whose hash is sealed
// with the verifier) or a terminal's loopback URI (already checked by
// LoopbackRedirect; next and binding are unused).
func (p *Provider) Begin(ctx context.Context, pending store.PendingLoginStore, redirectURI, next, binding string, now time.Time) (string, error) {
	if redirectURI == "" {
		redirectURI = p.cfg.RedirectURL
		if binding == "" {
			return "", errors.New("oidc: a browser login needs a binding cookie")
		}
	} else {
		next, binding = "", ""
	}
	d, err := p.discoverCached(ctx)
	if err != nil {
		return "", err
	}
	state, nonce, verifier := newSecret(), newSecret(), oauth2.GenerateVerifier()
	err = pending.CreatePendingLogin(ctx, store.PendingLogin{
		StateHash: stateHash(state), NonceHash: nonceHash(nonce), Verifier: seal(state, sealedSecrets(verifier, binding)),
		Next: next, RedirectURI: redirectURI, CreatedAt: now, ExpiresAt: now.Add(LoginLifetime),
	})
	if err != nil {
		return "", err
	}
	return p.oauthConfig(d, redirectURI).AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Finish ends a login the provider sent back (auth.SSO): the state is
// consumed (once; unknown, used or expired is refused), the code is
// exchanged with the PKCE verifier at the provider's token endpoint, and
// the ID token is verified (signature, issuer, audience = client_id,
// expiry, nonce). terminal says which route carried it: a login begun for
// a terminal cannot be finished by the browser callback, nor the reverse.
// At the browser callback, binding (the cookie the browser brought) must
// be the one Begin was given: a callback URL another browser began (login
// CSRF, RFC 6749 §10.12) is refused.
//
// Refusals wrap backend.ErrInvalidCredentials; a provider that cannot be
// reached, backend.ErrUnavailable; a user outside allowed_groups, an
// EFORBIDDEN *auth.Error.
func (p *Provider) Finish(ctx context.Context, pending store.PendingLoginStore, state, code, binding string, terminal bool, now time.Time) (auth.SSOResult, error) {
	if state == "" || code == "" {
		return auth.SSOResult{}, refused("no state or no code")
	}
	if !terminal && binding == "" {
		// Nothing is consumed: the browser that began this login can
		// still finish it.
		return auth.SSOResult{}, refused("no login-binding cookie: the login was not begun in this browser")
	}
	l, err := pending.ConsumePendingLogin(ctx, stateHash(state), now)
	if errors.Is(err, store.ErrNotFound) {
		return auth.SSOResult{}, refused("state unknown, used or expired")
	}
	if err != nil {
		return auth.SSOResult{}, err
	}
	if l.RedirectURI == deviceMarker || terminal != (l.RedirectURI != p.cfg.RedirectURL) {
		return auth.SSOResult{}, refused("login begun for another route")
	}
	secrets, err := open(state, l.Verifier)
	if err != nil {
		return auth.SSOResult{}, refused("verifier: %v", err)
	}
	verifier, wantBinding := openSecrets(secrets)
	if !terminal && (wantBinding == "" || !sameHash(bindingHash(binding), wantBinding)) {
		return auth.SSOResult{}, refused("login-binding cookie is not the one this login was begun with")
	}
	id, err := p.exchange(ctx, l, code, verifier)
	if err != nil {
		return auth.SSOResult{}, err
	}
	return auth.SSOResult{Identity: id, Next: l.Next}, nil
}

// exchange trades the code for tokens and verifies the ID token.
func (p *Provider) exchange(ctx context.Context, l store.PendingLogin, code, verifier string) (backend.Identity, error) {
	d, err := p.provider(ctx)
	if err != nil {
		return backend.Identity{}, err
	}
	tok, err := p.exchangeCode(ctx, d, l.RedirectURI, code, verifier)
	if err != nil {
		return backend.Identity{}, err
	}
	raw, _ := tok.Extra("id_token").(string)
	return p.verifyIDToken(ctx, d, raw, l.NonceHash)
}

// exchangeCode is the call to the token endpoint, within the timeout.
func (p *Provider) exchangeCode(ctx context.Context, d *discovered, redirectURI, code, verifier string) (*oauth2.Token, error) {
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	tok, err := p.oauthConfig(d, redirectURI).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		err = exchangeError(err)
		if errors.Is(err, backend.ErrUnavailable) {
			p.unreachable()
		}
		return nil, err
	}
	return tok, nil
}

// verifyIDToken checks the ID token (signature, issuer, audience =
// client_id, expiry, then the nonce) and reads the identity from it. The
// signing keys are fetched, when not cached, within the timeout; a
// provider that does not give them is backend.ErrUnavailable.
func (p *Provider) verifyIDToken(ctx context.Context, d *discovered, raw, wantNonceHash string) (backend.Identity, error) {
	idt, err := p.checkIDToken(ctx, d, raw)
	if err != nil {
		return backend.Identity{}, err
	}
	if !sameHash(nonceHash(idt.Nonce), wantNonceHash) {
		return backend.Identity{}, refused("ID token nonce is not this login's")
	}
	return p.identity(idt)
}

// checkIDToken verifies the ID token's signature, issuer, audience
// (client_id) and expiry; the caller checks the nonce when its flow sent
// one.
func (p *Provider) checkIDToken(ctx context.Context, d *discovered, raw string) (*gooidc.IDToken, error) {
	if raw == "" {
		return nil, refused("the provider sent no ID token")
	}
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	fetch := &keyFetch{}
	ctx = context.WithValue(ctx, keyFetchKey{}, fetch)
	// The issuer is the configured one: discovery checked that the
	// provider names itself so.
	v := gooidc.NewVerifier(p.cfg.Issuer, d.keys, &gooidc.Config{ClientID: p.cfg.ClientID, SupportedSigningAlgs: d.algs})
	idt, err := v.Verify(ctx, raw)
	if err != nil && fetch.err != nil {
		p.unreachable()
		return nil, fmt.Errorf("oidc: signing keys: %w: %w", backend.ErrUnavailable, fetch.err)
	}
	if err != nil {
		return nil, refused("ID token: %v", err)
	}
	return idt, nil
}

// exchangeError sorts a failed code exchange: the provider refusing the
// code (expired, used, another client's, wrong verifier) is a refusal;
// no answer or a server error is an outage.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 &&
		re.Response.StatusCode != http.StatusTooManyRequests {
		return refused("code exchange refused: %s", re.ErrorCode)
	}
	return fmt.Errorf("oidc: code exchange: %w: %w", backend.ErrUnavailable, err)
}

// identity reads the user name and groups from the verified ID token's
// claims and applies allowed_groups.
func (p *Provider) identity(idt *gooidc.IDToken) (backend.Identity, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return backend.Identity{}, refused("ID token claims: %v", err)
	}
	user, _ := claims[p.cfg.UsernameClaim].(string)
	if user == "" {
		return backend.Identity{}, refused("ID token has no string claim %q", p.cfg.UsernameClaim)
	}
	groups := stringList(claims[p.cfg.GroupsClaim])
	if len(p.cfg.AllowedGroups) > 0 && !slices.ContainsFunc(groups, func(g string) bool {
		return slices.Contains(p.cfg.AllowedGroups, g)
	}) {
		return backend.Identity{}, &auth.Error{Code: auth.EFORBIDDEN, Message: "You are not in a group allowed to sign in here.",
			Err: fmt.Errorf("oidc: %q is in none of allowed_groups", user)}
	}
	return backend.Identity{Username: user, Groups: groups, Backend: Name}, nil
}

// stringList reads a groups claim: a list of strings, or one string.
func stringList(v any) []string {
	switch val := v.(type) {
	case string:
		return []string{val}
	case []any:
		out := make([]string, 0, len(val))
		for _, g := range val {
			if s, ok := g.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
