package authn_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

// Fuzz modes for FuzzExtract: which headers the request carries.
const (
	withTokenHeader  = 1 << iota // X-Auth-Token: tok
	withKeyHeader                // St2-Api-Key: key
	withSecondToken              // a second X-Auth-Token line after the first
	withEmptyHeaders             // X-Auth-Token and St2-Api-Key present but empty, first
)

// FuzzExtract builds requests from fuzzed header values and a raw query
// string and checks authn.Extract against refExtract, a plain reading of
// st2's order. Seeds are in testdata/fuzz/FuzzExtract; run with
//
//	go test -run '^$' -fuzz '^FuzzExtract$' ./pkg/authn/
func FuzzExtract(f *testing.F) {
	f.Fuzz(func(t *testing.T, tok, key, rawQuery string, mode uint8) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/", RawQuery: rawQuery}, Header: http.Header{}}
		if mode&withEmptyHeaders != 0 {
			r.Header.Add(authn.HeaderToken, "")
			r.Header.Add(authn.HeaderAPIKey, "")
		}
		if mode&withTokenHeader != 0 {
			r.Header.Add(authn.HeaderToken, tok)
		}
		if mode&withSecondToken != 0 {
			r.Header.Add(authn.HeaderToken, key)
		}
		if mode&withKeyHeader != 0 {
			r.Header.Add(authn.HeaderAPIKey, key)
		}
		got, ok := authn.Extract(r)
		want, wantOK := refExtract(r.Header, rawQuery)
		checkCredential(t, got, ok)
		if ok != wantOK || got != want {
			t.Fatalf("Extract(header %q, query %q) = %+v, %v; want %+v, %v", r.Header, rawQuery, got, ok, want, wantOK)
		}
		if len(r.Header) == 0 {
			if q, qok := authn.ExtractQuery(rawQuery); q != got || qok != ok {
				t.Fatalf("no headers: Extract = %+v, %v but ExtractQuery = %+v, %v", got, ok, q, qok)
			}
		}
	})
}

// FuzzExtractQuery checks authn.ExtractQuery against refQuery and that a
// credential put first in any query string is the one found. Seeds are in
// testdata/fuzz/FuzzExtractQuery; run with
//
//	go test -run '^$' -fuzz '^FuzzExtractQuery$' ./pkg/authn/
func FuzzExtractQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, rawQuery, value string) {
		got, ok := authn.ExtractQuery(rawQuery)
		checkCredential(t, got, ok)
		if ok && got.Location != authn.InQuery {
			t.Fatalf("ExtractQuery(%q) found it in %q", rawQuery, got.Location)
		}
		want, wantOK := refQuery(rawQuery)
		if ok != wantOK || got != want {
			t.Fatalf("ExtractQuery(%q) = %+v, %v; want %+v, %v", rawQuery, got, ok, want, wantOK)
		}
		if value == "" || paramCount(rawQuery)+1 > maxQueryParams {
			return
		}
		// A token placed first wins over whatever follows; so does a key
		// when no token follows.
		first := authn.QueryToken + "=" + url.QueryEscape(value) + "&" + rawQuery
		if c, ok := authn.ExtractQuery(first); !ok || c.Kind != authn.KindToken || c.Value != value {
			t.Fatalf("ExtractQuery(%q) = %+v, %v; want the token %q", first, c, ok, value)
		}
		keyFirst := authn.QueryAPIKey + "=" + url.QueryEscape(value) + "&" + rawQuery
		c, ok := authn.ExtractQuery(keyFirst)
		if want.Kind == authn.KindToken && wantOK {
			if c != want {
				t.Fatalf("ExtractQuery(%q) = %+v; the token %+v must win over a key", keyFirst, c, want)
			}
		} else if !ok || c.Kind != authn.KindAPIKey || c.Value != value {
			t.Fatalf("ExtractQuery(%q) = %+v, %v; want the key %q", keyFirst, c, ok, value)
		}
	})
}

// checkCredential checks what holds for any answer of Extract.
func checkCredential(t *testing.T, c authn.Credential, ok bool) {
	t.Helper()
	if !ok {
		if c != (authn.Credential{}) {
			t.Fatalf("not ok but credential %+v", c)
		}
		return
	}
	if c.Value == "" {
		t.Fatalf("ok with an empty value: %+v", c)
	}
	if c.Kind != authn.KindToken && c.Kind != authn.KindAPIKey {
		t.Fatalf("unknown kind %q", c.Kind)
	}
	if c.Location != authn.InHeader && c.Location != authn.InQuery {
		t.Fatalf("unknown location %q", c.Location)
	}
}

// refExtract is st2's order written out plainly: header X-Auth-Token, header
// St2-Api-Key, query x-auth-token, query st2-api-key; the first non-empty
// source wins. A source's value is its first occurrence, as Header.Get and
// url.Values.Get have it (st2's webob would take the last query value:
// see the fuzz report).
func refExtract(h http.Header, rawQuery string) (authn.Credential, bool) {
	if vs := h["X-Auth-Token"]; len(vs) > 0 && vs[0] != "" {
		return authn.Credential{Kind: authn.KindToken, Location: authn.InHeader, Value: vs[0]}, true
	}
	if vs := h["St2-Api-Key"]; len(vs) > 0 && vs[0] != "" {
		return authn.Credential{Kind: authn.KindAPIKey, Location: authn.InHeader, Value: vs[0]}, true
	}
	return refQuery(rawQuery)
}

// maxQueryParams is net/url's cap on the parameters of one query string
// (GODEBUG urlmaxqueryparams, Go 1.24.12/1.25.6 and later): past it nothing
// is parsed, so a credential in an overlong query is simply not found.
const maxQueryParams = 10000

func paramCount(rawQuery string) int { return strings.Count(rawQuery, "&") + 1 }

// refQuery reads x-auth-token, then st2-api-key, from a raw query: pairs
// split on '&', a pair holding ';' or a bad %-escape is skipped (as
// net/url does since Go 1.17), names match exactly.
func refQuery(rawQuery string) (authn.Credential, bool) {
	if rawQuery == "" || paramCount(rawQuery) > maxQueryParams {
		return authn.Credential{}, false
	}
	var tok, key *string
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		switch {
		case k == "x-auth-token" && tok == nil:
			tok = &v
		case k == "st2-api-key" && key == nil:
			key = &v
		}
	}
	if tok != nil && *tok != "" {
		return authn.Credential{Kind: authn.KindToken, Location: authn.InQuery, Value: *tok}, true
	}
	if key != nil && *key != "" {
		return authn.Credential{Kind: authn.KindAPIKey, Location: authn.InQuery, Value: *key}, true
	}
	return authn.Credential{}, false
}
