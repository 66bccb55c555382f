package ldap

import (
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

func TestUserFilter(t *testing.T) {
	for _, tc := range []struct {
		pattern, username, want string
	}{
		{"uid={username}", "alice", "(uid=alice)"},
		{"  uid={username} ", "alice", "(uid=alice)"},
		{"(uid={username})", "alice", "(uid=alice)"},
		{"(&(objectClass=user)(sAMAccountName={username}))", "bob", "(&(objectClass=user)(sAMAccountName=bob))"},
		{"uid={username}", "*", `(uid=\2a)`},
		{"uid={username}", "a*", `(uid=a\2a)`},
		{"uid={username}", "*)(uid=*))(|(uid=*", `(uid=\2a\29\28uid=\2a\29\29\28|\28uid=\2a)`},
		{"uid={username}", "admin)(|(objectClass=*)", `(uid=admin\29\28|\28objectClass=\2a\29)`},
		{"uid={username}", `back\slash`, `(uid=back\5cslash)`},
		{"uid={username}", "nul\x00", `(uid=nul\00)`},
		{"uid={username}", "zoë", `(uid=zo\c3\ab)`},
		{"(cn={{literal}}{username})", "x", "(cn={literal}x)"},
	} {
		got, err := userFilter(tc.pattern, tc.username)
		if err != nil {
			t.Errorf("%q %q: %v", tc.pattern, tc.username, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%q %q = %q, want %q", tc.pattern, tc.username, got, tc.want)
		}
		if _, err := goldap.CompileFilter(got); err != nil {
			t.Errorf("%q does not compile: %v", got, err)
		}
	}
}

func TestGroupFilter(t *testing.T) {
	got, err := groupFilter(DefaultGroupPattern, `cn=Smith\, John,ou=people,dc=example,dc=org`, "j*")
	if err != nil {
		t.Fatal(err)
	}
	want := `(|(&(objectClass=*)(|(member=cn=Smith\5c, John,ou=people,dc=example,dc=org)(uniqueMember=cn=Smith\5c, John,ou=people,dc=example,dc=org)(memberUid=j\2a))))`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestFillErrors(t *testing.T) {
	for _, p := range []string{"(uid={username)", "(uid={})", "(uid=})", "(uid={0})", "(uid={username!r})"} {
		if _, err := fill(p, map[string]string{"username": "x"}); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

func TestGroupRules(t *testing.T) {
	groups := []string{
		"CN=Ops,OU=Groups,DC=example,DC=org",
		"cn=dev, ou=groups, dc=example, dc=org",
		"cn=Smith\\, John's,ou=teams,dc=example,dc=org",
		"not a DN",
	}
	for _, tc := range []struct {
		name  string
		rules []string
		check string
		want  bool
	}{
		{"full DN, other case", []string{"cn=ops,ou=groups,dc=example,dc=org"}, "and", true},
		{"full DN, spaces", []string{"cn=dev,ou=groups,dc=example,dc=org"}, "and", true},
		{"and, both", []string{"cn=ops,ou=groups,dc=example,dc=org", "cn=dev,ou=groups,dc=example,dc=org"}, "and", true},
		{"and, one missing", []string{"cn=ops,ou=groups,dc=example,dc=org", "cn=qa,ou=groups,dc=example,dc=org"}, "and", false},
		{"or, one", []string{"cn=ops,ou=groups,dc=example,dc=org", "cn=qa,ou=groups,dc=example,dc=org"}, "or", true},
		{"or, none", []string{"cn=qa,ou=groups,dc=example,dc=org"}, "or", false},
		{"bare RDN", []string{"cn=ops"}, "and", true},
		{"bare RDN, case", []string{"CN=OPS"}, "and", true},
		{"bare RDN, wrong type", []string{"ou=ops"}, "and", false},
		{"bare RDN, not first RDN", []string{"ou=groups"}, "and", false},
		{"bare RDN with escape", []string{`cn=Smith\, John's`}, "and", true},
		{"bare RDN with hex escape", []string{`cn=Smith\2C John's`}, "and", true},
		{"mixed", []string{"cn=dev", "cn=ops,ou=groups,dc=example,dc=org"}, "and", true},
		{"same RDN, other parent", []string{"cn=ops,ou=other,dc=example,dc=org"}, "or", false},
		{"prefix is not a match", []string{"cn=op"}, "or", false},
		{"longer DN is not a match", []string{"cn=x,cn=ops,ou=groups,dc=example,dc=org"}, "or", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseGroupRules(tc.rules, tc.check)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.allow(groups); got != tc.want {
				t.Errorf("allow = %v, want %v", got, tc.want)
			}
		})
	}
	r, _ := parseGroupRules([]string{"cn=ops"}, "or")
	if r.allow(nil) {
		t.Error("no groups allowed")
	}
}

func TestGroupCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newGroupCache(10*time.Second, 2)
	c.now = func() time.Time { return now }
	c.put("a", []string{"g1"})
	got, ok := c.get("a")
	if !ok || len(got) != 1 {
		t.Fatal("miss")
	}
	got[0] = "changed" // the cache keeps its own copy
	if again, _ := c.get("a"); again[0] != "g1" {
		t.Fatal("cache shares its slice")
	}
	c.put("b", nil)
	c.get("a") // a is now more recently used than b
	c.put("c", nil)
	if _, ok := c.get("b"); ok {
		t.Error("b should have been evicted (least recently used)")
	}
	if _, ok := c.get("a"); !ok {
		t.Error("a evicted")
	}
	if c.len() != 2 {
		t.Errorf("len = %d", c.len())
	}
	now = now.Add(10 * time.Second)
	if _, ok := c.get("a"); ok {
		t.Error("a did not expire")
	}
	// Expired entries make room before live ones.
	c.put("d", nil)
	now = now.Add(time.Second)
	c.put("e", nil)
	if _, ok := c.get("d"); !ok {
		t.Error("d evicted while expired entries were held")
	}
}

func TestCanonicalName(t *testing.T) {
	e := goldap.NewEntry("uid=alice,dc=x", map[string][]string{"uid": {"alice.smith", "Alice"}})
	for typed, want := range map[string]string{"ALICE": "Alice", "alice.SMITH": "alice.smith", "a*": "alice.smith"} {
		if got := canonicalName(e, "UID", typed); got != want {
			t.Errorf("%q: got %q, want %q", typed, got, want)
		}
	}
	if got := canonicalName(goldap.NewEntry("cn=x", nil), "uid", "typed"); got != "typed" {
		t.Errorf("no attribute: %q", got)
	}
}

func TestReferralTarget(t *testing.T) {
	b := &Backend{s: settings{secure: true}}
	ep, base, err := b.referralTarget("ldap://h.example.org:1389/ou=partners,dc=example,dc=org??sub")
	if err != nil || ep != (endpoint{host: "h.example.org", port: 1389, startTLS: true}) || base != "ou=partners,dc=example,dc=org" {
		t.Errorf("%+v %q %v", ep, base, err)
	}
	ep, base, err = b.referralTarget("ldaps://h.example.org")
	if err != nil || ep != (endpoint{host: "h.example.org", port: 636, ssl: true}) || base != "" {
		t.Errorf("%+v %q %v", ep, base, err)
	}
	for _, bad := range []string{"http://h/", "ldap:///dc=x", "ldap://h:99999/"} {
		if _, _, err := b.referralTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
