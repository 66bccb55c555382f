package htpasswd

import (
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// ParseLine parses one line of an htpasswd file the way st2's flat_file
// backend does. The line is trimmed of surrounding white space; blank lines,
// comments (starting with '#') and lines without ':' give ok == false. The
// rest is split at the first ':' into user and hash, so a hash may contain
// ':' but a user name cannot. A line with an empty user name is also
// skipped: no request can name that user.
func ParseLine(line string) (user, hash string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", false
	}
	user, hash, ok = strings.Cut(line, ":")
	if !ok || user == "" {
		return "", "", false
	}
	return user, hash, true
}

// table is the parsed content of one version of the file. It is never
// modified after parseTable returns, so readers need no lock.
type table struct {
	users    map[string]storedHash
	dummy    []byte // bcrypt hash of the file's usual cost, for unknown users
	unusable []int  // line numbers of entries that can never match
}

// parseTable parses a whole file. A later line for the same user replaces an
// earlier one.
func parseTable(content string) *table {
	t := &table{users: map[string]storedHash{}}
	n := 0
	for line := range strings.Lines(content) {
		n++
		user, h, ok := ParseLine(line)
		if !ok {
			continue
		}
		parsed := parseHash(h)
		if parsed.scheme == schemeUnusable {
			t.unusable = append(t.unusable, n)
		}
		t.users[user] = parsed
	}
	t.dummy = dummyBcrypt(dummyCost(t.users))
	return t
}

// dummyCost picks the bcrypt cost of the unknown-user check: the most common
// cost among the file's bcrypt entries (the higher on a tie), so an unknown
// user costs what a typical real user costs. Files without bcrypt entries
// get defaultDummyCost.
func dummyCost(users map[string]storedHash) int {
	counts := map[int]int{}
	best := 0
	for _, h := range users {
		if h.scheme != schemeBcrypt {
			continue
		}
		counts[h.cost]++
		if c := counts[h.cost]; c > counts[best] || c == counts[best] && h.cost > best {
			best = h.cost
		}
	}
	if best == 0 {
		return defaultDummyCost
	}
	return best
}

// probe checks password against user's entry. An unknown user costs one
// bcrypt comparison against the dummy hash and is Unknown; a user whose
// entry can never match costs the same and is Refused, since the name is
// the file's; an empty password is refused after the same work a wrong one
// takes. Either way the caller cannot tell the cases apart by timing.
func (t *table) probe(user, password string) backend.Verdict {
	h, found := t.users[user]
	switch {
	case !found:
		t.spend(password)
		return backend.Unknown
	case h.scheme == schemeUnusable:
		t.spend(password)
		return backend.Refused
	case h.verify(password) && password != "":
		return backend.Accepted
	}
	return backend.Refused
}

// spend does the dummy comparison an unknown user costs.
func (t *table) spend(password string) {
	_ = bcrypt.CompareHashAndPassword(t.dummy, []byte(password))
}
