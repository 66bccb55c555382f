package ui_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/pkg/internal/browsertest"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// TestBrowserAdminManagesUsers: an admin adds a local user from the page,
// disables and enables them, requires a new password and deletes them
// (the confirm dialogs accepted); every step reaches the store. The
// admin's own row offers no disable or delete, and the everyone's-keys
// table keeps its dates on one line at 1280 px.
func TestBrowserAdminManagesUsers(t *testing.T) {
	s := startSite(t, "sqlite:"+filepath.Join(t.TempDir(), "g.db"), true)
	dir := browsertest.Shots(t)
	for _, width := range []int{1280, 360} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			ctx := browsertest.Start(t, width)
			name := fmt.Sprintf("carol%d", width)
			row := fmt.Sprintf(`#users tr[data-user=%q]`, name)
			logIn(t, ctx, s.srv.URL, "admin", users["admin"])
			browsertest.Run(t, ctx, "add a user",
				chromedp.WaitVisible(chromedp.CSS(`#create-user`)),
				chromedp.SendKeys(chromedp.CSS(`#user-name`), name),
				chromedp.SendKeys(chromedp.CSS(`#user-password`), "carol-first-pw"),
				chromedp.SendKeys(chromedp.CSS(`#user-groups`), "ops, qa"),
				chromedp.Submit(chromedp.CSS(`#create-user`)),
				chromedp.WaitVisible(chromedp.CSS(row)),
			)
			u := user(t, s, name)
			if !u.Active || !u.MustChangePassword || strings.Join(u.Groups, ",") != "ops,qa" {
				t.Fatalf("created %+v, want active, must change, groups ops,qa", u)
			}
			if n := browsertest.Get(t, ctx, "own row", chromedp.Evaluate[int](
				`document.querySelectorAll('#users tr[data-user="admin"] button').length`)); n != 1 {
				t.Errorf("the admin's own row has %d buttons, want 1 (no disable, no delete)", n)
			}
			// A key, so that everyone's keys show in a table.
			browsertest.Run(t, ctx, "create a key", chromedp.SendKeys(chromedp.CSS(`#key-name`), "nightly backup"),
				chromedp.Submit(chromedp.CSS(`#create-key`)), chromedp.WaitVisible(chromedp.CSS(`#new-key`)),
				chromedp.Navigate(s.srv.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`#all-keys-title ~ table`)))
			if width == 1280 {
				lines := browsertest.Get(t, ctx, "created cell", chromedp.Evaluate[int](
					`document.querySelector('#all-keys-title ~ table td[data-label="Created"] time').getClientRects().length`))
				if lines != 1 {
					t.Errorf("the Created date wraps onto %d lines", lines)
				}
			}
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("users-%d", width))

			browsertest.Run(t, ctx, "disable", chromedp.Click(chromedp.CSS(row+` button[aria-label^="Disable"]`)),
				chromedp.WaitVisible(chromedp.CSS(row+` button[aria-label^="Enable"]`)))
			if user(t, s, name).Active {
				t.Fatal("disabled on the page, still active in the store")
			}
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("user-disabled-%d", width))
			browsertest.Run(t, ctx, "enable", chromedp.Click(chromedp.CSS(row+` button[aria-label^="Enable"]`)),
				chromedp.WaitVisible(chromedp.CSS(row+` button[aria-label^="Disable"]`)))
			if !user(t, s, name).Active {
				t.Fatal("enabled on the page, still inactive in the store")
			}

			browsertest.Run(t, ctx, "require a new password of joe",
				chromedp.Click(chromedp.CSS(`#users tr[data-user="joe"] button[aria-label^="Require"]`)),
				chromedp.WaitVisible(chromedp.CSS(`#users tr[data-user="joe"] .pill.warn`)))
			if !user(t, s, "joe").MustChangePassword {
				t.Fatal("required on the page, not in the store")
			}
			s.clearMustChange(t, "joe")

			browsertest.Run(t, ctx, "delete", chromedp.Click(chromedp.CSS(row+` button[aria-label^="Delete"]`)),
				chromedp.WaitNotPresent(chromedp.CSS(row)))
			if msg := browsertest.Get(t, ctx, "notice", chromedp.Text(chromedp.CSS(`.notice`))); !strings.Contains(msg, "deleted") {
				t.Errorf("after deleting, the page says %q", msg)
			}
			if _, err := s.store.UserByName(t.Context(), name); err == nil {
				t.Errorf("deleted on the page, still in the store")
			}
		})
	}
	browsertest.CopyScreenshots(t, dir)
}

