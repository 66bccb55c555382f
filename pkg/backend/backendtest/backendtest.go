// Package backendtest is the conformance suite every password backend
// passes: run it from the backend's own tests against a real identity
// source, and a new backend is proved by one call.
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, newBackend(t), backendtest.Fixture{User: "alice", Password: "alice-password"})
//	}
package backendtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Fixture is what the suite needs to know of the identity source.
type Fixture struct {
	// User and Password are a user the source knows and their password.
	User, Password string
	// Unreachable, when set, returns a backend of the same kind whose
	// source cannot be reached (a stopped server, a closed port). Backends
	// whose source is local (a file) leave it nil.
	Unreachable func(t *testing.T) backend.Backend
	// Slow is how long one check may take; default 5 s.
	Slow time.Duration
}

// Run runs the suite against b, one subtest per rule.
func Run(t *testing.T, b backend.Backend, f Fixture) {
	if f.Slow <= 0 {
		f.Slow = 5 * time.Second
	}
	t.Run("GoodCredentials", func(t *testing.T) { testGood(t, b, f) })
	t.Run("UnknownUserIsWrongPassword", func(t *testing.T) { testSameRefusal(t, b, f) })
	t.Run("EmptyPassword", func(t *testing.T) { refused(t, b, f.User, "") })
	t.Run("Wildcards", func(t *testing.T) { testWildcards(t, b, f) })
	t.Run("BadBytesInName", func(t *testing.T) { testBadBytes(t, b, f) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelled(t, b, f) })
	t.Run("Unreachable", func(t *testing.T) { testUnreachable(t, f) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, b, f) })
}

func testGood(t *testing.T, b backend.Backend, f Fixture) {
	id, err := b.Authenticate(t.Context(), f.User, f.Password)
	if err != nil {
		t.Fatalf("Authenticate(%q, right password) = %v", f.User, err)
	}
	if id.Username == "" {
		t.Errorf("Authenticate(%q) gave an empty user name", f.User)
	}
}

// refused checks that user/password is refused with exactly the
// invalid-credentials error, and returns it.
func refused(t *testing.T, b backend.Backend, user, password string) error {
	t.Helper()
	id, err := b.Authenticate(t.Context(), user, password)
	if !errors.Is(err, backend.ErrInvalidCredentials) {
		t.Errorf("Authenticate(%q, %q) = %+v, %v; want backend.ErrInvalidCredentials", user, password, id, err)
	}
	return err
}

// testSameRefusal: a wrong password and an unknown user get the same
// error, so callers cannot tell which names exist.
func testSameRefusal(t *testing.T, b backend.Backend, f Fixture) {
	wrong := refused(t, b, f.User, f.Password+"x")
	unknown := refused(t, b, "no-such-user-backendtest", f.Password)
	if wrong != nil && unknown != nil && wrong.Error() != unknown.Error() {
		t.Errorf("wrong password %q, unknown user %q: the answers differ", wrong, unknown)
	}
}

// testWildcards: search syntax in a name never matches a user.
func testWildcards(t *testing.T, b backend.Backend, f Fixture) {
	for _, name := range []string{"*", f.User[:1] + "*", "(uid=*)", f.User + ")(uid=*"} {
		refused(t, b, name, f.Password)
	}
}

// testBadBytes: names with NUL, control characters or invalid UTF-8 are
// refused, never truncated into another name.
func testBadBytes(t *testing.T, b backend.Backend, f Fixture) {
	for _, name := range []string{f.User + "\x00", f.User + "\x00x", "\x00" + f.User, f.User + "\xff", "\xc3\x28", f.User + "\n"} {
		refused(t, b, name, f.Password)
	}
	refused(t, b, f.User, f.Password+"\x00")
}

// testCancelled: a done context is answered promptly with the unavailable
// error, and no password is checked.
func testCancelled(t *testing.T, b backend.Backend, f Fixture) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	_, err := b.Authenticate(ctx, f.User, f.Password)
	if !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Authenticate with a cancelled context = %v, want backend.ErrUnavailable", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("a cancelled context took %v", took)
	}
}

// testUnreachable: a source that cannot be reached is the unavailable
// error, within the backend's own timeout.
func testUnreachable(t *testing.T, f Fixture) {
	if f.Unreachable == nil {
		t.Skip("the identity source is local")
	}
	b := f.Unreachable(t)
	start := time.Now()
	_, err := b.Authenticate(t.Context(), f.User, f.Password)
	if !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Authenticate against an unreachable source = %v, want backend.ErrUnavailable", err)
	}
	if took := time.Since(start); took > f.Slow {
		t.Errorf("an unreachable source took %v", took)
	}
}

// testConcurrent: concurrent checks, right and wrong, each get their own
// answer (run it with -race).
func testConcurrent(t *testing.T, b backend.Backend, f Fixture) {
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 16 {
		wg.Go(func() {
			password := f.Password
			if i%2 == 1 {
				password += "x"
			}
			_, err := b.Authenticate(t.Context(), f.User, password)
			switch {
			case i%2 == 0 && err != nil:
				errs <- fmt.Errorf("right password, call %d: %w", i, err)
			case i%2 == 1 && !errors.Is(err, backend.ErrInvalidCredentials):
				errs <- fmt.Errorf("wrong password, call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
