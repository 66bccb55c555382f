package loadgen

import (
	"math"
	"sync/atomic"
	"time"
)

// Histogram counts latencies in buckets 2% wide (from 1 µs to hours), so
// that a long run keeps constant memory; its percentiles are exact to 2%
// (never below the true value), its maximum exact. It is safe for
// concurrent use.
type Histogram struct {
	buckets [histBuckets]atomic.Int64
	maxNs   atomic.Int64
}

const (
	histGrowth  = 1.02
	histBuckets = 1200
)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{} }

// Add counts one latency.
func (h *Histogram) Add(d time.Duration) {
	h.buckets[bucketOf(d)].Add(1)
	for {
		m := h.maxNs.Load()
		if int64(d) <= m || h.maxNs.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

// bucketOf is the bucket holding d: bucket 0 is up to 1 µs, bucket i > 0
// reaches up to 1.02^i µs.
func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return min(int(math.Log(us)/math.Log(histGrowth))+1, histBuckets-1)
}

// Count is the number of latencies added.
func (h *Histogram) Count() int64 {
	var total int64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	return total
}

// Pct returns the p-th quantile (0 < p ≤ 1): the upper bound of the bucket
// holding it, or the maximum if that is lower (or if it is in the last
// bucket, which holds everything beyond). 0 when empty.
func (h *Histogram) Pct(p float64) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	rank := max(int64(math.Ceil(p*float64(total))), 1)
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank && i < histBuckets-1 {
			up := time.Duration(math.Pow(histGrowth, float64(i)) * float64(time.Microsecond))
			return min(up, h.Max())
		}
	}
	return h.Max()
}

// Max is the longest latency added.
func (h *Histogram) Max() time.Duration { return time.Duration(h.maxNs.Load()) }
