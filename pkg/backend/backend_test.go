package backend_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

type cfg struct {
	Host string `mapstructure:"host"`
	Port int    `mapstructure:"port"`
	TLS  bool   `mapstructure:"use_tls"`
}

func TestDecodeKwargs(t *testing.T) {
	var c cfg
	err := backend.DecodeKwargs(map[string]any{"host": "h", "colour": 1, "shade": 2}, &c, backend.KwargsOptions{})
	if err == nil || !strings.Contains(err.Error(), "colour") || !strings.Contains(err.Error(), "shade") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("unknown keys: %v", err)
	}
	c = cfg{Port: 389}
	if err := backend.DecodeKwargs(map[string]any{"port": "636", "use_tls": "true"}, &c, backend.KwargsOptions{WeaklyTyped: true}); err != nil || c.Port != 636 || !c.TLS {
		t.Fatalf("INI strings: %+v %v", c, err)
	}
	if err := backend.DecodeKwargs(map[string]any{"port": "636"}, &cfg{}, backend.KwargsOptions{}); err == nil || !strings.Contains(err.Error(), "port") {
		t.Fatalf("a string for a number without weak typing: %v", err)
	}
	c = cfg{Port: 389}
	if err := backend.DecodeKwargs(nil, &c, backend.KwargsOptions{}); err != nil || c.Port != 389 {
		t.Fatalf("no kwargs must keep the defaults: %+v %v", c, err)
	}
}

type nop struct{}

func (nop) Authenticate(context.Context, string, string) (backend.Identity, error) {
	return backend.Identity{}, backend.ErrInvalidCredentials
}

func TestRegistry(t *testing.T) {
	reg := backend.NewRegistry()
	f := func(map[string]any, *slog.Logger) (backend.Backend, error) { return nop{}, nil }
	reg.Register("zeta", f)
	reg.Register("alpha", f)
	if got := strings.Join(reg.Names(), ","); got != "alpha,zeta" {
		t.Fatalf("Names = %s", got)
	}
	if _, err := reg.Open("alpha", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Open("nosuch", nil, nil); err == nil || !strings.Contains(err.Error(), "alpha") {
		t.Fatalf("unknown backend: %v", err)
	}
	for name, register := range map[string]func(){
		"duplicate": func() { reg.Register("alpha", f) },
		"nil":       func() { reg.Register("beta", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s registration did not panic", name)
				}
			}()
			register()
		}()
	}
}

func TestDecide(t *testing.T) {
	id := backend.Identity{Username: "alice"}
	if got, err := backend.Decide(id, backend.Accepted, nil); err != nil || got.Username != "alice" {
		t.Errorf("Accepted: %+v, %v", got, err)
	}
	for _, v := range []backend.Verdict{backend.Refused, backend.Unknown, backend.Verdict(7)} {
		if got, err := backend.Decide(id, v, nil); err != backend.ErrInvalidCredentials || got.Username != "" {
			t.Errorf("%v: %+v, %v; want the bare ErrInvalidCredentials", v, got, err)
		}
	}
	down := errors.New("down")
	if _, err := backend.Decide(id, backend.Accepted, down); err != down {
		t.Errorf("an error must win over the verdict: %v", err)
	}
	var zero backend.Verdict
	if zero != backend.Refused || zero.String() != "refused" {
		t.Errorf("the zero Verdict is %v, want refused (fail closed)", zero)
	}
}
