package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// fakeScenario logs the steps runScenario calls.
type fakeScenario struct {
	mu       sync.Mutex
	steps    []string
	n        int // rounds; 0: not repeated
	setupErr error
	faultErr error
	loading  bool
}

func (f *fakeScenario) log(s string) { f.mu.Lock(); f.steps = append(f.steps, s); f.mu.Unlock() }
func (f *fakeScenario) setup() error { f.log("setup"); return f.setupErr }
func (f *fakeScenario) load(ctx context.Context) {
	f.mu.Lock()
	f.loading = true
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	f.loading = false
	f.mu.Unlock()
	f.log("load stopped")
}

func (f *fakeScenario) fault() error {
	// The load runs while the fault does.
	for range 100 {
		f.mu.Lock()
		on := f.loading
		f.mu.Unlock()
		if on {
			break
		}
		time.Sleep(time.Millisecond)
	}
	f.log("fault")
	return f.faultErr
}
func (f *fakeScenario) judge(r *loadgen.Report) error {
	f.log("judge")
	r.Bar("b", true, "", "")
	return nil
}
func (f *fakeScenario) close() { f.log("close") }

type fakeRepeated struct{ *fakeScenario }

func (f fakeRepeated) rounds() int  { return f.n }
func (f fakeRepeated) again() error { f.log("again"); return nil }

func TestRunScenarioSteps(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		f       *fakeScenario
		repeat  bool
		want    []string
		wantErr error
		pending bool
	}{
		{name: "once", f: &fakeScenario{},
			want: []string{"setup", "fault", "load stopped", "judge", "close"}},
		{name: "three rounds", f: &fakeScenario{n: 3}, repeat: true,
			want: []string{"setup", "fault", "load stopped", "again", "fault", "load stopped", "again", "fault", "load stopped", "judge", "close"}},
		{name: "fault fails", f: &fakeScenario{faultErr: boom}, wantErr: boom,
			want: []string{"setup", "fault", "load stopped", "close"}},
		{name: "setup fails", f: &fakeScenario{setupErr: boom}, wantErr: boom,
			want: []string{"setup", "close"}},
		{name: "pending", f: &fakeScenario{setupErr: pendingError{"x", "pending: no x here"}}, pending: true,
			want: []string{"setup", "close"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s scenario = tt.f
			if tt.repeat {
				s = fakeRepeated{tt.f}
			}
			r := &loadgen.Report{}
			err := runScenario(s, r)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(tt.f.steps, tt.want) {
				t.Errorf("steps %v, want %v", tt.f.steps, tt.want)
			}
			bars := r.Bars()
			if tt.pending && (len(bars) != 1 || !bars[0].Pending || bars[0].Measured != "pending: no x here") {
				t.Errorf("pending: bars %+v", bars)
			}
		})
	}
}

func TestRecovery(t *testing.T) {
	up := time.Unix(1000, 0)
	at := func(kind string, startMs, endMs, status int) loadgen.Sample {
		return loadgen.Sample{Kind: kind, Status: status,
			Start: up.Add(time.Duration(startMs) * time.Millisecond), End: up.Add(time.Duration(endMs) * time.Millisecond)}
	}
	tests := []struct {
		name  string
		ss    []loadgen.Sample
		kinds []string
		want  time.Duration
		ok    bool
	}{
		{"no failure after up", []loadgen.Sample{at("login", -500, 10, 503), at("login", 1, 5, 201), at("introspect", 1, 2, 200)}, nil, 0, true},
		{"last failure at 1.5 s", []loadgen.Sample{at("login", 100, 1500, 503), at("introspect", 200, 300, 503),
			at("login", 1600, 1610, 201), at("introspect", 1600, 1601, 200)}, nil, 1500 * time.Millisecond, true},
		{"no introspection succeeded after", []loadgen.Sample{at("login", 100, 1500, 503), at("login", 1600, 1610, 201)}, nil, 1500 * time.Millisecond, false},
		{"only the kinds asked", []loadgen.Sample{at("ldap-login", 100, 200, 503), at("ldap-login", 300, 310, 201)}, []string{"ldap-login"}, 200 * time.Millisecond, true},
		{"a wrong answer is a failure", []loadgen.Sample{{Kind: "login", Status: 201, Wrong: "x", Start: up, End: up.Add(time.Second)},
			at("login", 1100, 1200, 201), at("introspect", 1100, 1200, 200)}, nil, time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := recovery(tt.ss, up, tt.kinds...)
			if d != tt.want || ok != tt.ok {
				t.Errorf("recovery = %v, %v; want %v, %v", d, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCheckRows(t *testing.T) {
	received := map[string]string{"tok-a": "joe", "tok-b": "joe"}
	hashes := map[string]bool{token.HashToken("tok-a"): true, token.HashToken("tok-ghost"): true}
	c := checkRows(received, hashes, nil)
	if c.rows != 2 || c.missing != 1 || c.ghosts != 1 || c.err != nil {
		t.Errorf("checkRows = %+v, want 2 rows, 1 missing, 1 ghost", c)
	}
	if c := checkRows(received, nil, errors.New("x")); c.missing != 0 || c.err == nil {
		t.Errorf("unreadable table: %+v, want the error and nothing counted", c)
	}
}

// TestSoakMix: the shares are out of 100 and every kind is named once, as
// the soak's tables and docs/RELIABILITY.md list them.
func TestSoakMix(t *testing.T) {
	if soakMix.Total() != 100 {
		t.Errorf("shares add up to %d, want 100", soakMix.Total())
	}
	seen := map[string]bool{}
	for _, w := range soakMix {
		if seen[w.Item.name] || w.Item.send == nil || w.Weight <= 0 {
			t.Errorf("mix entry %q: duplicate, no send or no weight", w.Item.name)
		}
		seen[w.Item.name] = true
	}
}

func TestFaultScenarioNames(t *testing.T) {
	got := strings.Join(scenarioNames(), ",")
	if want := "pg-stop,pg-freeze,ldap,sigterm,kill9"; got != want {
		t.Errorf("scenarios %s, want %s (the order scripts/faults.sh and docs/RELIABILITY.md give)", got, want)
	}
}
