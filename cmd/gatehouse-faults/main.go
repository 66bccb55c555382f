// Command gatehouse-faults is the checker behind `make faults` and
// `make soak` (scripts/faults.sh and scripts/soak.sh, which start the parts
// it needs: a private PostgreSQL cluster, bin/gatehouse, slapd).
//
//	gatehouse-faults faults [flags]   break a part under load, measure, compare with the bars
//	gatehouse-faults soak [flags]     a long mixed run whose every answer is checked
//
// Each prints its figures as Markdown tables and exits 1 when a bar is
// missed (2 when the run itself could not be done). It only ever talks to
// 127.0.0.1, starts and stops its own Gatehouse processes, and every phase
// is bounded in time: nothing waits forever.
//
// See docs/RELIABILITY.md for the scenarios, the bars and recorded figures.
package main

import (
	"errors"
	"fmt"
	"os"
)

// errBarsMissed is returned when the run completed but a bar was missed;
// the tables already say which.
var errBarsMissed = errors.New("bars missed")

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "faults":
		err = faultsMain(os.Args[2:])
	case "soak":
		err = soakMain(os.Args[2:])
	default:
		usage()
	}
	switch {
	case err == nil:
	case errors.Is(err, errBarsMissed):
		fmt.Fprintln(os.Stderr, "gatehouse-faults: bars missed (see the tables above)")
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "gatehouse-faults:", err)
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gatehouse-faults faults|soak [flags]   (-h for the flags)")
	os.Exit(2)
}
