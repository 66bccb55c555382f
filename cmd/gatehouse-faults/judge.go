package main

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// Helpers the scenarios' judge steps share.

// Sample predicates.
func isLogin(s loadgen.Sample) bool      { return s.Kind == "login" }
func isIntrospect(s loadgen.Sample) bool { return s.Kind == "introspect" }
func is503(s loadgen.Sample) bool        { return s.Status == http.StatusServiceUnavailable }
func noAnswer(s loadgen.Sample) bool     { return s.Status == 0 }
func isWrong(s loadgen.Sample) bool      { return s.Wrong != "" }
func failed(s loadgen.Sample) bool       { return !s.OK() }
func other5xx(s loadgen.Sample) bool     { return s.Status >= 500 && !is503(s) }
func startedIn(from, to time.Time) func(loadgen.Sample) bool {
	return func(s loadgen.Sample) bool { return !s.Start.Before(from) && s.Start.Before(to) }
}

// recovery returns, for requests started at or after up, how long after up
// the last one that failed ended (0 if none failed), and whether requests
// of every kind (default: login and introspect) succeeded after it.
func recovery(ss []loadgen.Sample, up time.Time, kinds ...string) (time.Duration, bool) {
	if len(kinds) == 0 {
		kinds = []string{"login", "introspect"}
	}
	lastFail := up
	for _, s := range ss {
		if !s.Start.Before(up) && !s.OK() && s.End.After(lastFail) {
			lastFail = s.End
		}
	}
	okKinds := map[string]bool{}
	for _, s := range ss {
		if s.Start.After(lastFail) && s.OK() {
			okKinds[s.Kind] = true
		}
	}
	for _, k := range kinds {
		if !okKinds[k] {
			return lastFail.Sub(up), false
		}
	}
	return lastFail.Sub(up), true
}

func recoveredText(d time.Duration, ok bool) string {
	if !ok {
		return fmt.Sprintf("not recovered (last failure %s after)", loadgen.Secs(d))
	}
	return loadgen.Secs(d)
}

// waitRecovered waits (at most recoveryGiveUp after up) until the samples
// show recovery and quiet has passed since the last failure.
func waitRecovered(snapshot func() []loadgen.Sample, up time.Time, quiet time.Duration, kinds ...string) {
	for time.Since(up) < recoveryGiveUp {
		time.Sleep(250 * time.Millisecond)
		if d, ok := recovery(snapshot(), up, kinds...); ok && time.Since(up.Add(d)) >= quiet {
			return
		}
	}
}

// slowest describes the n slowest samples: kind, status, when sent
// (relative to ref) and latency.
func slowest(ss []loadgen.Sample, ref time.Time, n int) string {
	s := slices.Clone(ss)
	slices.SortFunc(s, func(a, b loadgen.Sample) int { return cmp.Compare(b.Latency, a.Latency) })
	var parts []string
	for _, x := range loadgen.First(s, n) {
		parts = append(parts, fmt.Sprintf("%s %d sent at %s took %s", x.Kind, x.Status, loadgen.RelTo(x.Start, ref), loadgen.Ms(x.Latency)))
	}
	return strings.Join(parts, "; ")
}

// rowCheck compares the tokens a client received with the rows of the
// tokens table.
type rowCheck struct {
	rows    int   // rows in the table
	missing int   // tokens received without a row
	ghosts  int   // rows of tokens no client received
	err     error // the table could not be read
}

func checkRows(received map[string]string, hashes map[string]bool, err error) rowCheck {
	c := rowCheck{rows: len(hashes), err: err}
	if err != nil {
		return c
	}
	known := map[string]bool{}
	for t := range received {
		h := token.HashToken(t)
		known[h] = true
		if !hashes[h] {
			c.missing++
		}
	}
	for h := range hashes {
		if !known[h] {
			c.ghosts++
		}
	}
	return c
}
