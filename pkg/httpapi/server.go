// Package httpapi serves Gatehouse's HTTP API over the domain core, pkg/auth:
// st2's token and API key routes, RFC 7662 introspection and RFC 7009
// revocation, forward auth, and the health routes. It routes and parses
// requests, calls auth.Service, and writes st2's answers; errors.go maps
// the domain's error codes to statuses in one table.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Config is what the HTTP API needs. Store, Backend and Logger are
// required. The fields from Store to Now configure the domain core,
// pkg/auth, which NewServer builds (see auth.Config for their defaults);
// the rest are the HTTP layer's.
type Config struct {
	Store   store.Store
	Backend backend.Backend
	Logger  *slog.Logger
	// Local is the local backend's hasher when one is configured; without
	// it the /auth/v1/users routes answer 404 and password changes 400.
	Local Hasher
	// SSO is the single sign-on login method (auth.backends entry oidc),
	// or nil: then the /auth/v1/oidc routes answer 404.
	SSO SSO

	// TokenTTL is the default and maximum lifetime of a user's token.
	TokenTTL time.Duration
	// ServiceTokenTTL is the lifetime of a service account's token.
	ServiceTokenTTL time.Duration
	// AdminUsers manage everyone's API keys and tokens.
	AdminUsers []string
	// ServiceUsers may ask for tokens on behalf of other users.
	ServiceUsers []string
	// ImpersonateAdmins lets service accounts ask for tokens on behalf of
	// admin users; off by default, since such a token can do anything.
	ImpersonateAdmins bool
	// StoreTimeout bounds the database calls of a request, together
	// (default auth.DefaultStoreTimeout), so that a stopped or frozen
	// database is a quick 503.
	StoreTimeout time.Duration
	// CacheSize bounds the validation cache (entries; default 100,000).
	CacheSize int
	// CacheBytes bounds the validation cache's estimated bytes (default
	// auth.DefaultCacheBytes).
	CacheBytes int
	// CacheMaxAge bounds how long a cached validation lives even without a
	// revocation (default 1 minute). Revocations remove entries at once.
	CacheMaxAge time.Duration
	// PurgeInterval is how often expired tokens are deleted (default 1 min).
	PurgeInterval time.Duration
	// RemovalInterval is how often a Backend that is a
	// backend.RemovalReporter is asked which users left it (default
	// auth.DefaultRemovalInterval, 2 s).
	RemovalInterval time.Duration
	// BackendName labels login metrics and audit events (e.g. flat_file).
	BackendName string
	// Negotiator, when set, accepts Kerberos tickets on POST
	// /auth/v1/tokens (Authorization: Negotiate): the kerberos backend.
	Negotiator backend.Negotiator
	// Throttle limits failed logins and token scanning.
	Throttle Throttle
	// BasicCacheTTL is how long a Basic caller of introspect or revoke is
	// remembered after a successful password check (default 10 s).
	BasicCacheTTL time.Duration
	// Now returns the current time; tests set it. Default time.Now.
	Now func() time.Time

	// APIURL is sent as X-API-URL with every issued token (default
	// auth.DefaultAPIURL).
	APIURL string
	// Mode is auth.ModeStandalone (default: passwords checked by Backend)
	// or auth.ModeProxy (a trusted front proxy names the user).
	Mode string
	// TrustedProxies are the peers whose identity and X-Forwarded-For
	// headers are believed (auth.proxy_trusted_cidrs).
	TrustedProxies []netip.Prefix
	// MetricsAllowed, when not empty, are the only client addresses that
	// may read /metrics (auth.metrics_allowed_cidrs); others get 403. The
	// address is the one the throttle counts: the peer's, or the first
	// untrusted X-Forwarded-For hop when the peer is in TrustedProxies.
	MetricsAllowed []netip.Prefix
	// GroupHeader is GroupHeaderRDN (the default) or GroupHeaderDN: what
	// /auth/v1/verify sends in X-Auth-Groups (auth.group_header).
	GroupHeader string
	// ForwardAuthHeaders is ForwardAuthNginx (the default) or
	// ForwardAuthForwarded: which headers /auth/v1/verify reads the
	// original request's method and URI from (auth.forward_auth_headers).
	ForwardAuthHeaders string
	// TokenMaxLifetime bounds token renewal after issue; 0 turns renewal
	// off (auth.token_max_lifetime).
	TokenMaxLifetime time.Duration
	// AllowedOrigins is the CORS allow-list; "*" allows any origin.
	AllowedOrigins []string
	// AllowedHosts, when not empty, are the only Host headers served
	// (health and metrics routes excepted).
	AllowedHosts []string
}

