package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix starts every environment variable Load reads:
// GATEHOUSE_<SECTION>_<KEY>, e.g. GATEHOUSE_AUTH_TOKEN_TTL,
// GATEHOUSE_DATABASE_URL.
const EnvPrefix = "GATEHOUSE"

// flagKeys maps the flags BindFlags defines to configuration keys. Every
// flag is its key's name with "-" for "_" (database.url is --database-url).
var flagKeys = []struct {
	flag, key, usage string
}{
	{"host", "auth.host", "listen address (auth.host)"},
	{"port", "auth.port", "listen port (auth.port)"},
	{"mode", "auth.mode", "standalone or proxy (auth.mode)"},
	{"backend", "auth.backend", "password backend: flat_file, local, pam, ldap or kerberos (auth.backend)"},
	{"backend-kwargs", "auth.backend_kwargs", `backend settings as JSON, e.g. '{"file_path": "data/htpasswd"}' (auth.backend_kwargs)`},
	{"token-ttl", "auth.token_ttl", "default and maximum token lifetime in seconds (auth.token_ttl)"},
	{"service-token-ttl", "auth.service_token_ttl", "service token lifetime in seconds (auth.service_token_ttl)"},
	{"api-url", "auth.api_url", "public st2api URL returned as X-API-URL (auth.api_url)"},
	{"use-ssl", "auth.use_ssl", "serve TLS with --cert and --key (auth.use_ssl)"},
	{"cert", "auth.cert", "TLS certificate file (auth.cert)"},
	{"key", "auth.key", "TLS private key file (auth.key)"},
	{"debug", "auth.debug", "debug logging (auth.debug)"},
	{"proxy-trusted-cidrs", "auth.proxy_trusted_cidrs", "proxies trusted in proxy mode, comma-separated (auth.proxy_trusted_cidrs)"},
	{"metrics-allowed-cidrs", "auth.metrics_allowed_cidrs", "client addresses that may read /metrics, comma-separated; empty: any (auth.metrics_allowed_cidrs)"},
	{"admin-users", "auth.admin_users", "administrators, comma-separated (auth.admin_users)"},
	{"service-users", "auth.service_users", "service accounts, comma-separated (auth.service_users)"},
	{"allow-origin", "auth.allow_origin", "CORS origins, comma-separated (auth.allow_origin)"},
	{"allowed-hosts", "auth.allowed_hosts", "accepted Host headers, comma-separated (auth.allowed_hosts)"},
	{"database-url", "database.url", "sqlite:PATH or postgres://… (database.url)"},
}

// BindFlags defines on fs one flag per configuration key that makes sense
// on a command line: --host, --port, --mode, --backend, --backend-kwargs,
// --token-ttl, --service-token-ttl, --api-url, --use-ssl, --cert, --key,
// --debug, --proxy-trusted-cidrs, --metrics-allowed-cidrs, --admin-users,
// --service-users, --allow-origin, --allowed-hosts and --database-url.
// Defaults shown in --help are Default()'s. It does not define --config:
// the file's path is Load's first argument. It panics, like pflag, if fs
// already has one of these flags.
func BindFlags(fs *pflag.FlagSet) {
	d := Default()
	defaults := map[string]any{}
	flatten(reflect.ValueOf(d), "", defaults)
	for _, f := range flagKeys {
		switch def := defaults[f.key].(type) {
		case string:
			fs.String(f.flag, def, f.usage)
		case int:
			fs.Int(f.flag, def, f.usage)
		case bool:
			fs.Bool(f.flag, def, f.usage)
		case []string:
			fs.StringSlice(f.flag, def, f.usage)
		default: // backend_kwargs: JSON on the command line
			fs.String(f.flag, "", f.usage)
		}
	}
}

// Load reads the configuration: Default(), then the file at path (none if
// path is ""), then GATEHOUSE_* environment variables, then the flags of
// flags that were set on the command line (flags may be nil; only the
// flags BindFlags defines are looked at, and missing ones are skipped).
//
// A file ending in .yaml or .yml is YAML, .json is JSON, .conf, .ini or
// .cfg is an st2-style INI file (see ini.go for what is read from it); any
// other file is INI when its first line that is not blank or a comment
// starts with "[", YAML otherwise.
//
// Lists (admin_users, allow_origin, …) may be written as comma-separated
// strings anywhere: GATEHOUSE_AUTH_ADMIN_USERS=admin,ops. backend_kwargs may
// be a map or st2's JSON string. Booleans accept oslo.config's spellings
// (True/False, yes/no, on/off, 1/0).
//
// Load returns an error only when the file cannot be read or parsed. A
// value of the wrong type and a key Gatehouse does not know do not stop
// it: the key keeps its default, and Config.Validate reports the problem
// together with every other one, each with where the value came from (the
// file and line, the environment variable, the flag, or the default).
// Call Validate before using the result.
func Load(path string, flags *pflag.FlagSet) (Config, error) {
	v := viper.NewWithOptions(viper.WithDecoderRegistry(codecs()))
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	setDefaults(v)
	if err := bindFlagSet(v, flags); err != nil {
		return Config{}, err
	}
	var (
		file map[string]fileKey
		ini  bool
	)
	if path != "" {
		var err error
		if file, ini, err = readFile(v, path); err != nil {
			return Config{}, err
		}
	}
	l := &loader{v: v, ini: ini, origins: origins(knownKeys(), path, file, flags)}
	cfg := l.decode()
	l.checkFileKeys(path, file)
	cfg.origins, cfg.loadProblems = l.origins, l.problems
	return cfg, nil
}

