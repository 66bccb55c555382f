package ldap

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func validKwargs() map[string]any {
	return map[string]any{
		"bind_dn":       "cn=svc,dc=example,dc=org",
		"bind_password": "pw",
		"base_ou":       "ou=people,dc=example,dc=org",
		"host":          "ldap.example.org",
		"group_dns":     []any{"cn=ops,ou=groups,dc=example,dc=org"},
	}
}

func with(kw map[string]any, extra map[string]any) map[string]any {
	for k, v := range extra {
		if v == nil {
			delete(kw, k)
		} else {
			kw[k] = v
		}
	}
	return kw
}

func TestFactoryDefaults(t *testing.T) {
	b, err := Factory(validKwargs(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := b.(*Backend).s
	want := []endpoint{{host: "ldap.example.org", port: 389}}
	if !reflect.DeepEqual(s.endpoints, want) {
		t.Errorf("endpoints = %+v, want %+v", s.endpoints, want)
	}
	if s.idAttr != "uid" || s.accountPattern != "uid={username}" || s.groupPattern != DefaultGroupPattern {
		t.Errorf("patterns: %q %q %q", s.idAttr, s.accountPattern, s.groupPattern)
	}
	if s.baseOUGroup != s.baseOU || s.scope != 2 || !s.rules.all {
		t.Errorf("base_ou_group %q, scope %d, and %v", s.baseOUGroup, s.scope, s.rules.all)
	}
	if s.timeout != 10*time.Second || s.cacheTTL != 120*time.Second || s.cacheSize != 100 {
		t.Errorf("timeout %v, cache %v/%d", s.timeout, s.cacheTTL, s.cacheSize)
	}
	if s.tls == nil || s.tls.MinVersion < 0x0303 || s.tls.InsecureSkipVerify {
		t.Errorf("tls = %+v", s.tls)
	}
}

// TestFactoryAcceptsStringsAndJSONTypes: st2.conf's backend_kwargs are JSON
// (numbers are float64), and INI-minded users write "389" or "true".
func TestFactoryAcceptsStringsAndJSONTypes(t *testing.T) {
	for _, tc := range []struct {
		name string
		kw   map[string]any
		ok   func(s settings) bool
	}{
		{"float port", map[string]any{"port": 1389.0}, func(s settings) bool { return s.endpoints[0].port == 1389 }},
		{"string port", map[string]any{"port": "1389"}, func(s settings) bool { return s.endpoints[0].port == 1389 }},
		{"ssl default port", map[string]any{"use_ssl": "true"}, func(s settings) bool { return s.endpoints[0].port == 636 && s.endpoints[0].ssl }},
		{"tls bool", map[string]any{"use_tls": true}, func(s settings) bool { return s.endpoints[0].startTLS && s.endpoints[0].port == 389 }},
		{"timeout string", map[string]any{"network_timeout": "2.5"}, func(s settings) bool { return s.timeout == 2500*time.Millisecond }},
		{"timeout float", map[string]any{"network_timeout": 0.25}, func(s settings) bool { return s.timeout == 250*time.Millisecond }},
		{"cache off", map[string]any{"cache_user_groups_response": "False"}, func(s settings) bool { return s.cacheTTL == 0 }},
		{"cache ttl", map[string]any{"cache_user_groups_cache_ttl": 5.0, "cache_user_groups_cache_max_size": "7"},
			func(s settings) bool { return s.cacheTTL == 5*time.Second && s.cacheSize == 7 }},
		{"group_dns string", map[string]any{"group_dns": "cn=ops,ou=groups,dc=example,dc=org"},
			func(s settings) bool { return len(s.rules.rules) == 1 && !s.rules.rules[0].bare }},
		{"host list", map[string]any{"host": "a.example.org, b.example.org:1636,[::1]", "port": 1389},
			func(s settings) bool {
				return reflect.DeepEqual(s.endpoints, []endpoint{{host: "a.example.org", port: 1389},
					{host: "b.example.org", port: 1636}, {host: "::1", port: 1389}})
			}},
		{"host JSON list", map[string]any{"host": []any{"a", "b"}}, func(s settings) bool { return len(s.endpoints) == 2 }},
		{"or", map[string]any{"group_dns_check": "or"}, func(s settings) bool { return !s.rules.all }},
		{"scope", map[string]any{"scope": "onelevel"}, func(s settings) bool { return s.scope == 1 }},
		{"id_attr", map[string]any{"id_attr": "sAMAccountName"}, func(s settings) bool { return s.accountPattern == "sAMAccountName={username}" }},
		{"account_pattern wins", map[string]any{"id_attr": "cn", "account_pattern": "(&(objectClass=user)(sAMAccountName={username}))"},
			func(s settings) bool { return strings.HasPrefix(s.accountPattern, "(&") }},
		{"debug accepted", map[string]any{"debug": "true"}, func(settings) bool { return true }},
		{"base_ou_group", map[string]any{"base_ou_group": "ou=groups,dc=example,dc=org"},
			func(s settings) bool { return s.baseOUGroup == "ou=groups,dc=example,dc=org" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Factory(with(validKwargs(), tc.kw), nil)
			if err != nil {
				t.Fatal(err)
			}
			if s := b.(*Backend).s; !tc.ok(s) {
				t.Errorf("settings = %+v", s)
			}
		})
	}
}

func TestFactoryRefuses(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		kw   map[string]any
		want []string
	}{
		{"no bind_dn", map[string]any{"bind_dn": nil}, []string{"bind_dn", "Bind DN to query the LDAP server is not provided."}},
		{"empty bind_password", map[string]any{"bind_password": ""}, []string{"bind_password", "Password for the bind DN"}},
		{"no base_ou", map[string]any{"base_ou": nil}, []string{"base_ou", "Base OU for the LDAP query is not provided."}},
		{"no host", map[string]any{"host": nil}, []string{"host", "Hostname for the LDAP server is not provided."}},
		{"no group_dns", map[string]any{"group_dns": []any{}}, []string{"group_dns", "One or more user groups must be specified."}},
		{"all missing at once", map[string]any{"bind_dn": nil, "base_ou": nil}, []string{"bind_dn", "base_ou"}},
		{"unknown option", map[string]any{"colour": "red"}, []string{"colour"}},
		{"st2 docs' wrong cache option", map[string]any{"cache_user_groups_ttl": 60}, []string{"cache_user_groups_ttl"}},
		{"client_options", map[string]any{"client_options": map[string]any{"17": 3}}, []string{"client_options"}},
		{"ssl and tls", map[string]any{"use_ssl": true, "use_tls": true}, []string{"SSL and TLS cannot be both true."}},
		{"bad bool", map[string]any{"use_ssl": "maybe"}, []string{"use_ssl"}},
		{"bad port", map[string]any{"port": "http"}, []string{"port"}},
		{"port range", map[string]any{"port": 70000}, []string{"port"}},
		{"scope", map[string]any{"scope": "deep"}, []string{"scope", "must be one of"}},
		{"group_dns_check", map[string]any{"group_dns_check": "xor"}, []string{"group_dns_check", "xor"}},
		{"group_dns not a DN", map[string]any{"group_dns": []any{"ops"}}, []string{"group_dns", `"ops"`}},
		{"cacert missing", map[string]any{"use_ssl": true, "cacert": "/nonexistent/ca.pem"}, []string{"cacert", "Unable to find the cacert file"}},
		{"cacert not PEM", map[string]any{"use_tls": true, "cacert": notPEM}, []string{"cacert", "no PEM"}},
		{"account_pattern field", map[string]any{"account_pattern": "(uid={user})"}, []string{"account_pattern", "{user}"}},
		{"account_pattern filter", map[string]any{"account_pattern": "(uid={username}"}, []string{"account_pattern", "not a valid LDAP filter"}},
		{"group_pattern field", map[string]any{"group_pattern": "(member={dn})"}, []string{"group_pattern", "{dn}"}},
		{"network_timeout zero", map[string]any{"network_timeout": 0}, []string{"network_timeout"}},
		{"network_timeout negative", map[string]any{"network_timeout": "-1"}, []string{"network_timeout"}},
		{"cache ttl negative", map[string]any{"cache_user_groups_cache_ttl": -5}, []string{"cache_user_groups_cache_ttl"}},
		{"url as host", map[string]any{"host": "ldaps://ldap.example.org"}, []string{"host", "not URLs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Factory(with(validKwargs(), tc.kw), nil)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestFactoryKeepsPasswordOutOfErrors(t *testing.T) {
	_, err := Factory(with(validKwargs(), map[string]any{"bind_password": "s3cr3t-pw", "scope": "deep", "port": "x"}), nil)
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("error = %v", err)
	}
}
