package httpapi_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storetest"
)

// Hostile input: every malformed request gets a 4xx with a JSON body, never
// a 500, never a token, and never a word of what is behind the API.

// leakWords must never appear in a response body: stack traces, driver and
// directory errors.
var leakWords = []string{"panic", "goroutine", "runtime error", "sql:", "sqlstate", "syntax error",
	"pq:", "pgx", "pgconn", "sqlite", "ldap", ".go:"}

// hostile sends r through the harness (which checks the status class, the
// JSON error body and the spec) and checks that the body leaks nothing.
func (h *harness) hostile(r req) response {
	h.t.Helper()
	resp := h.do(r)
	checkNoLeak(h.t, resp.body)
	return resp
}

func checkNoLeak(t *testing.T, body []byte) {
	t.Helper()
	lower := strings.ToLower(string(withoutSecrets(body)))
	for _, w := range leakWords {
		if strings.Contains(lower, w) {
			t.Errorf("response body holds %q: %.300s", w, body)
		}
	}
}

// withoutSecrets drops the freshly generated "key" and "token" of a 201
// body: random base64 may spell "pgx".
func withoutSecrets(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	delete(m, "key")
	delete(m, "token")
	b, _ := json.Marshal(m)
	return b
}

// tokensIssued reads gatehouse_tokens_issued_total from /metrics.
func (h *harness) tokensIssued() int {
	h.t.Helper()
	r := h.do(req{method: "GET", path: "/metrics"})
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, "gatehouse_tokens_issued_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				h.t.Fatalf("metrics line %q", line)
			}
			return int(n)
		}
	}
	h.t.Fatal("no gatehouse_tokens_issued_total in /metrics")
	return 0
}

// tokenRows counts the rows of the tokens table.
func (h *harness) tokenRows() int {
	h.t.Helper()
	n := 0
	for _, line := range strings.Split(storetest.Dump(h.t, h.store), "\n") {
		if strings.HasPrefix(line, "tokens:") {
			n++
		}
	}
	return n
}

