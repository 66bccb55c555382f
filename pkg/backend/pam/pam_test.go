//go:build pam

package pam_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	libpam "github.com/msteinert/pam/v2"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/pam/pamtest"
)

// Service files. pam_pwdfile and pam_unix sleep about two seconds after a
// failure unless told "nodelay".
const (
	permitService = "auth required pam_permit.so\naccount required pam_permit.so\n"
	unixService   = "auth required pam_unix.so nodelay\naccount required pam_unix.so\n"
	// st2Service checks the password only, like st2 (no account stage).
	st2Service = "auth required pam_unix.so nodelay\naccount required pam_permit.so\n"
)

func pwdfileService(pwdfile, opts string) string {
	return "auth required pam_pwdfile.so pwdfile=" + pwdfile + " " + opts + "\naccount required pam_permit.so\n"
}

// open builds a backend on service in confDir; change adjusts the config.
func open(t testing.TB, confDir, service string, change func(*pam.Config)) *pam.Backend {
	t.Helper()
	cfg := pam.DefaultConfig()
	cfg.Service, cfg.ConfDir, cfg.CheckForRoot = service, confDir, false
	if change != nil {
		change(&cfg)
	}
	b, err := pam.New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// pwdfileBackend returns a backend over a pam_pwdfile service knowing
// alice/alice-password and nopass (empty hash field).
func pwdfileBackend(t testing.TB, opts string, change func(*pam.Config)) *pam.Backend {
	t.Helper()
	pamtest.ModuleDir(t, "pam_pwdfile.so", "pam_permit.so")
	pwdfile := pamtest.PwdFile(t, map[string]string{"alice": "alice-password", "nopass": ""})
	dir := pamtest.ConfDir(t, map[string]string{"svc": pwdfileService(pwdfile, opts)})
	return open(t, dir, "svc", change)
}

// check asserts one Authenticate outcome: wantErr nil means success as
// user; otherwise the error must be exactly wantErr (the bare sentinel).
func check(t *testing.T, b backend.Backend, user, password string, wantErr error) {
	t.Helper()
	id, err := b.Authenticate(t.Context(), user, password)
	switch {
	case wantErr == nil && err != nil:
		t.Errorf("Authenticate(%q) = %v, want success", user, err)
	case wantErr == nil && (id.Username != user || id.Groups != nil):
		t.Errorf("Authenticate(%q) identity = %+v, want {Username: %q}", user, id, user)
	case wantErr != nil && err != wantErr:
		t.Errorf("Authenticate(%q, %q) = %v, want %v", user, password, err, wantErr)
	}
}

func TestPwdfile(t *testing.T) {
	b := pwdfileBackend(t, "nodelay", nil)
	tests := []struct {
		name, user, password string
		wantErr              error
	}{
		{"good password", "alice", "alice-password", nil},
		{"wrong password", "alice", "alice-passwore", backend.ErrInvalidCredentials},
		{"unknown user", "bob", "alice-password", backend.ErrInvalidCredentials},
		{"empty password", "alice", "", backend.ErrInvalidCredentials},
		{"empty hash field accepts nothing", "nopass", "anything", backend.ErrInvalidCredentials},
		{"glob as user", "*", "alice-password", backend.ErrInvalidCredentials},
		{"prefix as user", "a", "alice-password", backend.ErrInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, b, tt.user, tt.password, tt.wantErr) })
	}
}

