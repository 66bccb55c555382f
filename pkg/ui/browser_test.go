package ui_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/internal/browsertest"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

// Test users; the admin is also in auth.admin_users, and newbie must
// change the password at the first login.
var users = map[string]string{"admin": "admin-secret-1", "joe": "joe-secret-22", "newbie": "first-pass-333"}

// site is one Gatehouse replica serving the page.
type site struct {
	srv   *httptest.Server
	store store.Store
}

// startSite serves Gatehouse over dbURL with a local backend holding the
// test users (created once, by the first replica).
func startSite(t *testing.T, dbURL string, seed bool) *site {
	t.Helper()
	st, err := storeopen.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := local.DefaultConfig()
	cfg.Params = local.Params{Memory: 64, Iterations: 1, Parallelism: 1}
	lb, err := local.New(cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if seed {
		now := time.Now().UTC().Truncate(time.Microsecond)
		for name, pw := range users {
			hash, err := local.HashPassword(pw, cfg.Params)
			if err != nil {
				t.Fatal(err)
			}
			groups := []string{"developers"}
			if name == "admin" {
				groups = []string{"ops", "developers"}
			}
			u := store.User{Name: name, PasswordHash: hash, Active: true, Groups: groups,
				MustChangePassword: name == "newbie", CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
			if err := st.CreateUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
		}
	}
	api := httpapi.NewServer(httpapi.Config{
		Store: st, Backend: lb, Local: lb, BackendName: "local", AdminUsers: []string{"admin"},
		TokenTTL: 12 * time.Hour, Logger: slog.New(slog.DiscardHandler),
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); api.Run(ctx) }()
	srv := httptest.NewServer(api)
	t.Cleanup(func() { srv.Close(); stop(); <-done; st.Close() })
	return &site{srv: srv, store: st}
}

// logIn fills the login form.
func logIn(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	browsertest.Run(t, ctx, "log in as "+user,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS(`#login-form`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#login-form`)),
	)
}

// TestBrowserKeyLifecycle is the path of a first-time user: log in, see
// who they are, create a key and read it once, use it, disable it, log
// out and find the page locked.
func TestBrowserKeyLifecycle(t *testing.T) {
	s := startSite(t, "sqlite:"+filepath.Join(t.TempDir(), "g.db"), true)
	dir := browsertest.Shots(t)
	for _, width := range []int{1280, 360} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			ctx := browsertest.Start(t, width)
			base := s.srv.URL
			browsertest.Run(t, ctx, "open", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("login-%d", width))

			logIn(t, ctx, base, "admin", users["admin"])
			browsertest.Run(t, ctx, "home page", chromedp.WaitVisible(chromedp.CSS(`#me-title`)))
			who := browsertest.Get(t, ctx, "who am I", chromedp.Text(chromedp.CSS(`#me-title`)))
			if !strings.Contains(who, "admin") {
				t.Fatalf("who am I says %q", who)
			}
			c := browsertest.SessionCookie(t, ctx)
			if c == nil || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
				t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax", c)
			}
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("home-%d", width))

			browsertest.Run(t, ctx, "create a key",
				chromedp.SendKeys(chromedp.CSS(`#key-name`), "backup script"),
				chromedp.Submit(chromedp.CSS(`#create-key`)),
				chromedp.WaitVisible(chromedp.CSS(`#new-key`)),
			)
			key := browsertest.Get(t, ctx, "read the key", chromedp.Text(chromedp.CSS(`#new-key`)))
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("new-key-%d", width))
			if status := useKey(t, base, key); status != http.StatusOK {
				t.Fatalf("the new key answers %d", status)
			}
			// Shown once: reloading the home page does not show it again.
			browsertest.Run(t, ctx, "reload", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`#me-title`)))
			n := browsertest.Get(t, ctx, "count keys shown", chromedp.Evaluate[int](`document.querySelectorAll('#new-key').length`))
			if n != 0 {
				t.Errorf("the key is shown again after a reload")
			}

			browsertest.Run(t, ctx, "disable the key",
				chromedp.Click(chromedp.CSS(`#keys-title ~ table button[aria-label^="Disable"]`)),
				chromedp.WaitVisible(chromedp.CSS(`.notice`)),
			)
			status := browsertest.Get(t, ctx, "key status", chromedp.Text(chromedp.CSS(`#keys-title ~ table .pill`)))
			if status != "disabled" {
				t.Errorf("key status after disabling: %q", status)
			}
			if code := useKey(t, base, key); code != http.StatusUnauthorized {
				t.Errorf("a disabled key answers %d, want 401", code)
			}
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("disabled-%d", width))

			browsertest.Run(t, ctx, "log out", chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
			if c := browsertest.SessionCookie(t, ctx); c != nil {
				t.Errorf("session cookie still there after logout")
			}
			browsertest.Run(t, ctx, "page locked", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
			url := browsertest.Get(t, ctx, "location", chromedp.Location())
			if !strings.Contains(url, "/ui/login") {
				t.Errorf("after logout /ui/ shows %s, want the login form", url)
			}
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("logged-out-%d", width))
		})
	}
	browsertest.CopyScreenshots(t, dir)
}