// expectTokens checks that exactly want tokens were issued and stored since
// the harness started.
func (h *harness) expectTokens(want int) {
	h.t.Helper()
	if got := h.tokensIssued(); got != want {
		h.t.Errorf("gatehouse_tokens_issued_total = %d, want %d (only the valid requests)", got, want)
	}
	if got := h.tokenRows(); got != want {
		h.t.Errorf("the tokens table holds %d rows, want %d", got, want)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// malformedAuthorization is a table of Authorization values that must not
// log anyone in. Most use admin's real password, so that a parser or
// backend that normalises anything would let them through.
func malformedAuthorization() []struct{ name, header, bug string } {
	pw := testUsers["admin"]
	good := b64("admin:" + pw)
	joe := b64("joe:" + testUsers["joe"]) // 17 bytes: one '=' of padding
	binary := string([]byte{0x00, 0xff, 0xfe, ':', 0x80, 0x01, 0x7f, 0xc0, 0xaf})
	return []struct{ name, header, bug string }{
		// The scheme and its separator.
		{name: "scheme only", header: "Basic"},
		{name: "scheme and a space", header: "Basic "},
		{name: "two spaces", header: "Basic  " + good},
		{name: "tab separator", header: "Basic\t" + good},
		{name: "no separator", header: "Basic" + good},
		{name: "colon separator", header: "Basic:" + good},
		{name: "scheme Bearer", header: "Bearer " + good},
		{name: "scheme Digest", header: `Digest username="admin", realm="gatehouse", nonce="1", uri="/", response="0"`},
		{name: "scheme Negotiate", header: "Negotiate " + good},
		{name: "scheme truncated", header: "Basi " + good},
		{name: "scheme extended", header: "Basicc " + good},
		{name: "scheme with Unicode long s", header: "Ba\u017fic " + good,
			bug: "ParseBasic compares the scheme with strings.EqualFold, which folds U+017F 'ſ' to 's': " +
				"\"Baſic\" is taken for Basic (st2 compares ASCII lower-case)"},
		// The base64.
		{name: "not base64", header: "Basic !!!not-base64!!!"},
		{name: "base64 without padding", header: "Basic " + strings.TrimRight(joe, "=")},
		{name: "url-safe alphabet", header: "Basic " + base64.URLEncoding.EncodeToString([]byte("admin:??>"+pw))},
		{name: "base64 split by a space", header: "Basic " + good[:8] + " " + good[8:]},
		{name: "base64 with trailing garbage", header: "Basic " + good + "!"},
		{name: "base64 twice", header: "Basic " + b64(basic("admin", pw))},
		{name: "base64 of binary", header: "Basic " + b64(binary)},
		// The decoded pair.
		{name: "no colon", header: "Basic " + b64("admin"+pw)},
		{name: "empty user", header: basic("", pw)},
		{name: "empty password", header: basic("admin", "")},
		{name: "NUL in user", header: basic("adm\x00in", pw)},
		{name: "NUL after user", header: basic("admin\x00", pw)},
		{name: "NUL in password", header: basic("admin", pw+"\x00")},
		{name: "NUL then garbage in password", header: basic("admin", pw+"\x00garbage")},
		{name: "CR LF in user", header: basic("admin\r\nSet-Cookie: x=1", pw)},
		{name: "LF in password", header: basic("admin", pw+"\n")},
		{name: "CR in password", header: basic("admin", pw+"\r")},
		{name: "invalid UTF-8 in user", header: "Basic " + b64("adm\xffin:"+pw)},
		{name: "invalid UTF-8 in password", header: "Basic " + b64("admin:"+pw+"\xff")},
		{name: "overlong UTF-8 NUL in user", header: "Basic " + b64("admin\xc0\x80:"+pw)},
		// Look-alikes of the real user "admin", with its real password.
		{name: "Cyrillic a", header: basic("\u0430dmin", pw)},
		{name: "Cyrillic i", header: basic("adm\u0456n", pw)},
		{name: "fullwidth letters", header: basic("\uff41\uff44\uff4d\uff49\uff4e", pw)},
		{name: "mathematical bold", header: basic("\U0001d41a\U0001d41d\U0001d426\U0001d422\U0001d427", pw)},
		{name: "modifier letter a (NFKC a)", header: basic("\u1d43dmin", pw)},
		{name: "combining acute", header: basic("a\u0301dmin", pw)},
		{name: "precomposed a-acute", header: basic("\u00e1dmin", pw)},
		{name: "dotless i", header: basic("adm\u0131n", pw)},
		{name: "zero-width joiner", header: basic("ad\u200dmin", pw)},
		{name: "zero-width space", header: basic("admin\u200b", pw)},
		{name: "byte order mark", header: basic("\ufeffadmin", pw)},
		{name: "right-to-left override", header: basic("\u202eadmin", pw)},
		{name: "soft hyphen", header: basic("ad\u00admin", pw)},
		{name: "no-break space", header: basic("admin\u00a0", pw)},
		{name: "trailing space", header: basic("admin ", pw)},
		{name: "leading space", header: basic(" admin", pw)},
		{name: "upper case", header: basic("ADMIN", pw)},
		{name: "title case", header: basic("Admin", pw)},
		{name: "password fullwidth hyphen", header: basic("admin", strings.Replace(pw, "-", "\uff0d", 1))},
		{name: "password NFKC variant", header: basic("admin", "\uff41"+pw[1:])},
		{name: "password with trailing space", header: basic("admin", pw+" ")},
		{name: "password prefix", header: basic("admin", pw[:len(pw)-1])},
		// SQL and LDAP metacharacters.
		{name: "SQL tautology user", header: basic("' OR 1=1 --", "x")},
		{name: "SQL comment after user", header: basic("admin'--", "x")},
		{name: "SQL tautology password", header: basic("admin", "' OR '1'='1")},
		{name: "SQL drop table", header: basic(`"; DROP TABLE tokens; --`, "x")},
		{name: "SQL block comment", header: basic("admin/*", "*/")},
		{name: "LDAP wildcard", header: basic("*", "*")},
		{name: "LDAP filter injection", header: basic("admin)(uid=*", "x")},
		{name: "LDAP or-filter", header: basic("*)(|(uid=*", "x")},
		{name: "LDAP backslash", header: basic(`\\`, "x")},
		{name: "LDAP escaped NUL", header: basic(`admin\00`, pw)},
		{name: "LDAP DN as user", header: basic("cn=admin,dc=example,dc=org", pw)},
		// Sizes.
		{name: "4 KiB+ of base64", header: "Basic " + strings.Repeat("QUFB", 1100)},
		{name: "300-byte user", header: basic(strings.Repeat("a", 300), pw)},
		{name: "4 KiB password", header: basic("admin", strings.Repeat("p", 4<<10))},
		{name: "real password and 100 bytes more", header: basic("admin", pw+strings.Repeat("x", 100))},
	}
}

func TestHostileAuthorization(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.login("admin") // the one valid request
	var body string
	for _, tt := range malformedAuthorization() {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Authorization": tt.header}
			r := h.hostile(req{method: "POST", path: "/auth/v1/tokens", header: hdr})
			if r.status != http.StatusUnauthorized || r.fault(t) != "Invalid or missing credentials" {
				t.Fatalf("got %d %s, want 401 Invalid or missing credentials", r.status, r.body)
			}
			if body == "" {
				body = string(r.body)
			} else if string(r.body) != body {
				t.Errorf("body %s differs from %s", r.body, body)
			}
			for _, name := range []string{"Set-Cookie", "X-Evil", "Www-Authenticate"} {
				if v := r.header.Get(name); v != "" {
					t.Errorf("response has %s: %q", name, v)
				}
			}
			// The RFC endpoints read HTTP Basic callers the same way.
			rfc := h.hostile(req{method: "POST", path: "/auth/v1/introspect", header: map[string]string{
				"Authorization": tt.header, "Content-Type": "application/x-www-form-urlencoded"}, body: "token=x"})
			if rfc.status != http.StatusUnauthorized {
				t.Errorf("introspect: got %d %s, want 401", rfc.status, rfc.body)
			}
		})
	}
	if n := len(malformedAuthorization()); n < 25 {
		t.Errorf("only %d malformed headers", n)
	}
	h.expectTokens(1)
}

