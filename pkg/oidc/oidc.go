// Package oidc is the single sign-on login method "oidc": a user signs in
// at an OpenID Connect provider (Keycloak, Okta, Entra ID, Google, Dex,
// Hydra; SAML through any of them) and comes back with an identity that
// Gatehouse turns into its own token or browser session.
//
// It speaks the authorization code flow with PKCE (S256), a state and a
// nonce, all single use and short lived, kept in the store
// (store.PendingLoginStore) so that any replica can finish a login another
// began. A terminal signs in by device authorization (RFC 8628, device.go)
// when the provider offers it: Gatehouse brokers that flow too, keeping
// the provider's device code in the same store. The provider is discovered
// when a login starts, not at start-up (a successful discovery serves for
// DiscoveryTTL, until a provider call fails), so a provider that is down is
// a 503 for the logins of that moment and never stops Gatehouse from
// starting or recovering.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Name is the login method's name in auth.backends.
const Name = "oidc"

// Defaults of the options.
const (
	DefaultScopes        = "openid profile email groups"
	DefaultUsernameClaim = "preferred_username"
	DefaultGroupsClaim   = "groups"
	DefaultTimeout       = 10 // seconds
	// LoginLifetime is how long a login may take between leaving for the
	// provider and coming back.
	LoginLifetime = auth.SSOLoginLifetime
	// DiscoveryTTL is how long a successful discovery serves the starts
	// of logins before the document is read again: an unauthenticated
	// burst of starts costs the provider at most one discovery a minute.
	// A provider call that fails ends it at once, so a provider that
	// moved or recovered is read again by the next login.
	DiscoveryTTL = time.Minute
)

// Config is the method's kwargs in auth.backends:
//
//	auth:
//	  backends:
//	    - name: oidc
//	      kwargs:
//	        issuer: https://keycloak.example.org/realms/ops
//	        client_id: gatehouse
//	        client_secret: "…"
//	        redirect_url: https://gatehouse.example.org/auth/v1/oidc/callback
//	        allowed_groups: [st2-users]
type Config struct {
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document spells it (required).
	Issuer string `mapstructure:"issuer"`
	// ClientID and ClientSecret are Gatehouse's client at the provider
	// (required). Terminals never see the secret: Gatehouse exchanges
	// their codes for them.
	ClientID     string `mapstructure:"client_id"`
	ClientSecret string `mapstructure:"client_secret"`
	// RedirectURL is this server's /auth/v1/oidc/callback as the browser
	// reaches it (required).
	RedirectURL string `mapstructure:"redirect_url"`
	// Scopes asked for, space separated or a list (default DefaultScopes).
	Scopes any `mapstructure:"scopes"`
	// UsernameClaim names the ID token claim that is the user name
	// (default preferred_username).
	UsernameClaim string `mapstructure:"username_claim"`
	// GroupsClaim names the claim with the user's groups (default groups).
	GroupsClaim string `mapstructure:"groups_claim"`
	// AllowedGroups, when not empty, are the groups one of which a user
	// must be in to sign in.
	AllowedGroups []string `mapstructure:"allowed_groups"`
	// Timeout bounds each call to the provider, in seconds (default 10).
	Timeout int `mapstructure:"timeout"`
	// DisplayName labels the web page's "Sign in with …" button (default
	// the issuer's host name).
	DisplayName string `mapstructure:"display_name"`
	// AllowPrivilegedNames lets a provider's user whose name is in
	// auth.admin_users or auth.service_users sign in as that user. Off by
	// default: such a login is refused (403), since whoever can take the
	// name at the provider would get those rights here.
	AllowPrivilegedNames bool `mapstructure:"allow_privileged_names"`
}

// Provider is the oidc login method. It is a backend.Backend so that it
// is configured among auth.backends, but it checks no passwords: its
// Authenticate refuses every one.
type Provider struct {
	cfg    Config
	scopes []string
	client *http.Client
	log    *slog.Logger

	mu     sync.Mutex
	disc   *discovered // the last discovery, nil until one succeeded
	discAt time.Time   // when disc was read; zero once a provider call failed
}

// discovered is what a discovery document says, and the signing keys it
// names (fetched and cached by go-oidc as they are needed).
type discovered struct {
	prov *gooidc.Provider
	jwks string
	algs []string
	keys gooidc.KeySet
}

var _ backend.Backend = (*Provider)(nil)

// Factory builds the method from its kwargs (backend.Factory).
func Factory(kwargs map[string]any, log *slog.Logger) (backend.Backend, error) {
	var cfg Config
	if err := backend.DecodeKwargs(kwargs, &cfg, backend.KwargsOptions{WeaklyTyped: true}); err != nil {
		return nil, err
	}
	return New(cfg, log)
}

// New checks cfg, fills its defaults and returns the method. It does not
// contact the provider.
func New(cfg Config, log *slog.Logger) (*Provider, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	scopes, err := parseScopes(cfg.Scopes)
	if err != nil {
		return nil, err
	}
	var missing []error
	for _, f := range []struct{ name, v string }{
		{"issuer", cfg.Issuer}, {"client_id", cfg.ClientID}, {"client_secret", cfg.ClientSecret},
		{"redirect_url", cfg.RedirectURL},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, fmt.Errorf("oidc: missing required option %q", f.name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, backend.OneLine(err)
	}
	if err := checkURLs(cfg); err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("oidc: timeout must be a number of seconds ≥ 1, not %d", cfg.Timeout)
	}
	cfg = withDefaults(cfg)
	return &Provider{
		cfg: cfg, scopes: scopes, log: log,
		client: &http.Client{Timeout: time.Duration(cfg.Timeout) * time.Second},
	}, nil
}

