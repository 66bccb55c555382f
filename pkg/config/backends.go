package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// parseBackends turns the winning auth.backends value into specs: nil and
// "" give nil, a string is a JSON list (INI, environment), a list holds
// mappings with a name and optional kwargs.
func parseBackends(raw any) ([]BackendSpec, error) {
	switch val := raw.(type) {
	case nil:
		return nil, nil
	case []BackendSpec:
		return slices.Clone(val), nil
	case string:
		if strings.TrimSpace(val) == "" {
			return nil, nil
		}
		var list []any
		dec := json.NewDecoder(strings.NewReader(val))
		dec.UseNumber()
		if err := dec.Decode(&list); err != nil {
			return nil, fmt.Errorf("must be a JSON list of {\"name\": …, \"kwargs\": {…}}: %w", err)
		}
		return backendList(normalizeNumbers(list).([]any))
	case []any:
		return backendList(val)
	}
	return nil, fmt.Errorf("must be a list of {name, kwargs} or a JSON string of one, not %s", describe(raw))
}

// backendList decodes each entry of auth.backends.
func backendList(list []any) ([]BackendSpec, error) {
	out := make([]BackendSpec, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("entry %d must be a mapping with name and kwargs, not %s", i+1, describe(item))
		}
		spec, err := backendEntry(m)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		out = append(out, spec)
	}
	return out, nil
}

// backendEntry decodes one {name, kwargs} mapping; other keys are refused.
func backendEntry(m map[string]any) (BackendSpec, error) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "name" && k != "kwargs" {
			return BackendSpec{}, fmt.Errorf("unknown key %q (want name and kwargs)", k)
		}
	}
	name, ok := m["name"].(string)
	if !ok || name == "" {
		return BackendSpec{}, errors.New("name must be a backend name")
	}
	kwargs, err := parseBackendKwargs(m["kwargs"], name)
	if err != nil {
		return BackendSpec{}, fmt.Errorf("kwargs: %w", err)
	}
	return BackendSpec{Name: name, Kwargs: kwargs}, nil
}

// validateChain checks auth.backends: known names, none twice, and pam
// (which cannot tell whether it knows a user) only last among the password
// backends (oidc, a single sign-on method, checks no passwords).
func (a Auth) validateChain(p *problems, knownBackends []string) {
	seen := map[string]bool{}
	for i, s := range a.Backends {
		switch {
		case len(knownBackends) > 0 && !slices.Contains(knownBackends, s.Name):
			known := slices.Sorted(slices.Values(knownBackends))
			p.add(backendsKey, "entry %d: unknown backend %q (known: %s)", i+1, s.Name, strings.Join(known, ", "))
		case seen[s.Name]:
			p.add(backendsKey, "entry %d: backend %q is listed twice", i+1, s.Name)
		case s.Name == "pam" && slices.ContainsFunc(a.Backends[i+1:], func(b BackendSpec) bool { return b.Name != "oidc" }):
			p.add(backendsKey, "entry %d: pam cannot tell whether it knows a user name, so it must be the last", i+1)
		}
		seen[s.Name] = true
	}
	validateNames(p, "auth.break_glass_users", a.BreakGlassUsers)
}