// ttlCase is one token request body.
type ttlCase struct {
	name, contentType, body string
	status                  int
	fault                   string // the faultstring must start with this
	bug                     string
}

func malformedTTL() []ttlCase {
	const (
		js       = "application/json"
		form     = "application/x-www-form-urlencoded"
		badJSON  = "Failed to parse request body: invalid JSON"
		extra    = "Failed to parse request body: extra data after JSON value"
		notInt   = " is not of type 'integer', 'null'"
		lessThan = " is less than the minimum of 1"
		dupTTL   = `Failed to parse request body: duplicate key "ttl"`
	)
	deepTTL := `{"ttl": ` + strings.Repeat("[", 9990) + "60" + strings.Repeat("]", 9990) + "}"
	return []ttlCase{
		{name: "NaN", contentType: js, body: `{"ttl": NaN}`, status: 400, fault: badJSON},
		{name: "Infinity", contentType: js, body: `{"ttl": Infinity}`, status: 400, fault: badJSON},
		{name: "-Infinity", contentType: js, body: `{"ttl": -Infinity}`, status: 400, fault: badJSON},
		{name: "1e309 (beyond float64)", contentType: js, body: `{"ttl": 1e309}`, status: 400, fault: "1e309" + notInt},
		{name: "minus zero", contentType: js, body: `{"ttl": -0}`, status: 400, fault: "0" + lessThan},
		{name: "hexadecimal", contentType: js, body: `{"ttl": 0x10}`, status: 400, fault: badJSON},
		{name: "leading zero", contentType: js, body: `{"ttl": 060}`, status: 400, fault: badJSON},
		{name: "plus sign", contentType: js, body: `{"ttl": +60}`, status: 400, fault: badJSON},
		{name: "leading dot", contentType: js, body: `{"ttl": .5}`, status: 400, fault: badJSON},
		{name: "trailing dot", contentType: js, body: `{"ttl": 60.}`, status: 400, fault: badJSON},
		{name: "string with leading space", contentType: js, body: `{"ttl": " 60"}`, status: 400, fault: "' 60'" + notInt},
		{name: "string with trailing space", contentType: js, body: `{"ttl": "60 "}`, status: 400, fault: "'60 '" + notInt},
		{name: "integer-valued exponent", contentType: js, body: `{"ttl": 6e1}`, status: 400, fault: "6e1" + notInt},
		{name: "upper-case exponent", contentType: js, body: `{"ttl": 60E0}`, status: 400, fault: "60E0" + notInt},
		{name: "negative exponent", contentType: js, body: `{"ttl": 6000e-2}`, status: 400, fault: "6000e-2" + notInt},
		{name: "zero fraction", contentType: js, body: `{"ttl": 60.000}`, status: 400, fault: "60.000" + notInt},
		{name: "nested object", contentType: js, body: `{"ttl": {"ttl": 60}}`, status: 400, fault: "{'ttl': 60}" + notInt},
		{name: "nested arrays", contentType: js, body: `{"ttl": [[[60]]]}`, status: 400, fault: "[[[60]]]" + notInt},
		{name: "empty array", contentType: js, body: `{"ttl": []}`, status: 400, fault: "[]" + notInt},
		{name: "false", contentType: js, body: `{"ttl": false}`, status: 400, fault: "False" + notInt},
		{name: "int64 overflow", contentType: js, body: `{"ttl": 9223372036854775808}`, status: 400,
			fault: "TTL specified 9223372036854775808 is greater than max allowed 86400."},
		{name: "uint64 overflow negative", contentType: js, body: `{"ttl": -18446744073709551617}`, status: 400,
			fault: "-18446744073709551617" + lessThan},
		{name: "duplicate ttl, last bad", contentType: js, body: `{"ttl": 60, "ttl": 0}`, status: 400, fault: dupTTL},
		{name: "duplicate ttl, last good", contentType: js, body: `{"ttl": 0, "ttl": 60}`, status: 400, fault: dupTTL,
			bug: "body.go decodeJSONObject: encoding/json keeps the last of two equal keys, other parsers the first"},
		{name: "duplicate ttl, null last", contentType: js, body: `{"ttl": "x", "ttl": null}`, status: 400, fault: dupTTL},
		{name: "escaped key", contentType: js, body: `{"t\u0074l": 0}`, status: 400, fault: "0" + lessThan},
		{name: "10,000 [ unclosed", contentType: js, body: strings.Repeat("[", 10000), status: 400, fault: badJSON},
		{name: "10,001 [ closed (past the decoder's depth)", contentType: js,
			body: strings.Repeat("[", 10001) + strings.Repeat("]", 10001), status: 400, fault: badJSON},
		{name: "30,000 [", contentType: js, body: strings.Repeat("[", 30000), status: 400, fault: badJSON},
		{name: "10,000 objects deep", contentType: js, body: strings.Repeat(`{"a":`, 10000), status: 400, fault: badJSON},
		{name: "ttl 9,990 arrays deep", contentType: js, body: deepTTL, status: 400, fault: "[[[["},
		{name: "UTF-8 byte order mark", contentType: js, body: "\xef\xbb\xbf{\"ttl\": 60}", status: 400, fault: badJSON},
		{name: "UTF-16LE", contentType: js, body: "\xff\xfe{\x00\"\x00t\x00t\x00l\x00\"\x00:\x006\x000\x00}\x00", status: 400, fault: badJSON},
		{name: "invalid UTF-8 after the object", contentType: js, body: "{\"ttl\": 60}\xff", status: 400, fault: extra},
		{name: "NUL after the object", contentType: js, body: "{\"ttl\": 60}\x00", status: 400, fault: extra},
		{name: "two objects", contentType: js, body: `{"ttl": 60}{"ttl": 0}`, status: 400, fault: extra},
		{name: "form with two ttl", contentType: form, body: "ttl=60&ttl=70", status: 400, fault: "['60', '70']" + notInt},
		{name: "form with empty ttl", contentType: form, body: "ttl=", status: 400, fault: "['']" + notInt},
		{name: "form with a bad escape", contentType: form, body: "ttl=%zz", status: 400, fault: "Failed to parse request body"},
		{name: "content type garbage", contentType: "application/json;;;=", body: `{"ttl": 0}`, status: 400, fault: "0" + lessThan},
		{name: "content type garbage, not JSON", contentType: "application/json;;;=", body: `ttl=60`, status: 400,
			fault: "Failed to parse request body: Unsupported Content-Type"},
		// Bodies that are not JSON, yet get a token today.
		{name: "trailing brace", contentType: js, body: `{"ttl": 60}}`, status: 400, fault: extra,
			bug: "body.go decodeJSONObject checks dec.More(), which is false before ']' and '}': a body " +
				"with a trailing '}' or ']' is taken as the object before it"},
		{name: "trailing bracket", contentType: js, body: `{"ttl": 60}]`, status: 400, fault: extra,
			bug: "body.go decodeJSONObject: dec.More() misses a trailing ']'"},
		{name: "invalid UTF-8 in a string", contentType: js, body: "{\"ttl\": 60, \"x\": \"\xff\"}", status: 400,
			fault: "Failed to parse request body",
			bug:   "body.go decodeJSONObject: encoding/json turns bytes that are not UTF-8 into U+FFFD instead of refusing the body"},
		{name: "invalid UTF-8 in a key", contentType: js, body: "{\"ttl\": 60, \"\xc0\xaf\": 1}", status: 400,
			fault: "Failed to parse request body", bug: "body.go decodeJSONObject: a body that is not UTF-8 is accepted"},
		{name: "form feed body", contentType: js, body: "\f", status: 400, fault: "Failed to parse request body",
			bug: "body.go decodeJSONObject: bytes.TrimSpace also trims \\f, \\v and Unicode spaces, so a body of " +
				"them is taken for an empty body ({}); JSON white space is only space, tab, CR and LF"},
		{name: "no-break space body", contentType: js, body: "\u00a0", status: 400, fault: "Failed to parse request body",
			bug: "body.go decodeJSONObject: bytes.TrimSpace trims U+00A0"},
	}
}