// TestRefusedBeforeLibpam uses a service that accepts anyone: every refusal
// here comes from the backend's own checks, before pam_start.
func TestRefusedBeforeLibpam(t *testing.T) {
	pamtest.ModuleDir(t, "pam_permit.so")
	b := open(t, pamtest.ConfDir(t, map[string]string{"permit": permitService}), "permit", nil)
	check(t, b, "alice", "anything", nil) // the control: pam_permit says yes
	tests := []struct{ name, user, password string }{
		{"empty password", "alice", ""},
		{"empty user", "", "anything"},
		{"NUL in password", "alice", "any\x00thing"},
		{"NUL at the end of the password", "alice", "anything\x00"},
		{"NUL in user", "alice\x00root", "anything"},
		{"NUL alone as password", "alice", "\x00"},
		{"password over PAM_MAX_RESP_SIZE", "alice", strings.Repeat("p", 513)},
		{"user over 256 bytes", strings.Repeat("u", 257), "anything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, b, tt.user, tt.password, backend.ErrInvalidCredentials) })
	}
	check(t, b, "alice", strings.Repeat("p", 512), nil) // the limit itself passes
}

func TestHostAccounts(t *testing.T) {
	pamtest.RequireHostAccounts(t)
	pamtest.ModuleDir(t, "pam_unix.so", "pam_permit.so")
	dir := pamtest.ConfDir(t, map[string]string{"unix": unixService, "st2": st2Service})
	b := open(t, dir, "unix", func(c *pam.Config) { c.CheckForRoot = true })
	st2Like := open(t, dir, "st2", nil)

	const pw = "Correct-Horse-9"
	good := pamtest.NewUser(t, pw)
	check(t, b, good, pw, nil)
	check(t, b, good, pw+"x", backend.ErrInvalidCredentials)
	check(t, b, good, "", backend.ErrInvalidCredentials)
	check(t, b, pamtest.UserPrefix+"nosuchuser", pw, backend.ErrInvalidCredentials)

	tests := []struct {
		name   string
		change func(testing.TB, string)
		st2OK  bool // whether a password-only check (st2) lets it in
	}{
		{"expired account", pamtest.Expire, true},
		{"must change password", pamtest.MustChange, true},
		{"locked password", pamtest.Lock, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := pamtest.NewUser(t, pw)
			check(t, b, user, pw, nil)
			tt.change(t, user)
			check(t, b, user, pw, backend.ErrInvalidCredentials)
			if _, err := st2Like.Authenticate(t.Context(), user, pw); (err == nil) != tt.st2OK {
				t.Errorf("without the account stage: %v, want success %v", err, tt.st2OK)
			}
		})
	}
}

// TestUnknownUserSameAsWrongPassword compares the whole error value and
// its text, through both modules.
func TestUnknownUserSameAsWrongPassword(t *testing.T) {
	same := func(t *testing.T, b backend.Backend, known, unknownUser string) {
		t.Helper()
		_, wrong := b.Authenticate(t.Context(), known, "nope-nope")
		_, unknown := b.Authenticate(t.Context(), unknownUser, "nope-nope")
		if wrong != backend.ErrInvalidCredentials || wrong != unknown || wrong.Error() != unknown.Error() {
			t.Errorf("wrong password: %v; unknown user: %v", wrong, unknown)
		}
	}
	t.Run("pam_pwdfile", func(t *testing.T) {
		same(t, pwdfileBackend(t, "nodelay", nil), "alice", "nobody-here")
	})
	t.Run("pam_unix", func(t *testing.T) {
		pamtest.RequireHostAccounts(t)
		pamtest.ModuleDir(t, "pam_unix.so")
		user := pamtest.NewUser(t, "Right-Password-1")
		same(t, open(t, pamtest.ConfDir(t, map[string]string{"unix": unixService}), "unix", nil), user, user+"x")
	})
}

func TestUnavailable(t *testing.T) {
	pamtest.ModuleDir(t, "pam_pwdfile.so", "pam_permit.so")
	dir := pamtest.ConfDir(t, map[string]string{
		"nomodule": "auth required pam_gatehouse_no_such_module.so\naccount required pam_permit.so\n",
		"nofile":   pwdfileService("/nonexistent/gatehouse-pwdfile", "nodelay"),
		"nopwdarg": "auth required pam_pwdfile.so nodelay\naccount required pam_permit.so\n",
	})
	tests := []struct {
		name, service string
		code          libpam.Error
	}{
		{"missing module", "nomodule", libpam.ErrModuleUnknown},
		{"missing service and no \"other\"", "nosuchservice", libpam.ErrAbort},
		{"password file missing", "nofile", libpam.ErrAuthinfoUnavail},
		{"module misconfigured", "nopwdarg", libpam.ErrAuthinfoUnavail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := open(t, dir, tt.service, nil)
			_, err := b.Authenticate(t.Context(), "alice", "alice-password")
			if !errors.Is(err, backend.ErrUnavailable) || errors.Is(err, backend.ErrInvalidCredentials) {
				t.Fatalf("Authenticate = %v, want ErrUnavailable", err)
			}
			if !errors.Is(err, tt.code) {
				t.Errorf("error %q does not wrap %v (%d)", err, tt.code, int(tt.code))
			}
			if !strings.Contains(err.Error(), tt.service) {
				t.Errorf("error %q does not name the service", err)
			}
		})
	}
}

