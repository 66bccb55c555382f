package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// faultOptions are the faults subcommand's flags beyond the env.
type faultOptions struct {
	ldapScript string
	only       []string
	drainMin   time.Duration
}

// faultScenario is one entry of make faults: its name (for -only), the
// title of its report, and the scenarios that write into that report.
type faultScenario struct {
	name, title string
	scenarios   func(e *env, o faultOptions) []scenario
}

// faultScenarios are the scenarios of make faults, in the order they run.
var faultScenarios = []faultScenario{
	{pgStop.name, pgStop.title(), func(e *env, _ faultOptions) []scenario {
		return []scenario{&pgOutage{e: e, f: pgStop}}
	}},
	{pgFreezeFault.name, pgFreezeFault.title(), func(e *env, _ faultOptions) []scenario {
		return []scenario{&pgOutage{e: e, f: pgFreezeFault}}
	}},
	{"ldap", ldapTitle, func(e *env, o faultOptions) []scenario {
		return []scenario{&ldapOutage{e: e, script: o.ldapScript}}
	}},
	{"sigterm", "sigterm: SIGTERM under load", func(e *env, o faultOptions) []scenario {
		return []scenario{&sigterm{e: e, drainMin: o.drainMin}}
	}},
	{"kill9", "kill9: kill -9 under issuing load, then restart", func(e *env, _ faultOptions) []scenario {
		return []scenario{&kill9{e: e, kind: "sqlite"}, &kill9{e: e, kind: "postgres"}}
	}},
}

func scenarioNames() []string {
	var names []string
	for _, s := range faultScenarios {
		names = append(names, s.name)
	}
	return names
}

func faultsMain(args []string) error {
	e, o, err := parseFaultFlags(args)
	if err != nil {
		return err
	}
	if err := e.setUsers(); err != nil {
		return err
	}
	var reports []*loadgen.Report
	for _, fs := range faultScenarios {
		if !slices.Contains(o.only, fs.name) {
			continue
		}
		r, err := runFaultScenario(e, o, fs)
		if err != nil {
			return fmt.Errorf("%s: %w", fs.name, err)
		}
		r.Print(os.Stdout)
		reports = append(reports, r)
	}
	if loadgen.Summary(os.Stdout, reports) > 0 {
		return errBarsMissed
	}
	return nil
}

// runFaultScenario runs fs's scenarios into one report.
func runFaultScenario(e *env, o faultOptions, fs faultScenario) (*loadgen.Report, error) {
	fmt.Fprintf(os.Stderr, "== %s\n", fs.name)
	start := time.Now()
	r := &loadgen.Report{Title: fs.title}
	for _, s := range fs.scenarios(e, o) {
		if err := runScenario(s, r); err != nil {
			return nil, err
		}
	}
	r.Fig("scenario wall time", "%s", loadgen.Secs(time.Since(start)))
	return r, nil
}

func parseFaultFlags(args []string) (*env, faultOptions, error) {
	fs := flag.NewFlagSet("faults", flag.ExitOnError)
	e := &env{}
	var o faultOptions
	names := strings.Join(scenarioNames(), ",")
	fs.StringVar(&e.bin, "gatehouse", "bin/gatehouse", "the gatehouse binary")
	fs.StringVar(&e.work, "work", "", "scratch directory (required)")
	fs.StringVar(&e.pgScript, "pg-script", "scripts/pg-private.sh", "the private cluster's control script")
	fs.StringVar(&e.pgDir, "pg-dir", "", "the private cluster's directory (from pg-private.sh up)")
	fs.StringVar(&e.pgURL, "pg-url", "", "the private cluster's admin URL (PGPRIVATE_URL)")
	fs.StringVar(&o.ldapScript, "ldap-script", "scripts/ldap-up.sh", "prepares slapd (scenario ldap)")
	only := fs.String("only", names, "scenarios to run, comma-separated: "+strings.ReplaceAll(names, ",", ", "))
	fs.DurationVar(&o.drainMin, "drain-min", time.Second, "how long /readyz must answer 503 before the listener closes (sigterm)")
	_ = fs.Parse(args)
	if e.work == "" || e.pgDir == "" || e.pgURL == "" {
		return nil, o, fmt.Errorf("-work, -pg-dir and -pg-url are required (scripts/faults.sh sets them)")
	}
	e.absPaths(&e.bin, &e.work, &e.pgScript, &e.pgDir, &o.ldapScript)
	o.only = strings.Split(*only, ",")
	for _, w := range o.only {
		if !slices.Contains(scenarioNames(), w) {
			return nil, o, fmt.Errorf("unknown scenario %q (have %s)", w, strings.ReplaceAll(names, ",", ", "))
		}
	}
	return e, o, nil
}