func TestHostileTTL(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	auth := basic("joe", testUsers["joe"])
	issued := 0
	for _, tt := range malformedTTL() {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := h.hostile(req{method: "POST", path: "/auth/v1/tokens", body: tt.body,
				header: map[string]string{"Authorization": auth, "Content-Type": tt.contentType}})
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
			if r.status == http.StatusCreated {
				issued++
			}
			if r.status != tt.status {
				t.Fatalf("got %d %.300s, want %d", r.status, r.body, tt.status)
			}
			if got := r.fault(t); !strings.HasPrefix(got, tt.fault) {
				t.Errorf("faultstring %.200q, want it to start with %q", got, tt.fault)
			}
		})
	}
	// Names are case-sensitive and unknown ones are ignored, so "TTL" is
	// neither the ttl nor a duplicate of it.
	for _, tt := range []struct {
		body string
		ttl  time.Duration
	}{
		{`{"TTL": 0}`, 24 * time.Hour},
		{`{"TTL": 0, "ttl": 60}`, time.Minute},
	} {
		r := h.hostile(req{method: "POST", path: "/auth/v1/tokens", body: tt.body,
			header: map[string]string{"Authorization": auth, "Content-Type": "application/json"}})
		if r.status != http.StatusCreated {
			t.Fatalf("%s: got %d %s, want 201", tt.body, r.status, r.body)
		}
		issued++
		exp, _ := time.Parse(time.RFC3339Nano, r.json(t)["expiry"].(string))
		if d := time.Until(exp); d > tt.ttl || d < tt.ttl-time.Minute {
			t.Errorf("%s: token lives %s, want %s", tt.body, d, tt.ttl)
		}
	}
	h.expectTokens(issued)
}

