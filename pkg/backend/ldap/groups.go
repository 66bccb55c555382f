package ldap

import (
	"errors"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// groupRule is one entry of group_dns.
type groupRule struct {
	raw string
	dn  *goldap.DN
	// bare is true for a single RDN such as "cn=ops", which matches the
	// first RDN of any group the user is in.
	bare bool
}

// groupRules is group_dns with group_dns_check.
type groupRules struct {
	rules []groupRule
	all   bool // "and"
}

// parseGroupRules parses group_dns and group_dns_check.
func parseGroupRules(dns []string, check string) (groupRules, error) {
	var errs []error
	g := groupRules{}
	switch strings.ToLower(strings.TrimSpace(check)) {
	case "and", "":
		g.all = true
	case "or":
	default:
		errs = append(errs, fmt.Errorf("group_dns_check: Invalid value %q for group_dns_check option. Valid values are: and, or.", check))
	}
	for _, raw := range dns {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			errs = append(errs, errors.New("group_dns: an entry is empty"))
			continue
		}
		dn, err := goldap.ParseDN(raw)
		if err != nil || len(dn.RDNs) == 0 {
			errs = append(errs, fmt.Errorf("group_dns: %q is not a DN: %v", raw, err))
			continue
		}
		g.rules = append(g.rules, groupRule{raw: raw, dn: dn, bare: len(dn.RDNs) == 1})
	}
	return g, backend.OneLine(errors.Join(errs...))
}

// matches reports whether the group DN g satisfies r, ignoring case.
func (r groupRule) matches(g *goldap.DN) bool {
	if r.bare {
		return len(g.RDNs) > 0 && r.dn.RDNs[0].EqualFold(g.RDNs[0])
	}
	return r.dn.EqualFold(g)
}

// allow reports whether a user in the groups (DNs as the server returned
// them) passes: every rule matched ("and") or at least one ("or"). Group
// DNs that do not parse match nothing.
func (g groupRules) allow(groups []string) bool {
	parsed := make([]*goldap.DN, 0, len(groups))
	for _, s := range groups {
		if dn, err := goldap.ParseDN(s); err == nil {
			parsed = append(parsed, dn)
		}
	}
	if len(g.rules) == 0 {
		return false
	}
	for _, r := range g.rules {
		found := false
		for _, dn := range parsed {
			if r.matches(dn) {
				found = true
				break
			}
		}
		if found && !g.all {
			return true
		}
		if !found && g.all {
			return false
		}
	}
	return g.all
}