// Hasher hashes local users' new passwords; see auth.Hasher.
type Hasher = auth.Hasher

// Throttle limits failed attempts; see auth.Throttle.
type Throttle = auth.Throttle

// authConfig is the domain's part of c.
func (c Config) authConfig() auth.Config {
	return auth.Config{
		Store: c.Store, Backend: c.Backend, Negotiator: c.Negotiator, Local: c.Local, SSO: c.SSO, BackendName: c.BackendName, Logger: c.Logger,
		TokenTTL: c.TokenTTL, ServiceTokenTTL: c.ServiceTokenTTL,
		AdminUsers: c.AdminUsers, ServiceUsers: c.ServiceUsers, ImpersonateAdmins: c.ImpersonateAdmins,
		TokenMaxLifetime: c.TokenMaxLifetime,
		Throttle:         c.Throttle, CacheSize: c.CacheSize, CacheBytes: c.CacheBytes, CacheMaxAge: c.CacheMaxAge, BasicCacheTTL: c.BasicCacheTTL,
		PurgeInterval: c.PurgeInterval, RemovalInterval: c.RemovalInterval, StoreTimeout: c.StoreTimeout, Now: c.Now,
	}
}

// Server is the Gatehouse HTTP API. It is an http.Handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	auth    *auth.Service
	router  chi.Router
	metrics *metrics
	// draining is set when shutdown starts, so /readyz turns 503 before
	// the listener closes and load balancers stop sending traffic.
	draining atomic.Bool
}

// NewServer builds the API over cfg, and the auth.Service behind it.
func NewServer(cfg Config) *Server {
	if cfg.GroupHeader != GroupHeaderDN {
		cfg.GroupHeader = GroupHeaderRDN
	}
	if cfg.ForwardAuthHeaders != ForwardAuthForwarded {
		cfg.ForwardAuthHeaders = ForwardAuthNginx
	}
	if cfg.APIURL == "" {
		cfg.APIURL = auth.DefaultAPIURL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, auth: auth.New(cfg.authConfig())}
	s.metrics = newMetrics(s.auth)
	s.router = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.router.ServeHTTP(w, r)
}

// Run does the domain's background work until ctx is done (auth.Service.Run):
// it listens for other replicas' revocations, cuts off users who left the
// backend and purges expired tokens.
func (s *Server) Run(ctx context.Context) { s.auth.Run(ctx) }

// StartDraining makes /readyz answer 503 from now on.
func (s *Server) StartDraining() { s.draining.Store(true) }

// tokenPaths are where st2 clients post for a token; validate sits below each.
var tokenPaths = []string{"/auth/v1/tokens", "/auth/tokens", "/v1/tokens", "/tokens"}