// hostileValues are tokens and API keys no store may choke on.
func hostileValues(tok, key string) map[string]string {
	return map[string]string{
		"SQL tautology":       `' OR 1=1 --`,
		"SQL drop table":      `"; DROP TABLE tokens; --`,
		"SQL LIKE wildcard":   `%`,
		"LDAP wildcard":       `*`,
		"LDAP filter":         `)(uid=*`,
		"LDAP or-filter":      `*)(|(uid=*`,
		"LDAP backslash":      `\\`,
		"LDAP escaped NUL":    `\00`,
		"JNDI":                "${jndi:ldap://127.0.0.1/a}",
		"path traversal":      "../../../../etc/passwd",
		"10 KiB":              strings.Repeat("a", 10<<10),
		"invalid UTF-8":       "\xff\xfe\xfd",
		"overlong UTF-8":      "\xc0\xaf",
		"token prefix":        tok[:len(tok)-1],
		"token and one more":  tok + "0",
		"token upper case":    strings.ToUpper(tok),
		"token as a key":      tok,
		"key prefix":          key[:len(key)-1],
		"key fullwidth digit": strings.Replace(key, key[:1], "\uff10", 1),
		"NUL":                 "\x00",
		"token then NUL":      tok + "\x00",
		"key then CR LF":      key + "\r\nX-Evil: 1",
	}
}

func TestHostileCredentials(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		tok := h.tokenFor("joe")
		key := h.createKey(tok, `{}`)["key"].(string)
		for name, v := range hostileValues(tok, key) {
			t.Run(name, func(t *testing.T) {
				for _, c := range credentialPlaces(v) {
					if name == "token as a key" && c.kind == "token" {
						continue // only as an API key: it must not count as the token it is
					}
					for _, path := range []string{"/auth/v1/me", "/auth/v1/verify", "/api/v1/apikeys"} {
						r := h.hostile(req{method: "GET", path: path + c.query, header: c.header})
						if r.status != http.StatusUnauthorized || r.fault(t) != "Unauthorized" {
							t.Errorf("%s %s: got %d %.200s, want 401 Unauthorized", c.where, path, r.status, r.body)
						}
					}
				}
			})
		}
		// Query strings that hold no readable credential.
		for _, q := range []string{"?x-auth-token=%zz", "?x-auth-token=a;b", "?x-auth-token=" + tok + ";", "?X-Auth-Token=" + tok,
			"?x-auth-token=&st2-api-key=", "?" + strings.Repeat("&", 10000) + "x-auth-token=" + tok} {
			r := h.hostile(req{method: "GET", path: "/auth/v1/me" + q})
			if r.status != http.StatusUnauthorized || r.fault(t) != "Unauthorized - One of Token or API key required." {
				t.Errorf("%.60s: got %d %s", q, r.status, r.body)
			}
		}
		h.expectTokens(1)
	})
}

// credentialPlace is one way of sending a credential.
type credentialPlace struct {
	where, kind string
	header      map[string]string
	query       string
}

// credentialPlaces puts v in each of the four places st2 reads. Values a
// client cannot put in a header (control characters) only go in the query;
// cmd/gatehouse's hostile tests send those raw.
func credentialPlaces(v string) []credentialPlace {
	places := []credentialPlace{
		{where: "query x-auth-token", kind: "token", query: "?x-auth-token=" + url.QueryEscape(v)},
		{where: "query st2-api-key", kind: "key", query: "?st2-api-key=" + url.QueryEscape(v)},
	}
	if !strings.ContainsAny(v, "\x00\r\n") {
		places = append(places,
			credentialPlace{where: "header X-Auth-Token", kind: "token", header: map[string]string{"X-Auth-Token": v}},
			credentialPlace{where: "header St2-Api-Key", kind: "key", header: map[string]string{"St2-Api-Key": v}})
	}
	return places
}

