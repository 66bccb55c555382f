package authn_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandardLibraryOnly: importing authn compiles nothing but the
// standard library (the package's tests may import more).
func TestStandardLibraryOnly(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the package's imports: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-deps",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	const self = "github.com/gatehouse-auth/gatehouse/pkg/authn"
	var seen bool
	for _, p := range strings.Fields(string(out)) {
		if p == self {
			seen = true
			continue
		}
		t.Errorf("authn depends on %s, which is not in the standard library", p)
	}
	if !seen {
		t.Errorf("go list did not list %s itself: %q", self, out)
	}
}
