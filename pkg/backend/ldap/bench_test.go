package ldap_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/ldap/ldaptest"
)

// The benchmarks run against a real slapd on loopback and are skipped (not
// failed) when there is none. BenchmarkLDAPLogin is a whole login through
// the backend (service search, group search unless cached, user bind) on
// pooled connections; BenchmarkRawBind is what a naive backend pays for
// the user bind alone: a new connection, TLS and one bind.

var transports = []struct {
	name string
	kw   func(s *ldaptest.Server) map[string]any
	url  func(s *ldaptest.Server) string
	tls  bool // StartTLS
}{
	{"ldaps", func(s *ldaptest.Server) map[string]any { return nil },
		func(s *ldaptest.Server) string { return s.LDAPSURL }, false},
	{"starttls", func(s *ldaptest.Server) map[string]any {
		return map[string]any{"use_ssl": false, "use_tls": true, "port": float64(s.Port)}
	}, func(s *ldaptest.Server) string { return s.URL }, true},
	{"ldap", func(s *ldaptest.Server) map[string]any {
		return map[string]any{"use_ssl": false, "port": float64(s.Port)}
	}, func(s *ldaptest.Server) string { return s.URL }, false},
}

func benchServer(b *testing.B) *ldaptest.Server {
	if why, ok := ldaptest.Available(); !ok {
		b.Skip(why)
	}
	return ldaptest.Start(b)
}

func BenchmarkLDAPLogin(b *testing.B) {
	s := benchServer(b)
	for _, tr := range transports {
		for _, cache := range []bool{true, false} {
			name := tr.name
			if !cache {
				name += "-nocache"
			}
			b.Run(name, func(b *testing.B) {
				kw := kwargs(s, tr.kw(s))
				kw["cache_user_groups_response"] = cache
				be := open(b, kw)
				ctx := b.Context()
				for b.Loop() {
					if _, err := be.Authenticate(ctx, "alice", "alice-password"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkRawBind(b *testing.B) {
	s := benchServer(b)
	pem, err := os.ReadFile(s.CACert)
	if err != nil {
		b.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: roots, ServerName: s.Host, MinVersion: tls.VersionTLS12}
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			url := tr.url(s)
			for b.Loop() {
				c, err := goldap.DialURL(url, goldap.DialWithTLSConfig(cfg))
				if err != nil {
					b.Fatal(err)
				}
				if tr.tls {
					if err := c.StartTLS(cfg); err != nil {
						b.Fatal(err)
					}
				}
				if err := c.Bind(ldaptest.UserDN("alice"), "alice-password"); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
