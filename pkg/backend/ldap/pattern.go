package ldap

import (
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// st2 builds its filters with Python's str.format: "{name}" is replaced by
// a value, "{{" and "}}" stand for literal braces. fill does the same for
// the names st2 offers (username in account_pattern; user_dn and username
// in group_pattern). Values must already be escaped with goldap.EscapeFilter.

// fill replaces the {name} fields of pattern with values[name].
func fill(pattern string, values map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '{' && i+1 < len(pattern) && pattern[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(pattern) && pattern[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(pattern[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("unmatched '{' at offset %d", i)
			}
			name := pattern[i+1 : i+end]
			v, ok := values[name]
			if !ok {
				return "", fmt.Errorf("unknown field {%s}", name)
			}
			b.WriteString(v)
			i += end
		case c == '}':
			return "", fmt.Errorf("single '}' at offset %d", i)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// filter fills pattern and wraps the result in parentheses when it has
// none: st2's default account pattern is "uid={username}", which libldap
// accepts but RFC 4515 (and go-ldap) do not.
func filter(pattern string, values map[string]string) (string, error) {
	f, err := fill(pattern, values)
	if err != nil {
		return "", err
	}
	f = strings.TrimSpace(f)
	if !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	return f, nil
}

// userFilter is the user search filter for username.
func userFilter(pattern, username string) (string, error) {
	return filter(pattern, map[string]string{"username": goldap.EscapeFilter(username)})
}

// groupFilter is the group search filter for a user.
func groupFilter(pattern, userDN, username string) (string, error) {
	return filter(pattern, map[string]string{
		"user_dn":  goldap.EscapeFilter(userDN),
		"username": goldap.EscapeFilter(username),
	})
}

// accountPattern returns the user search pattern: the configured one, or
// st2's default "{id_attr}={username}", checked like checkPattern.
func accountPattern(configured, idAttr string) (string, error) {
	p := configured
	if p == "" {
		if strings.ContainsAny(idAttr, "(){}=*\\ ") {
			return "", fmt.Errorf("id_attr: %q is not an attribute name", idAttr)
		}
		p = idAttr + "={username}"
	}
	return p, checkPattern("account_pattern", p, "username")
}

// checkPattern makes sure pattern uses only the given fields and gives a
// valid filter, so that mistakes stop the service at start.
func checkPattern(option, pattern string, fields ...string) error {
	values := map[string]string{}
	for _, f := range fields {
		values[f] = goldap.EscapeFilter("x*)(")
	}
	f, err := filter(pattern, values)
	if err != nil {
		return fmt.Errorf("%s: %q: %w", option, pattern, err)
	}
	if _, err := goldap.CompileFilter(f); err != nil {
		return fmt.Errorf("%s: %q is not a valid LDAP filter: %w", option, pattern, err)
	}
	return nil
}