// codecs adds the INI codec to viper's built-in ones: viper 1.20 dropped
// its own INI support.
func codecs() viper.DecoderRegistry {
	r := viper.NewCodecRegistry()
	if err := r.RegisterCodec("ini", iniCodec{}); err != nil {
		panic(err) // only fails for a nil codec
	}
	return r
}

// setDefaults calls SetDefault for every key of Default(), the layer Get
// falls back to. backend_kwargs gets a nil default instead of its map:
// a map default would be merged key by key into whatever the file sets
// (handing file_path to ldap) and would hide GATEHOUSE_AUTH_BACKEND_KWARGS
// behind GATEHOUSE_AUTH_BACKEND_KWARGS_FILE_PATH.
func setDefaults(v *viper.Viper) {
	defaults := map[string]any{}
	flatten(reflect.ValueOf(Default()), "", defaults)
	defaults["auth.backend_kwargs"] = nil
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
}

// flatten walks a struct's mapstructure-tagged exported fields and stores
// every leaf under its dotted key.
func flatten(rv reflect.Value, prefix string, out map[string]any) {
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		tag := strings.Split(f.Tag.Get("mapstructure"), ",")[0]
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		if f.Type.Kind() == reflect.Struct {
			flatten(rv.Field(i), key+".", out)
			continue
		}
		out[key] = rv.Field(i).Interface()
	}
}

// structKeys returns the mapstructure names of a struct's fields.
func structKeys(s any) map[string]bool {
	m := map[string]any{}
	flatten(reflect.ValueOf(s), "", m)
	keys := make(map[string]bool, len(m))
	for k := range m {
		keys[k] = true
	}
	return keys
}

// bindFlagSet binds the flags BindFlags defines, when fs has them. viper
// takes a bound flag's value only when it was set on the command line.
func bindFlagSet(v *viper.Viper, fs *pflag.FlagSet) error {
	if fs == nil {
		return nil
	}
	for _, f := range flagKeys {
		if fl := fs.Lookup(f.flag); fl != nil {
			if err := v.BindPFlag(f.key, fl); err != nil {
				return fmt.Errorf("config: bind --%s: %w", f.flag, err)
			}
		}
	}
	return nil
}

// readFile reads path into v, picking the format as Load documents, and
// returns the keys the file sets with their lines, and whether it is INI.
func readFile(v *viper.Viper, path string) (map[string]fileKey, bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("config: %w", err)
	}
	format := fileFormat(path, b)
	v.SetConfigType(format)
	if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
		return nil, false, fmt.Errorf("config: %s: %w", path, err)
	}
	if format != "ini" {
		return yamlKeys(b), false, nil // JSON is YAML enough for lines
	}
	sections, err := parseINI(b)
	if err != nil { // ReadConfig parsed it: cannot happen
		return nil, true, fmt.Errorf("config: %s: %w", path, err)
	}
	_, keys := iniToConfigMap(sections)
	return keys, true, nil
}

func fileFormat(path string, b []byte) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return "yaml"
	case ".json":
		return "json"
	case ".conf", ".ini", ".cfg":
		return "ini"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && strings.HasSuffix(line, "]") {
			return "ini"
		}
		break
	}
	return "yaml"
}

// parseBackendKwargs turns the winning backend_kwargs value into a map:
// nil and "" give nil, a string is st2's JSON object, a map is copied.
func parseBackendKwargs(raw any, backend string) (map[string]any, error) {
	switch val := raw.(type) {
	case nil:
		return nil, nil
	case string:
		m, err := jsonObject(val)
		if err != nil {
			return nil, fmt.Errorf("failed to JSON parse backend settings for backend %q: %w", backend, err)
		}
		return m, nil
	case map[string]any:
		return maps.Clone(val), nil
	}
	return nil, fmt.Errorf("must be a mapping of the backend's options or a JSON object string, not %s", describe(raw))
}

// jsonObject parses s as a JSON object; blank gives nil.
func jsonObject(s string) (map[string]any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	if m == nil { // "null"
		return nil, nil
	}
	return normalizeNumbers(m).(map[string]any), nil
}

// normalizeNumbers turns json.Number into int when it is integral, float64
// otherwise, so backends can decode ports with mapstructure.
func normalizeNumbers(v any) any {
	switch val := v.(type) {
	case json.Number:
		if i, err := val.Int64(); err == nil {
			return int(i)
		}
		f, _ := val.Float64()
		return f
	case map[string]any:
		for k, e := range val {
			val[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range val {
			val[i] = normalizeNumbers(e)
		}
	}
	return v
}
