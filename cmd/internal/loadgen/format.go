package loadgen

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Ms formats a duration in milliseconds, e.g. "1.5 ms".
func Ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

// Secs formats a duration in seconds, e.g. "2.00 s".
func Secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// MsOrNever is Ms(d), or "never seen" for a negative d (a moment that did
// not come).
func MsOrNever(d time.Duration) string {
	if d < 0 {
		return "never seen"
	}
	return Ms(d)
}

// RelTo formats t relative to ref in milliseconds, e.g. "+13.5 ms", or
// "never" for a zero t.
func RelTo(t, ref time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return fmt.Sprintf("%+.1f ms", float64(t.Sub(ref).Microseconds())/1000)
}

// StatusCounts formats status → count in status order, e.g.
// "no answer: 3 · 200: 1234 · 503: 56", or "none".
func StatusCounts(ss []Sample) string {
	m := map[int]int{}
	for _, s := range ss {
		m[s.Status]++
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}
