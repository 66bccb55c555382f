package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// This file reads st2-style INI files (st2.conf) the way oslo.config's
// iniparser does, and keeps only what Gatehouse uses:
//
//   - [auth]: the keys of Auth (host, port, backend, backend_kwargs, …).
//     st2's own [auth] options that Gatehouse does not use (st2AuthOnly:
//     logging, sso, sso_backend, sso_backend_kwargs) are ignored, so an
//     unchanged st2.conf loads; any other key is kept so that Validate
//     reports it as unknown (a typo such as token_tll must not pass).
//   - [throttle]: Gatehouse's own section; every key is checked.
//   - [api]: allow_origin only (st2api's own host/port are not Gatehouse's).
//   - [gatehouse]: Gatehouse's own section; database_url sets database.url.
//     Any other key here is kept and reported by Validate.
//   - [database]: st2 keeps MongoDB settings here (host, port, db_name,
//     username, password), which are ignored. Only a url that is a
//     sqlite: or postgres:// URL is taken, and [gatehouse] database_url
//     wins over it.
//   - every other section ([DEFAULT], [rbac], [messaging], [content],
//     [system_user], [coordination], …) is ignored without error.
//
// Syntax, following oslo.config:
//
//   - lines starting with # or ; are comments; there are no inline
//     comments ("a = b # c" has the value "b # c", as in st2);
//   - "key = value" or "key: value"; keys and section names are
//     case-insensitive here;
//   - a value wrapped in matching single or double quotes loses them;
//   - a line starting with whitespace continues the previous value (joined
//     with a newline); a blank line ends it;
//   - "$$" is a literal "$". oslo.config would substitute "$name" or
//     "${name}" with another option's value; Gatehouse leaves such a
//     reference as it is written;
//   - when a key appears twice, the last value wins.
//
// Values stay strings; Load (decode.go) turns them into booleans
// (True/False/yes/no/on/off/1/0), numbers, lists (comma-separated) and
// backend_kwargs (JSON).

// iniCodec is registered with viper for the "ini" format.
type iniCodec struct{}

// Decode implements viper.Decoder.
func (iniCodec) Decode(b []byte, v map[string]any) error {
	sections, err := parseINI(b)
	if err != nil {
		return err
	}
	m, _ := iniToConfigMap(sections)
	for k, val := range m {
		v[k] = val
	}
	return nil
}

// Encode implements viper.Encoder; Gatehouse never writes INI files.
func (iniCodec) Encode(map[string]any) ([]byte, error) {
	return nil, errors.New("config: writing INI files is not supported")
}

// iniSections maps a lower-cased section name to its keys and raw values.
type iniSections map[string]map[string]iniValue

// iniValue is one key's raw value and the line the key is written on.
type iniValue struct {
	value string
	line  int
}

// ParseINI parses an INI file with the rules used for st2.conf (above):
// the result maps each lower-cased section name to its lower-cased keys
// and their values. The gatehouse CLI reads its own settings file and
// st2's ~/.st2/config with it.
func ParseINI(b []byte) (map[string]map[string]string, error) {
	sections, err := parseINI(b)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string, len(sections))
	for name, keys := range sections {
		out[name] = make(map[string]string, len(keys))
		for k, v := range keys {
			out[name][k] = v.value
		}
	}
	return out, nil
}

// parseINI parses b with oslo.config's iniparser rules (see above).
func parseINI(b []byte) (iniSections, error) {
	out := iniSections{}
	var (
		section string
		key     string
		keyLine int
		value   []string
		lineno  int
	)
	flush := func() {
		if key != "" {
			out[section][key] = iniValue{unquoteINI(strings.Join(value, "\n")), keyLine}
		}
		key, value = "", nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lineno++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if lineno == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		switch {
		case line == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if key == "" {
				return nil, fmt.Errorf("ini line %d: unexpected continuation line", lineno)
			}
			value = append(value, strings.TrimLeft(line, " \t"))
		case line[0] == '#' || line[0] == ';':
			flush()
		case line[0] == '[':
			flush()
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return nil, fmt.Errorf("ini line %d: invalid section header %q", lineno, line)
			}
			section = strings.ToLower(strings.TrimSpace(line[1 : len(line)-1]))
			if out[section] == nil {
				out[section] = map[string]iniValue{}
			}
		default:
			flush()
			k, v, err := splitINIAssignment(line)
			if err != nil {
				return nil, fmt.Errorf("ini line %d: %w", lineno, err)
			}
			if section == "" {
				return nil, fmt.Errorf("ini line %d: %q is outside any [section]", lineno, k)
			}
			key, keyLine, value = strings.ToLower(k), lineno, []string{v}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ini: %w", err)
	}
	flush()
	return out, nil
}

// splitINIAssignment splits at the first "=" or ":", whichever comes first.
func splitINIAssignment(line string) (key, value string, err error) {
	i := strings.IndexAny(line, "=:")
	if i < 0 {
		return "", "", fmt.Errorf("expected key = value, got %q", line)
	}
	key = strings.TrimSpace(line[:i])
	if key == "" {
		return "", "", fmt.Errorf("empty key in %q", line)
	}
	return key, strings.TrimSpace(line[i+1:]), nil
}

// unquoteINI strips one pair of matching surrounding quotes and turns "$$"
// into "$".
func unquoteINI(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	return strings.ReplaceAll(v, "$$", "$")
}

// st2AuthOnly lists st2's own [auth] options that Gatehouse does not use
// (st2auth/config.py, st2common/openapi/config.py): valid in an unchanged
// st2.conf, so they are ignored there, never reported.
var st2AuthOnly = map[string]bool{"logging": true, "sso": true, "sso_backend": true, "sso_backend_kwargs": true}

// iniToConfigMap keeps the sections and keys Gatehouse reads and lays them
// out like the YAML file (auth.*, api.*, database.url), with the line each
// key is written on. Keys of [auth], [throttle] and [gatehouse] that
// Gatehouse does not know are kept, for Load to report.
func iniToConfigMap(s iniSections) (map[string]any, map[string]fileKey) {
	out, lines := map[string]any{}, map[string]fileKey{}
	put := func(section, key string, v iniValue) {
		m, _ := out[section].(map[string]any)
		if m == nil {
			m = map[string]any{}
			out[section] = m
		}
		m[key] = v.value
		lines[section+"."+key] = fileKey{line: v.line}
	}
	for k, v := range s["auth"] {
		if !st2AuthOnly[k] {
			put("auth", k, v)
		}
	}
	for k, v := range s["throttle"] {
		put("throttle", k, v)
	}
	if v, ok := s["api"]["allow_origin"]; ok {
		put("api", "allow_origin", v)
	}
	if v, ok := s["database"]["url"]; ok && (Database{URL: v.value}).Driver() != "" {
		put("database", "url", v)
	}
	for k, v := range s["gatehouse"] {
		if k == "database_url" {
			put("database", "url", v) // wins over [database] url
			continue
		}
		put("gatehouse", k, v) // unknown: reported by Load
	}
	return out, lines
}