// verifyMethods are the methods forward auth answers: Traefik asks with GET,
// nginx's auth_request and Envoy's ext_authz with the original method.
var verifyMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// apiKeyPaths are where st2 clients manage API keys.
var apiKeyPaths = []string{"/api/v1/apikeys", "/v1/apikeys", "/auth/v1/apikeys"}

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.requestID, s.accessLog, closeOdd, s.recoverer, s.cors, s.allowedHosts, stripOneSlash, s.limitBody)
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.notFound) // st2 answers a wrong method with 404 too
	for _, p := range tokenPaths {
		r.Post(p, s.handle(s.issueToken))
		r.Post(p+"/validate", s.handle(s.validateToken))
	}
	for _, p := range apiKeyPaths {
		r.Get(p, s.handle(s.listAPIKeys))
		r.Post(p, s.handle(s.createAPIKey))
		r.Get(p+"/{ref}", s.handle(s.getAPIKey))
		r.Put(p+"/{ref}", s.handle(s.updateAPIKey))
		r.Delete(p+"/{ref}", s.handle(s.deleteAPIKey))
		r.Post(p+"/{ref}/rotate", s.handle(s.rotateAPIKey))
	}
	r.Post("/auth/v1/introspect", s.rfcHandle(s.introspect))
	r.Post("/auth/v1/revoke", s.rfcHandle(s.revoke))
	for _, m := range verifyMethods {
		r.Method(m, "/auth/v1/verify", s.handle(s.verify))
	}
	r.Delete("/auth/v1/tokens/current", s.handle(s.logout))
	r.Get("/auth/v1/tokens", s.handle(s.listTokens))
	r.Post("/auth/v1/tokens/renew", s.handle(s.renewToken))
	r.Delete("/auth/v1/tokens/{id}", s.handle(s.revokeTokenByID))
	r.Delete("/auth/v1/users/{user}/tokens", s.handle(s.revokeUserTokens))
	r.Get("/auth/v1/me", s.handle(s.me))
	r.Post("/auth/v1/session", s.handle(s.createSession))
	r.Delete("/auth/v1/session", s.handle(s.deleteSession))
	r.Get("/auth/v1/users", s.handle(s.listUsers))
	r.Post("/auth/v1/users", s.handle(s.createUser))
	r.Get("/auth/v1/users/{user}", s.handle(s.getUser))
	r.Put("/auth/v1/users/{user}", s.handle(s.updateUser))
	r.Delete("/auth/v1/users/{user}", s.handle(s.deleteUser))
	r.Post("/auth/v1/password", s.handle(s.changePassword))
	r.Delete("/auth/v1/throttle/users/{user}", s.handle(s.unlockUser))
	r.Get("/auth/v1/oidc/login", s.handle(s.oidcLogin))
	r.Get("/auth/v1/oidc/callback", s.handle(s.oidcCallback))
	r.Post("/auth/v1/oidc/token", s.handle(s.oidcToken))
	r.Post("/auth/v1/oidc/device", s.handle(s.oidcDevice))
	r.Post("/auth/v1/oidc/device/token", s.handle(s.oidcDeviceToken))
	r.Method("GET", "/metrics", s.metricsGuard(s.metrics.handler()))
	s.mountUI(r)
	r.Get("/healthz", s.handle(s.healthz))
	r.Get("/readyz", s.handle(s.readyz))
	return r
}

// handlerFunc is the shape of every handler: errors are values, written once.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		routed(r)
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// routed tells the domain which route matched, for its audit lines.
func routed(r *http.Request) {
	if rq := auth.RequestFrom(r.Context()); rq != nil {
		rq.Route = routePattern(r)
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, errNotFound)
}

// stripOneSlash tolerates one trailing slash, as st2's router does.
func stripOneSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
			r2 := r.Clone(r.Context())
			r2.URL.Path = p[:len(p)-1]
			r2.URL.RawPath = ""
			if rctx := chi.RouteContext(r.Context()); rctx != nil {
				rctx.RoutePath = r2.URL.Path
			}
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies. A body that says it is too large is
// refused at once; one that turns out to be is refused when read (readBody).
// Both are the *http.MaxBytesError of the errors table.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			err := &http.MaxBytesError{Limit: maxBodyBytes}
			if isRFCPath(r.URL.Path) {
				setNoStore(w)
				s.writeRFCError(w, r, err)
				return
			}
			s.writeError(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// isRFCPath reports the endpoints whose errors take RFC 6749's shape.
func isRFCPath(p string) bool {
	return p == "/auth/v1/introspect" || p == "/auth/v1/revoke"
}

// pathParam is a route parameter, unescaped: chi hands it over as the
// client escaped it whenever that differs from Go's own escaping
// (joe%40example.org), and a name must mean the same however it is spelled.
func pathParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// closeOdd asks the connection to close after a request framed with
// Transfer-Encoding or sent as HTTP/1.0: RFC 9112 6.1 says a server that
// gets both Content-Length and Transfer-Encoding must close the connection
// afterwards, and Go keeps it open (golang/go#80942), which would let bytes
// after a chunked body be read as a smuggled request.
func closeOdd(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) > 0 || !r.ProtoAtLeast(1, 1) {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}