func withDefaults(cfg Config) Config {
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = DefaultUsernameClaim
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = DefaultGroupsClaim
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.DisplayName == "" {
		u, _ := url.Parse(cfg.Issuer)
		cfg.DisplayName = u.Hostname()
	}
	return cfg
}

// checkURLs refuses an issuer or redirect URL that is not absolute http(s).
func checkURLs(cfg Config) error {
	for _, f := range []struct{ name, v string }{{"issuer", cfg.Issuer}, {"redirect_url", cfg.RedirectURL}} {
		u, err := url.Parse(f.v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("oidc: %s must be an absolute http(s) URL, not %q", f.name, f.v)
		}
	}
	return nil
}

// parseScopes reads scopes as a space-separated string or a list; openid
// is always asked for.
func parseScopes(v any) ([]string, error) {
	var out []string
	switch val := v.(type) {
	case nil:
		out = strings.Fields(DefaultScopes)
	case string:
		out = strings.Fields(val)
	case []any:
		for _, s := range val {
			str, ok := s.(string)
			if !ok {
				return nil, fmt.Errorf("oidc: scopes must be strings, not %v", s)
			}
			out = append(out, strings.Fields(str)...)
		}
	case []string:
		out = val
	default:
		return nil, fmt.Errorf("oidc: scopes must be a space-separated string or a list, not %T", v)
	}
	for _, s := range out {
		if s == gooidc.ScopeOpenID {
			return out, nil
		}
	}
	return append([]string{gooidc.ScopeOpenID}, out...), nil
}

// Authenticate refuses every password: single sign-on happens at the
// provider, through the /auth/v1/oidc routes.
func (p *Provider) Authenticate(context.Context, string, string) (backend.Identity, error) {
	return backend.Identity{}, backend.ErrInvalidCredentials
}

// DisplayName labels the web page's button.
func (p *Provider) DisplayName() string { return p.cfg.DisplayName }

// AllowPrivilegedNames reports allow_privileged_names
// (auth.SSOPrivilegedNames).
func (p *Provider) AllowPrivilegedNames() bool { return p.cfg.AllowPrivilegedNames }

// Config returns the configuration with defaults filled.
func (p *Provider) Config() Config { return p.cfg }

// ctx carries the method's HTTP client (and its timeout) to go-oidc and
// x/oauth2, and bounds the whole call by the timeout.
func (p *Provider) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, p.client.Timeout)
	return gooidc.ClientContext(ctx, p.client), cancel
}

// discover reads the provider's discovery document now. The previous
// discovery (and so its cache of signing keys) is kept while the document
// names the same key set. A provider that cannot be reached is
// backend.ErrUnavailable.
func (p *Provider) discover(ctx context.Context) (*discovered, error) {
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	fresh, err := gooidc.NewProvider(ctx, p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery at %s: %w: %w", p.cfg.Issuer, backend.ErrUnavailable, err)
	}
	var doc struct {
		JWKS string   `json:"jwks_uri"`
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := fresh.Claims(&doc); err != nil {
		return nil, fmt.Errorf("oidc: discovery document: %w: %w", backend.ErrUnavailable, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discAt = time.Now()
	if p.disc != nil && p.disc.jwks == doc.JWKS {
		return p.disc, nil
	}
	keys := gooidc.NewRemoteKeySet(gooidc.ClientContext(context.Background(), p.client), doc.JWKS)
	p.disc = &discovered{prov: fresh, jwks: doc.JWKS, algs: doc.Algs, keys: keyFetchRecorder{keys}}
	return p.disc, nil
}

// discoverCached is the last discovery while it is younger than
// DiscoveryTTL and no provider call has failed since, else a new one. A
// failed discovery is never kept: the next start tries again.
func (p *Provider) discoverCached(ctx context.Context) (*discovered, error) {
	p.mu.Lock()
	d, at := p.disc, p.discAt
	p.mu.Unlock()
	if d != nil && !at.IsZero() && time.Since(at) < DiscoveryTTL {
		return d, nil
	}
	return p.discover(ctx)
}

// unreachable notes that a call to the provider failed: the next login
// discovers it again instead of trusting the cached document.
func (p *Provider) unreachable() {
	p.mu.Lock()
	p.discAt = time.Time{}
	p.mu.Unlock()
}

// provider is the last discovery, or a new one when there is none yet.
func (p *Provider) provider(ctx context.Context) (*discovered, error) {
	p.mu.Lock()
	d := p.disc
	p.mu.Unlock()
	if d != nil {
		return d, nil
	}
	return p.discover(ctx)
}

// keyFetchRecorder is the provider's key set, which notes in the
// verification's context when the keys could not be fetched: go-oidc
// reports that with %v, as it reports a bad signature, and an outage must
// be a 503, not a refusal.
type keyFetchRecorder struct{ gooidc.KeySet }

type keyFetchKey struct{}

// keyFetch is where a failed fetch is noted.
type keyFetch struct{ err error }

func (k keyFetchRecorder) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.KeySet.VerifySignature(ctx, jwt)
	// RemoteKeySet wraps every failure to get the keys (no answer, a
	// timeout, a non-200) as "fetching keys %w".
	if err != nil && strings.HasPrefix(err.Error(), "fetching keys") {
		if f, ok := ctx.Value(keyFetchKey{}).(*keyFetch); ok {
			f.err = err
		}
	}
	return payload, err
}
