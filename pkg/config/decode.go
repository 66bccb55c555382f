package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/viper"
)

// Values reach Load as whatever their layer gives: strings from INI files,
// environment variables and some flags; ints, bools and lists from YAML
// and defaults; float64 from JSON. Each key is decoded on its own, so one
// bad value does not hide the others, and a bad value is reported in words
// a person can act on rather than in strconv's.

// loader decodes viper's merged values key by key and collects what is
// wrong with them.
type loader struct {
	v        *viper.Viper
	ini      bool // the file is st2-style INI
	origins  map[string]Source
	problems []*FieldError
}

func (l *loader) fail(key string, src Source, err error) {
	l.problems = append(l.problems, &FieldError{Key: key, Source: src, Err: err})
}

// decode starts from Default() and sets each key to its winning value; a
// value that cannot be decoded is reported and the default stays.
func (l *loader) decode() Config {
	cfg := Default()
	rv := reflect.ValueOf(&cfg).Elem()
	for _, key := range knownKeys() {
		if key == backendKwargsKey || key == backendsKey {
			continue
		}
		raw := l.v.Get(key)
		if raw == nil {
			continue
		}
		if err := setValue(fieldByKey(rv, key), raw, units[key]); err != nil {
			l.fail(key, l.origins[key], err)
		}
	}
	// backend_kwargs is resolved by hand: viper merges a map-valued key
	// key by key across layers, so an env JSON string and a file map would
	// be mixed in random order; Get returns the one winning value.
	kwargs, err := parseBackendKwargs(l.v.Get(backendKwargsKey), cfg.Auth.Backend)
	if err != nil {
		l.fail(backendKwargsKey, l.origins[backendKwargsKey], err)
	}
	cfg.Auth.BackendKwargs = kwargs
	specs, err := parseBackends(l.v.Get(backendsKey))
	if err != nil {
		l.fail(backendsKey, l.origins[backendsKey], err)
	}
	cfg.Auth.Backends = specs
	if kwargs == nil && cfg.Auth.Backend == Default().Auth.Backend {
		cfg.Auth.BackendKwargs = defaultBackendKwargs()
	}
	return cfg
}

const (
	backendKwargsKey = "auth.backend_kwargs"
	backendsKey      = "auth.backends"
)

// units names what an integer key counts, for messages.
var units = map[string]string{
	"auth.token_ttl":          "seconds",
	"auth.service_token_ttl":  "seconds",
	"auth.token_max_lifetime": "seconds",
	"auth.shutdown_delay":     "seconds",
	"throttle.login_window":   "seconds",
	"throttle.scan_window":    "seconds",
}

// fieldByKey returns the field of the struct rv whose dotted mapstructure
// key is key. Keys come from flatten, so the field exists.
func fieldByKey(rv reflect.Value, key string) reflect.Value {
	for name := range strings.SplitSeq(key, ".") {
		rt := rv.Type()
		found := false
		for i := range rt.NumField() {
			if strings.Split(rt.Field(i).Tag.Get("mapstructure"), ",")[0] == name {
				rv, found = rv.Field(i), true
				break
			}
		}
		if !found {
			panic("config: no field for key " + key)
		}
	}
	return rv
}

// setValue decodes raw into f, a string, int, bool or []string field. On
// error f is left as it was.
func setValue(f reflect.Value, raw any, unit string) error {
	var (
		v   any
		err error
	)
	switch f.Kind() {
	case reflect.String:
		v, err = toString(raw)
	case reflect.Int:
		v, err = toInt(raw, unit)
	case reflect.Bool:
		v, err = toBool(raw)
	case reflect.Slice:
		v, err = toStrings(raw)
	default:
		panic("config: cannot decode into " + f.Type().String())
	}
	if err != nil {
		return err
	}
	f.Set(reflect.ValueOf(v))
	return nil
}

func toString(raw any) (string, error) {
	if s, ok := raw.(string); ok {
		return s, nil
	}
	if !isScalar(raw) {
		return "", fmt.Errorf("must be a single value, not %s", describe(raw))
	}
	return fmt.Sprint(raw), nil // port-like numbers written unquoted
}

func toInt(raw any, unit string) (int, error) {
	what := "a whole number"
	if unit != "" {
		what += " of " + unit
	}
	rv := reflect.ValueOf(raw)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if rv.Uint() <= math.MaxInt {
			return int(rv.Uint()), nil
		}
		return 0, fmt.Errorf("%v is too large", raw)
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int(f), nil
		}
	case reflect.String:
		n, err := strconv.Atoi(strings.TrimSpace(rv.String()))
		if err == nil {
			return n, nil
		}
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%s is too large", describe(raw))
		}
	}
	return 0, notA(raw, what)
}

// toBool accepts oslo.config's spellings of a boolean, and 0 and 1.
func toBool(raw any) (bool, error) {
	switch v := raw.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "1", "t", "true", "on", "y", "yes":
			return true, nil
		case "0", "f", "false", "off", "n", "no", "":
			return false, nil
		}
	}
	if n, err := toInt(raw, ""); err == nil && isNumber(raw) && (n == 0 || n == 1) {
		return n == 1, nil
	}
	if !isScalar(raw) {
		return false, fmt.Errorf("must be true or false, not %s", describe(raw))
	}
	return false, fmt.Errorf("%s is neither true nor false (write true or false; yes/no, on/off and 1/0 work too)", describe(raw))
}

// toStrings accepts a list, or a comma-separated string ("a, b,c"; ""
// is an empty list). A single number or boolean is a list of one.
func toStrings(raw any) ([]string, error) {
	switch v := raw.(type) {
	case string:
		out := []string{}
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
		return out, nil
	case []string:
		return slices.Clone(v), nil // nil (a default) stays nil
	case []any:
		out := make([]string, len(v))
		for i, item := range v {
			if item == nil {
				continue // "": Validate names the empty entry
			}
			if !isScalar(item) {
				return nil, fmt.Errorf("entry %d of the list must be a single value, not %s", i+1, describe(item))
			}
			out[i] = fmt.Sprint(item)
		}
		return out, nil
	}
	if isScalar(raw) {
		return []string{fmt.Sprint(raw)}, nil
	}
	return nil, fmt.Errorf("must be a list (or a comma-separated string), not %s", describe(raw))
}

// notA says that raw is not what was wanted.
func notA(raw any, what string) error {
	if isScalar(raw) {
		return fmt.Errorf("%s is not %s", describe(raw), what)
	}
	return fmt.Errorf("must be %s, not %s", what, describe(raw))
}

func isNumber(v any) bool {
	switch reflect.ValueOf(v).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func isScalar(v any) bool {
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct, reflect.Invalid:
		return false
	}
	return true
}

// describe shows a value the way the user wrote it: strings quoted,
// numbers as numbers, and "a list" or "a mapping" for the rest.
func describe(v any) string {
	switch reflect.ValueOf(v).Kind() {
	case reflect.String:
		return strconv.Quote(reflect.ValueOf(v).String())
	case reflect.Map, reflect.Struct:
		return "a mapping of keys"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Invalid:
		return "nothing"
	}
	return fmt.Sprint(v)
}
