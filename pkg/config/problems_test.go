package config_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/config"
)

// problemsOf loads path with env and args and returns Validate's lines,
// with path replaced by "FILE" so that wanted lines can be written out.
func problemsOf(t *testing.T, path string, env map[string]string, args ...string) []string {
	t.Helper()
	cleanEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	fs := newFlags(t)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, fs)
	if err != nil {
		t.Fatalf("Load: %v (only an unreadable file may stop Load)", err)
	}
	err = c.Validate(knownBackends)
	if err == nil {
		return nil
	}
	if path != "" {
		return strings.Split(strings.ReplaceAll(err.Error(), path, "FILE"), "\n")
	}
	return strings.Split(err.Error(), "\n")
}

func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestEveryProblemInOneRun: type errors, rule errors and unknown keys from
// the file, the environment and the flags come out together, one a line,
// sorted by key, each with its source and in words, not strconv's.
func TestEveryProblemInOneRun(t *testing.T) {
	path := writeFile(t, "gatehouse.yaml", `auth:
  port: 70000
  mode: x
  token_ttl: abc
  token_tll: 60
  use_ssl: maybe
  admin_users: {a: 1}
throttle:
  scan_window: 0
`)
	got := problemsOf(t, path, map[string]string{"GATEHOUSE_AUTH_SERVICE_TOKEN_TTL": "xyz"}, "--api-url", "nope")
	wantLines(t, got,
		`auth.admin_users (FILE:7): must be a list (or a comma-separated string), not a mapping of keys`,
		`auth.api_url (flag --api-url): "nope" is not an absolute URL such as https://st2.example.com`,
		`auth.mode (FILE:3): Invalid auth mode "x" specified in the config. Valid modes are: proxy, standalone`,
		`auth.port (FILE:2): must be between 0 (any free port) and 65535, got 70000`,
		`auth.service_token_ttl (environment variable GATEHOUSE_AUTH_SERVICE_TOKEN_TTL): "xyz" is not a whole number of seconds`,
		`auth.token_tll (FILE:5): unknown key (did you mean auth.token_ttl?)`,
		`auth.token_ttl (FILE:4): "abc" is not a whole number of seconds`,
		`auth.use_ssl (FILE:6): "maybe" is neither true nor false (write true or false; yes/no, on/off and 1/0 work too)`,
		`throttle.scan_window (FILE:9): must be at least 1, got 0`,
	)
}

