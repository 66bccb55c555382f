package authn_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: "write"},
		{in: "write", want: "write"},
		{in: " read ", want: "read"},
		{in: "path:/hooks/a", want: "path:/hooks/a"},
		{in: "write path:/hooks/a/", want: "path:/hooks/a"},
		{in: "path:/b read path:/a path:/a", want: "read path:/a path:/b"},
		{in: "path:/ read", want: "read"},
		{in: "read write", bad: true},
		{in: "admin", bad: true},
		{in: "path:hooks", bad: true},
		{in: "path:/hooks/../admin", bad: true},
		{in: "path:/hooks//a", bad: true},
		{in: "path:/hooks/%2e%2e", bad: true},
		{in: "path:/a?x=1", bad: true},
		{in: "READ", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			sc, err := authn.ParseScope(tc.in)
			if tc.bad {
				if !errors.Is(err, authn.ErrScope) {
					t.Fatalf("ParseScope(%q) = %v, %v; want ErrScope", tc.in, sc, err)
				}
				return
			}
			if err != nil || sc.String() != tc.want {
				t.Fatalf("ParseScope(%q) = %q, %v; want %q", tc.in, sc, err, tc.want)
			}
		})
	}
}

func TestScopeAllows(t *testing.T) {
	for _, tc := range []struct {
		scope, method, uri string
		want               bool
	}{
		{"write", "POST", "/anything", true},
		{"read", "GET", "/x", true},
		{"read", "HEAD", "/x", true},
		{"read", "OPTIONS", "/x", true},
		{"read", "POST", "/x", false},
		{"read", "DELETE", "/x", false},
		{"read", "get", "/x", false}, // methods are case-sensitive
		{"path:/hooks/a", "POST", "/hooks/a", true},
		{"path:/hooks/a", "POST", "/hooks/a/x?st2-api-key=k", true},
		{"path:/hooks/a", "POST", "/hooks/ab", false},
		{"path:/hooks/a", "POST", "/hooks/b", false},
		{"path:/hooks/a", "POST", "/hooks/a/../b", false},
		{"path:/hooks/a", "POST", "/hooks/a/%2e%2e/b", false},
		{"path:/hooks/a", "POST", "/hooks/a%2F..%2Fb", false},
		{"path:/hooks/a", "POST", "/hooks/a/..;/b", false},
		{"path:/hooks/a", "POST", `/hooks/a\..\b`, false},
		{"path:/hooks/a", "POST", "/hooks/a/%zz", false},
		{"path:/hooks/a", "POST", "", false},
		{"path:/hooks/a", "POST", "http://evil/hooks/a", false},
		{"path:/hooks/a", "POST", "/hooks//a/x", true},
		{"read path:/hooks/a", "GET", "/hooks/a/x", true},
		{"read path:/hooks/a", "POST", "/hooks/a/x", false},
		{"path:/a path:/b", "PUT", "/b/1", true},
	} {
		sc, err := authn.ParseScope(tc.scope)
		if err != nil {
			t.Fatal(err)
		}
		if got := sc.Allows(tc.method, tc.uri); got != tc.want {
			t.Errorf("%q.Allows(%s, %q) = %v, want %v", tc.scope, tc.method, tc.uri, got, tc.want)
		}
	}
}

func TestScopeWithin(t *testing.T) {
	for _, tc := range []struct {
		inner, outer string
		want         bool
	}{
		{"write", "write", true},
		{"read", "write", true},
		{"path:/a", "write", true},
		{"write", "read", false},
		{"read", "read", true},
		{"read path:/a", "read", true},
		{"path:/a", "read", false},
		{"path:/a/b", "path:/a", true},
		{"path:/a", "path:/a/b", false},
		{"path:/ab", "path:/a", false},
		{"write", "path:/a", false},
		{"read", "path:/a", false},
		{"read path:/a/x", "path:/a", true},
		{"path:/a path:/b", "path:/a", false},
	} {
		in, _ := authn.ParseScope(tc.inner)
		out, _ := authn.ParseScope(tc.outer)
		if got := in.Within(out); got != tc.want {
			t.Errorf("%q within %q = %v, want %v", tc.inner, tc.outer, got, tc.want)
		}
	}
}

func TestRequireScope(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := authn.RequireScope(ok)
	for _, tc := range []struct {
		name, scope, method, target string
		noIdentity                  bool
		want                        int
	}{
		{"write posts", "write", "POST", "/x", false, http.StatusNoContent},
		{"no scope is write", "", "DELETE", "/x", false, http.StatusNoContent},
		{"read gets", "read", "GET", "/x", false, http.StatusNoContent},
		{"read cannot post", "read", "POST", "/x", false, http.StatusForbidden},
		{"path inside", "path:/hooks/a", "POST", "/hooks/a/1", false, http.StatusNoContent},
		{"path outside", "path:/hooks/a", "POST", "/hooks/b", false, http.StatusForbidden},
		{"bad scope allows nothing", "admin", "GET", "/x", false, http.StatusForbidden},
		{"no identity", "", "GET", "/x", true, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			if !tc.noIdentity {
				r = r.WithContext(authn.NewContext(r.Context(), authn.Identity{Username: "joe", Scope: tc.scope}))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d (%s)", w.Code, tc.want, w.Body)
			}
		})
	}
}

func TestExtractBearer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		query   string
		want    authn.Credential
		ok      bool
	}{
		{"bearer", map[string]string{"Authorization": "Bearer abc"}, "", authn.Credential{Kind: authn.KindBearer, Location: authn.InHeader, Value: "abc"}, true},
		{"scheme in any case", map[string]string{"Authorization": "BEARER abc"}, "", authn.Credential{Kind: authn.KindBearer, Location: authn.InHeader, Value: "abc"}, true},
		{"after St2-Api-Key", map[string]string{"Authorization": "Bearer abc", "St2-Api-Key": "k"}, "", authn.Credential{Kind: authn.KindAPIKey, Location: authn.InHeader, Value: "k"}, true},
		{"before the query", map[string]string{"Authorization": "Bearer abc"}, "x-auth-token=q", authn.Credential{Kind: authn.KindBearer, Location: authn.InHeader, Value: "abc"}, true},
		{"basic is not a credential", map[string]string{"Authorization": "Basic YTpi"}, "", authn.Credential{}, false},
		{"bearer without a value", map[string]string{"Authorization": "Bearer"}, "", authn.Credential{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x?"+tc.query, nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			got, ok := authn.Extract(r)
			if ok != tc.ok || got != tc.want {
				t.Errorf("Extract = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
