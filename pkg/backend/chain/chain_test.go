package chain_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/backendtest"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/chain"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
)

func TestNewRefuses(t *testing.T) {
	file, _ := newFile(t, map[string]string{"frank": "frank-password"})
	plain := authOnly{file}
	tests := []struct {
		name       string
		links      []chain.Link
		breakGlass []string
		want       string
	}{
		{"no links", nil, nil, "no backends"},
		{"no name", []chain.Link{{Backend: file}}, nil, "has no name"},
		{"no backend", []chain.Link{{Name: "flat_file"}}, nil, "is nil"},
		{"cannot tell, not last", []chain.Link{{"pam", plain}, {"flat_file", file}}, nil, `"pam" (1 of 2) cannot tell`},
		{"bad break-glass name", []chain.Link{{"flat_file", file}}, []string{"ad\nmin"}, "break-glass user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := chain.New(tt.links, tt.breakGlass, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("New = %v, want a one-line error with %q", err, tt.want)
			}
		})
	}
	if _, err := chain.New([]chain.Link{{"flat_file", file}, {"pam", plain}}, nil, nil); err != nil {
		t.Errorf("a non-Prober last: %v", err)
	}
}

// TestOwnership: the first link that knows a name owns it; its refusal is
// final even when a later link would take the password.
func TestOwnership(t *testing.T) {
	loc, _ := newLocal(t, map[string]string{"alice": "alice-password", "ivan": "ivan-password"}, "ivan")
	file, _ := newFile(t, map[string]string{"alice": "file-alice-password", "ivan": "ivan-password", "frank": "frank-password"})
	c := newChain(t, nil, chain.Link{Name: "local", Backend: loc}, chain.Link{Name: "flat_file", Backend: file})
	for _, l := range []login{
		{"alice", "alice-password", "local"},
		{"alice", "file-alice-password", "401"}, // the file's copy never answers
		{"ivan", "ivan-password", "401"},        // inactive in the store: final
		{"frank", "frank-password", "flat_file"},
		{"frank", "wrong", "401"},
		{"nobody", "frank-password", "401"},
		{"frank", "", "401"},
	} {
		l.check(t, c)
	}
	id, _ := c.Authenticate(t.Context(), "alice", "alice-password")
	if !slices.Equal(id.Groups, []string{"local-ops"}) {
		t.Errorf("alice's groups: %v", id.Groups)
	}
}

// TestSpend: after the owner answers, every later Prober spends one
// refusal; a login that reaches the last link spends nothing.
func TestSpend(t *testing.T) {
	loc, _ := newLocal(t, map[string]string{"alice": "alice-password"})
	file, _ := newFile(t, map[string]string{"frank": "frank-password"})
	counter := &spendCounter{Prober: file}
	c := newChain(t, nil, chain.Link{Name: "local", Backend: loc}, chain.Link{Name: "flat_file", Backend: counter})
	for _, tt := range []struct {
		login
		spent int32
	}{
		{login{"alice", "alice-password", "local"}, 1},
		{login{"alice", "wrong-password", "401"}, 1},
		{login{"frank", "frank-password", "flat_file"}, 0},
		{login{"nobody", "frank-password", "401"}, 0},
	} {
		counter.spent.Store(0)
		tt.check(t, c)
		if n := counter.spent.Load(); n != tt.spent {
			t.Errorf("%s/%s: the file spent %d times, want %d", tt.user, tt.password, n, tt.spent)
		}
	}
	m := medians(t, c, 15, login{"alice", "wrong", "401"}, login{"frank", "wrong", "401"}, login{"nobody", "wrong", "401"})
	t.Logf("medians: local wrong password %v, file wrong password %v, unknown %v", m[0], m[1], m[2])
}

