package main

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"
)

// histogram counts latencies in buckets 2% wide (from 1 µs to hours), so a
// long soak keeps constant memory; percentiles are exact to 2%.
type histogram struct {
	buckets [1200]atomic.Int64
	maxNs   atomic.Int64
}

const histGrowth = 1.02

func newHistogram() *histogram { return &histogram{} }

func (h *histogram) add(d time.Duration) {
	us := float64(d) / float64(time.Microsecond)
	i := 0
	if us > 1 {
		i = min(int(math.Log(us)/math.Log(histGrowth))+1, len(h.buckets)-1)
	}
	h.buckets[i].Add(1)
	for {
		m := h.maxNs.Load()
		if int64(d) <= m || h.maxNs.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

// pct returns the upper bound of the bucket holding the p-th quantile.
func (h *histogram) pct(p float64) time.Duration {
	var total int64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(p * float64(total)))
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= max(rank, 1) {
			up := time.Duration(math.Pow(histGrowth, float64(i)) * float64(time.Microsecond))
			return min(up, h.max())
		}
	}
	return h.max()
}

func (h *histogram) max() time.Duration { return time.Duration(h.maxNs.Load()) }

func numCPU() int { return runtime.NumCPU() }
