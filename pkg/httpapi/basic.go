package httpapi

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

// maxBasicLen bounds the Authorization value we decode. User names and
// passwords of a few hundred bytes are plenty; anything longer is refused
// before any work is done.
const maxBasicLen = 4096

// parseBasic reads an Authorization header the way st2auth does: the scheme
// is "Basic" in any case, separated by one space from base64(user:password),
// split on the first colon so passwords may hold colons. It refuses (ok is
// false) a missing or other scheme, bad base64, no colon, an empty user name,
// text that is not UTF-8, and user names with control characters. The
// password is returned as sent; backends refuse what they cannot check.
func parseBasic(header string) (user, password string, ok bool) {
	if header == "" || len(header) > maxBasicLen {
		return "", "", false
	}
	scheme, encoded, found := strings.Cut(header, " ")
	if !found || !asciiEqualFold(scheme, "basic") || encoded == "" {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", "", false
	}
	user, password, found = strings.Cut(string(raw), ":")
	if !found || !auth.ValidUsername(user) || !utf8.ValidString(password) {
		return "", "", false
	}
	return user, password, true
}

// asciiEqualFold compares ASCII case-insensitively, as st2 (and every HTTP
// stack) reads a scheme. strings.EqualFold would also match Unicode folds
// such as "Baſic" (U+017F), which a proxy rule keyed on "Basic" misses.
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
