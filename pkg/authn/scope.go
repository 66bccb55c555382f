package authn

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

// The words of a scope. A scope is a space-separated list of them;
// ScopeWrite is what a credential without a scope has.
const (
	// ScopeWrite allows every method (the default).
	ScopeWrite = "write"
	// ScopeRead allows GET, HEAD and OPTIONS only.
	ScopeRead = "read"
	// ScopePathPrefix starts a path limit: "path:/hooks/a" allows only
	// request paths equal to /hooks/a or below it (/hooks/a/x, not
	// /hooks/ab). Several path limits allow any of them.
	ScopePathPrefix = "path:"
)

// Bounds of a scope, so that one stays small enough for a header.
const (
	maxScopeLen   = 1024
	maxScopePaths = 16
)

// Scope is a parsed scope: what a credential may do. The zero Scope is
// "write", every method on every path.
type Scope struct {
	// Read limits the credential to GET, HEAD and OPTIONS.
	Read bool
	// Paths, when not empty, are the only path prefixes allowed; cleaned,
	// without a trailing slash.
	Paths []string
}

// ErrScope is wrapped by every error of ParseScope.
var ErrScope = errors.New("invalid scope")

// ParseScope reads a space-separated scope. "" is "write". Unknown words,
// "read" together with "write", and path limits that are not clean
// absolute paths are refused, with a message that says which.
func ParseScope(s string) (Scope, error) {
	if len(s) > maxScopeLen {
		return Scope{}, fmt.Errorf("%w: longer than %d characters", ErrScope, maxScopeLen)
	}
	var sc Scope
	var write bool
	for _, w := range strings.Fields(s) {
		switch {
		case w == ScopeWrite:
			write = true
		case w == ScopeRead:
			sc.Read = true
		case strings.HasPrefix(w, ScopePathPrefix):
			p, err := scopePath(strings.TrimPrefix(w, ScopePathPrefix))
			if err != nil {
				return Scope{}, err
			}
			if p == "/" {
				sc.Paths = append(sc.Paths[:0], "/") // everything: marked, dropped below
			} else if !slices.Contains(sc.Paths, p) {
				sc.Paths = append(sc.Paths, p)
			}
		default:
			return Scope{}, fmt.Errorf("%w: unknown word %q (expected read, write or path:/prefix)", ErrScope, w)
		}
	}
	if write && sc.Read {
		return Scope{}, fmt.Errorf("%w: read and write together; write already allows reading", ErrScope)
	}
	if len(sc.Paths) > maxScopePaths {
		return Scope{}, fmt.Errorf("%w: more than %d paths", ErrScope, maxScopePaths)
	}
	if slices.Contains(sc.Paths, "/") {
		sc.Paths = nil // path:/ limits nothing
	}
	slices.Sort(sc.Paths)
	return sc, nil
}

// scopePath checks one path limit and returns it cleaned.
func scopePath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#%\\\"") || hasControl(p) {
		return "", fmt.Errorf("%w: path %q must be an absolute path without ?, #, %%, \\, \" or control characters", ErrScope, p)
	}
	c := path.Clean(p)
	if c != strings.TrimSuffix(p, "/") && c != p {
		return "", fmt.Errorf("%w: path %q is not clean (write %q)", ErrScope, p, c)
	}
	return c, nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// String is the canonical form: "write", "read", or the path limits
// preceded by "read" when the credential is read-only.
func (sc Scope) String() string {
	if len(sc.Paths) == 0 {
		if sc.Read {
			return ScopeRead
		}
		return ScopeWrite
	}
	var b strings.Builder
	if sc.Read {
		b.WriteString(ScopeRead)
	}
	for _, p := range sc.Paths {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ScopePathPrefix + p)
	}
	return b.String()
}

// Full reports whether sc is "write" with no path limit: everything.
func (sc Scope) Full() bool { return !sc.Read && len(sc.Paths) == 0 }

// ReadMethod reports whether method only reads: GET, HEAD or OPTIONS.
func ReadMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// Allows reports whether sc allows a request with that method to the
// request target requestURI (a path, with or without a query string, as
// it came in the request line or in X-Original-URI). The path is decoded
// and cleaned first, so /hooks/a/../b and /hooks/a%2F..%2Fb are /hooks/b;
// a path that cannot be read that way is refused by any path limit.
func (sc Scope) Allows(method, requestURI string) bool {
	if sc.Read && !ReadMethod(method) {
		return false
	}
	if len(sc.Paths) == 0 {
		return true
	}
	p, ok := CleanRequestPath(requestURI)
	if !ok {
		return false
	}
	for _, prefix := range sc.Paths {
		if underPath(p, prefix) {
			return true
		}
	}
	return false
}

// CleanRequestPath returns the path of a request target, percent-decoded
// and cleaned; ok is false for one that is not an absolute path, does not
// decode, holds a backslash or control character, or a segment that some
// servers would still read as "..", such as "..;".
func CleanRequestPath(requestURI string) (string, bool) {
	raw, _, _ := strings.Cut(requestURI, "?")
	raw, _, _ = strings.Cut(raw, "#")
	p, err := url.PathUnescape(raw)
	if err != nil || !strings.HasPrefix(p, "/") || strings.ContainsRune(p, '\\') || hasControl(p) {
		return "", false
	}
	p = path.Clean(p)
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "..") {
			return "", false
		}
	}
	return p, true
}

// underPath reports whether p is prefix or below it.
func underPath(p, prefix string) bool {
	if prefix == "/" {
		return true
	}
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// Within reports whether sc allows nothing that outer does not: a
// credential with scope outer may make one with scope sc.
func (sc Scope) Within(outer Scope) bool {
	if outer.Read && !sc.Read {
		return false
	}
	if len(outer.Paths) == 0 {
		return true
	}
	if len(sc.Paths) == 0 {
		return false
	}
	for _, p := range sc.Paths {
		if !slices.ContainsFunc(outer.Paths, func(o string) bool { return underPath(p, o) }) {
			return false
		}
	}
	return true
}
