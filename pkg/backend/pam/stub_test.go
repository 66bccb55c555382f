//go:build !pam

package pam_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam"
)

func TestStubSaysHowToRebuild(t *testing.T) {
	b, err := pam.Factory(map[string]any{"service": "login"}, nil)
	if b != nil || err == nil {
		t.Fatalf("Factory = %v, %v; want an error", b, err)
	}
	const want = "pam backend: this gatehouse was built without PAM support (rebuild with libpam0g-dev installed: make build)"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if !strings.Contains(err.Error(), "libpam0g-dev") {
		t.Error("no hint")
	}
}
