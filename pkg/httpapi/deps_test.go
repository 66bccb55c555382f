package httpapi_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoImplementations: pkg/httpapi reaches the store and the backends
// through pkg/auth and their interfaces only; it compiles no store or
// backend implementation (its tests may).
func TestNoImplementations(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the package's imports: %v", err)
	}
	out, err := exec.CommandContext(t.Context(), goBin, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	const mod = "github.com/gatehouse-auth/gatehouse/"
	for _, p := range strings.Fields(string(out)) {
		for _, parent := range []string{mod + "pkg/store/", mod + "pkg/backend/"} {
			if strings.HasPrefix(p, parent) {
				t.Errorf("httpapi depends on %s, an implementation", p)
			}
		}
	}
}
