package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// report is one scenario's figures and bars, printed as Markdown tables.
type report struct {
	Title string
	Note  string
	figs  [][2]string
	bars  []bar
}

type bar struct {
	Name, Measured, Limit string
	OK                    bool
	Pending               bool // could not be checked here (said why)
}

func (r *report) fig(name, format string, args ...any) {
	r.figs = append(r.figs, [2]string{name, fmt.Sprintf(format, args...)})
}

func (r *report) bar(name string, ok bool, measured, limit string) {
	r.bars = append(r.bars, bar{Name: name, Measured: measured, Limit: limit, OK: ok})
}

func (r *report) pending(name, why string) {
	r.bars = append(r.bars, bar{Name: name, Measured: why, Limit: "-", Pending: true})
}

// missed counts the bars missed.
func (r *report) missed() int {
	n := 0
	for _, b := range r.bars {
		if !b.OK && !b.Pending {
			n++
		}
	}
	return n
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n### %s\n\n", r.Title)
	if r.Note != "" {
		fmt.Fprintf(w, "%s\n\n", r.Note)
	}
	if len(r.figs) > 0 {
		fmt.Fprintf(w, "| figure | measured |\n| --- | --- |\n")
		for _, f := range r.figs {
			fmt.Fprintf(w, "| %s | %s |\n", f[0], f[1])
		}
		fmt.Fprintln(w)
	}
	if len(r.bars) > 0 {
		fmt.Fprintf(w, "| bar | measured | limit | result |\n| --- | --- | --- | --- |\n")
		for _, b := range r.bars {
			res := "met"
			switch {
			case b.Pending:
				res = "PENDING"
			case !b.OK:
				res = "**MISSED**"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", b.Name, b.Measured, b.Limit, res)
		}
	}
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

// secs formats a duration in seconds.
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// latencies summarizes a set of latencies: p50 / p99 / max.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

func (l latencies) max() time.Duration {
	if len(l) == 0 {
		return 0
	}
	return slices.Max(l)
}

func (l latencies) String() string {
	if len(l) == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %s · p99 %s · max %s (n=%d)", ms(l.pct(0.5)), ms(l.pct(0.99)), ms(l.max()), len(l))
}

// statusCounts formats status → count, e.g. "200: 1234 · 503: 56".
func statusCounts(ss []sample) string {
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

func filter(ss []sample, keep func(sample) bool) []sample {
	var out []sample
	for _, s := range ss {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

func lats(ss []sample) latencies {
	out := make(latencies, len(ss))
	for i, s := range ss {
		out[i] = s.Latency
	}
	return out
}

// firstExamples returns up to n "kind status err wrong" strings.
func firstExamples(ss []sample, n int) string {
	var parts []string
	for _, s := range ss {
		if len(parts) == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d %s%s", s.Kind, s.Status, s.Err, s.Wrong))
	}
	return strings.Join(parts, "; ")
}
