package auth_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct {
		next, want string
		ok         bool
	}{
		{"", auth.DefaultNext, true},
		{"/ui/", "/ui/", true},
		{"/ui/keys?tab=1#x", "/ui/keys?tab=1#x", true},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example", true}, // a path segment, not a host
		{"//evil.example/", "", false},
		{"/\\evil.example", "", false},
		{"/ui\\..\\", "", false},
		{"https://evil.example/", "", false},
		{"evil.example", "", false},
		{"javascript:alert(1)", "", false},
		{"/\r\nSet-Cookie: x=1", "", false},
		{"/\x00", "", false},
		// The web page's own cases (pkg/ui calls SafeNext).
		{"/app/x?y=1", "/app/x?y=1", true},
		{"//evil.example", "", false},
		{"https://evil", "", false},
		{"javascript:alert()", "", false},
		{"/ok\r\nSet-Cookie:", "", false},
		{"/ok\tx", "", false},
		{"/\x7f", "", false},
	} {
		t.Run(tc.next, func(t *testing.T) {
			got, err := auth.SafeNext(tc.next)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("SafeNext(%q) = %q, %v", tc.next, got, err)
			}
			if err != nil && auth.ErrorCode(err) != auth.EINVALID {
				t.Fatalf("code %q, want EINVALID", auth.ErrorCode(err))
			}
		})
	}
}

func TestLoopbackRedirect(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"http://127.0.0.1:8400/callback", true},
		{"http://[::1]:8400/callback", true},
		{"http://127.0.0.1/callback", false}, // a port is needed: the listener has one
		{"http://localhost:8400/callback", false},
		{"https://127.0.0.1:8400/callback", false},
		{"http://127.0.0.2:8400/callback", false},
		{"http://10.0.0.1:8400/callback", false},
		{"http://evil.example:8400/callback", false},
		{"http://127.0.0.1:8400/other", false},
		{"http://127.0.0.1:8400/callback?x=1", false},
		{"http://127.0.0.1:8400/callback#x", false},
		{"http://u:p@127.0.0.1:8400/callback", false},
		{"http://127.0.0.1:0/callback", false},
		{"http://127.0.0.1:99999/callback", false},
		{"http://127.0.0.1.evil.example:8400/callback", false},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			_, err := auth.LoopbackRedirect(tc.uri)
			if (err == nil) != tc.ok {
				t.Fatalf("LoopbackRedirect(%q): %v", tc.uri, err)
			}
		})
	}
}
