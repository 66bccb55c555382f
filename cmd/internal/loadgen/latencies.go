package loadgen

import (
	"fmt"
	"slices"
	"time"
)

// Latencies is a set of latencies whose percentiles are exact: for the
// samples of one scenario, where every one is kept anyway.
type Latencies []time.Duration

// Pct returns the p-th quantile (0 ≤ p ≤ 1): the element at index
// (n-1)·p, rounded down, of the sorted set. 0 when empty.
func (l Latencies) Pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// Max is the longest latency, 0 when empty.
func (l Latencies) Max() time.Duration {
	if len(l) == 0 {
		return 0
	}
	return slices.Max(l)
}

// String is "p50 … · p99 … · max … (n=…)", or "none".
func (l Latencies) String() string {
	if len(l) == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %s · p99 %s · max %s (n=%d)", Ms(l.Pct(0.5)), Ms(l.Pct(0.99)), Ms(l.Max()), len(l))
}