// TestUnknownKeysInBothFormats: a typo is refused in YAML and in an st2
// INI file alike, while an unchanged st2.conf's own options and sections
// pass.
func TestUnknownKeysInBothFormats(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		want                []string
	}{
		{name: "INI typo in [auth]", file: "st2.conf", content: "[auth]\nport = 9100\ntoken_tll = 60\n",
			want: []string{"auth.token_tll (FILE:3): unknown key (did you mean auth.token_ttl?)"}},
		{name: "YAML typo in auth", file: "g.yaml", content: "auth:\n  port: 9100\n  token_tll: 60\n",
			want: []string{"auth.token_tll (FILE:3): unknown key (did you mean auth.token_ttl?)"}},
		{name: "INI typo in [throttle]", file: "st2.conf", content: "[throttle]\nlogin_failure = 3\n",
			want: []string{"throttle.login_failure (FILE:2): unknown key (did you mean throttle.login_failures?)"}},
		{name: "INI key in the wrong section", file: "st2.conf", content: "[auth]\n\nlogin_failures = 3\n",
			want: []string{"auth.login_failures (FILE:3): unknown key (did you mean throttle.login_failures?)"}},
		{name: "INI unknown [gatehouse] key", file: "st2.conf", content: "[gatehouse]\ndatabase = sqlite:x.db\n",
			want: []string{"gatehouse.database (FILE:2): unknown key: [gatehouse] holds only database_url"}},
		{
			name: "st2's own [auth] options pass in INI", file: "st2.conf",
			content: "[auth]\nlogging = /etc/st2/logging.auth.conf\nsso = False\nsso_backend = noop\n" +
				"sso_backend_kwargs = {\"a\": 1}\nenable = True\ndebug = False\napi_url = https://st2.example.com/\n" +
				"service_token_ttl = 86400\nuse_ssl = False\ncert = /etc/apache2/ssl/mycert.crt\nkey = /etc/apache2/ssl/mycert.key\n",
		},
		{
			name: "st2's sections and its other [api] and [database] keys pass", file: "st2.conf",
			content: "[DEFAULT]\nx = 1\n[api]\nhost = 0.0.0.0\nport = 9101\nlogging = x\nmask_secrets = True\n" +
				"[database]\nhost = 127.0.0.1\ndb_name = st2\nusername = st2\n[rbac]\nenable = True\n[stream]\nheartbeat = 25\n",
		},
		{name: "st2's option in YAML", file: "g.yaml", content: "auth:\n  sso: false\n",
			want: []string{"auth.sso (FILE:2): st2's own option, which Gatehouse does not use: remove it (an st2.conf may keep it)"}},
		{name: "YAML section written as a value", file: "g.yaml", content: "auth: 9100\n",
			want: []string{"auth (FILE:1): must be a section with keys under it, not a single value"}},
		{name: "YAML empty section", file: "g.yaml", content: "auth:\napi: {}\n"},
		{name: "YAML anchors and merge keys", file: "g.yaml", content: "x-base: &b\n  port: 9200\nauth:\n  <<: *b\n  host: 0.0.0.0\n",
			want: []string{"x-base.port (FILE:2): unknown key (did you mean auth.port?)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantLines(t, problemsOf(t, writeFile(t, tc.file, tc.content), nil), tc.want...)
		})
	}
}

// TestProblemSources: a problem names where the winning value was set:
// the flag over the environment over the file over the default.
func TestProblemSources(t *testing.T) {
	yaml := "auth:\n  mode: standalone\n  token_ttl: 0\n"
	for _, tc := range []struct {
		name, file, content string
		env                 map[string]string
		args                []string
		want                string
	}{
		{name: "YAML line", file: "g.yaml", content: yaml, want: "auth.token_ttl (FILE:3): must be at least 1 second, got 0"},
		{name: "INI line", file: "st2.conf", content: "[api]\nhost = x\n\n[auth]\ntoken_ttl = 0\n", want: "auth.token_ttl (FILE:5): must be at least 1 second, got 0"},
		{name: "JSON line", file: "g.json", content: "{\n  \"auth\": {\n    \"token_ttl\": 0\n  }\n}\n", want: "auth.token_ttl (FILE:3): must be at least 1 second, got 0"},
		{
			name: "environment over file", file: "g.yaml", content: yaml, env: map[string]string{"GATEHOUSE_AUTH_TOKEN_TTL": "-1"},
			want: "auth.token_ttl (environment variable GATEHOUSE_AUTH_TOKEN_TTL): must be at least 1 second, got -1",
		},
		{
			name: "empty variable is not a source", file: "g.yaml", content: yaml, env: map[string]string{"GATEHOUSE_AUTH_TOKEN_TTL": ""},
			want: "auth.token_ttl (FILE:3): must be at least 1 second, got 0",
		},
		{
			name: "flag over environment", file: "g.yaml", content: yaml, env: map[string]string{"GATEHOUSE_AUTH_TOKEN_TTL": "-1"},
			args: []string{"--token-ttl", "-2"}, want: "auth.token_ttl (flag --token-ttl): must be at least 1 second, got -2",
		},
		{name: "default", file: "g.yaml", content: "auth:\n  use_ssl: true\n  key: " + writeFile(t, "k", "") + "\n",
			want: "auth.cert (default): required when auth.use_ssl is true"},
		{
			name: "[gatehouse] database_url wins over [database] url", file: "st2.conf",
			content: "[database]\nurl = sqlite:a.db\n[gatehouse]\ndatabase_url = sqlite:\n",
			want:    "database.url (FILE:4): sqlite: URL has no path (want sqlite:RELATIVE/PATH or sqlite:///ABSOLUTE/PATH)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantLines(t, problemsOf(t, writeFile(t, tc.file, tc.content), tc.env, tc.args...), tc.want)
		})
	}
}

