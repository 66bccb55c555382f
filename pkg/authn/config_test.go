package authn_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     authn.Config
		wantErr string // empty: valid
	}{
		{"api key", authn.Config{URL: "http://127.0.0.1:9100", APIKey: "k"}, ""},
		{"token", authn.Config{URL: "https://auth.example.org/", Token: "t"}, ""},
		{"basic", authn.Config{URL: "http://127.0.0.1:9100/prefix", Username: "svc", Password: "p"}, ""},
		{"no URL", authn.Config{APIKey: "k"}, "URL is required"},
		{"no scheme", authn.Config{URL: "127.0.0.1:9100", APIKey: "k"}, "URL"},
		{"ftp", authn.Config{URL: "ftp://127.0.0.1", APIKey: "k"}, "scheme"},
		{"no host", authn.Config{URL: "http:///x", APIKey: "k"}, "no host"},
		{"query", authn.Config{URL: "http://h/?a=b", APIKey: "k"}, "query"},
		{"user info", authn.Config{URL: "http://svc:SECRET@h/", APIKey: "k"}, "credentials"},
		{"bad URL with a password", authn.Config{URL: "http://svc:SECRET@h:port/", APIKey: "k"}, "not a URL"},
		{"no credential", authn.Config{URL: "http://h"}, "credential"},
		{"two credentials", authn.Config{URL: "http://h", APIKey: "k", Token: "t"}, "only one"},
		{"key and basic", authn.Config{URL: "http://h", APIKey: "k", Username: "u", Password: "p"}, "only one"},
		{"user without password", authn.Config{URL: "http://h", Username: "u"}, "go together"},
		{"password without user", authn.Config{URL: "http://h", Password: "p"}, "go together"},
		{"colon in user", authn.Config{URL: "http://h", Username: "a:b", Password: "p"}, "colon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mw, err := authn.New(tc.cfg)
			if tc.wantErr == "" {
				if err != nil || mw == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: %v, want an error about %q", err, tc.wantErr)
			}
			noSecrets(t, "error", err.Error())
		})
	}
}

func TestContext(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ctx    func() context.Context
		wantOK bool
		want   authn.Identity
	}{
		{"empty", context.Background, false, authn.Identity{}},
		{"with identity", func() context.Context {
			return authn.NewContext(context.Background(), authn.Identity{Username: "joe", Groups: []string{"ops"},
				Credential: authn.Credential{Kind: authn.KindToken, Location: authn.InHeader, Value: joeToken}})
		}, true, authn.Identity{Username: "joe", Groups: []string{"ops"},
			Credential: authn.Credential{Kind: authn.KindToken, Location: authn.InHeader}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := authn.FromContext(tc.ctx())
			if ok != tc.wantOK || id.Username != tc.want.Username || id.Credential != tc.want.Credential ||
				len(id.Groups) != len(tc.want.Groups) {
				t.Errorf("FromContext = %+v, %v; want %+v, %v", id, ok, tc.want, tc.wantOK)
			}
		})
	}
}
