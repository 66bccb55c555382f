package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/config"
)

// wantProblems checks that err lists exactly the given problems, each
// line starting with its wanted text.
func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("Validate: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Validate: no error, want %q", want)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("Validate reported %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("Validate error has no line starting with %q:\n%v", w, err)
		}
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := config.Default()
	c.Auth.Backend = "kerberos"
	c.Auth.Mode = "x"
	c.Auth.TokenTTL = 0
	c.Auth.ServiceTokenTTL = -5
	c.Auth.Port = 70000
	c.Auth.UseSSL = true
	c.Auth.Cert = filepath.Join(t.TempDir(), "nope.crt")
	c.Auth.ProxyTrustedCIDRs = []string{"127.0.0.1/32", "10.0.0.0/99"}
	c.Auth.AllowedHosts = []string{"https://auth.example.com/"}
	c.API.AllowOrigin = []string{"myhost:3000"}
	c.Database.URL = "mysql://root@localhost/gh"

	wantProblems(t, c.Validate(knownBackends),
		`auth.backend: unknown backend "kerberos" (known: flat_file, ldap, pam)`,
		`auth.mode: Invalid auth mode "x" specified in the config. Valid modes are: proxy, standalone`,
		"auth.token_ttl: must be at least 1 second, got 0",
		"auth.service_token_ttl: must be at least 1 second, got -5",
		"auth.port: must be between 0 (any free port) and 65535, got 70000",
		"auth.cert: open "+c.Auth.Cert+": no such file or directory",
		"auth.key: required when auth.use_ssl is true",
		`auth.proxy_trusted_cidrs: invalid CIDR "10.0.0.0/99"`,
		`auth.allowed_hosts: "https://auth.example.com/" is not a host name or host:port`,
		`api.allow_origin: "myhost:3000" is not an origin`,
		`database.url: unsupported scheme "mysql"`,
	)
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(c *config.Config)
		known  []string
		want   []string // line prefixes; none means valid
	}{
		{name: "defaults", modify: func(*config.Config) {}},
		{name: "nil known backends skips the check", modify: func(c *config.Config) { c.Auth.Backend = "custom" }, known: []string{}},
		{name: "proxy mode", modify: func(c *config.Config) { c.Auth.Mode = "proxy" }},
		{name: "empty backend", modify: func(c *config.Config) { c.Auth.Backend = "" }, want: []string{"auth.backend: must not be empty"}},
		{name: "empty host", modify: func(c *config.Config) { c.Auth.Host = " " }, want: []string{"auth.host: must not be empty"}},
		{name: "port negative", modify: func(c *config.Config) { c.Auth.Port = -1 }, want: []string{"auth.port: must be between 0 (any free port) and 65535, got -1"}},
		{name: "port max", modify: func(c *config.Config) { c.Auth.Port = 65535 }},
		{name: "api_url relative", modify: func(c *config.Config) { c.Auth.APIURL = "st2.example.com/api" }, want: []string{`auth.api_url: "st2.example.com/api" is not an absolute URL`}},
		{name: "api_url ok", modify: func(c *config.Config) { c.Auth.APIURL = "https://st2.example.com/api/" }},
		{name: "cidr bare address ok", modify: func(c *config.Config) { c.Auth.ProxyTrustedCIDRs = []string{"10.0.0.1", "fd00::/8"} }},
		{name: "cidr garbage", modify: func(c *config.Config) { c.Auth.ProxyTrustedCIDRs = []string{"localhost"} }, want: []string{`auth.proxy_trusted_cidrs: invalid CIDR "localhost"`}},
		{name: "metrics cidrs ok", modify: func(c *config.Config) { c.Auth.MetricsAllowedCIDRs = []string{"10.0.0.0/8", "192.0.2.7", "::1/128"} }},
		{name: "metrics cidr garbage", modify: func(c *config.Config) { c.Auth.MetricsAllowedCIDRs = []string{"10.0.0.0/8", "prometheus"} },
			want: []string{`auth.metrics_allowed_cidrs: invalid CIDR "prometheus"`}},
		{name: "group_header dn", modify: func(c *config.Config) { c.Auth.GroupHeader = "dn" }},
		{name: "group_header unknown", modify: func(c *config.Config) { c.Auth.GroupHeader = "DN" }, want: []string{`auth.group_header: must be rdn or dn, got "DN"`}},
		{name: "group_header empty", modify: func(c *config.Config) { c.Auth.GroupHeader = "" }, want: []string{`auth.group_header: must be rdn or dn, got ""`}},
		{name: "blank admin", modify: func(c *config.Config) { c.Auth.AdminUsers = []string{"admin", " "} }, want: []string{"auth.admin_users: contains an empty user name"}},
		{name: "origins ok", modify: func(c *config.Config) {
			c.Auth.AllowOrigin = []string{"*", "https://ui.example.com", "http://127.0.0.1:3000/"}
			c.API.AllowOrigin = []string{"http://[::1]:8080"}
		}},
		{name: "origin with path", modify: func(c *config.Config) { c.Auth.AllowOrigin = []string{"https://ui.example.com/app"} }, want: []string{`auth.allow_origin: "https://ui.example.com/app" is not an origin`}},
		{name: "hosts ok", modify: func(c *config.Config) {
			c.Auth.AllowedHosts = []string{"auth.example.com", "auth.example.com:9100", "127.0.0.1", "[::1]:9100", "::1", "localhost."}
		}},
		{name: "host bad port", modify: func(c *config.Config) { c.Auth.AllowedHosts = []string{"a.example:0"} }, want: []string{`auth.allowed_hosts: "a.example:0" is not a host name or host:port`}},
		{name: "host wildcard", modify: func(c *config.Config) { c.Auth.AllowedHosts = []string{"*"} }, want: []string{`auth.allowed_hosts: "*"`}},
		{name: "database empty", modify: func(c *config.Config) { c.Database.URL = "" }, want: []string{"database.url: must not be empty"}},
		{name: "database mongodb", modify: func(c *config.Config) { c.Database.URL = "mongodb://127.0.0.1:27017/st2" }, want: []string{`database.url: unsupported scheme "mongodb"`}},
		{name: "database no scheme", modify: func(c *config.Config) { c.Database.URL = "data/gatehouse.db" }, want: []string{`database.url: unsupported scheme ""`}},
		{name: "database sqlite no path", modify: func(c *config.Config) { c.Database.URL = "sqlite:" }, want: []string{"database.url: sqlite: URL has no path"}},
		{name: "database sqlite absolute", modify: func(c *config.Config) { c.Database.URL = "sqlite:///var/lib/gh.db" }},
		{name: "database postgres", modify: func(c *config.Config) { c.Database.URL = "postgres://gh:secret@127.0.0.1:5432/gh?sslmode=disable" }},
		{
			name: "database postgres bad, password not echoed", modify: func(c *config.Config) { c.Database.URL = "postgres://gh:secret@host:port/gh" },
			want: []string{"database.url: invalid postgres URL: invalid port"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.modify(&c)
			known := knownBackends
			if tc.known != nil {
				known = tc.known
			}
			err := c.Validate(known)
			wantProblems(t, err, tc.want...)
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the database password: %v", err)
			}
		})
	}
}

