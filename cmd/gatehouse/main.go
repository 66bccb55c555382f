// Command gatehouse is a token-issuing authentication service, a drop-in
// replacement for StackStorm's st2auth.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go stopOnSignals(signals, cancel)
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

// stopOnSignals cancels the commands' context at the first SIGINT or
// SIGTERM: serve then drains (auth.shutdown_delay) and lets requests in
// flight finish. A second signal exits at once, without waiting for
// either: 130 for SIGINT (Ctrl-C, as a shell reports it), 1 for SIGTERM.
func stopOnSignals(signals <-chan os.Signal, cancel context.CancelFunc) {
	<-signals
	cancel()
	sig := <-signals
	fmt.Fprintf(os.Stderr, "gatehouse: second %s: exiting now\n", signalName(sig))
	if sig == os.Interrupt {
		os.Exit(130)
	}
	os.Exit(1)
}

func signalName(sig os.Signal) string {
	if sig == os.Interrupt {
		return "SIGINT"
	}
	return "SIGTERM"
}