// TestBrowserMustChangePassword: a user who must change the password
// logs in, is asked for a new one on the spot (a mismatch is explained),
// sets it and is signed in; the old password then no longer works.
func TestBrowserMustChangePassword(t *testing.T) {
	s := startSite(t, "sqlite:"+filepath.Join(t.TempDir(), "g.db"), true)
	dir := browsertest.Shots(t)
	for i, width := range []int{1280, 360} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			ctx := browsertest.Start(t, width)
			current := users["newbie"]
			if i > 0 {
				current = "newbie-own-pw-1280"
				s.setMustChange(t, "newbie")
			}
			logIn(t, ctx, s.srv.URL, "newbie", current)
			browsertest.Run(t, ctx, "asked for a new password", chromedp.WaitVisible(chromedp.CSS(`#new-password-form`)))
			if browsertest.SessionCookie(t, ctx) != nil {
				t.Fatal("a session before the password is changed")
			}
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("must-change-%d", width))
			newPW := fmt.Sprintf("newbie-own-pw-%d", width)
			browsertest.Run(t, ctx, "mismatch",
				chromedp.SendKeys(chromedp.CSS(`#current`), current),
				chromedp.SendKeys(chromedp.CSS(`#new`), newPW),
				chromedp.SendKeys(chromedp.CSS(`#again`), newPW+"x"),
				chromedp.Submit(chromedp.CSS(`#new-password-form`)),
				chromedp.WaitVisible(chromedp.CSS(`.error`)))
			if msg := browsertest.Get(t, ctx, "error", chromedp.Text(chromedp.CSS(`.error`))); !strings.Contains(msg, "not the same") {
				t.Errorf("mismatch says %q", msg)
			}
			browsertest.Run(t, ctx, "set it",
				chromedp.SendKeys(chromedp.CSS(`#current`), current),
				chromedp.SendKeys(chromedp.CSS(`#new`), newPW),
				chromedp.SendKeys(chromedp.CSS(`#again`), newPW),
				chromedp.Submit(chromedp.CSS(`#new-password-form`)),
				chromedp.WaitVisible(chromedp.CSS(`#me-title`)))
			if who := browsertest.Get(t, ctx, "who", chromedp.Text(chromedp.CSS(`#me-title`))); who != "Signed in as newbie" {
				t.Errorf("the page says %q", who)
			}
			browsertest.Screenshot(t, ctx, dir, fmt.Sprintf("password-set-%d", width))
			if u := user(t, s, "newbie"); u.MustChangePassword {
				t.Error("still must change the password")
			}
			if code := basicLogin(t, s.srv.URL, "newbie", current); code != 401 {
				t.Errorf("the old password answers %d, want 401", code)
			}
		})
	}
	browsertest.CopyScreenshots(t, dir)
}

func user(t *testing.T, s *site, name string) store.User {
	t.Helper()
	u, err := s.store.UserByName(t.Context(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

func (s *site) setMustChange(t *testing.T, name string) { s.editUser(t, name, true) }

func (s *site) clearMustChange(t *testing.T, name string) { s.editUser(t, name, false) }

func (s *site) editUser(t *testing.T, name string, must bool) {
	t.Helper()
	u := user(t, s, name)
	u.MustChangePassword = must
	if err := s.store.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
}