// slowFailure starts a wrong-password login on b (about two seconds with
// the module's failure delay) and waits until it holds a slot.
func slowFailure(t *testing.T, b *pam.Backend, slotsTaken int) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := b.Authenticate(context.Background(), "alice", "wrong-password")
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for b.InFlight() < slotsTaken {
		if time.Now().After(deadline) {
			t.Fatal("the slow login never started")
		}
		time.Sleep(time.Millisecond)
	}
	return done
}

func TestBusy(t *testing.T) {
	b := pwdfileBackend(t, "", func(c *pam.Config) { c.MaxConcurrent, c.QueueTimeout = 1, 50*time.Millisecond })
	started := time.Now()
	slow := slowFailure(t, b, 1)

	start := time.Now()
	_, err := b.Authenticate(t.Context(), "alice", "alice-password")
	busyAfter := time.Since(start)
	if !errors.Is(err, backend.ErrBusy) {
		t.Fatalf("second login = %v, want ErrBusy", err)
	}
	if busyAfter < 50*time.Millisecond || busyAfter > 500*time.Millisecond {
		t.Errorf("ErrBusy after %s, want about 50ms", busyAfter)
	}
	if err := <-slow; err != backend.ErrInvalidCredentials {
		t.Errorf("slow login = %v, want ErrInvalidCredentials", err)
	}
	slowTook := time.Since(started)
	t.Logf("ErrBusy after %s while a failing login held the only slot for %s", busyAfter, slowTook)
	if slowTook < time.Second {
		t.Errorf("the failing login took %s: no failure delay?", slowTook)
	}
	check(t, b, "alice", "alice-password", nil) // the slot is free again
}

func TestContext(t *testing.T) {
	b := pwdfileBackend(t, "", func(c *pam.Config) { c.MaxConcurrent, c.QueueTimeout = 1, time.Minute })

	t.Run("done before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := b.Authenticate(ctx, "alice", "alice-password"); !errors.Is(err, context.Canceled) {
			t.Errorf("Authenticate = %v, want context.Canceled", err)
		}
	})
	t.Run("while waiting for a slot, and during the transaction", func(t *testing.T) {
		slow := slowFailure(t, b, 1)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := b.Authenticate(ctx, "alice", "alice-password")
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, backend.ErrBusy) {
			t.Errorf("waiting: %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("waiting: returned after %s", d)
		}
		<-slow

		// A failing login lasts ~2 s; the caller gives up after 50 ms and
		// the transaction keeps its slot until libpam returns.
		ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start = time.Now()
		_, err = b.Authenticate(ctx, "alice", "wrong-password")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("in flight: %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("in flight: returned after %s", d)
		}
		if b.InFlight() != 1 {
			t.Errorf("InFlight = %d right after abandoning, want 1", b.InFlight())
		}
		for deadline := time.Now().Add(5 * time.Second); b.InFlight() != 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the abandoned transaction never freed its slot")
			}
		}
	})
}

