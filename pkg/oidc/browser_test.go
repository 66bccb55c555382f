package oidc_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/internal/browsertest"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc/hydratest"
)

// TestBrowserLoginInChromium: a real browser follows the whole login,
// Gatehouse → Hydra → login and consent → Gatehouse's callback → next,
// and ends signed in: the HttpOnly session cookie is a credential /me
// accepts, with the provider's groups.
func TestBrowserLoginInChromium(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil)
	e.hydra.SetUser("erin", "ops")
	ctx := browsertest.Start(t, 1280)
	browsertest.Run(t, ctx, "sign in", chromedp.Navigate(e.gw.URL+"/auth/v1/oidc/login?next=/auth/v1/me"),
		chromedp.WaitVisible(chromedp.CSS("body")))
	location := browsertest.Get(t, ctx, "location", chromedp.Location())
	page := browsertest.Get(t, ctx, "page", chromedp.Text(chromedp.CSS("body")))
	if location != e.gw.URL+"/auth/v1/me" {
		t.Fatalf("the browser ended at %s", location)
	}
	if !strings.Contains(page, `"username":"erin"`) || !strings.Contains(page, `"groups":["ops"]`) {
		t.Fatalf("/me in the browser: %s", page)
	}
	c := browsertest.SessionCookie(t, ctx)
	if c == nil {
		t.Fatal("no session cookie in the browser")
	}
	if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
		t.Fatalf("session cookie %+v", c)
	}
}

// TestBrowserSignInButton is a person at the web page: /ui/login offers
// "Sign in with …" beside the password form (a flat_file backend is set
// too); the button goes through Hydra and its login and consent app and
// back to the page asked for, signed in as the provider's user with the
// provider's groups.
func TestBrowserSignInButton(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "htpasswd")
	hash, _ := bcrypt.GenerateFromPassword([]byte("breakglass-pw"), bcrypt.MinCost)
	if err := os.WriteFile(pw, []byte("breakglass:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flat, err := htpasswd.New(htpasswd.Config{FilePath: pw}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, hydratest.Options{}, func(c *oidc.Config) { c.DisplayName = "Example SSO" }, func(c *httpapi.Config) { c.Backend, c.BackendName = flat, "flat_file" })
	e.hydra.SetUser("erin", "ops", "developers")
	dir := browsertest.Shots(t)
	for _, width := range []int{1280, 360} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			ctx := browsertest.Start(t, width)
			browsertest.Run(t, ctx, "login page", chromedp.Navigate(e.gw.URL+"/ui/login?next=/ui/%3Fdone%3Dsso"),
				chromedp.WaitVisible(chromedp.CSS(`#sso-button`)), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
			label := browsertest.Get(t, ctx, "button", chromedp.Text(chromedp.CSS(`#sso-button`)))
			if label != "Sign in with Example SSO" {
				t.Errorf("button says %q", label)
			}
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("login-sso-%d", width))

			browsertest.Run(t, ctx, "sign in", chromedp.Click(chromedp.CSS(`#sso-button`)),
				chromedp.WaitVisible(chromedp.CSS(`#me-title`)))
			if loc := browsertest.Get(t, ctx, "location", chromedp.Location()); loc != e.gw.URL+"/ui/?done=sso" {
				t.Errorf("the browser ended at %s, want the next page", loc)
			}
			who := browsertest.Get(t, ctx, "who", chromedp.Text(chromedp.CSS(`#me-title`)))
			groups := browsertest.Get(t, ctx, "groups", chromedp.Evaluate[string](
				`[...document.querySelectorAll('.facts .tag')].map(e => e.textContent).join(",")`))
			if who != "Signed in as erin" || groups != "ops,developers" {
				t.Errorf("the page says %q with groups %q", who, groups)
			}
			if c := browsertest.SessionCookie(t, ctx); c == nil || !c.HTTPOnly {
				t.Errorf("session cookie %+v", c)
			}
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("home-sso-%d", width))
		})
	}
	browsertest.CopyScreenshots(t, dir)
}
