package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Name is the backend name used in the configuration, as in st2.
const Name = "ldap"

// Defaults, as in st2's LDAP backend (st2-auth-ldap).
const (
	DefaultPort           = 389
	DefaultSSLPort        = 636
	DefaultIDAttr         = "uid"
	DefaultScope          = "subtree"
	DefaultGroupDNsCheck  = "and"
	DefaultNetworkTimeout = 10 * time.Second
	DefaultCacheTTL       = 120 * time.Second
	DefaultCacheMaxSize   = 100
	// DefaultGroupPattern finds groupOfNames (member), groupOfUniqueNames
	// (uniqueMember) and posixGroup (memberUid) groups.
	DefaultGroupPattern = "(|(&(objectClass=*)(|(member={user_dn})(uniqueMember={user_dn})(memberUid={username}))))"
)

// Config configures the ldap backend. The option names and defaults are
// st2's, so that the backend_kwargs of an existing st2.conf work unchanged.
// In gatehouse.yaml:
//
//	auth:
//	  backend: ldap
//	  backend_kwargs:
//	    host: ldap1.example.org,ldap2.example.org
//	    use_tls: true
//	    cacert: /etc/ssl/certs/example-ca.pem
//	    bind_dn: cn=gatehouse,ou=services,dc=example,dc=org
//	    bind_password: secret
//	    base_ou: ou=people,dc=example,dc=org
//	    group_dns: [cn=st2users,ou=groups,dc=example,dc=org]
//
// Values may be JSON types or strings (st2.conf gives backend_kwargs as a
// JSON string; "389" and "true" are accepted where a number or boolean is
// expected).
type Config struct {
	// BindDN and BindPassword are the service account used to search users
	// and groups. Required.
	BindDN       string `mapstructure:"bind_dn"`
	BindPassword string `mapstructure:"bind_password"`
	// BaseOU is where users are searched (and groups, unless BaseOUGroup is
	// set). Required.
	BaseOU string `mapstructure:"base_ou"`
	// GroupDNs lists the groups a user must be in: full DNs, or bare RDNs
	// such as "cn=ops" that match the first RDN of any of the user's groups.
	// Required; a single string is a list of one.
	GroupDNs []string `mapstructure:"group_dns"`
	// GroupDNsCheck is "and" (member of every group; the default) or "or"
	// (member of at least one).
	GroupDNsCheck string `mapstructure:"group_dns_check"`
	// Host is the directory server, or a comma-separated list of servers
	// tried in order. An entry may carry its own port ("ldap2:1389").
	// Required.
	Host []string `mapstructure:"host"`
	// Port defaults to 389, or 636 with UseSSL.
	Port int `mapstructure:"port"`
	// UseSSL connects with LDAPS; UseTLS upgrades a plain connection with
	// StartTLS. At most one may be set.
	UseSSL bool `mapstructure:"use_ssl"`
	UseTLS bool `mapstructure:"use_tls"`
	// CACert is a PEM file of the CA certificates that may sign the
	// server's certificate; empty means the system's roots. Unlike st2,
	// certificates are always verified.
	CACert string `mapstructure:"cacert"`
	// IDAttr is the attribute holding the user name. Defaults to "uid".
	IDAttr string `mapstructure:"id_attr"`
	// AccountPattern is the user search filter, with {username} replaced
	// by the escaped user name. Defaults to "{IDAttr}={username}". A filter
	// without surrounding parentheses is wrapped in them.
	AccountPattern string `mapstructure:"account_pattern"`
	// GroupPattern is the group search filter, with {user_dn} and
	// {username} replaced by the escaped user DN and user name. Defaults
	// to DefaultGroupPattern.
	GroupPattern string `mapstructure:"group_pattern"`
	// BaseOUGroup is where groups are searched. Defaults to BaseOU.
	BaseOUGroup string `mapstructure:"base_ou_group"`
	// Scope of both searches: "base", "onelevel" or "subtree" (default).
	Scope string `mapstructure:"scope"`
	// NetworkTimeout, in seconds, bounds the whole exchange of one login
	// with the directory (connecting, TLS, binds, searches). Default 10.
	NetworkTimeout float64 `mapstructure:"network_timeout"`
	// ChaseReferrals follows search result references one hop, anonymously,
	// as libldap does for st2.
	ChaseReferrals bool `mapstructure:"chase_referrals"`
	// Debug is accepted for st2 compatibility and ignored: Gatehouse logs
	// each step of a login at debug level (auth.debug).
	Debug bool `mapstructure:"debug"`
	// CacheUserGroupsResponse caches each user's groups for
	// CacheUserGroupsCacheTTL seconds (default true, 120 s), for at most
	// CacheUserGroupsCacheMaxSize users (default 100).
	CacheUserGroupsResponse     bool    `mapstructure:"cache_user_groups_response"`
	CacheUserGroupsCacheTTL     float64 `mapstructure:"cache_user_groups_cache_ttl"`
	CacheUserGroupsCacheMaxSize int     `mapstructure:"cache_user_groups_cache_max_size"`
}

