package main_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestNginxSingleSignOn runs the README's "Single sign-on for apps behind
// nginx" (configs/nginx/gatehouse-sso.conf, addresses changed only) in a
// real nginx in front of a tiny app and gatehouse serve: a browser-like
// client without a session is sent to /ui/login?next=<the page>; after
// POST /auth/v1/session through nginx, the same client reaches the app as
// the user.
func TestNginxSingleSignOn(t *testing.T) {
	nginx := findNginx(t)
	conf, err := os.ReadFile("../../configs/nginx/gatehouse-sso.conf")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```nginx\n"+string(conf)+"```\n") {
		t.Fatal("README.md does not show configs/nginx/gatehouse-sso.conf as it is")
	}
	dir := t.TempDir()
	gh := startGatehouse(t, dir, nil, "serve", "--port", "0")
	password := firstRunRe.FindStringSubmatch(gh.Stderr())[1]
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "app %s as %s", r.URL.RequestURI(), r.Header.Get("X-Auth-User"))
	}))
	t.Cleanup(app.Close)
	front := startNginxWith(t, nginx, dir, "gatehouse-sso.conf", "listen 8000;",
		"127.0.0.1:9100", strings.TrimPrefix(gh.URL, "http://"), "127.0.0.1:8080", strings.TrimPrefix(app.URL, "http://"))

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(front + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, _ := get("/app/reports?week=12")
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != "/ui/login" || loc.Query().Get("next") != "/app/reports?week=12" {
		t.Fatalf("without a session: %d to %v, want 302 to /ui/login?next=/app/reports?week=12", resp.StatusCode, loc)
	}
	resp, page := get(loc.RequestURI())
	if resp.StatusCode != 200 || !strings.Contains(page, `id="login-form"`) || !strings.Contains(page, `value="/app/reports?week=12"`) {
		t.Fatalf("the login page through nginx: %d\n%s", resp.StatusCode, page)
	}

	form := url.Values{"username": {"admin"}, "password": {password}}
	login, err := browser.PostForm(front+"/auth/v1/session", form)
	if err != nil {
		t.Fatal(err)
	}
	login.Body.Close()
	if login.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /auth/v1/session through nginx: %d", login.StatusCode)
	}
	resp, body := get("/app/reports?week=12")
	if resp.StatusCode != 200 || body != "app /app/reports?week=12 as admin" {
		t.Fatalf("with the session: %d %q", resp.StatusCode, body)
	}
}
