package config_test

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/gatehouse-auth/gatehouse/pkg/config"
)

var knownBackends = []string{"flat_file", "ldap", "pam"}

// cleanEnv blanks every GATEHOUSE_* variable the test process inherited;
// viper ignores empty variables, and t.Setenv restores them afterwards.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.EnvPrefix+"_") {
			t.Setenv(k, "")
		}
	}
}

// writeFile writes content to name in a fresh temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, path string, fs *pflag.FlagSet) config.Config {
	t.Helper()
	cfg, err := config.Load(path, fs)
	if err != nil {
		t.Fatalf("Load(%q): %v", path, err)
	}
	return cfg
}

func TestDefault(t *testing.T) {
	d := config.Default()
	want := config.Config{
		Auth: config.Auth{
			Host:               "127.0.0.1",
			Port:               9100,
			Mode:               "standalone",
			Backend:            "flat_file",
			BackendKwargs:      map[string]any{"file_path": "data/htpasswd"},
			TokenTTL:           86400,
			ServiceTokenTTL:    86400,
			Enable:             true,
			ProxyTrustedCIDRs:  []string{"127.0.0.1/32", "::1/128"},
			GroupHeader:        "rdn",
			ForwardAuthHeaders: "nginx",
			AdminUsers:         []string{"admin"},
			ShutdownDelay:      5,
			CacheMaxMiB:        16,
			MemoryLimitMiB:     48,
		},
		Database: config.Database{URL: "sqlite:data/gatehouse.db"},
		Throttle: config.Throttle{LoginFailures: 10, AccountFailures: 100, AddressFailures: 50, LoginWindow: 900, ScanFailures: 600, ScanWindow: 60},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Default() = %+v\nwant %+v", d, want)
	}
	if err := d.Validate(knownBackends); err != nil {
		t.Errorf("Default().Validate: %v", err)
	}
	// Fresh maps and slices each call.
	d.Auth.BackendKwargs["file_path"] = "changed"
	d.Auth.AdminUsers[0] = "changed"
	if again := config.Default(); again.Auth.BackendKwargs["file_path"] != "data/htpasswd" || again.Auth.AdminUsers[0] != "admin" {
		t.Error("Default() shares maps or slices between calls")
	}
}

func TestLoadNoFile(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct {
		name  string
		flags *pflag.FlagSet
	}{
		{"nil flags", nil},
		{"unparsed flags", newFlags(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustLoad(t, "", tc.flags)
			assertConfig(t, cfg, config.Default())
			if cfg.Throttle != config.Default().Throttle {
				t.Errorf("Throttle = %+v, want %+v", cfg.Throttle, config.Default().Throttle)
			}
		})
	}
}