// DefaultConfig returns a Config with st2's defaults and no required option.
func DefaultConfig() Config {
	return Config{
		GroupDNsCheck:               DefaultGroupDNsCheck,
		Scope:                       DefaultScope,
		NetworkTimeout:              DefaultNetworkTimeout.Seconds(),
		CacheUserGroupsResponse:     true,
		CacheUserGroupsCacheTTL:     DefaultCacheTTL.Seconds(),
		CacheUserGroupsCacheMaxSize: DefaultCacheMaxSize,
	}
}

// decodeConfig fills DefaultConfig from backend_kwargs. Unknown options
// are an error naming them.
func decodeConfig(kwargs map[string]any) (Config, error) {
	cfg := DefaultConfig()
	err := backend.DecodeKwargs(kwargs, &cfg, backend.KwargsOptions{WeaklyTyped: true})
	return cfg, err
}

// endpoint is one directory server.
type endpoint struct {
	host     string // without brackets; also the TLS server name
	port     int
	ssl      bool // LDAPS
	startTLS bool
}

func (e endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

func (e endpoint) String() string {
	if e.ssl {
		return "ldaps://" + e.addr()
	}
	return "ldap://" + e.addr()
}

// settings is a validated Config, ready to use.
type settings struct {
	bindDN, bindPassword string
	baseOU, baseOUGroup  string
	scope                int
	idAttr               string
	accountPattern       string
	groupPattern         string
	rules                groupRules
	endpoints            []endpoint
	tls                  *tls.Config // for LDAPS, StartTLS and ldaps:// referrals
	secure               bool        // use_ssl or use_tls
	timeout              time.Duration
	chaseReferrals       bool
	cacheTTL             time.Duration // 0: no cache
	cacheSize            int
}

var scopes = map[string]int{
	"base":     goldap.ScopeBaseObject,
	"onelevel": goldap.ScopeSingleLevel,
	"subtree":  goldap.ScopeWholeSubtree,
}

// validate checks cfg and fills defaults. Every problem is reported, each
// naming its option (with st2's message where st2 has one).
func (cfg Config) validate() (settings, error) {
	var errs []error
	bad := func(option, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{option}, args...)...))
	}
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	s := settings{
		bindDN:         cfg.BindDN,
		bindPassword:   cfg.BindPassword,
		baseOU:         strings.TrimSpace(cfg.BaseOU),
		baseOUGroup:    strings.TrimSpace(cfg.BaseOUGroup),
		idAttr:         cfg.IDAttr,
		chaseReferrals: cfg.ChaseReferrals,
	}
	cfg.validateQuery(&s, bad, keep)
	var err error
	if cfg.UseSSL && cfg.UseTLS {
		bad("use_ssl", "SSL and TLS cannot be both true.")
	}
	s.endpoints, err = parseHosts(cfg.Host, cfg.Port, cfg.UseSSL, cfg.UseTLS)
	keep(err)
	s.secure = cfg.UseSSL || cfg.UseTLS
	s.tls, err = tlsConfig(cfg.CACert)
	keep(err)
	s.timeout, err = seconds("network_timeout", cfg.NetworkTimeout, false)
	keep(err)
	cfg.validateCache(&s, bad, keep)
	if len(errs) > 0 {
		return s, errors.Join(errs...)
	}
	return s, nil
}

