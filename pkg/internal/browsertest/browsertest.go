// Package browsertest starts Debian's headless Chromium for the Go tests
// that drive Gatehouse's web page (pkg/ui) and single sign-on (pkg/oidc)
// through chromedp, and keeps their screenshots. It is test support only:
// nothing in the binary imports it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/gatehouse-auth/gatehouse/pkg/internal/integration"
)

// Chromium finds Debian's chromium: $GATEHOUSE_TEST_CHROMIUM (set by
// scripts/chromium-up.sh) or chromium on the PATH. Without one the test
// is skipped, or fails under GATEHOUSE_REQUIRE_INTEGRATION=1.
func Chromium(t *testing.T) string {
	t.Helper()
	p := os.Getenv("GATEHOUSE_TEST_CHROMIUM")
	if p == "" {
		p, _ = exec.LookPath("chromium")
	}
	if p == "" {
		integration.Unavailable(t, "chromium not found (GATEHOUSE_TEST_CHROMIUM unset, none on PATH): install Debian's chromium")
	}
	return p
}

// Start starts a headless Chromium with a fresh profile, width px wide,
// that accepts every confirm dialog as a person clicking OK would. It
// is stopped when the test ends.
func Start(t *testing.T, width int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium(t)),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	// Listen starts the browser.
	err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// A headless window is never narrower than 500 px: the viewport is
	// set as well, so that a 360-px test sees a 360-px page.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 900)); err != nil {
		t.Fatalf("set the viewport to %d px: %v", width, err)
	}
	return ctx
}

// Run runs steps, failing the test with what when one fails.
func Run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Get runs one action that returns a value.
func Get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// SessionCookie is the browser's gatehouse_session cookie, or nil.
func SessionCookie(t *testing.T, ctx context.Context) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatalf("read cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "gatehouse_session" {
			return c
		}
	}
	return nil
}

// Shots is where screenshots go: $GATEHOUSE_TEST_ARTIFACTS/<test> when
// set (kept), else the test's artifact directory (kept with go test
// -artifacts).
func Shots(t *testing.T) string {
	t.Helper()
	dir := t.ArtifactDir()
	if base := os.Getenv("GATEHOUSE_TEST_ARTIFACTS"); base != "" {
		dir = filepath.Join(base, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// Screenshot saves the whole page as dir/name.png.
func Screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// CopyScreenshots refreshes docs/screenshots (docs is found from the
// test's package directory, two levels below the repository) with the
// PNGs in dir when GATEHOUSE_UPDATE_SCREENSHOTS=1.
func CopyScreenshots(t *testing.T, dir string) {
	t.Helper()
	if os.Getenv("GATEHOUSE_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	out := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil {
			err = os.WriteFile(filepath.Join(out, filepath.Base(f)), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