// TestValuesInWords: each kind of bad value gets a sentence; good values
// of other spellings pass; a key whose value cannot be read is reported
// once, not again for the default that stood in.
func TestValuesInWords(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		env                 map[string]string
		want                []string
	}{
		{name: "text for a number", env: map[string]string{"GATEHOUSE_AUTH_TOKEN_TTL": "abc"},
			want: []string{`auth.token_ttl (environment variable GATEHOUSE_AUTH_TOKEN_TTL): "abc" is not a whole number of seconds`}},
		{name: "fraction", file: "g.yaml", content: "auth:\n  port: 9100.5\n",
			want: []string{"auth.port (FILE:2): 9100.5 is not a whole number"}},
		{name: "too large", env: map[string]string{"GATEHOUSE_THROTTLE_LOGIN_FAILURES": "99999999999999999999"},
			want: []string{`throttle.login_failures (environment variable GATEHOUSE_THROTTLE_LOGIN_FAILURES): "99999999999999999999" is too large`}},
		{name: "list for a single value", file: "g.yaml", content: "auth:\n  host: [a, b]\n",
			want: []string{"auth.host (FILE:2): must be a single value, not a list"}},
		{name: "mapping for a number", file: "g.yaml", content: "auth:\n  port:\n    x: 1\n",
			want: []string{"auth.port (FILE:2): must be a whole number, not a mapping of keys"}},
		{name: "number for a boolean", file: "g.yaml", content: "auth:\n  debug: 2\n",
			want: []string{"auth.debug (FILE:2): 2 is neither true nor false (write true or false; yes/no, on/off and 1/0 work too)"}},
		{name: "mapping in a list", file: "g.yaml", content: "auth:\n  admin_users: [a, {b: 1}]\n",
			want: []string{"auth.admin_users (FILE:2): entry 2 of the list must be a single value, not a mapping of keys"}},
		{name: "no second line for the default", file: "g.yaml", content: "auth:\n  use_ssl: true\n  cert: [a]\n  key: [b]\n",
			want: []string{"auth.cert (FILE:3): must be a single value, not a list", "auth.key (FILE:4): must be a single value, not a list"}},
		{name: "other spellings pass", file: "g.json", content: `{"auth": {"port": 9100, "debug": 1, "enable": "yes", "token_ttl": "60", "admin_users": "a, b"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file, tc.content)
			}
			wantLines(t, problemsOf(t, path, tc.env), tc.want...)
		})
	}
}

// TestSource: Config.Source names the layer each key's value came from.
func TestSource(t *testing.T) {
	cleanEnv(t)
	path := writeFile(t, "g.yaml", "auth:\n  port: 9200\n  backend_kwargs: {file_path: x}\n")
	t.Setenv("GATEHOUSE_AUTH_TOKEN_TTL", "60")
	fs := newFlags(t)
	if err := fs.Parse([]string{"--database-url", "sqlite:x.db"}); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, path, fs)
	for key, want := range map[string]string{
		"auth.port":           path + ":2",
		"auth.backend_kwargs": path + ":3",
		"auth.token_ttl":      "environment variable GATEHOUSE_AUTH_TOKEN_TTL",
		"database.url":        "flag --database-url",
		"auth.host":           "default",
		"auth.nosuch":         "",
	} {
		if got := c.Source(key).String(); got != want {
			t.Errorf("Source(%q) = %q, want %q", key, got, want)
		}
	}
	if got := config.Default().Source("auth.port"); got.Kind != config.SourceUnknown {
		t.Errorf("Default().Source = %+v, want unknown", got)
	}
}