// TestHostileValidateBodies: the token in a validate body is looked up, not
// interpreted.
func TestHostileValidateBodies(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		tok := h.tokenFor("joe")
		key := h.createKey(tok, `{}`)["key"].(string)
		for name, v := range hostileValues(tok, key) {
			if name == "token as a key" {
				continue
			}
			r := h.hostile(req{method: "POST", path: "/auth/v1/tokens/validate", header: asToken(tok),
				body: mustJSON(map[string]string{"token": v})})
			if r.status != http.StatusOK || mustJSON(r.json(t)) != `{"valid":false}` {
				t.Errorf("%s: got %d %s, want 200 {\"valid\":false}", name, r.status, r.body)
			}
			intro := h.hostile(req{method: "POST", path: "/auth/v1/introspect", body: "token=" + url.QueryEscape(v),
				header: map[string]string{"Authorization": basic("svc", testUsers["svc"]), "Content-Type": "application/x-www-form-urlencoded"}})
			if intro.status != http.StatusOK || mustJSON(intro.json(t)) != `{"active":false}` {
				t.Errorf("%s: introspect got %d %s, want 200 {\"active\":false}", name, intro.status, intro.body)
			}
		}
		h.expectTokens(1)
	})
}

// TestHostileStoreStrings sends strings a database may refuse (NUL, bytes
// that are not UTF-8, numbers past float64, deep nesting) to every route
// that hands a client string to the store. A client's bad input must be a
// 4xx, or accepted: never a 503, which says the database is down.
func TestHostileStoreStrings(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		admin := asToken(h.tokenFor("admin"))
		joe := asToken(h.tokenFor("joe"))
		id := h.createKey(joe["X-Auth-Token"], `{}`)["id"].(string)
		deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
		keys, created := h.apiKeys(), 0
		for _, tt := range []struct {
			name           string
			r              req
			bug, sqliteBug string // on PostgreSQL, on SQLite
		}{
			{name: "list ?user=NUL", r: req{method: "GET", path: "/api/v1/apikeys?user=%00", header: admin},
				bug: "on PostgreSQL a NUL in ?user= reaches the query (SQLSTATE 22021) and is answered 503"},
			{name: "list ?user=invalid UTF-8", r: req{method: "GET", path: "/api/v1/apikeys?user=%FF", header: admin},
				bug: "on PostgreSQL bytes that are not UTF-8 in ?user= reach the query (22021) and are answered 503"},
			{name: "list ?user=SQL", r: req{method: "GET", path: "/api/v1/apikeys?user=" + url.QueryEscape(`' OR 1=1 --`), header: admin}},
			{name: "list ?limit=huge", r: req{method: "GET", path: "/api/v1/apikeys?limit=9223372036854775807", header: admin}},
			{name: "list ?offset=huge", r: req{method: "GET", path: "/api/v1/apikeys?offset=9223372036854775807", header: admin}},
			{name: "list ?limit=overflow", r: req{method: "GET", path: "/api/v1/apikeys?limit=99999999999999999999", header: admin}},
			{name: "get NUL ref", r: req{method: "GET", path: "/api/v1/apikeys/%00", header: joe}},
			{name: "get invalid UTF-8 ref", r: req{method: "GET", path: "/api/v1/apikeys/%FF%FE", header: joe}},
			{name: "get SQL ref", r: req{method: "GET", path: "/api/v1/apikeys/" + url.PathEscape(`' OR 1=1 --`), header: joe}},
			{name: "create for a NUL user", r: req{method: "POST", path: "/api/v1/apikeys", header: admin, body: `{"user": "jo\u0000e"}`},
				bug: "on PostgreSQL a NUL in a new key's user name reaches the INSERT (22021) and is answered 503"},
			{name: "create with NUL in metadata", r: req{method: "POST", path: "/api/v1/apikeys", header: joe, body: `{"metadata": {"a": "\u0000"}}`},
				bug: "on PostgreSQL jsonb refuses \\u0000 (SQLSTATE 22P05): metadata holding NUL is answered 503"},
			{name: "create with NUL metadata key", r: req{method: "POST", path: "/api/v1/apikeys", header: joe, body: `{"metadata": {"\u0000": 1}}`},
				bug: "on PostgreSQL jsonb refuses \\u0000 (22P05): answered 503"},
			{name: "create with deep metadata", r: req{method: "POST", path: "/api/v1/apikeys", header: joe, body: `{"metadata": {"a": ` + deep + `}}`},
				sqliteBug: "on SQLite the CHECK (json_valid(metadata)) of api_keys fails past SQLite's JSON depth limit (1000): " +
					"metadata nested deeper is answered 503"},
			{name: "create with year 0000", r: req{method: "POST", path: "/api/v1/apikeys", header: admin, body: `{"created_at": "0000-01-01T00:00:00Z"}`}},
			{name: "create with year 9999", r: req{method: "POST", path: "/api/v1/apikeys", header: admin, body: `{"created_at": "9999-12-31T23:59:59.999999Z"}`}},
			{name: "update with NUL in metadata", r: req{method: "PUT", path: "/api/v1/apikeys/" + id, header: joe, body: `{"metadata": {"a": "\u0000"}}`},
				bug: "on PostgreSQL jsonb refuses \\u0000 (22P05): answered 503"},
			{name: "revoke tokens of a NUL user", r: req{method: "DELETE", path: "/auth/v1/users/%00/tokens", header: admin},
				bug: "on PostgreSQL a NUL user name reaches DeleteUserTokens (22021) and is answered 503"},
			{name: "revoke tokens of an invalid UTF-8 user", r: req{method: "DELETE", path: "/auth/v1/users/%FF/tokens", header: admin},
				bug: "on PostgreSQL bytes that are not UTF-8 reach DeleteUserTokens (22021) and are answered 503"},
			{name: "revoke tokens of an SQL user", r: req{method: "DELETE", path: "/auth/v1/users/" + url.PathEscape(`' OR 1=1 --`) + "/tokens", header: admin}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := h.hostile(tt.r)
				if r.status >= 500 {
					t.Errorf("got %d %s: a client's input is not an outage", r.status, r.body)
				}
				if r.status == http.StatusCreated {
					created++
				}
			})
		}
		if got := h.apiKeys(); got != keys+created {
			t.Errorf("%d API keys stored, want %d (only the 201s)", got, keys+created)
		}
		// Whatever was stored can still be read back by everyone.
		for _, r := range []req{
			{method: "GET", path: "/api/v1/apikeys?limit=-1", header: admin},
			{method: "GET", path: "/api/v1/apikeys", header: joe},
			{method: "GET", path: "/api/v1/apikeys/" + id, header: joe},
		} {
			if got := h.hostile(r); got.status != http.StatusOK {
				t.Errorf("%s %s: %d %s", r.method, r.path, got.status, got.body)
			}
		}
		h.expectTokens(2)
	})
}

