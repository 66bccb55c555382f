package loadgen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// TestPaceRate: the number of calls follows the rate (within a loose
// margin: the machine running the tests may be busy).
func TestPaceRate(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	var calls atomic.Int64
	n := loadgen.Pace(ctx, 200, func() { calls.Add(1) })
	if n != int(calls.Load()) {
		t.Errorf("Pace returned %d, tick ran %d times", n, calls.Load())
	}
	if n < 70 || n > 101 {
		t.Errorf("200/s for 0.5 s: %d calls, want about 100 (70..101)", n)
	}
}

// TestPaceCatchesUp: a slow tick does not lower the rate; the calls that
// fell due meanwhile follow at once.
func TestPaceCatchesUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	var times []time.Time
	n := loadgen.Pace(ctx, 100, func() {
		times = append(times, time.Now())
		if len(times) == 1 {
			time.Sleep(200 * time.Millisecond) // 20 calls' worth
		}
	})
	if n < 35 {
		t.Errorf("100/s for 0.5 s with one 200 ms stall: %d calls, want about 50 (≥ 35)", n)
	}
	if len(times) > 5 && times[5].Sub(times[1]) > 50*time.Millisecond {
		t.Errorf("calls after the stall were spread over %v, want back to back", times[5].Sub(times[1]))
	}
}

func TestPaceStopsAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if n := loadgen.Pace(ctx, 0.1, func() { t.Error("tick after cancel") }); n != 0 {
		t.Errorf("Pace = %d, want 0", n)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Pace took %v after cancel", d)
	}
}

// TestOpenDropsWhenSaturated: requests that hang do not slow the arrivals
// down; past maxInflight the ticks are dropped and counted, and Open waits
// for the ones in flight.
func TestOpenDropsWhenSaturated(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int64
	stream := loadgen.Stream{Rate: 500, Fire: func() loadgen.Sample {
		started.Add(1)
		<-release
		return loadgen.Sample{Kind: "hang", Status: 200}
	}}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	rec := &loadgen.Samples{}
	go func() { <-ctx.Done(); close(release) }()
	dropped := loadgen.Open(ctx, []loadgen.Stream{stream}, 5, rec)
	if got := len(rec.Snapshot()); got != 5 || started.Load() != 5 {
		t.Errorf("recorded %d, started %d, want 5 each (maxInflight)", got, started.Load())
	}
	if dropped < 50 {
		t.Errorf("dropped %d ticks, want most of ~150", dropped)
	}
}

func TestOpenStreamsAgainstAServer(t *testing.T) {
	srv := newServer(t)
	hc := loadgen.NewClient(16, true, 5*time.Second)
	fire := func(kind string) func() loadgen.Sample {
		return func() loadgen.Sample {
			req, _ := http.NewRequest("GET", srv.URL+"/"+kind, nil)
			return loadgen.Do(hc, kind, req)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	rec := &loadgen.Samples{}
	dropped := loadgen.Open(ctx, []loadgen.Stream{{Rate: 100, Fire: fire("a")}, {Rate: 50, Fire: fire("b")}}, 100, rec)
	all := rec.Snapshot()
	a, b := len(loadgen.OfKind(all, "a")), len(loadgen.OfKind(all, "b"))
	if dropped != 0 || a < 25 || a > 41 || b < 12 || b > 21 {
		t.Errorf("0.4 s at 100/s and 50/s: a %d, b %d, dropped %d; want about 40 and 20, none dropped", a, b, dropped)
	}
	if bad := loadgen.Filter(all, func(s loadgen.Sample) bool { return !s.OK() || s.Body != nil }); len(bad) > 0 {
		t.Errorf("%d samples not OK or with a kept body: %s", len(bad), loadgen.FirstExamples(bad, 3))
	}
}

func TestClosedAgainstAServer(t *testing.T) {
	srv := newServer(t)
	hc := loadgen.NewClient(4, true, 5*time.Second)
	var perWorker sync.Map
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	var n atomic.Int64
	loadgen.Closed(ctx, 4, func() loadgen.Sample {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		return loadgen.Timed(hc, req)
	}, loadgen.RecorderFunc(func(s loadgen.Sample) {
		n.Add(1)
		if s.Status != http.StatusOK {
			perWorker.Store(s.Err, s.Status)
		}
	}))
	if n.Load() < 20 {
		t.Errorf("4 workers for 0.2 s sent %d requests, want many more", n.Load())
	}
	perWorker.Range(func(k, v any) bool { t.Errorf("status %v: %v", v, k); return true })
}

// TestClosedPausesAfterNoAnswer: a refused connection does not spin.
func TestClosedPausesAfterNoAnswer(t *testing.T) {
	srv := newServer(t)
	url := srv.URL
	srv.Close()
	hc := loadgen.NewClient(1, true, time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	rec := &loadgen.Samples{}
	loadgen.Closed(ctx, 1, func() loadgen.Sample {
		req, _ := http.NewRequest("GET", url, nil)
		return loadgen.Do(hc, "refused", req)
	}, rec)
	all := rec.Snapshot()
	if len(all) == 0 || len(all) > 25 {
		t.Errorf("0.2 s of refused connections: %d requests, want about 20 (10 ms apart)", len(all))
	}
	for _, s := range loadgen.First(all, 3) {
		if s.Status != 0 || !s.Dial || s.Err == "" {
			t.Errorf("refused: status %d dial %v err %q", s.Status, s.Dial, s.Err)
		}
	}
}

func TestEachCallsEveryIndexOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	var kinds []string
	loadgen.Each(3, 50, func(i int) loadgen.Sample {
		mu.Lock()
		seen[i]++
		mu.Unlock()
		return loadgen.Sample{Kind: "job"}
	}, loadgen.RecorderFunc(func(s loadgen.Sample) {
		mu.Lock()
		kinds = append(kinds, s.Kind)
		mu.Unlock()
	}))
	if len(seen) != 50 || len(kinds) != 50 {
		t.Fatalf("saw %d indexes, recorded %d, want 50", len(seen), len(kinds))
	}
	for i, c := range seen {
		if c != 1 || i < 0 || i >= 50 {
			t.Errorf("index %d called %d times", i, c)
		}
	}
}

func TestProbe(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	rec := &loadgen.Samples{}
	loadgen.Probe(ctx, 10*time.Millisecond, func() loadgen.Sample { return loadgen.Sample{Kind: "probe"} }, rec)
	if n := len(rec.Snapshot()); n < 5 || n > 12 {
		t.Errorf("0.1 s every 10 ms: %d probes, want about 10", n)
	}
}

// newServer answers 200 "ok" with the request's X-Request-ID.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Got-ID", r.Header.Get("X-Request-ID"))
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv
}
