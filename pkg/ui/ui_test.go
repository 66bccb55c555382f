package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/sqlite"
)

// namedSSO stands in for a configured single sign-on method: the login
// page only asks for its name (the flow itself is tested against Hydra
// in pkg/oidc).
type namedSSO struct{}

func (namedSSO) Begin(context.Context, store.PendingLoginStore, string, string, string, time.Time) (string, error) {
	return "", auth.ErrNoSSO
}

func (namedSSO) Finish(context.Context, store.PendingLoginStore, string, string, string, bool, time.Time) (auth.SSOResult, error) {
	return auth.SSOResult{}, backend.ErrInvalidCredentials
}

func (namedSSO) DisplayName() string { return "Acme SSO" }

// noPasswords refuses every password; it stands for any password backend.
type noPasswords struct{}

func (noPasswords) Authenticate(context.Context, string, string) (backend.Identity, error) {
	return backend.Identity{}, backend.ErrInvalidCredentials
}

// TestLoginPageOffers: the login page shows only the ways in the server
// offers, and the single sign-on button keeps next on this site.
func TestLoginPageOffers(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		sso, passwords       bool
		wantButton, wantForm bool
	}{
		{"passwords only", false, true, false, true},
		{"sso only", true, false, true, false},
		{"both", true, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := sqlite.Open(t.Context(), sqlite.Memory)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			cfg := httpapi.Config{Store: st, BackendName: "oidc"}
			if tc.sso {
				cfg.SSO = namedSSO{}
			}
			if tc.passwords {
				cfg.Backend, cfg.BackendName = noPasswords{}, "flat_file"
			}
			srv := httptest.NewServer(httpapi.NewServer(cfg))
			t.Cleanup(srv.Close)
			for next, want := range map[string]string{
				"/app/x?y=1":     "next=%2fapp%2fx%3fy%3d1",
				"//evil.example": "next=%2fui%2f",
			} {
				resp, err := http.Get(srv.URL + "/ui/login?next=" + next)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				page := string(b)
				if got := strings.Contains(page, `id="sso-button"`); got != tc.wantButton {
					t.Errorf("button shown: %v, want %v", got, tc.wantButton)
				}
				if got := strings.Contains(page, `id="login-form"`); got != tc.wantForm {
					t.Errorf("password form shown: %v, want %v", got, tc.wantForm)
				}
				link := `href="/auth/v1/oidc/login?` + want + `"`
				if tc.wantButton && (!strings.Contains(page, link) || !strings.Contains(page, "Sign in with Acme SSO")) {
					t.Errorf("next=%s: no button linking to %s in\n%s", next, link, page)
				}
			}
		})
	}
}
