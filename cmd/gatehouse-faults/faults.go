package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// scenarios in the order they run; names for -only.
var scenarioNames = []string{"pg-stop", "pg-freeze", "ldap", "sigterm", "kill9"}

func faultsMain(args []string) error {
	fs := flag.NewFlagSet("faults", flag.ExitOnError)
	var e env
	fs.StringVar(&e.bin, "gatehouse", "bin/gatehouse", "the gatehouse binary")
	fs.StringVar(&e.work, "work", "", "scratch directory (required)")
	fs.StringVar(&e.pgScript, "pg-script", "scripts/pg-private.sh", "the private cluster's control script")
	fs.StringVar(&e.pgDir, "pg-dir", "", "the private cluster's directory (from pg-private.sh up)")
	fs.StringVar(&e.pgURL, "pg-url", "", "the private cluster's admin URL (PGPRIVATE_URL)")
	ldapScript := fs.String("ldap-script", "scripts/ldap-up.sh", "prepares slapd (scenario ldap)")
	only := fs.String("only", strings.Join(scenarioNames, ","), "scenarios to run, comma-separated: "+strings.Join(scenarioNames, ", "))
	drainMin := fs.Duration("drain-min", time.Second, "how long /readyz must answer 503 before the listener closes (sigterm)")
	_ = fs.Parse(args)
	if e.work == "" || e.pgDir == "" || e.pgURL == "" {
		return fmt.Errorf("-work, -pg-dir and -pg-url are required (scripts/faults.sh sets them)")
	}
	for _, p := range []*string{&e.bin, &e.work, &e.pgScript, &e.pgDir, ldapScript} {
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs
		}
	}
	want := strings.Split(*only, ",")
	for _, w := range want {
		if !slices.Contains(scenarioNames, w) {
			return fmt.Errorf("unknown scenario %q (have %s)", w, strings.Join(scenarioNames, ", "))
		}
	}
	if err := e.setUsers(); err != nil {
		return err
	}
	var reports []*report
	run := func(name string, f func() (*report, error)) error {
		if !slices.Contains(want, name) {
			return nil
		}
		fmt.Fprintf(os.Stderr, "== %s\n", name)
		start := time.Now()
		r, err := f()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r.fig("scenario wall time", "%s", secs(time.Since(start)))
		r.print(os.Stdout)
		reports = append(reports, r)
		return nil
	}
	steps := []struct {
		name string
		f    func() (*report, error)
	}{
		{"pg-stop", func() (*report, error) { return e.pgOutage(false) }},
		{"pg-freeze", func() (*report, error) { return e.pgOutage(true) }},
		{"ldap", func() (*report, error) { return e.ldapOutage(*ldapScript) }},
		{"sigterm", func() (*report, error) { return e.sigterm(*drainMin) }},
		{"kill9", func() (*report, error) { return e.kill9() }},
	}
	for _, s := range steps {
		if err := run(s.name, s.f); err != nil {
			return err
		}
	}
	fmt.Printf("\n### Summary\n\n| scenario | bars met | missed | pending |\n| --- | --- | --- | --- |\n")
	missed := 0
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
		missed += r.missed()
		fmt.Printf("| %s | %d | %d | %d |\n", r.Title, met, r.missed(), pend)
	}
	if missed > 0 {
		fmt.Println("\nMissed:")
		for _, r := range reports {
			for _, b := range r.bars {
				if !b.OK && !b.Pending {
					fmt.Printf("- %s: %s — measured %s, limit %s\n", r.Title, b.Name, b.Measured, b.Limit)
				}
			}
		}
		return errBarsMissed
	}
	return nil
}
