package kerberos

import "testing"

// TestUsernameStripsOnlyOwnRealm: with strip_realm and two allowed realms,
// only the service's own realm is stripped, so admin@PARTNER never
// becomes the user admin of CORP; and the name a login is counted under
// (FoldName) is the name its token is issued to (username), for both
// the ticket and the password path.
func TestUsernameStripsOnlyOwnRealm(t *testing.T) {
	for _, strip := range []bool{true, false} {
		b := &Backend{s: settings{realm: "CORP.TEST", strip: strip, allowed: []string{"CORP.TEST", "PARTNER.TEST"}}}
		tests := []struct{ user, realm, want string }{
			{"admin", "CORP.TEST", "admin"},
			{"admin", "PARTNER.TEST", "admin@PARTNER.TEST"},
		}
		for _, tc := range tests {
			want := tc.want
			if !strip {
				want = tc.user + "@" + tc.realm
			}
			if got := b.username(tc.user, tc.realm); got != want {
				t.Errorf("strip %v: username(%q, %q) = %q, want %q", strip, tc.user, tc.realm, got, want)
			}
			if got := b.FoldName(tc.user + "@" + tc.realm); got != want {
				t.Errorf("strip %v: FoldName(%q) = %q, want %q", strip, tc.user+"@"+tc.realm, got, want)
			}
		}
		if a, p := b.username("admin", "CORP.TEST"), b.username("admin", "PARTNER.TEST"); a == p {
			t.Errorf("strip %v: admin of both realms is %q", strip, a)
		}
	}
}