func TestLoadYAML(t *testing.T) {
	cleanEnv(t)
	path := writeFile(t, "gatehouse.yaml", `
auth:
  host: 0.0.0.0
  port: 9200
  mode: proxy
  backend: ldap
  backend_kwargs:
    host: ldap.example.com
    port: 636
    group_dns: [cn=ops]
  token_ttl: 3600
  service_token_ttl: 7200
  api_url: https://st2.example.com/api/
  use_ssl: false
  enable: false
  debug: true
  proxy_trusted_cidrs: [10.0.0.0/8]
  metrics_allowed_cidrs: [10.1.0.0/16, 192.0.2.7]
  group_header: dn
  admin_users: [root, ops]
  service_users: "svc1, svc2"
  allow_origin: [https://ui.example.com]
  allowed_hosts: [auth.example.com]
api:
  allow_origin: [https://other.example.com]
database:
  url: postgres://gatehouse@127.0.0.1:5432/gatehouse
`)
	got := mustLoad(t, path, nil)
	want := config.Config{
		Auth: config.Auth{
			Host:    "0.0.0.0",
			Port:    9200,
			Mode:    "proxy",
			Backend: "ldap",
			BackendKwargs: map[string]any{
				"host": "ldap.example.com", "port": 636, "group_dns": []any{"cn=ops"},
			},
			TokenTTL:            3600,
			ServiceTokenTTL:     7200,
			APIURL:              "https://st2.example.com/api/",
			Debug:               true,
			ProxyTrustedCIDRs:   []string{"10.0.0.0/8"},
			MetricsAllowedCIDRs: []string{"10.1.0.0/16", "192.0.2.7"},
			GroupHeader:         "dn",
			ForwardAuthHeaders:  "nginx",
			AdminUsers:          []string{"root", "ops"},
			ServiceUsers:        []string{"svc1", "svc2"},
			AllowOrigin:         []string{"https://ui.example.com"},
			AllowedHosts:        []string{"auth.example.com"},
			ShutdownDelay:       5,
			CacheMaxMiB:         16,
			MemoryLimitMiB:      48,
		},
		API:      config.API{AllowOrigin: []string{"https://other.example.com"}},
		Database: config.Database{URL: "postgres://gatehouse@127.0.0.1:5432/gatehouse"},
	}
	assertConfig(t, got, want)
	if err := got.Validate(knownBackends); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// assertConfig compares the exported parts of two configurations.
func assertConfig(t *testing.T, got, want config.Config) {
	t.Helper()
	if !reflect.DeepEqual(got.Auth, want.Auth) {
		t.Errorf("Auth =\n  %+v\nwant\n  %+v", got.Auth, want.Auth)
	}
	if !reflect.DeepEqual(got.API, want.API) {
		t.Errorf("API = %+v, want %+v", got.API, want.API)
	}
	if got.Database != want.Database {
		t.Errorf("Database = %+v, want %+v", got.Database, want.Database)
	}
}

func TestLoadST2Conf(t *testing.T) {
	const st2conf = "../../configs/st2.conf"
	for _, tc := range []struct {
		name   string
		env    map[string]string
		wantDB string
	}{
		{"database default", nil, "sqlite:data/gatehouse.db"},
		{"database from env", map[string]string{"GATEHOUSE_DATABASE_URL": "postgres://gh@127.0.0.1:5432/gh"}, "postgres://gh@127.0.0.1:5432/gh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got := mustLoad(t, st2conf, nil)
			want := config.Default()
			want.Auth.BackendKwargs = map[string]any{"file_path": "/etc/st2/htpasswd"}
			want.Auth.TokenTTL = 43200
			want.Auth.APIURL = "https://st2.example.com/api/"
			want.API.AllowOrigin = []string{"https://st2.example.com", "http://st2-dev.example.com:3000"}
			want.Database.URL = tc.wantDB
			assertConfig(t, got, want)
			if err := got.Validate(knownBackends); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestLoadExamples(t *testing.T) {
	cleanEnv(t)
	for _, name := range []string{"gatehouse.example.yaml", "gatehouse.example.ini"} {
		t.Run(name, func(t *testing.T) {
			got := mustLoad(t, filepath.Join("../../configs", name), nil)
			want := config.Default()
			want.Auth.ServiceUsers = []string{}
			want.Auth.AllowOrigin = []string{}
			want.Auth.AllowedHosts = []string{}
			want.Auth.MetricsAllowedCIDRs = []string{}
			want.API.AllowOrigin = []string{}
			if strings.HasSuffix(name, ".ini") {
				want.Auth.Cert = "/etc/gatehouse/tls/gatehouse.crt"
				want.Auth.Key = "/etc/gatehouse/tls/gatehouse.key"
			}
			assertConfig(t, got, want)
			if err := got.Validate(knownBackends); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestLoadINI(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  string // file name; the extension picks the format
		ini   string
		check func(t *testing.T, c config.Config)
	}{
		{
			name: "gatehouse section database_url",
			file: "st2.conf",
			ini:  "[gatehouse]\ndatabase_url = postgres://gh@db:5432/gh\n",
			check: func(t *testing.T, c config.Config) {
				wantString(t, "database.url", c.Database.URL, "postgres://gh@db:5432/gh")
			},
		},
		{
			name: "database section sqlite url",
			file: "st2.conf",
			ini:  "[database]\nurl = sqlite:///var/lib/gatehouse/gh.db\n",
			check: func(t *testing.T, c config.Config) {
				wantString(t, "database.url", c.Database.URL, "sqlite:///var/lib/gatehouse/gh.db")
			},
		},
		{
			name: "database section mongo keys ignored",
			file: "st2.conf",
			ini:  "[database]\nhost = mongo.example.com\nport = 27017\ndb_name = st2\nurl = mongodb://mongo.example.com:27017/st2\n",
			check: func(t *testing.T, c config.Config) {
				wantString(t, "database.url", c.Database.URL, config.DefaultDatabaseURL)
				wantString(t, "auth.host", c.Auth.Host, "127.0.0.1")
				wantInt(t, "auth.port", c.Auth.Port, 9100)
			},
		},
		{
			name: "gatehouse section wins over database section",
			file: "st2.conf",
			ini:  "[gatehouse]\ndatabase_url = sqlite:a.db\n[database]\nurl = sqlite:b.db\n",
			check: func(t *testing.T, c config.Config) {
				wantString(t, "database.url", c.Database.URL, "sqlite:a.db")
			},
		},
		{
			name: "api host and port are not auth's",
			file: "st2.ini",
			ini:  "[api]\nhost = 0.0.0.0\nport = 9101\nallow_origin = http://a:3000, http://b:3000\n",
			check: func(t *testing.T, c config.Config) {
				wantString(t, "auth.host", c.Auth.Host, "127.0.0.1")
				wantInt(t, "auth.port", c.Auth.Port, 9100)
				wantStrings(t, "api.allow_origin", c.API.AllowOrigin, []string{"http://a:3000", "http://b:3000"})
			},
		},
		{
			name: "dollar escapes",
			file: "st2.conf",
			ini:  "[auth]\nbackend = ldap\nbackend_kwargs = {\"bind_password\": \"pa$$word\", \"base_ou\": \"$base\"}\napi_url = http://h/$$x\n",
			check: func(t *testing.T, c config.Config) {
				wantString(t, "bind_password", c.Auth.BackendKwargs["bind_password"].(string), "pa$word")
				wantString(t, "base_ou", c.Auth.BackendKwargs["base_ou"].(string), "$base")
				wantString(t, "auth.api_url", c.Auth.APIURL, "http://h/$x")
			},
		},
		{
			name: "booleans",
			file: "st2.conf",
			ini:  "[auth]\nuse_ssl = yes\nenable = False\ndebug = 1\n",
			check: func(t *testing.T, c config.Config) {
				if !c.Auth.UseSSL || c.Auth.Enable || !c.Auth.Debug {
					t.Errorf("use_ssl, enable, debug = %v, %v, %v; want true, false, true", c.Auth.UseSSL, c.Auth.Enable, c.Auth.Debug)
				}
			},
		},
		{
			name: "lists, quotes, comments, colon",
			file: "st2.conf",
			ini: "# comment\n; another\n[auth]\nadmin_users = admin, ops ,\n" +
				"service_users: svc\nhost = \"0.0.0.0\"\nmode = 'proxy'\nallowed_hosts =\n",
			check: func(t *testing.T, c config.Config) {
				wantStrings(t, "auth.admin_users", c.Auth.AdminUsers, []string{"admin", "ops"})
				wantStrings(t, "auth.service_users", c.Auth.ServiceUsers, []string{"svc"})
				wantStrings(t, "auth.allowed_hosts", c.Auth.AllowedHosts, []string{})
				wantString(t, "auth.host", c.Auth.Host, "0.0.0.0")
				wantString(t, "auth.mode", c.Auth.Mode, "proxy")
			},
		},
		{
			name: "metrics_allowed_cidrs and group_header",
			file: "st2.conf",
			ini:  "[auth]\nmetrics_allowed_cidrs = 10.1.0.0/16, 192.0.2.7\ngroup_header = dn\n",
			check: func(t *testing.T, c config.Config) {
				wantStrings(t, "auth.metrics_allowed_cidrs", c.Auth.MetricsAllowedCIDRs, []string{"10.1.0.0/16", "192.0.2.7"})
				wantString(t, "auth.group_header", c.Auth.GroupHeader, "dn")
			},
		},
		{
			name: "no inline comments, as in oslo.config",
			file: "st2.conf",
			ini:  "[auth]\nbackend = flat_file # not a comment\n",
			check: func(t *testing.T, c config.Config) {
				wantString(t, "auth.backend", c.Auth.Backend, "flat_file # not a comment")
			},
		},
		{
			name: "continuation lines",
			file: "st2.conf",
			ini:  "[auth]\nbackend = ldap\nbackend_kwargs = {\"host\": \"ldap\",\n    \"port\": 389}\n\ntoken_ttl = 60\n",
			check: func(t *testing.T, c config.Config) {
				if !reflect.DeepEqual(c.Auth.BackendKwargs, map[string]any{"host": "ldap", "port": 389}) {
					t.Errorf("backend_kwargs = %#v", c.Auth.BackendKwargs)
				}
				wantInt(t, "auth.token_ttl", c.Auth.TokenTTL, 60)
			},
		},
		{
			name: "st2 keys gatehouse ignores",
			file: "st2.conf",
			ini: "[DEFAULT]\nfoo = bar\n[auth]\nlogging = /etc/st2/logging.auth.conf\nsso = True\nsso_backend = saml2\n" +
				"[rbac]\nenable = True\n[system_user]\nuser = stanley\n[messaging]\nurl = amqp://x\n",
			check: func(t *testing.T, c config.Config) {
				if err := c.Validate(knownBackends); err != nil {
					t.Errorf("Validate: %v", err)
				}
			},
		},
		{
			name: "INI sniffed without extension",
			file: "gatehouse",
			ini:  "\n# st2 style\n[auth]\nport = 9300\n",
			check: func(t *testing.T, c config.Config) {
				wantInt(t, "auth.port", c.Auth.Port, 9300)
			},
		},
		{
			name: "unknown gatehouse key reported",
			file: "st2.conf",
			ini:  "[gatehouse]\ndatabse_url = sqlite:x.db\n",
			check: func(t *testing.T, c config.Config) {
				err := c.Validate(knownBackends)
				wantProblems(t, err, "gatehouse.databse_url (")
				if err == nil || !strings.HasSuffix(err.Error(), "st2.conf:2): unknown key: [gatehouse] holds only database_url") {
					t.Errorf("Validate: %v", err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			tc.check(t, mustLoad(t, writeFile(t, tc.file, tc.ini), nil))
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, content, want string
	}{
		{"missing file", "", "", "no such file or directory"},
		{"INI key outside section", "st2.conf", "port = 1\n", `"port" is outside any [section]`},
		{"INI bad section header", "st2.conf", "[auth\n", "invalid section header"},
		{"INI unexpected continuation", "st2.conf", "[auth]\n  port = 1\n", "unexpected continuation"},
		{"INI no assignment", "st2.conf", "[auth]\nport\n", "expected key = value"},
		{"YAML syntax", "g.yaml", "auth: [\n", "g.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			path := filepath.Join(t.TempDir(), "missing.yaml")
			if tc.file != "" {
				path = writeFile(t, tc.file, tc.content)
			}
			_, err := config.Load(path, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func newFlags(t *testing.T) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	config.BindFlags(fs)
	return fs
}

func TestBindFlags(t *testing.T) {
	fs := newFlags(t)
	want := []string{
		"admin-users", "allow-origin", "allowed-hosts", "api-url", "backend", "backend-kwargs",
		"cert", "database-url", "debug", "host", "key", "metrics-allowed-cidrs", "mode", "port", "proxy-trusted-cidrs",
		"service-token-ttl", "service-users", "token-ttl", "use-ssl",
	}
	var got []string
	fs.VisitAll(func(f *pflag.Flag) { got = append(got, f.Name) })
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("flags = %v\nwant %v", got, want)
	}
	if def := fs.Lookup("port").DefValue; def != "9100" {
		t.Errorf("--port default = %q, want 9100", def)
	}
}

func TestPrecedence(t *testing.T) {
	const file = "auth:\n  token_ttl: 100\n  admin_users: [file]\n  port: 9001\ndatabase:\n  url: sqlite:file.db\n"
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantTTL int
		admins  []string
		port    int
		db      string
	}{
		{"file only", nil, nil, 100, []string{"file"}, 9001, "sqlite:file.db"},
		{
			"env overrides file",
			map[string]string{"GATEHOUSE_AUTH_TOKEN_TTL": "200", "GATEHOUSE_AUTH_ADMIN_USERS": "admin, ops", "GATEHOUSE_DATABASE_URL": "sqlite:env.db"},
			nil, 200, []string{"admin", "ops"}, 9001, "sqlite:env.db",
		},
		{
			"flag overrides env",
			map[string]string{"GATEHOUSE_AUTH_TOKEN_TTL": "200", "GATEHOUSE_AUTH_PORT": "9002", "GATEHOUSE_DATABASE_URL": "sqlite:env.db"},
			[]string{"--token-ttl", "300", "--admin-users", "a,b", "--database-url", "sqlite:flag.db"},
			300, []string{"a", "b"}, 9002, "sqlite:flag.db",
		},
		{"flag without env", nil, []string{"--port=9003"}, 100, []string{"file"}, 9003, "sqlite:file.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			fs := newFlags(t)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			c := mustLoad(t, writeFile(t, "g.yaml", file), fs)
			wantInt(t, "auth.token_ttl", c.Auth.TokenTTL, tc.wantTTL)
			wantInt(t, "auth.port", c.Auth.Port, tc.port)
			wantStrings(t, "auth.admin_users", c.Auth.AdminUsers, tc.admins)
			wantString(t, "database.url", c.Database.URL, tc.db)
		})
	}
}

func TestEnvWithoutFile(t *testing.T) {
	cleanEnv(t)
	t.Setenv("GATEHOUSE_AUTH_BACKEND", "pam")
	t.Setenv("GATEHOUSE_AUTH_USE_SSL", "yes")
	t.Setenv("GATEHOUSE_AUTH_PROXY_TRUSTED_CIDRS", "10.0.0.0/8,192.168.0.1")
	t.Setenv("GATEHOUSE_AUTH_METRICS_ALLOWED_CIDRS", "10.1.0.0/16, ::1")
	t.Setenv("GATEHOUSE_AUTH_GROUP_HEADER", "dn")
	t.Setenv("GATEHOUSE_API_ALLOW_ORIGIN", "http://a.example")
	c := mustLoad(t, "", nil)
	wantString(t, "auth.backend", c.Auth.Backend, "pam")
	if !c.Auth.UseSSL {
		t.Error("auth.use_ssl = false, want true")
	}
	wantStrings(t, "auth.proxy_trusted_cidrs", c.Auth.ProxyTrustedCIDRs, []string{"10.0.0.0/8", "192.168.0.1"})
	wantStrings(t, "auth.metrics_allowed_cidrs", c.Auth.MetricsAllowedCIDRs, []string{"10.1.0.0/16", "::1"})
	wantString(t, "auth.group_header", c.Auth.GroupHeader, "dn")
	wantStrings(t, "api.allow_origin", c.API.AllowOrigin, []string{"http://a.example"})
	if c.Auth.BackendKwargs != nil {
		t.Errorf("backend_kwargs for pam = %v, want nil (flat_file's default must not leak)", c.Auth.BackendKwargs)
	}
}

func TestBackendKwargs(t *testing.T) {
	ldapWant := map[string]any{"host": "ldap.example.com", "port": 389, "use_tls": true}
	const ldapJSON = `{"host": "ldap.example.com", "port": 389, "use_tls": true}`
	for _, tc := range []struct {
		name    string
		file    string
		content string
		env     string // GATEHOUSE_AUTH_BACKEND_KWARGS
		args    []string
		want    map[string]any
		wantErr string
	}{
		{name: "YAML map", file: "g.yaml", content: "auth:\n  backend: ldap\n  backend_kwargs:\n    host: ldap.example.com\n    port: 389\n    use_tls: true\n", want: ldapWant},
		{name: "YAML JSON string", file: "g.yaml", content: "auth:\n  backend: ldap\n  backend_kwargs: '" + ldapJSON + "'\n", want: ldapWant},
		{name: "INI JSON", file: "st2.conf", content: "[auth]\nbackend = ldap\nbackend_kwargs = " + ldapJSON + "\n", want: ldapWant},
		{name: "env JSON", content: "", env: ldapJSON, want: ldapWant},
		{
			name: "env JSON overrides YAML map", file: "g.yaml",
			content: "auth:\n  backend: ldap\n  backend_kwargs:\n    host: file.example.com\n    bind_dn: cn=x\n",
			env:     ldapJSON, want: ldapWant,
		},
		{name: "flag JSON overrides env", env: `{"file_path": "env"}`, args: []string{"--backend-kwargs", `{"file_path": "flag"}`}, want: map[string]any{"file_path": "flag"}},
		{name: "flat_file without kwargs gets default", file: "g.yaml", content: "auth:\n  backend: flat_file\n", want: map[string]any{"file_path": "data/htpasswd"}},
		{name: "ldap without kwargs gets none", file: "g.yaml", content: "auth:\n  backend: ldap\n", want: nil},
		{name: "empty INI value", file: "st2.conf", content: "[auth]\nbackend = pam\nbackend_kwargs =\n", want: nil},
		{
			name: "bad JSON in INI", file: "st2.conf", content: "[auth]\nbackend = ldap\nbackend_kwargs = {host: ldap}\n",
			wantErr: `st2.conf:3): failed to JSON parse backend settings for backend "ldap": `,
		},
		{
			name: "bad JSON in YAML", file: "g.yaml", content: "auth:\n  backend_kwargs: '{\"file_path\": '\n",
			wantErr: `g.yaml:2): failed to JSON parse backend settings for backend "flat_file": `,
		},
		{
			name: "bad JSON in env", env: `["not", "an", "object"]`,
			wantErr: `(environment variable GATEHOUSE_AUTH_BACKEND_KWARGS): failed to JSON parse backend settings for backend "flat_file": `,
		},
		{
			name: "bad JSON in a flag", args: []string{"--backend-kwargs", "{"},
			wantErr: `(flag --backend-kwargs): failed to JSON parse backend settings for backend "flat_file": `,
		},
		{
			name: "a list", file: "g.yaml", content: "auth:\n  backend_kwargs: [a]\n",
			wantErr: `g.yaml:2): must be a mapping of the backend's options or a JSON object string, not a list`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			if tc.env != "" {
				t.Setenv("GATEHOUSE_AUTH_BACKEND_KWARGS", tc.env)
			}
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file, tc.content)
			}
			fs := newFlags(t)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			c, err := config.Load(path, fs)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				// One problem, the key first, then its source.
				err := c.Validate(knownBackends)
				if err == nil || strings.Count(err.Error(), "\n") != 0 ||
					!strings.HasPrefix(err.Error(), "auth.backend_kwargs (") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Validate = %v, want the one problem %q", err, tc.wantErr)
				}
				return
			}
			if !reflect.DeepEqual(c.Auth.BackendKwargs, tc.want) {
				t.Errorf("backend_kwargs = %#v, want %#v", c.Auth.BackendKwargs, tc.want)
			}
		})
	}
}

func TestEffectiveAPIURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "http://127.0.0.1:9101"},
		{"  ", "http://127.0.0.1:9101"},
		{"https://st2.example.com/api/", "https://st2.example.com/api"},
		{"http://h:9101", "http://h:9101"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			wantString(t, "EffectiveAPIURL", config.Auth{APIURL: tc.in}.EffectiveAPIURL(), tc.want)
		})
	}
}

func TestAllowedOrigins(t *testing.T) {
	defaults := []string{"http://127.0.0.1:3000", "http://localhost:8080", "http://127.0.0.1:8080"}
	for _, tc := range []struct {
		name string
		cfg  config.Config
		want []string
	}{
		{"defaults only", config.Config{}, defaults},
		{
			"merged, deduplicated, api_url last",
			config.Config{
				Auth: config.Auth{AllowOrigin: []string{"https://a.example/", "http://localhost:8080"}, APIURL: "https://st2.example.com/"},
				API:  config.API{AllowOrigin: []string{"https://b.example", "https://a.example"}},
			},
			append(append([]string{"https://a.example", "http://localhost:8080", "https://b.example"}, defaults[0], defaults[2]), "https://st2.example.com"),
		},
		{"wildcard kept", config.Config{API: config.API{AllowOrigin: []string{"*"}}}, append([]string{"*"}, defaults...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStrings(t, "AllowedOrigins", tc.cfg.AllowedOrigins(), tc.want)
		})
	}
}

func TestTrustedProxies(t *testing.T) {
	got, err := config.Auth{ProxyTrustedCIDRs: []string{"127.0.0.1/32", "::1/128", "10.1.2.3/8", "192.168.1.1", "::ffff:10.0.0.1"}}.TrustedProxies()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32"),
		netip.MustParsePrefix("10.0.0.1/32"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("TrustedProxies = %v, want %v", got, want)
	}
	if _, err := (config.Auth{ProxyTrustedCIDRs: []string{"10.0.0.0/33"}}).TrustedProxies(); err == nil {
		t.Error("TrustedProxies(10.0.0.0/33): no error")
	}
}

func TestMetricsAllowed(t *testing.T) {
	got, err := config.Auth{MetricsAllowedCIDRs: []string{"10.1.2.3/8", "192.0.2.7", "::ffff:10.0.0.1"}}.MetricsAllowed()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("10.0.0.1/32"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("MetricsAllowed = %v, want %v", got, want)
	}
	if got, err := (config.Auth{}).MetricsAllowed(); err != nil || len(got) != 0 {
		t.Errorf("MetricsAllowed of nothing = %v, %v; want empty (anyone)", got, err)
	}
	if _, err := (config.Auth{MetricsAllowedCIDRs: []string{"10.0.0.0/33"}}).MetricsAllowed(); err == nil {
		t.Error("MetricsAllowed(10.0.0.0/33): no error")
	}
}

func TestDriver(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"sqlite:data/gatehouse.db", "sqlite"},
		{"sqlite:///var/lib/gh.db", "sqlite"},
		{"postgres://u@h:5432/db", "postgres"},
		{"postgresql://u@h/db", "postgres"},
		{"mysql://u@h/db", ""},
		{"", ""},
	} {
		t.Run(tc.url, func(t *testing.T) {
			wantString(t, "Driver", config.Database{URL: tc.url}.Driver(), tc.want)
		})
	}
}

func TestValidationErrorUnwrap(t *testing.T) {
	c := config.Default()
	c.Auth.UseSSL = true
	c.Auth.Cert = filepath.Join(t.TempDir(), "missing.crt")
	c.Auth.Key = c.Auth.Cert
	err := c.Validate(knownBackends)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
	}
	var verr *config.ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 2 {
		t.Fatalf("want a *ValidationError with 2 problems, got %#v", err)
	}
}

func wantString(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func wantInt(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) || (got == nil) != (want == nil) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestThrottleFromEnvAndValidation(t *testing.T) {
	t.Setenv("GATEHOUSE_THROTTLE_LOGIN_FAILURES", "3")
	t.Setenv("GATEHOUSE_THROTTLE_SCAN_WINDOW", "0")
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Throttle.LoginFailures != 3 || cfg.Throttle.AddressFailures != 50 {
		t.Fatalf("throttle %+v", cfg.Throttle)
	}
	err = cfg.Validate(nil)
	if err == nil || !strings.Contains(err.Error(), "throttle.scan_window") {
		t.Fatalf("scan_window 0 accepted: %v", err)
	}
}
