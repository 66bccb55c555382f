package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// Defaults shared by Default, the flags and the documentation. Those the
// service itself also needs have their one copy in pkg/auth.
const (
	// DefaultAPIURL is the X-API-URL Gatehouse returns when auth.api_url is
	// empty; st2 clients assume st2api on the same host at port 9101.
	DefaultAPIURL = auth.DefaultAPIURL
	// DefaultDatabaseURL is the embedded SQLite database, relative to the
	// working directory.
	DefaultDatabaseURL = "sqlite:data/gatehouse.db"
	// DefaultHtpasswdPath is the flat_file backend's file_path when no
	// backend_kwargs are configured.
	DefaultHtpasswdPath = "data/htpasswd"

	// ModeStandalone makes Gatehouse check passwords with its backend.
	ModeStandalone = auth.ModeStandalone
	// ModeProxy makes Gatehouse trust the user name a reverse proxy puts in
	// Remote-User / X-Forwarded-User, from proxy_trusted_cidrs only.
	ModeProxy = auth.ModeProxy

	// GroupHeaderRDN makes X-Auth-Groups the value of each group DN's first
	// RDN, comma-separated (cn=ops,ou=groups,dc=example,dc=org is "ops").
	GroupHeaderRDN = "rdn"
	// GroupHeaderDN makes X-Auth-Groups the full group DNs separated by
	// ";" (a ";" inside a DN is sent as \3B).
	GroupHeaderDN = "dn"

	// ForwardAuthNginx makes /auth/v1/verify read the original request
	// from X-Original-Method and X-Original-URI (the nginx example sets
	// them).
	ForwardAuthNginx = "nginx"
	// ForwardAuthForwarded makes it read X-Forwarded-Method and
	// X-Forwarded-Uri, which Traefik and Caddy overwrite.
	ForwardAuthForwarded = "forwarded"
)

// Config is the whole configuration.
//
//	auth:
//	  host: 127.0.0.1
//	  port: 9100
//	  backend: flat_file
//	  backend_kwargs: {file_path: ./data/htpasswd}
//	database:
//	  url: sqlite:data/gatehouse.db
//
// See configs/gatehouse.example.yaml for every key.
type Config struct {
	Auth     Auth     `mapstructure:"auth"`     // st2's [auth] plus Gatehouse's keys
	API      API      `mapstructure:"api"`      // what Gatehouse reads of st2's [api]
	Database Database `mapstructure:"database"` // token and API key storage
	Throttle Throttle `mapstructure:"throttle"` // limits on failed attempts

	// origins says where Load took each key's value from (nil for a
	// Config built in code), for Validate's messages.
	origins map[string]Source
	// loadProblems are what Load could not decode or did not know;
	// Validate reports them with its own findings.
	loadProblems []*FieldError
}

// BackendSpec is one entry of auth.backends: a registered backend name and
// the options handed to its factory (as backend_kwargs would be).
type BackendSpec struct {
	Name   string         `mapstructure:"name" json:"name"`
	Kwargs map[string]any `mapstructure:"kwargs" json:"kwargs"`
}

// Chain returns the backends to build, in order: auth.backends when set,
// else a chain of one, auth.backend with auth.backend_kwargs.
func (a Auth) Chain() []BackendSpec {
	if len(a.Backends) > 0 {
		return a.Backends
	}
	return []BackendSpec{{Name: a.Backend, Kwargs: a.BackendKwargs}}
}

// HasBackend reports whether the chain holds a backend named name.
func (a Auth) HasBackend(name string) bool {
	for _, s := range a.Chain() {
		if s.Name == name {
			return true
		}
	}
	return false
}