// validateQuery checks what the user and group searches need: the bind
// credentials, base OUs, scope, groups and patterns.
func (cfg Config) validateQuery(s *settings, bad func(option, format string, args ...any), keep func(error)) {
	if cfg.BindDN == "" {
		bad("bind_dn", "Bind DN to query the LDAP server is not provided.")
	}
	if cfg.BindPassword == "" {
		bad("bind_password", "Password for the bind DN to query the LDAP server is not provided.")
	}
	if s.baseOU == "" {
		bad("base_ou", "Base OU for the LDAP query is not provided.")
	}
	if s.baseOUGroup == "" {
		s.baseOUGroup = s.baseOU
	}
	if s.idAttr == "" {
		s.idAttr = DefaultIDAttr
	}
	var ok bool
	if s.scope, ok = scopes[cfg.Scope]; !ok {
		bad("scope", "Scope value for the LDAP query must be one of base, onelevel, subtree (got %q).", cfg.Scope)
	}
	if len(cfg.GroupDNs) == 0 {
		bad("group_dns", "One or more user groups must be specified.")
	} else {
		rules, err := parseGroupRules(cfg.GroupDNs, cfg.GroupDNsCheck)
		keep(err)
		s.rules = rules
	}
	var err error
	s.accountPattern, err = accountPattern(cfg.AccountPattern, s.idAttr)
	keep(err)
	s.groupPattern = cfg.GroupPattern
	if s.groupPattern == "" {
		s.groupPattern = DefaultGroupPattern
	}
	keep(checkPattern("group_pattern", s.groupPattern, "user_dn", "username"))
}

// validateCache checks the group cache settings.
func (cfg Config) validateCache(s *settings, bad func(option, format string, args ...any), keep func(error)) {
	if !cfg.CacheUserGroupsResponse {
		return
	}
	var err error
	s.cacheTTL, err = seconds("cache_user_groups_cache_ttl", cfg.CacheUserGroupsCacheTTL, true)
	keep(err)
	s.cacheSize = cfg.CacheUserGroupsCacheMaxSize
	if s.cacheSize < 0 {
		bad("cache_user_groups_cache_max_size", "must not be negative (got %d)", s.cacheSize)
	}
	if s.cacheSize <= 0 {
		s.cacheTTL = 0
	}
}

// seconds converts a number of seconds from the configuration.
func seconds(option string, v float64, zeroOK bool) (time.Duration, error) {
	if math.IsNaN(v) || v < 0 || (v == 0 && !zeroOK) || v > 365*24*3600 {
		return 0, fmt.Errorf("%s: must be a positive number of seconds (got %v)", option, v)
	}
	return time.Duration(v * float64(time.Second)), nil
}

// parseHosts splits the host option ("h1,h2", or a list) into endpoints.
func parseHosts(hosts []string, port int, ssl, startTLS bool) ([]endpoint, error) {
	if port == 0 {
		port = DefaultPort
		if ssl {
			port = DefaultSSLPort
		}
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("port: %d is not a TCP port", port)
	}
	var eps []endpoint
	for _, h := range hosts {
		for part := range strings.SplitSeq(h, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			ep := endpoint{host: part, port: port, ssl: ssl, startTLS: startTLS}
			if strings.Contains(part, "://") {
				return nil, fmt.Errorf("host: %q: give host names, not URLs (use use_ssl/use_tls and port)", part)
			}
			if h, p, err := net.SplitHostPort(part); err == nil {
				n, err := strconv.Atoi(p)
				if err != nil || n <= 0 || n > 65535 {
					return nil, fmt.Errorf("host: %q: bad port", part)
				}
				ep.host, ep.port = h, n
			} else {
				ep.host = strings.TrimSuffix(strings.TrimPrefix(part, "["), "]")
			}
			eps = append(eps, ep)
		}
	}
	if len(eps) == 0 {
		return nil, errors.New("host: Hostname for the LDAP server is not provided.")
	}
	return eps, nil
}

// tlsConfig builds the client TLS configuration: certificates verified
// against cacert (or the system roots), TLS 1.2 at least. ServerName is
// set per endpoint when dialing.
func tlsConfig(cacert string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cacert == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(cacert)
	if err != nil {
		return nil, fmt.Errorf("cacert: Unable to find the cacert file %q for the LDAP connection: %w", cacert, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cacert: %q holds no PEM certificate", cacert)
	}
	cfg.RootCAs = pool
	return cfg, nil
}