// TestBreakGlassWhileStoreDown: while the first link cannot be asked, only
// break-glass names reach the file; everyone else gets ErrUnavailable.
func TestBreakGlassWhileStoreDown(t *testing.T) {
	loc, s := newLocal(t, map[string]string{"alice": "alice-password"})
	file, _ := newFile(t, map[string]string{"alice": "file-alice-password", "frank": "frank-password", "breakglass": "breakglass-password"})
	log, logs := newLog()
	c, err := chain.New([]chain.Link{{"local", loc}, {"flat_file", file}}, []string{"breakglass", "ghost"}, log)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	for _, l := range []login{
		{"breakglass", "breakglass-password", "flat_file"},
		{"breakglass", "wrong", "401"},
		{"Breakglass", "breakglass-password", "503"}, // the file matches names exactly
		{"alice", "file-alice-password", "503"},
		{"frank", "frank-password", "503"},
		{"ghost", "ghost-password", "503"}, // break-glass, but no later link knows it
		{"nobody", "x-password", "503"},
	} {
		l.check(t, c)
	}
	if !strings.Contains(logs.String(), "break-glass") || strings.Contains(logs.String(), "breakglass-password") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestConformance runs the backend suite on a chain, for a user of each
// link; unreachable is the same chain with the store closed.
func TestConformance(t *testing.T) {
	open := func(t *testing.T) (*chain.Chain, func() error) {
		loc, s := newLocal(t, map[string]string{"alice": "alice-password"})
		file, _ := newFile(t, map[string]string{"frank": "frank-password"})
		return newChain(t, nil, chain.Link{Name: "local", Backend: loc}, chain.Link{Name: "flat_file", Backend: file}), s.Close
	}
	c, _ := open(t)
	unreachable := func(t *testing.T) backend.Backend {
		c, closeStore := open(t)
		_ = closeStore()
		return c
	}
	t.Run("first link", func(t *testing.T) {
		backendtest.Run(t, c, backendtest.Fixture{User: "alice", Password: "alice-password", Unreachable: unreachable})
	})
	t.Run("last link", func(t *testing.T) {
		backendtest.Run(t, c, backendtest.Fixture{User: "frank", Password: "frank-password", Unreachable: unreachable})
	})
}

// TestChainOfOne: a chain of one link answers as its backend does, names
// it, and folds as it does.
func TestChainOfOne(t *testing.T) {
	file, _ := newFile(t, map[string]string{"frank": "frank-password"})
	c := newChain(t, nil, chain.Link{Name: "flat_file", Backend: file})
	backendtest.Run(t, c, backendtest.Fixture{User: "frank", Password: "frank-password"})
	login{"frank", "frank-password", "flat_file"}.check(t, c)
	if got := c.FoldName(" FRANK"); got != " FRANK" {
		t.Errorf("FoldName through a flat file = %q", got)
	}
	pamLike := newChain(t, nil, chain.Link{Name: "pam", Backend: authOnly{file}})
	login{"frank", "frank-password", "pam"}.check(t, pamLike)
	login{"frank", "wrong", "401"}.check(t, pamLike)
}

// TestNonProberLast: a last link that can only Authenticate answers for
// the names no earlier link knows.
func TestNonProberLast(t *testing.T) {
	loc, _ := newLocal(t, map[string]string{"alice": "alice-password"})
	file, _ := newFile(t, map[string]string{"alice": "file-alice-password", "frank": "frank-password"})
	c := newChain(t, nil, chain.Link{Name: "local", Backend: loc}, chain.Link{Name: "pam", Backend: authOnly{file}})
	for _, l := range []login{
		{"alice", "alice-password", "local"},
		{"alice", "file-alice-password", "401"},
		{"frank", "frank-password", "pam"},
		{"frank", "wrong", "401"},
	} {
		l.check(t, c)
	}
}

// TestRemoved: removals from any link are reported through the chain.
func TestRemoved(t *testing.T) {
	loc, _ := newLocal(t, map[string]string{"alice": "alice-password"})
	file, path := newFile(t, map[string]string{"frank": "frank-password", "grace": "grace-password"})
	c := newChain(t, nil, chain.Link{Name: "local", Backend: loc}, chain.Link{Name: "flat_file", Backend: file})
	if _, err := htpasswd.DeleteUser(path, "frank"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for !slices.Contains(got, "frank") && time.Now().Before(deadline) {
		removed, err := c.Removed(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, removed...)
		time.Sleep(50 * time.Millisecond)
	}
	if !slices.Equal(got, []string{"frank"}) {
		t.Errorf("removed = %v, want [frank]", got)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Removed(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Removed with a done context = %v", err)
	}
}

// closing is a backend with a Close that counts and may fail.
type closing struct {
	backend.Prober
	closed int
	err    error
}

func (c *closing) Close() error { c.closed++; return c.err }

func TestClose(t *testing.T) {
	file, _ := newFile(t, map[string]string{"frank": "frank-password"})
	a, b := &closing{Prober: file}, &closing{Prober: file, err: errors.New("boom")}
	c := newChain(t, nil, chain.Link{Name: "first", Backend: file}, chain.Link{Name: "a", Backend: a}, chain.Link{Name: "b", Backend: b})
	err := c.Close()
	if a.closed != 1 || b.closed != 1 || err == nil || !strings.Contains(err.Error(), `"b"`) || strings.Contains(err.Error(), `"a"`) {
		t.Errorf("Close = %v; closed %d and %d times", err, a.closed, b.closed)
	}
}

// TestOpen builds a chain from a registry, and closes what it built when
// the chain is refused.
func TestOpen(t *testing.T) {
	_, s := newLocal(t, nil)
	file, path := newFile(t, map[string]string{"frank": "frank-password"})
	var built []*closing
	reg := backend.NewRegistry()
	reg.Register(local.Name, local.Factory(s))
	reg.Register(htpasswd.Name, htpasswd.Factory)
	reg.Register("closer", func(map[string]any, *slog.Logger) (backend.Backend, error) {
		b := &closing{Prober: file}
		built = append(built, b)
		return b, nil
	})
	localKw := map[string]any{"argon2_memory": 64, "argon2_iterations": 1}
	c, err := chain.Open(reg, []chain.Spec{{local.Name, localKw}, {htpasswd.Name, map[string]any{"file_path": path}}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	login{"frank", "frank-password", "flat_file"}.check(t, c)
	_, err = chain.Open(reg, []chain.Spec{{"closer", nil}, {htpasswd.Name, map[string]any{"file_path": path}}}, []string{"bad\nname"}, nil)
	if err == nil || len(built) != 1 || built[0].closed != 1 {
		t.Errorf("a refused chain: %v; built %d, closed %v", err, len(built), built)
	}
	_, err = chain.Open(reg, []chain.Spec{{"closer", nil}, {"kerberos", nil}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "2 of 2") || len(built) != 2 || built[1].closed != 1 {
		t.Errorf("an unknown backend: %v", err)
	}
}

var _ io.Closer = (*closing)(nil)