// TestHostileAPIKeyBodies: a malformed create body is a 400 and stores no
// key.
func TestHostileAPIKeyBodies(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		joe := asToken(h.tokenFor("joe"))
		before := h.apiKeys()
		for _, tt := range []struct{ name, body, bug string }{
			{name: "user not a string", body: `{"user": 5}`},
			{name: "metadata not an object", body: `{"metadata": []}`},
			{name: "enabled not a boolean", body: `{"enabled": "false"}`},
			{name: "SQL id", body: `{"id": "' OR 1=1 --"}`},
			{name: "path id", body: `{"id": "../../etc/passwd"}`},
			{name: "upper-case hex id", body: `{"id": "6B0466336A3E4C2F8F1D2E3A"}`},
			{name: "LDAP key_hash", body: `{"key_hash": "*"}`},
			{name: "SQL key_hash", body: `{"key_hash": "' OR 1=1 --"}`},
			{name: "short key_hash", body: `{"key_hash": "` + strings.Repeat("a", 127) + `"}`},
			{name: "created_at not a date", body: `{"created_at": "yesterday"}`},
			{name: "created_at with NUL", body: `{"created_at": "2020-01-01T00:00:00Z\u0000"}`},
			{name: "unknown member", body: `{"extra": 1}`},
			{name: "uid not a string", body: `{"uid": 5}`},
			{name: "a list", body: `[{}]`},
			{name: "nested too deep", body: strings.Repeat("[", 10001)},
			{name: "trailing brace", body: `{"enabled": false}}`,
				bug: "body.go decodeJSONObject: dec.More() misses a trailing '}' (the same bug as TestHostileTTL/trailing_brace)"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := h.hostile(req{method: "POST", path: "/api/v1/apikeys", header: joe, body: tt.body})
				if r.status != http.StatusBadRequest {
					t.Errorf("got %d %.200s, want 400", r.status, r.body)
				}
			})
		}
		if after := h.apiKeys(); after != before {
			t.Errorf("%d API keys stored, want %d", after, before)
		}
	})
}

// apiKeys counts the keys in the store.
func (h *harness) apiKeys() int {
	h.t.Helper()
	_, n, err := h.store.ListAPIKeys(h.t.Context(), store.APIKeyFilter{Limit: -1})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// TestHostileMetadataNumbers: a key's metadata is stored as JSON and read
// back into float64s; a number beyond float64 must not make the key, or
// every list that holds it, unreadable.
func TestHostileMetadataNumbers(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, opts ...option) {
		h := newHarness(t, opts...)
		admin := asToken(h.tokenFor("admin"))
		joe := asToken(h.tokenFor("joe"))
		created := h.hostile(req{method: "POST", path: "/api/v1/apikeys", header: joe, body: `{"metadata": {"n": 1e400}}`})
		if created.status != http.StatusCreated {
			if created.status != http.StatusBadRequest {
				t.Fatalf("create: %d %s, want 201 or 400", created.status, created.body)
			}
			return // refused up front: fine
		}
		var k struct{ ID, Key string }
		if err := json.Unmarshal(created.body, &k); err != nil {
			t.Fatal(err)
		}
		id, key := k.ID, k.Key
		for _, r := range []req{
			{method: "GET", path: "/api/v1/apikeys?limit=-1", header: admin},
			{method: "GET", path: "/api/v1/apikeys", header: joe},
			{method: "GET", path: "/api/v1/apikeys/" + id, header: joe},
			{method: "GET", path: "/auth/v1/me", header: map[string]string{"St2-Api-Key": key}},
			{method: "DELETE", path: "/api/v1/apikeys/" + id, header: admin},
		} {
			if got := h.hostile(r); got.status >= 500 {
				t.Errorf("%s %s: %d %s", r.method, r.path, got.status, got.body)
			}
		}
	})
}

