package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// FieldError is one problem with one configuration key.
type FieldError struct {
	Key    string // dotted key, e.g. "auth.port"
	Source Source // where the key's value came from; unknown for a Config built in code
	Err    error
}

// Error returns "key (source): problem", e.g.
// `auth.token_ttl (environment variable GATEHOUSE_AUTH_TOKEN_TTL): "abc"
// is not a whole number of seconds`, or "key: problem" when the source is
// unknown.
func (e *FieldError) Error() string {
	if src := e.Source.String(); src != "" {
		return e.Key + " (" + src + "): " + e.Err.Error()
	}
	return e.Key + ": " + e.Err.Error()
}

// Unwrap returns the underlying problem, e.g. an *fs.PathError for an
// unreadable certificate.
func (e *FieldError) Unwrap() error { return e.Err }

// ValidationError is what Validate returns: every problem it found.
type ValidationError struct {
	Problems []*FieldError
}

// Error lists the problems one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so errors.Is and errors.As look at each.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// problems collects FieldErrors.
type problems []*FieldError

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, &FieldError{Key: key, Err: fmt.Errorf(format, args...)})
}

func (p *problems) addErr(key string, err error) {
	*p = append(*p, &FieldError{Key: key, Err: err})
}

// Validate checks the configuration and reports every problem at once as a
// *ValidationError, one line per problem, sorted by key, each naming the
// key, where its value came from (see Source) and what is wrong:
//
//   - what Load found: values of the wrong type ("abc" for a number) and
//     keys the file sets that Gatehouse does not know (in YAML anywhere; in
//     an st2 INI file in [auth], [throttle] and [gatehouse], while st2's
//     other sections and [api] and [database] keys other than allow_origin
//     and url are st2's and ignored),
//   - auth.backend not in knownBackends (the names the backend registry
//     holds; a nil or empty knownBackends skips this check),
//   - auth.backends entries with an unknown name, a name listed twice, or
//     pam anywhere but last; a blank auth.break_glass_users entry,
//   - auth.mode other than standalone or proxy (st2's message),
//   - auth.token_ttl or auth.service_token_ttl below 1, auth.port (0 picks a free port) outside
//     1..65535, an empty auth.host, an auth.api_url that is not an absolute
//     URL,
//   - auth.use_ssl with auth.cert or auth.key missing, unreadable or not a
//     matching PEM key pair,
//   - an auth.proxy_trusted_cidrs or auth.metrics_allowed_cidrs entry that
//     is neither a CIDR nor an IP,
//   - auth.allow_origin / api.allow_origin entries that are not "*" or
//     scheme://host[:port], auth.allowed_hosts entries that are not
//     host[:port],
//   - auth.group_header other than rdn or dn,
//   - auth.forward_auth_headers other than nginx or forwarded,
//   - auth.token_max_lifetime below 0,
//   - a blank entry in auth.admin_users or auth.service_users,
//   - database.url that is empty or neither sqlite:PATH nor postgres://….
//
// backend_kwargs are not checked here: each backend's factory rejects
// settings it does not know. Validate returns nil when all is well.
func (c Config) Validate(knownBackends []string) error {
	var p problems
	c.Auth.validate(&p, knownBackends)
	validateOrigins(&p, "api.allow_origin", c.API.AllowOrigin)
	c.Database.validate(&p)
	c.Throttle.validate(&p)
	all := c.withLoadProblems(p)
	if len(all) == 0 {
		return nil
	}
	return &ValidationError{Problems: all}
}