func threads(t *testing.T) int {
	t.Helper()
	n, err := pamtest.Threads()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// burst runs n concurrent wrong-password logins and returns how many got
// each error and the most OS threads seen meanwhile.
func burst(t *testing.T, b *pam.Backend, n int) (counts map[string]int, peak int) {
	t.Helper()
	var (
		mu          sync.Mutex
		wg          sync.WaitGroup
		stop        = make(chan struct{})
		peakThreads atomic.Int64
	)
	counts = map[string]int{}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if th, err := pamtest.Threads(); err == nil && int64(th) > peakThreads.Load() {
				peakThreads.Store(int64(th))
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	for i := range n {
		wg.Go(func() {
			_, err := b.Authenticate(t.Context(), "alice", fmt.Sprintf("wrong-%d", i))
			key := fmt.Sprint(err)
			switch {
			case err == backend.ErrInvalidCredentials:
				key = "invalid"
			case errors.Is(err, backend.ErrBusy):
				key = "busy"
			}
			mu.Lock()
			counts[key]++
			mu.Unlock()
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	return counts, int(peakThreads.Load())
}

// TestBurst sends 200 concurrent wrong passwords, twice: with the
// modules' failure delay and a short queue (most get ErrBusy), and without
// delay and a long queue (all go through libpam). The process must not
// crash and its OS threads must stay bounded. A third burst, with a cap
// of 200, shows that the thread count does see unbounded growth.
func TestBurst(t *testing.T) {
	const n, maxConcurrent = 200, 4
	bound := 50 + maxConcurrent
	before := threads(t)

	t.Run("failure delay, short queue", func(t *testing.T) {
		b := pwdfileBackend(t, "", func(c *pam.Config) { c.MaxConcurrent = maxConcurrent })
		start := time.Now()
		counts, peak := burst(t, b, n)
		t.Logf("%d logins in %s: %v; threads before %d, peak %d, after %d",
			n, time.Since(start).Round(time.Millisecond), counts, before, peak, threads(t))
		if counts["invalid"]+counts["busy"] != n || counts["invalid"] < maxConcurrent {
			t.Errorf("outcomes %v, want only invalid (at least %d) and busy", counts, maxConcurrent)
		}
		if peak >= bound {
			t.Errorf("peak threads %d, want < %d", peak, bound)
		}
	})
	t.Run("no delay, long queue", func(t *testing.T) {
		b := pwdfileBackend(t, "nodelay", func(c *pam.Config) {
			c.MaxConcurrent, c.QueueTimeout = maxConcurrent, time.Minute
		})
		start := time.Now()
		counts, peak := burst(t, b, n)
		t.Logf("%d logins in %s: %v; threads peak %d, after %d",
			n, time.Since(start).Round(time.Millisecond), counts, peak, threads(t))
		if counts["invalid"] != n {
			t.Errorf("outcomes %v, want %d invalid", counts, n)
		}
		if peak >= bound {
			t.Errorf("peak threads %d, want < %d", peak, bound)
		}
	})
	// The control: with room for every login at once, the same burst does
	// take one thread per login, so the bound above means something.
	t.Run("control: cap of 200", func(t *testing.T) {
		b := pwdfileBackend(t, "", func(c *pam.Config) { c.MaxConcurrent = n })
		counts, peak := burst(t, b, n)
		t.Logf("max_concurrent %d: %v; threads peak %d", n, counts, peak)
		if peak < bound {
			t.Errorf("peak threads %d without a cap: the measurement cannot see growth", peak)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); threads(t) >= bound && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond) // the control's threads exit with their goroutines
	}
	after := threads(t)
	t.Logf("threads after the bursts: %d (bound %d)", after, bound)
	if after >= bound {
		t.Errorf("threads after the bursts: %d, want < %d", after, bound)
	}
}

func TestFactory(t *testing.T) {
	pamtest.ModuleDir(t, "pam_permit.so")
	dir := pamtest.ConfDir(t, map[string]string{"permit": permitService})
	b, err := pam.Factory(map[string]any{"service": "permit", "confdir": dir, "check_for_root": false,
		"max_concurrent": 2.0, "queue_timeout": 0.05}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := b.Authenticate(t.Context(), "alice", "x"); err != nil || id.Username != "alice" {
		t.Fatalf("Authenticate = %+v, %v", id, err)
	}

	errTests := []struct {
		name   string
		kwargs map[string]any
		want   string
	}{
		{"unknown kwarg", map[string]any{"service": "permit", "colour": "red"}, "colour"},
		{"confdir not a directory", map[string]any{"confdir": dir + "/permit", "check_for_root": false}, "confdir"},
		{"bad max_concurrent", map[string]any{"max_concurrent": 0}, "max_concurrent"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pam.Factory(tt.kwargs, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Factory = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestCheckForRoot(t *testing.T) {
	pamtest.ModuleDir(t, "pam_permit.so")
	dir := pamtest.ConfDir(t, map[string]string{"permit": permitService})
	restore := pam.SetGeteuid(func() int { return 1000 })
	defer restore()

	_, err := pam.Factory(map[string]any{"service": "permit", "confdir": dir}, nil)
	if err == nil || !strings.Contains(err.Error(), "check_for_root") || !strings.Contains(err.Error(), "uid 1000") {
		t.Errorf("as uid 1000 with check_for_root: %v, want an error naming check_for_root", err)
	}
	if _, err := pam.Factory(map[string]any{"service": "permit", "confdir": dir, "check_for_root": false}, nil); err != nil {
		t.Errorf("as uid 1000 without check_for_root: %v", err)
	}
	restore()
	defer pam.SetGeteuid(func() int { return 0 })()
	if _, err := pam.Factory(map[string]any{"service": "permit", "confdir": dir}, nil); err != nil {
		t.Errorf("as root: %v", err)
	}
}
