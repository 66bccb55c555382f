package loadgen

import (
	"fmt"
	"io"
)

// Report is one run's figures and bars, printed as Markdown tables:
//
//	### Title
//
//	Note
//
//	| figure | measured |
//	| --- | --- |
//	| … | … |
//
//	| bar | measured | limit | result |
//	| --- | --- | --- | --- |
//	| … | … | … | met / **MISSED** / PENDING |
type Report struct {
	Title string
	Note  string
	figs  [][2]string
	bars  []Bar
}

// Bar is one promise checked against a measurement.
type Bar struct {
	Name, Measured, Limit string
	OK                    bool
	Pending               bool // could not be checked here (Measured says why)
}

// Missed reports whether the bar was checked and not met.
func (b Bar) Missed() bool { return !b.OK && !b.Pending }

// Fig adds a figure: a name and a measurement formatted like fmt.Sprintf.
func (r *Report) Fig(name, format string, args ...any) {
	r.figs = append(r.figs, [2]string{name, fmt.Sprintf(format, args...)})
}

// Bar adds a bar, met when ok.
func (r *Report) Bar(name string, ok bool, measured, limit string) {
	r.bars = append(r.bars, Bar{Name: name, Measured: measured, Limit: limit, OK: ok})
}

// Pending adds a bar that could not be checked, and why.
func (r *Report) Pending(name, why string) {
	r.bars = append(r.bars, Bar{Name: name, Measured: why, Limit: "-", Pending: true})
}

// Bars returns the bars added so far.
func (r *Report) Bars() []Bar { return append([]Bar(nil), r.bars...) }

// Missed counts the bars missed.
func (r *Report) Missed() int {
	n := 0
	for _, b := range r.bars {
		if b.Missed() {
			n++
		}
	}
	return n
}

// Print writes the report's tables to w.
func (r *Report) Print(w io.Writer) {
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

// Summary writes a table of bars met, missed and pending per report, then
// the list of bars missed, if any, and returns how many were missed.
func Summary(w io.Writer, reports []*Report) (missed int) {
	fmt.Fprintf(w, "\n### Summary\n\n| scenario | bars met | missed | pending |\n| --- | --- | --- | --- |\n")
	for _, r := range reports {
		met, pend := 0, 0
		for _, b := range r.bars {
			switch {
			case b.Pending:
				pend++
			case b.OK:
				met++
			}
		}
		missed += r.Missed()
		fmt.Fprintf(w, "| %s | %d | %d | %d |\n", r.Title, met, r.Missed(), pend)
	}
	if missed == 0 {
		return 0
	}
	fmt.Fprintln(w, "\nMissed:")
	for _, r := range reports {
		for _, b := range r.bars {
			if b.Missed() {
				fmt.Fprintf(w, "- %s: %s — measured %s, limit %s\n", r.Title, b.Name, b.Measured, b.Limit)
			}
		}
	}
	return missed
}
