// Package integration holds the one rule for tests that need a real part
// (PostgreSQL, slapd, libpam, a KDC, an OpenID provider, a browser): when
// the part is missing they are skipped, except under
// GATEHOUSE_REQUIRE_INTEGRATION=1 (what make test sets), where a missing
// part fails the run instead of letting it pass without the test.
package integration

import (
	"os"
	"testing"
)

// EnvRequire turns every such skip into a failure when "1".
const EnvRequire = "GATEHOUSE_REQUIRE_INTEGRATION"

// Required reports whether missing parts must fail the run.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// Unavailable skips tb, saying why, or fails it when Required.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if Required() {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}