// TestHostileEscapedUserPath: the user of DELETE /auth/v1/users/{user}/tokens
// is the unescaped path segment, however the client escaped it (RFC 3986
// 6.2.2: %6F is o). Python's urllib.parse.quote, for one, escapes '@'.
// A revocation must not silently miss.
func TestHostileEscapedUserPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(h *harness) {
		if err := htpasswd.SetUser(h.htpasswd, "joe@example.org", "mail-pass", testCost); err != nil {
			t.Fatal(err)
		}
	})
	admin := asToken(h.tokenFor("admin"))
	for _, tt := range []struct{ user, password, path string }{
		{"joe@example.org", "mail-pass", "/auth/v1/users/joe%40example.org/tokens"},
		{"joe", testUsers["joe"], "/auth/v1/users/j%6Fe/tokens"},
		{"joe", testUsers["joe"], "/auth/v1/users/%6a%6f%65/tokens"},
	} {
		r := h.hostile(req{method: "POST", path: "/auth/v1/tokens", header: map[string]string{"Authorization": basic(tt.user, tt.password)}})
		if r.status != http.StatusCreated {
			t.Fatalf("login %s: %d %s", tt.user, r.status, r.body)
		}
		tok := r.json(t)["token"].(string)
		r = h.hostile(req{method: "DELETE", path: tt.path, header: admin})
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.path, r.status, r.body)
		}
		if m := r.json(t); m["user"] != tt.user || m["revoked"] != float64(1) {
			t.Errorf("%s: %s, want %s's one token revoked", tt.path, r.body, tt.user)
		}
		if got := h.hostile(req{method: "GET", path: "/auth/v1/me", header: asToken(tok)}); got.status != http.StatusUnauthorized {
			t.Errorf("%s: %s's token still works: %d", tt.path, tt.user, got.status)
		}
	}
}

// TestHostileBrokenBody sends bodies that break off or whose chunked
// framing is bad to every route that reads a body, over a raw connection.
// The request is malformed: 400, not a 500 that pages someone.
func TestHostileBrokenBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.tokenFor("admin")
	auth := "X-Auth-Token: " + tok + "\r\n"
	routes := []struct{ name, head, ct string }{
		{"token", "POST /auth/v1/tokens HTTP/1.1\r\nAuthorization: " + basic("joe", testUsers["joe"]) + "\r\n", "application/json"},
		{"validate", "POST /auth/v1/tokens/validate HTTP/1.1\r\n" + auth, "application/json"},
		{"create key", "POST /api/v1/apikeys HTTP/1.1\r\n" + auth, "application/json"},
		{"introspect", "POST /auth/v1/introspect HTTP/1.1\r\n" + auth, "application/x-www-form-urlencoded"},
		{"revoke", "POST /auth/v1/revoke HTTP/1.1\r\n" + auth, "application/x-www-form-urlencoded"},
	}
	bodies := []struct{ name, framing, body string }{
		{"cut short", "Content-Length: 100\r\n", `{"ttl": 6`},
		{"bad chunk size", "Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n"},
		{"chunk size overflow", "Transfer-Encoding: chunked\r\n", "FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n"},
		{"chunk line with bare LF", "Transfer-Encoding: chunked\r\n", "2;x\n{}\r\n0\r\n\r\n"},
		{"chunked body cut short", "Transfer-Encoding: chunked\r\n", "10\r\n{}"},
	}
	for _, rt := range routes {
		for _, b := range bodies {
			t.Run(rt.name+"/"+b.name, func(t *testing.T) {
				raw := rt.head + "Host: x\r\nContent-Type: " + rt.ct + "\r\n" + b.framing + "\r\n" + b.body
				status, body := rawRequest(t, h.srv.Listener.Addr().String(), raw)
				checkNoLeak(t, []byte(body))
				if status != http.StatusBadRequest {
					t.Errorf("got %d %s, want 400", status, body)
				}
			})
		}
	}
	h.expectTokens(1)
}

// rawRequest writes raw, half-closes the connection (so a short body ends),
// and reads one response.
func rawRequest(t *testing.T, addr, raw string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