func TestValidateUnknownYAMLKeys(t *testing.T) {
	cleanEnv(t)
	path := writeFile(t, "gatehouse.yaml", `
auth:
  tokn_ttl: 60
  backend_kwargs:
    anything: goes   # checked by the backend, not here
api:
  allow_orign: [x]
databse:
  url: sqlite:x.db
database:
  uri: sqlite:x.db
`)
	c := mustLoad(t, path, nil)
	wantProblems(t, c.Validate(knownBackends),
		"api.allow_orign ("+path+":7): unknown key (did you mean api.allow_origin?)",
		"auth.tokn_ttl ("+path+":3): unknown key (did you mean auth.token_ttl?)",
		"database.uri ("+path+":11): unknown key (did you mean database.url?)",
		"databse.url ("+path+":9): unknown key (did you mean database.url?)",
	)
}

func TestValidateTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeKeyPair(t, dir, "good")
	_, otherKey := writeKeyPair(t, dir, "other")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name      string
		cert, key string
		want      []string
	}{
		{name: "good pair", cert: certFile, key: keyFile},
		{name: "both missing", want: []string{"auth.cert: required when auth.use_ssl is true", "auth.key: required when auth.use_ssl is true"}},
		{name: "cert unreadable", cert: missing, key: keyFile, want: []string{"auth.cert: open " + missing + ": no such file or directory"}},
		{name: "key is a directory", cert: certFile, key: dir, want: []string{"auth.key: read " + dir + ": is a directory"}},
		{name: "mismatched key", cert: certFile, key: otherKey, want: []string{"auth.cert: with auth.key " + otherKey + ": tls: private key does not match public key"}},
		{name: "garbage cert", cert: garbage, key: keyFile, want: []string{"auth.cert: with auth.key " + keyFile + ": tls: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Auth.UseSSL = true
			c.Auth.Cert, c.Auth.Key = tc.cert, tc.key
			wantProblems(t, c.Validate(knownBackends), tc.want...)
		})
	}
	t.Run("not checked without use_ssl", func(t *testing.T) {
		c := config.Default()
		c.Auth.Cert, c.Auth.Key = missing, missing
		wantProblems(t, c.Validate(knownBackends))
	})
}

// writeKeyPair writes a self-signed ECDSA certificate and its key as PEM.
func writeKeyPair(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	for file, block := range map[string]*pem.Block{
		certFile: {Type: "CERTIFICATE", Bytes: der},
		keyFile:  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}