// useKey calls /auth/v1/me with an API key, as curl would.
func useKey(t *testing.T, base, key string) int {
	t.Helper()
	r, _ := http.NewRequest("GET", base+"/auth/v1/me", nil)
	r.Header.Set("St2-Api-Key", key)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestBrowserWrongPassword: the error is in words and no cookie is set.
func TestBrowserWrongPassword(t *testing.T) {
	s := startSite(t, "sqlite:"+filepath.Join(t.TempDir(), "g.db"), true)
	ctx := browsertest.Start(t, 1280)
	logIn(t, ctx, s.srv.URL, "joe", "not-the-password")
	browsertest.Run(t, ctx, "error shown", chromedp.WaitVisible(chromedp.CSS(`.error`)))
	msg := browsertest.Get(t, ctx, "error text", chromedp.Text(chromedp.CSS(`.error`)))
	if !strings.Contains(msg, "do not match") || strings.Contains(msg, "faultstring") {
		t.Errorf("error text %q", msg)
	}
	if c := browsertest.SessionCookie(t, ctx); c != nil {
		t.Errorf("a wrong password set a cookie")
	}
	browsertest.Screenshot(t, ctx, browsertest.Shots(t), "wrong-password")
}

// TestBrowserCrossSiteForm: a form on another site that posts to the page
// with the visitor's cookie but without the CSRF token is refused, and
// nothing changes.
func TestBrowserCrossSiteForm(t *testing.T) {
	s := startSite(t, "sqlite:"+filepath.Join(t.TempDir(), "g.db"), true)
	// The attacker's page, on another origin (localhost, not 127.0.0.1).
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/ui/keys"><input name="name" value="evil"></form>
<script>document.getElementById("f").submit()</script>`, s.srv.URL)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	ctx := browsertest.Start(t, 1280)
	logIn(t, ctx, s.srv.URL, "joe", users["joe"])
	browsertest.Run(t, ctx, "logged in", chromedp.WaitVisible(chromedp.CSS(`#me-title`)))
	browsertest.Run(t, ctx, "visit the other site", chromedp.Navigate(evilURL), chromedp.Sleep(time.Second),
		chromedp.WaitReady(chromedp.CSS(`body`)))
	body := browsertest.Get(t, ctx, "answer", chromedp.Text(chromedp.CSS(`body`)))
	if !strings.Contains(body, "refused") && !strings.Contains(body, "Log in") {
		t.Errorf("the cross-site post was answered with %q", body)
	}
	keys, _, err := s.store.ListAPIKeys(t.Context(), store.APIKeyFilter{User: "joe"})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("a cross-site form created %d keys", len(keys))
	}
	// The same post with the cookie sent (a same-site request) but no CSRF
	// token is refused as well.
	browsertest.Run(t, ctx, "back home", chromedp.Navigate(s.srv.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`#me-title`)))
	status := browsertest.Get(t, ctx, "post without token", chromedp.Evaluate[int](
		`fetch("/ui/keys", {method: "POST", body: new URLSearchParams({name: "x"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != http.StatusForbidden {
		t.Errorf("a same-site post without the CSRF token: %d, want 403", status)
	}
}

// TestBrowserLogoutReachesSecondReplica: two replicas over one PostgreSQL;
// after logging out on one, the cookie stops working on the other within
// a second.
func TestBrowserLogoutReachesSecondReplica(t *testing.T) {
	dbURL := pgtest.URL(t)
	a := startSite(t, dbURL, true)
	b := startSite(t, dbURL, false)
	ctx := browsertest.Start(t, 1280)
	logIn(t, ctx, a.srv.URL, "joe", users["joe"])
	browsertest.Run(t, ctx, "logged in", chromedp.WaitVisible(chromedp.CSS(`#me-title`)))
	c := browsertest.SessionCookie(t, ctx)
	if c == nil {
		t.Fatal("no session cookie")
	}
	viaB := func() int {
		r, _ := http.NewRequest("GET", b.srv.URL+"/auth/v1/verify", nil)
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		r.Header.Set("X-Original-Method", "GET") // as the nginx example sends it
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := viaB(); code != http.StatusOK {
		t.Fatalf("replica B refuses the session before logout: %d", code)
	}
	browsertest.Run(t, ctx, "log out on A", chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
	loggedOut := time.Now()
	for viaB() != http.StatusUnauthorized {
		if time.Since(loggedOut) > time.Second {
			t.Fatalf("replica B still accepts the session %v after logout", time.Since(loggedOut))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("replica B refused the session %v after logout", time.Since(loggedOut).Round(time.Millisecond))
}

// basicLogin asks POST /auth/v1/tokens for a token with a password.
func basicLogin(t *testing.T, base, user, password string) int {
	t.Helper()
	r, _ := http.NewRequest("POST", base+"/auth/v1/tokens", nil)
	r.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
