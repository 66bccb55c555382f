package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const hash1234 = "ec81d4a56f5987b0ae1cff6e152459986e873d6604637fc70d85c0a0daf131b0a830ccd5b6454cc0c95c0ba6e6655933c993325eb3a28bc43af6c1d801a7c1e8"

func TestParseExport(t *testing.T) {
	items, err := ParseExport([]byte(`[{"id": "5E7C3E0D4F0A9B3C2D1E0F11", "uid": "api_key:` + hash1234 + `", "user": "stanley",
		"key_hash": "` + strings.ToUpper(hash1234) + `", "metadata": {"a": 1}, "created_at": "2020-03-26T05:28:13.1+00:00", "enabled": false,
		"extra": true}, {"enabled": "yes"}, {"id": "x", "uid": "api_key:` + hash1234 + `", "key_hash": "********"}]`))
	if err != nil || len(items) != 3 {
		t.Fatalf("%v %v", err, items)
	}
	req, err := items[0].Key.Request()
	if err != nil || req.ID != "5e7c3e0d4f0a9b3c2d1e0f11" || req.KeyHash != hash1234 || req.User != "stanley" ||
		req.CreatedAt != "2020-03-26T05:28:13.100000Z" || req.Enabled == nil || *req.Enabled || req.Metadata["a"] != 1.0 {
		t.Fatalf("first: %v %+v", err, req)
	}
	if items[1].Err == nil || items[1].Name() != "#2" {
		t.Fatalf("second: %+v", items[1])
	}
	// A masked key_hash, but the uid carries the hash: the id is not valid
	// and is left to the server.
	if req, err := items[2].Key.Request(); err != nil || req.KeyHash != hash1234 || req.ID != "" {
		t.Fatalf("third: %v %+v", err, req)
	}
	if _, err := (ExportedAPIKey{KeyHash: "********", UID: "********"}).Request(); err == nil || !strings.Contains(err.Error(), "--show-secrets") {
		t.Fatalf("masked: %v", err)
	}
	if _, err := (ExportedAPIKey{KeyHash: "abc"}).Request(); err == nil {
		t.Fatal("short hash accepted")
	}
	if items, err := ParseExport([]byte(` {"key_hash": "` + hash1234 + `"}`)); err != nil || len(items) != 1 {
		t.Fatalf("single object: %v %v", err, items)
	}
	for _, bad := range []string{"", "  ", "id: x", "[1, "} {
		if _, err := ParseExport([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCache(t *testing.T) {
	c := Cache{Dir: filepath.Join(t.TempDir(), "gatehouse")}
	const srv = "http://h:1"
	if _, err := c.Load(srv, "joe"); !errors.Is(err, ErrNotCached) {
		t.Fatal(err)
	}
	if _, err := c.CurrentUser(srv); !errors.Is(err, ErrNotCached) {
		t.Fatal(err)
	}
	exp := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)
	tok := NewCachedToken(Token{User: "joe", Token: "abc", Expiry: "2030-01-02T03:04:05.123456Z"}, srv)
	if tok.ExpireTimestamp != exp.Unix() {
		t.Fatal(tok)
	}
	for _, user := range []string{"joe", "../x/y", "a b", "..", strings.Repeat("é", 150)} {
		tok.User = user
		if err := c.Save(tok); err != nil {
			t.Fatal(err)
		}
		got, err := c.Load(srv, user)
		if err != nil || got != tok || !got.ExpiresAt().Equal(exp) {
			t.Fatalf("%q: %v %+v", user, err, got)
		}
		if filepath.Dir(c.Path(srv, user)) != c.ServerDir(srv) || filepath.Dir(c.ServerDir(srv)) != filepath.Join(c.Dir, "servers") {
			t.Fatalf("%q is stored outside the cache: %s", user, c.Path(srv, user))
		}
		if fi, err := os.Stat(c.Path(srv, user)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%v %v", fi, err)
		}
	}
	for _, dir := range []string{c.Dir, c.ServerDir(srv)} {
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v", dir, fi, err)
		}
	}
	if !tok.ValidFor(exp.Add(-time.Minute), 59*time.Second) || tok.ValidFor(exp.Add(-time.Minute), time.Minute) {
		t.Fatal("ValidFor")
	}
	// st2's own file has only token and expire_timestamp.
	if err := os.WriteFile(c.Path(srv, "st2"), []byte(`{"token": "t", "expire_timestamp": 1577934245}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Load(srv, "st2"); err != nil || got.User != "st2" || !got.ExpiresAt().Equal(time.Unix(1577934245, 0)) {
		t.Fatalf("%v %+v", err, got)
	}
	if err := c.SetCurrentUser(srv, "joe"); err != nil {
		t.Fatal(err)
	}
	if u, err := c.CurrentUser(srv); err != nil || u != "joe" {
		t.Fatal(u, err)
	}
	_ = c.ClearCurrentUser(srv, "ann")
	_ = c.ClearCurrentUser(srv, "joe")
	if _, err := c.CurrentUser(srv); !errors.Is(err, ErrNotCached) {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(c.ServerDir(srv))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// TestCachePerServer logs one user in to two servers: each keeps its own
// token and current user.
func TestCachePerServer(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	a, b := "http://127.0.0.1:9100", "https://auth.example.org/gatehouse"
	for _, srv := range []string{a, b} {
		if err := c.Save(CachedToken{Token: "tok-" + srv, User: "joe", URL: srv, ExpireTimestamp: 1}); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.SetCurrentUser(a, "joe")
	_ = c.SetCurrentUser(b, "ann")
	if ta, _ := c.Load(a, "joe"); ta.Token != "tok-"+a {
		t.Fatalf("%+v", ta)
	}
	if tb, _ := c.Load(b, "joe"); tb.Token != "tok-"+b {
		t.Fatalf("%+v", tb)
	}
	if ua, _ := c.CurrentUser(a); ua != "joe" {
		t.Fatal(ua)
	}
	if ub, _ := c.CurrentUser(b); ub != "ann" {
		t.Fatal(ub)
	}
	if err := c.Remove(b, "joe"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(a, "joe"); err != nil {
		t.Fatalf("removing b's token removed a's: %v", err)
	}
	if err := c.Save(CachedToken{Token: "x", User: "joe"}); err == nil {
		t.Fatal("saved a token without its server")
	}
}

// TestCacheMigrate moves a cache of the first layout (DIR/token-USER,
// DIR/current-user) into the per-server one.
func TestCacheMigrate(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(c.Dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("token-admin", `{"token": "t1", "expire_timestamp": 1900000000, "user": "admin", "url": "http://127.0.0.1:9100"}`)
	write("token-joe", `{"token": "t2", "expire_timestamp": 1900000000, "user": "joe", "url": "https://auth.example.org/"}`)
	write("token-hand", `{"token": "t3", "expire_timestamp": 1900000000}`)
	write("token-bad", `not json`)
	write("current-user", "admin\n")
	if err := c.Migrate(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Load("http://127.0.0.1:9100", "admin"); err != nil || got.Token != "t1" {
		t.Fatalf("admin: %v %+v", err, got)
	}
	if got, err := c.Load("https://auth.example.org", "joe"); err != nil || got.Token != "t2" {
		t.Fatalf("joe: %v %+v", err, got)
	}
	if u, err := c.CurrentUser("http://127.0.0.1:9100"); err != nil || u != "admin" {
		t.Fatalf("current user: %v %q", err, u)
	}
	for name, want := range map[string]bool{"token-admin": false, "token-joe": false, "current-user": false, "token-hand": true, "token-bad": true} {
		if _, err := os.Stat(filepath.Join(c.Dir, name)); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", name, err == nil, want)
		}
	}
	if err := c.Migrate(); err != nil {
		t.Fatalf("second run: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"898": 898 * time.Second, "": 0, "-1": 0, "soon": 0, "0": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := retryAfter(http.Header{"Retry-After": {v}}, now); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

// TestRFCCallsAndAPIKeysURL checks that introspect and revoke send a form
// body with the client's credential, that a 429 carries Retry-After, and
// that APIKeysURL sends the API key calls where st2 sends them.
func TestRFCCallsAndAPIKeysURL(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+r.PostForm.Get("token")+" "+r.Header.Get("X-Auth-Token"))
		switch r.URL.Path {
		case "/auth/v1/introspect":
			w.Write([]byte(`{"active": true, "username": "joe", "token_type": "access_token", "exp": 1900000000}`))
		case "/auth/v1/tokens":
			w.Header().Set("Retry-After", "898")
			w.WriteHeader(429)
			w.Write([]byte(`{"faultstring": "Too many failed attempts. Try again later."}`))
		case "/st2/api/v1/apikeys":
			w.Write([]byte(`[]`))
		default:
			w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c, _ := New(srv.URL, Options{APIKeysURL: srv.URL + "/st2/api/v1/"})
	c.Token = "tok"
	if in, err := c.Introspect(ctx, "other"); err != nil || !in.Active || in.Username != "joe" || in.Exp != 1900000000 {
		t.Fatalf("%v %+v", err, in)
	}
	if err := c.Revoke(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListAPIKeys(ctx, ListOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Login(ctx, "joe", "pw", 0)
	if StatusOf(err) != 429 || RetryAfterOf(err) != 898*time.Second {
		t.Fatalf("%v %v", err, RetryAfterOf(err))
	}
	form := "application/x-www-form-urlencoded"
	want := []string{"POST /auth/v1/introspect " + form + " other tok", "POST /auth/v1/revoke " + form + " other tok",
		"GET /st2/api/v1/apikeys   tok", "POST /auth/v1/tokens   "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth/v1/me":
			if r.Header.Get("X-Auth-Token") != "tok" || r.Header.Get("St2-Api-Key") != "" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(401)
				w.Write([]byte(`{"faultstring": "Unauthorized"}`))
				return
			}
			w.Write([]byte(`{"username": "joe", "groups": [], "authentication": {"method": "authentication token"}}`))
		case "/moved/auth/v1/me":
			http.Redirect(w, r, "https://elsewhere.example/x?token=secret", http.StatusFound)
		default:
			w.WriteHeader(502)
			w.Write([]byte("<html>bad gateway</html>"))
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	c, err := New(srv.URL+"/", Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Token, c.APIKey = "tok", "key" // the token wins; the key is not sent
	if me, err := c.Me(ctx); err != nil || me.Username != "joe" {
		t.Fatalf("%v %+v", err, me)
	}
	c.Token = "bad"
	if _, err := c.Me(ctx); StatusOf(err) != 401 || err.Error() != "Unauthorized" {
		t.Fatalf("%v", err)
	}
	if _, err := c.ListAPIKeys(ctx, ListOptions{}); StatusOf(err) != 502 || !strings.Contains(err.Error(), "unexpected answer from "+srv.URL+": 502 Bad Gateway") {
		t.Fatalf("%v", err)
	}
	moved, _ := New(srv.URL+"/moved", Options{})
	moved.Token = "tok"
	if _, err := moved.Me(ctx); err == nil || err.Error() != srv.URL+"/moved redirects to https://elsewhere.example/x; use that URL" {
		t.Fatalf("%v", err)
	}
	for _, bad := range []string{"", "127.0.0.1:9100", "ftp://h", "http://", "http://h/?a=b"} {
		if _, err := New(bad, Options{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if u, _ := New("http://joe:secret@h:1", Options{}); strings.Contains(u.URL(), "secret") {
		t.Errorf("URL shows the password: %s", u.URL())
	}
}
