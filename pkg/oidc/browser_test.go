package oidc_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/pkg/oidc/hydratest"
)

// chromium is Debian's headless browser.
const chromium = "/usr/bin/chromium"

// newBrowser starts a fresh headless Chromium for the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("GATEHOUSE_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("%s: %v (apt-get install chromium)", chromium, err)
		}
		t.Skipf("%s: %v", chromium, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// TestBrowserLoginInChromium: a real browser follows the whole login,
// Gatehouse → Hydra → login and consent → Gatehouse's callback → next,
// and ends signed in: the HttpOnly session cookie is a credential /me
// accepts, with the provider's groups.
func TestBrowserLoginInChromium(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil)
	e.hydra.SetUser("erin", "ops")
	ctx := newBrowser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.gw.URL+"/auth/v1/oidc/login?next=/auth/v1/me"),
		chromedp.WaitVisible(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.gw.URL}})
	if err != nil {
		t.Fatal(err)
	}
	cookies := got.Cookies
	if location != e.gw.URL+"/auth/v1/me" {
		t.Fatalf("the browser ended at %s", location)
	}
	if !strings.Contains(page, `"username":"erin"`) || !strings.Contains(page, `"groups":["ops"]`) {
		t.Fatalf("/me in the browser: %s", page)
	}
	var found bool
	for _, c := range cookies {
		if c.Name == "gatehouse_session" {
			found = true
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
				t.Fatalf("session cookie %+v", c)
			}
		}
	}
	if !found {
		t.Fatalf("no session cookie in the browser: %v", cookies)
	}
}