// withLoadProblems merges Load's problems with the rule problems, giving
// each its key's source, sorted by key. A rule problem about a key whose
// value could not be decoded is dropped: it would be about the default
// that stood in.
func (c Config) withLoadProblems(rules problems) []*FieldError {
	out := make([]*FieldError, 0, len(c.loadProblems)+len(rules))
	undecoded := map[string]bool{}
	for _, fe := range c.loadProblems {
		out = append(out, fe)
		undecoded[fe.Key] = true
	}
	for _, fe := range rules {
		if !undecoded[fe.Key] {
			fe.Source = c.origins[fe.Key]
			out = append(out, fe)
		}
	}
	slices.SortStableFunc(out, func(a, b *FieldError) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func (a Auth) validate(p *problems, knownBackends []string) {
	if strings.TrimSpace(a.Host) == "" {
		p.add("auth.host", "must not be empty")
	}
	if a.Port < 0 || a.Port > 65535 {
		p.add("auth.port", "must be between 0 (any free port) and 65535, got %d", a.Port)
	}
	if a.ShutdownDelay < 0 {
		p.add("auth.shutdown_delay", "must not be negative, got %d", a.ShutdownDelay)
	}
	a.validateMemory(p)
	if a.Mode != ModeStandalone && a.Mode != ModeProxy {
		p.add("auth.mode", "Invalid auth mode %q specified in the config. Valid modes are: %s, %s",
			a.Mode, ModeProxy, ModeStandalone)
	}
	switch {
	case a.Backend == "":
		p.add("auth.backend", "must not be empty")
	case len(knownBackends) > 0 && !slices.Contains(knownBackends, a.Backend):
		known := slices.Sorted(slices.Values(knownBackends))
		p.add("auth.backend", "unknown backend %q (known: %s)", a.Backend, strings.Join(known, ", "))
	}
	a.validateChain(p, knownBackends)
	if a.TokenTTL < 1 {
		p.add("auth.token_ttl", "must be at least 1 second, got %d", a.TokenTTL)
	}
	if a.ServiceTokenTTL < 1 {
		p.add("auth.service_token_ttl", "must be at least 1 second, got %d", a.ServiceTokenTTL)
	}
	if a.APIURL != "" {
		if u, err := url.Parse(a.APIURL); err != nil || u.Scheme == "" || u.Host == "" {
			p.add("auth.api_url", "%q is not an absolute URL such as https://st2.example.com", a.APIURL)
		}
	}
	if a.UseSSL {
		a.validateTLS(p)
	}
	validateCIDRs(p, "auth.proxy_trusted_cidrs", a.ProxyTrustedCIDRs)
	validateCIDRs(p, "auth.metrics_allowed_cidrs", a.MetricsAllowedCIDRs)
	if a.GroupHeader != GroupHeaderRDN && a.GroupHeader != GroupHeaderDN {
		p.add("auth.group_header", "must be %s or %s, got %q", GroupHeaderRDN, GroupHeaderDN, a.GroupHeader)
	}
	if a.ForwardAuthHeaders != ForwardAuthNginx && a.ForwardAuthHeaders != ForwardAuthForwarded {
		p.add("auth.forward_auth_headers", "must be %s or %s, got %q", ForwardAuthNginx, ForwardAuthForwarded,
			a.ForwardAuthHeaders)
	}
	if a.TokenMaxLifetime < 0 {
		p.add("auth.token_max_lifetime", "must be 0 (renewal off) or a number of seconds, got %d", a.TokenMaxLifetime)
	}
	validateNames(p, "auth.admin_users", a.AdminUsers)
	validateNames(p, "auth.service_users", a.ServiceUsers)
	validateOrigins(p, "auth.allow_origin", a.AllowOrigin)
	for _, h := range a.AllowedHosts {
		if err := checkHost(h); err != nil {
			p.addErr("auth.allowed_hosts", err)
		}
	}
}

// validateTLS checks what st2auth checks at start (the files exist) and
// that they form a key pair, so a bad file fails now rather than at the
// first TLS handshake.
func (a Auth) validateTLS(p *problems) {
	var certPEM, keyPEM []byte
	read := func(key, path string) []byte {
		if path == "" {
			p.add(key, "required when auth.use_ssl is true")
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			p.addErr(key, err) // "open /x: no such file or directory"
			return nil
		}
		return b
	}
	certPEM = read("auth.cert", a.Cert)
	keyPEM = read("auth.key", a.Key)
	if certPEM == nil || keyPEM == nil {
		return
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		p.addErr("auth.cert", fmt.Errorf("with auth.key %s: %w", a.Key, err))
	}
}

func validateCIDRs(p *problems, key string, list []string) {
	for _, s := range list {
		if _, err := parsePrefix(s); err != nil {
			p.addErr(key, err)
		}
	}
}

func validateNames(p *problems, key string, names []string) {
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			p.add(key, "contains an empty user name")
			return
		}
	}
}

func validateOrigins(p *problems, key string, origins []string) {
	for _, o := range origins {
		if err := checkOrigin(o); err != nil {
			p.addErr(key, err)
		}
	}
}

// checkOrigin accepts "*" or scheme://host[:port] with an optional
// trailing "/" (which AllowedOrigins drops).
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Hostname() == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an origin (want scheme://host[:port] or *)", o)
	}
	return nil
}

// checkHost accepts host or host:port, where host is a DNS name or an IP
// address ([::1]:9100 for IPv6 with a port).
func checkHost(h string) error {
	bad := fmt.Errorf("%q is not a host name or host:port", h)
	if h == "" || strings.ContainsAny(h, "/@ \t*") {
		return bad
	}
	host := h
	if hp, port, err := net.SplitHostPort(h); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad
		}
		host = hp
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		host = h[1 : len(h)-1]
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if !isDNSName(host) {
		return bad
	}
	return nil
}

func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// validate asks the store registry, which opens the database later, so
// that config and the stores read URLs with one grammar.
func (d Database) validate(p *problems) {
	if err := storeopen.Check(strings.TrimSpace(d.URL)); err != nil {
		msg := strings.TrimPrefix(err.Error(), storeopen.ErrUnsupported.Error()+": ")
		p.add("database.url", "%s", msg)
	}
}

func (t Throttle) validate(p *problems) {
	for _, f := range []struct {
		key   string
		value int
		min   int
	}{
		{"throttle.login_failures", t.LoginFailures, 0},
		{"throttle.account_failures", t.AccountFailures, 0},
		{"throttle.address_failures", t.AddressFailures, 0},
		{"throttle.scan_failures", t.ScanFailures, 0},
		{"throttle.login_window", t.LoginWindow, 1},
		{"throttle.scan_window", t.ScanWindow, 1},
	} {
		if f.value < f.min {
			p.add(f.key, "must be at least %d, got %d", f.min, f.value)
		}
	}
}

// validateMemory checks the cache bound and the memory limit together: a
// limit that the cache alone could fill would keep the collector running.
func (a Auth) validateMemory(p *problems) {
	if a.CacheMaxMiB < 0 {
		p.add("auth.cache_max_mib", "must not be negative (0 turns the cache off), got %d", a.CacheMaxMiB)
	}
	switch {
	case a.MemoryLimitMiB < 0:
		p.add("auth.memory_limit_mib", "must not be negative (0 sets no limit), got %d", a.MemoryLimitMiB)
	case a.MemoryLimitMiB > 0 && a.MemoryLimitMiB < 2*a.CacheMaxMiB+16:
		p.add("auth.memory_limit_mib", "%d MiB is too small for a %d MiB validation cache: give at least %d (twice the cache and 16 MiB), or 0 for no limit",
			a.MemoryLimitMiB, a.CacheMaxMiB, 2*a.CacheMaxMiB+16)
	}
}