// Auth mirrors st2's [auth] section plus Gatehouse's own keys.
type Auth struct {
	Host string `mapstructure:"host"` // listen address, default 127.0.0.1
	Port int    `mapstructure:"port"` // listen port, default 9100
	Mode string `mapstructure:"mode"` // standalone | proxy, default standalone

	// Backend names the password backend: flat_file | local | pam | ldap | kerberos.
	Backend string `mapstructure:"backend"`
	// BackendKwargs is handed to the backend's factory, which rejects keys it
	// does not know. Written as a map (YAML) or as st2's JSON string (INI,
	// YAML, GATEHOUSE_AUTH_BACKEND_KWARGS, --backend-kwargs). When nothing
	// sets it and Backend is flat_file it defaults to
	// {file_path: data/htpasswd}.
	BackendKwargs map[string]any `mapstructure:"backend_kwargs"`
	// Backends, when set, is an ordered chain of backends asked in turn
	// (a name belongs to the first that knows it) and replaces Backend and
	// BackendKwargs. A YAML list of {name, kwargs}, or the same as a JSON
	// string (INI, GATEHOUSE_AUTH_BACKENDS):
	//
	//	backends:
	//	  - {name: ldap, kwargs: {url: ldaps://ldap.example.org}}
	//	  - {name: flat_file, kwargs: {file_path: /etc/gatehouse/breakglass}}
	Backends []BackendSpec `mapstructure:"backends"`
	// BreakGlassUsers are the names that later backends of Backends may
	// still serve while an earlier one cannot be reached.
	BreakGlassUsers []string `mapstructure:"break_glass_users"`

	TokenTTL        int    `mapstructure:"token_ttl"`         // seconds; default and max, default 86400
	ServiceTokenTTL int    `mapstructure:"service_token_ttl"` // seconds, default 86400
	APIURL          string `mapstructure:"api_url"`           // X-API-URL; see EffectiveAPIURL
	UseSSL          bool   `mapstructure:"use_ssl"`           // serve TLS with Cert and Key
	Cert            string `mapstructure:"cert"`              // PEM certificate (chain) file
	Key             string `mapstructure:"key"`               // PEM private key file
	Enable          bool   `mapstructure:"enable"`            // default true
	Debug           bool   `mapstructure:"debug"`             // debug logging

	// ProxyTrustedCIDRs lists the peers whose Remote-User header proxy mode
	// believes; default 127.0.0.1/32, ::1/128. See TrustedProxies.
	ProxyTrustedCIDRs []string `mapstructure:"proxy_trusted_cidrs"`
	// MetricsAllowedCIDRs lists the client addresses that may read
	// /metrics, written like ProxyTrustedCIDRs; empty (the default) lets
	// any address read it. See MetricsAllowed.
	MetricsAllowedCIDRs []string `mapstructure:"metrics_allowed_cidrs"`
	// GroupHeader says what /auth/v1/verify sends in X-Auth-Groups:
	// GroupHeaderRDN (the default) or GroupHeaderDN.
	GroupHeader string `mapstructure:"group_header"`
	// ForwardAuthHeaders names the headers /auth/v1/verify reads the
	// original method and URI from: ForwardAuthNginx (the default) or
	// ForwardAuthForwarded. Never "whichever is present": each proxy
	// passes the other proxies' headers through from the client.
	ForwardAuthHeaders string `mapstructure:"forward_auth_headers"`
	// TokenMaxLifetime bounds token renewal, in seconds after issue
	// (Vault's max TTL); 0, the default, turns renewal off.
	TokenMaxLifetime int `mapstructure:"token_max_lifetime"`
	// AdminUsers may manage every user's API keys and revoke anyone's
	// tokens; default [admin].
	AdminUsers []string `mapstructure:"admin_users"`
	// ServiceUsers may ask for tokens on behalf of other users and call
	// introspection.
	ServiceUsers []string `mapstructure:"service_users"`
	// ImpersonateAdmins lets service accounts ask for tokens on behalf of
	// users in AdminUsers; default false (403).
	ImpersonateAdmins bool `mapstructure:"impersonate_admins"`
	// AllowOrigin is Gatehouse's CORS allow-list; see Config.AllowedOrigins.
	AllowOrigin []string `mapstructure:"allow_origin"`
	// AllowedHosts lists accepted Host headers (host or host:port); empty
	// accepts any.
	AllowedHosts []string `mapstructure:"allowed_hosts"`

	// ShutdownDelay is how many seconds Gatehouse keeps serving after
	// SIGTERM with /readyz answering 503, so load balancers stop sending it
	// requests before the listener closes; then in-flight requests finish.
	// Default 5; 0 closes at once.
	ShutdownDelay int `mapstructure:"shutdown_delay"`

	// CacheMaxMiB bounds the validation cache's memory in MiB (its
	// entries' estimated size); default 16, about 35,000 tokens with two
	// LDAP groups each. 0 turns the cache off (every check asks the
	// database; for measurements).
	CacheMaxMiB int `mapstructure:"cache_max_mib"`
	// MemoryLimitMiB is the Go runtime's soft memory limit (GOMEMLIMIT)
	// in MiB: the garbage collector works harder as the heap nears it, so
	// the process stays near its live size under any load. Default 48;
	// 0 sets none. The GOMEMLIMIT environment variable, when set, wins.
	MemoryLimitMiB int `mapstructure:"memory_limit_mib"`
}

// Throttle limits failed attempts; a limit of 0 turns that check off.
//
//	throttle:
//	  login_failures: 10      # per account and client address in login_window, then 429
//	  account_failures: 100   # per account from all addresses in login_window
//	  address_failures: 50    # per client address (IPv6: per /64) in login_window
//	  login_window: 900       # seconds
//	  scan_failures: 600      # unknown tokens one introspect/revoke caller may ask about
//	  scan_window: 60         # seconds
type Throttle struct {
	LoginFailures   int `mapstructure:"login_failures"`
	AccountFailures int `mapstructure:"account_failures"`
	AddressFailures int `mapstructure:"address_failures"`
	LoginWindow     int `mapstructure:"login_window"`
	ScanFailures    int `mapstructure:"scan_failures"`
	ScanWindow      int `mapstructure:"scan_window"`
}

// API holds the keys Gatehouse reads from st2's [api] section.
type API struct {
	// AllowOrigin is st2's [api] allow_origin, merged into the CORS
	// allow-list by Config.AllowedOrigins.
	AllowOrigin []string `mapstructure:"allow_origin"`
}

