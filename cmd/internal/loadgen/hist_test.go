package loadgen_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

func TestHistogramPercentiles(t *testing.T) {
	tests := []struct {
		name string
		lats []time.Duration // added in this order
	}{
		{"one", []time.Duration{3 * time.Millisecond}},
		{"1..1000 ms", steps(time.Millisecond, 1000)},
		{"1..1000 µs", steps(time.Microsecond, 1000)},
		{"sub-microsecond", []time.Duration{10, 200, 999}},
		{"two modes", append(repeat(500*time.Microsecond, 990), repeat(1500*time.Millisecond, 10)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := loadgen.NewHistogram()
			for _, d := range tt.lats {
				h.Add(d)
			}
			if h.Count() != int64(len(tt.lats)) {
				t.Errorf("Count = %d, want %d", h.Count(), len(tt.lats))
			}
			exact := loadgen.Latencies(tt.lats)
			if h.Max() != exact.Max() {
				t.Errorf("Max = %v, want %v", h.Max(), exact.Max())
			}
			for _, p := range []float64{0.01, 0.5, 0.9, 0.99, 1} {
				got, want := h.Pct(p), nearestRank(tt.lats, p)
				// Never below the true value, at most 2% (one bucket) above,
				// and 1 µs for what is under a microsecond.
				if got < want || float64(got) > float64(want)*1.02+float64(time.Microsecond) {
					t.Errorf("Pct(%g) = %v, want %v (to 2%%, not below)", p, got, want)
				}
			}
		})
	}
}

func TestHistogramEmpty(t *testing.T) {
	h := loadgen.NewHistogram()
	if h.Pct(0.5) != 0 || h.Max() != 0 || h.Count() != 0 {
		t.Errorf("empty: Pct %v Max %v Count %d", h.Pct(0.5), h.Max(), h.Count())
	}
}

// TestHistogramHuge: a latency beyond the last bucket is counted there,
// and its percentile is the maximum, not the bucket's bound.
func TestHistogramHuge(t *testing.T) {
	h := loadgen.NewHistogram()
	h.Add(48 * time.Hour)
	if got := h.Pct(0.99); got != 48*time.Hour {
		t.Errorf("Pct(0.99) = %v, want 48h", got)
	}
}

func TestHistogramConcurrent(t *testing.T) {
	h := loadgen.NewHistogram()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				h.Add(time.Duration(w*1000+i) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	if h.Count() != 8000 || h.Max() != 7999*time.Microsecond {
		t.Errorf("Count %d Max %v, want 8000 and 7.999ms", h.Count(), h.Max())
	}
}

func TestLatencies(t *testing.T) {
	l := loadgen.Latencies{5, 1, 4, 2, 3}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {0.5, 3}, {0.99, 4}, {1, 5}} {
		if got := l.Pct(tt.p); got != tt.want {
			t.Errorf("Pct(%g) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if l[0] != 5 {
		t.Error("Pct sorted the caller's slice")
	}
	if got := (loadgen.Latencies{}).String(); got != "none" {
		t.Errorf("empty String = %q", got)
	}
	ms := loadgen.Latencies{time.Millisecond, 2 * time.Millisecond}
	if got, want := ms.String(), "p50 1.0 ms · p99 1.0 ms · max 2.0 ms (n=2)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

// nearestRank is the p-th quantile by the nearest-rank method, which the
// histogram approximates.
func nearestRank(lats []time.Duration, p float64) time.Duration {
	s := slices.Sorted(slices.Values(lats))
	rank := int(float64(len(s))*p+0.999999) - 1
	return s[max(rank, 0)]
}

func steps(unit time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * unit
	}
	return out
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}
