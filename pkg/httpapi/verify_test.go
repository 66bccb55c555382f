package httpapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
)

// groupsBackend gives every user it authenticates the same groups.
type groupsBackend struct {
	backend.Backend
	groups []string
}

func (g groupsBackend) Authenticate(ctx context.Context, user, password string) (backend.Identity, error) {
	id, err := g.Backend.Authenticate(ctx, user, password)
	id.Groups = g.groups
	return id, err
}

// TestVerifyGroupHeader: auth.group_header rdn (the default) sends each
// group DN's first RDN value, comma-separated, so cn=admins in two
// subtrees both read "admins" (issue 10, item 11); dn sends the full DNs
// separated by ";", with a ";" inside a DN written as \3B, so that
// splitting the header on ";" is always right.
func TestVerifyGroupHeader(t *testing.T) {
	groups := []string{
		"cn=admins,ou=sandbox,dc=example,dc=org",
		"cn=admins,ou=groups,dc=example,dc=org",
		`cn=a\;b,ou=groups,dc=example,dc=org`,
		"cn=c;d,ou=groups,dc=example,dc=org",
		"plain",
	}
	tests := []struct {
		name, setting string
		header        string
		body          []string
	}{
		{"default", "", "admins,admins,a;b,c;d,plain", []string{"admins", "admins", "a;b", "c;d", "plain"}},
		{"rdn", httpapi.GroupHeaderRDN, "admins,admins,a;b,c;d,plain", []string{"admins", "admins", "a;b", "c;d", "plain"}},
		{"dn", httpapi.GroupHeaderDN,
			`cn=admins,ou=sandbox,dc=example,dc=org;cn=admins,ou=groups,dc=example,dc=org;` +
				`cn=a\3Bb,ou=groups,dc=example,dc=org;cn=c\3Bd,ou=groups,dc=example,dc=org;plain`,
			groups},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withConfig(func(c *httpapi.Config) { c.GroupHeader = tt.setting }), func(h *harness) {
				h.wrapBackend = func(b backend.Backend) backend.Backend { return groupsBackend{b, groups} }
			})
			r := h.do(req{method: "GET", path: "/auth/v1/verify", header: asToken(h.tokenFor("joe"))})
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if got := r.header.Get("X-Auth-Groups"); got != tt.header {
				t.Errorf("X-Auth-Groups = %q\nwant %q", got, tt.header)
			}
			var body []string
			for _, g := range r.json(t)["groups"].([]any) {
				body = append(body, g.(string))
			}
			if !slices.Equal(body, tt.body) {
				t.Errorf("body groups = %q, want %q", body, tt.body)
			}
			if tt.setting == httpapi.GroupHeaderDN && len(strings.Split(r.header.Get("X-Auth-Groups"), ";")) != len(groups) {
				t.Errorf("splitting on ';' does not give %d groups", len(groups))
			}
		})
	}
}