// Database says where tokens and keys are kept.
type Database struct {
	// URL is sqlite:RELATIVE/PATH, sqlite:///ABSOLUTE/PATH or postgres://…
	// Default sqlite:data/gatehouse.db.
	URL string `mapstructure:"url"`
}

// Default returns the configuration Gatehouse runs with when nothing is
// configured: SQLite at data/gatehouse.db, the flat_file backend at
// data/htpasswd, port 9100 on 127.0.0.1. Each call returns fresh maps and
// slices.
func Default() Config {
	return Config{
		Auth: Auth{
			Host:               "127.0.0.1",
			Port:               9100,
			Mode:               ModeStandalone,
			Backend:            "flat_file",
			BackendKwargs:      defaultBackendKwargs(),
			TokenTTL:           int(auth.DefaultTokenTTL / time.Second),
			ServiceTokenTTL:    int(auth.DefaultTokenTTL / time.Second),
			APIURL:             "",
			Enable:             true,
			ProxyTrustedCIDRs:  []string{"127.0.0.1/32", "::1/128"},
			GroupHeader:        GroupHeaderRDN,
			ForwardAuthHeaders: ForwardAuthNginx,
			AdminUsers:         []string{"admin"},
			ShutdownDelay:      5,
			CacheMaxMiB:        16,
			MemoryLimitMiB:     48,
		},
		Database: Database{URL: DefaultDatabaseURL},
		Throttle: defaultThrottle(),
	}
}

// Source returns where Load took key's value from (a dotted key such as
// "auth.backend_kwargs"): the file and line, the environment variable, the
// flag, or the default. It is SourceUnknown for a key Gatehouse does not
// know and for a Config built in code.
func (c Config) Source(key string) Source {
	return c.origins[key]
}

// defaultThrottle is auth.DefaultThrottle in the configuration's units.
func defaultThrottle() Throttle {
	t := auth.DefaultThrottle()
	return Throttle{LoginFailures: t.LoginFailures, AccountFailures: t.AccountFailures, AddressFailures: t.AddressFailures,
		LoginWindow: int(t.LoginWindow / time.Second), ScanFailures: t.ScanFailures, ScanWindow: int(t.ScanWindow / time.Second)}
}

func defaultBackendKwargs() map[string]any {
	return map[string]any{"file_path": DefaultHtpasswdPath}
}

// EffectiveAPIURL returns the value for the X-API-URL header: api_url
// without trailing slashes, or DefaultAPIURL when api_url is empty (as st2
// does, clients then talk to st2api on the same host).
func (a Auth) EffectiveAPIURL() string {
	if u := strings.TrimRight(strings.TrimSpace(a.APIURL), "/"); u != "" {
		return u
	}
	return DefaultAPIURL
}

// TrustedProxies parses ProxyTrustedCIDRs. An entry is a CIDR prefix
// (10.0.0.0/8, ::1/128) or a bare address, taken as a single host. Prefixes
// are returned masked (10.1.2.3/8 becomes 10.0.0.0/8).
func (a Auth) TrustedProxies() ([]netip.Prefix, error) {
	return parsePrefixes(a.ProxyTrustedCIDRs)
}

// MetricsAllowed parses MetricsAllowedCIDRs as TrustedProxies parses
// ProxyTrustedCIDRs. An empty list means any address may read /metrics.
func (a Auth) MetricsAllowed() ([]netip.Prefix, error) {
	return parsePrefixes(a.MetricsAllowedCIDRs)
}

func parsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
		}
		return p.Masked(), nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
	}
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

// st2DefaultOrigins are the origins st2's CORS middleware always allows
// (st2common/middleware/cors.py): the gulp dev server and the WebUI's
// simple HTTP server.
var st2DefaultOrigins = []string{
	"http://127.0.0.1:3000",
	"http://localhost:8080",
	"http://127.0.0.1:8080",
}

// AllowedOrigins returns the CORS allow-list the way st2 builds it:
// auth.allow_origin ∪ api.allow_origin ∪ st2's defaults
// (http://127.0.0.1:3000, http://localhost:8080, http://127.0.0.1:8080) ∪
// auth.api_url when it is set (without a trailing slash). Order is kept and
// duplicates are dropped; trailing slashes are removed. An entry "*" means
// any origin is allowed.
func (c Config) AllowedOrigins() []string {
	var out []string
	seen := map[string]bool{}
	add := func(o string) {
		// Browsers send origins without a path; "http://a/" would never
		// match, so drop the slash.
		if o = strings.TrimSpace(o); o != "*" {
			o = strings.TrimRight(o, "/")
		}
		if o == "" || seen[o] {
			return
		}
		seen[o] = true
		out = append(out, o)
	}
	for _, list := range [][]string{c.Auth.AllowOrigin, c.API.AllowOrigin, st2DefaultOrigins} {
		for _, o := range list {
			add(o)
		}
	}
	add(c.Auth.APIURL)
	return out
}

// Driver returns the name of the store driver that serves the URL's
// scheme (storeopen's registry: "sqlite", "postgres"), or "" for none.
func (d Database) Driver() string {
	drv, err := storeopen.Lookup(strings.TrimSpace(d.URL))
	if err != nil {
		return ""
	}
	return drv.Name
}
