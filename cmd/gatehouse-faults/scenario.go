package main

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// scenario is one fault under load, in the four steps every scenario of
// make faults and make soak shares. runScenario calls them in order:
//
//   - setup starts what the scenario needs: databases, servers, tokens;
//   - load sends requests until its context is done (in the background);
//   - fault breaks the part and restores it while the load runs, and
//     returns once the load has shown what is to be judged (the soak's
//     fault is time: it waits, taking readings);
//   - judge, once the load has stopped, reads what is left to read (tokens
//     through the API, the tokens table) and writes figures and bars.
//
// close stops whatever setup started; it runs whatever happened.
type scenario interface {
	setup() error
	load(ctx context.Context)
	fault() error
	judge(r *loadgen.Report) error
	close()
}

// repeated is a scenario whose load and fault run rounds() times (kill9);
// before every round but the first, again restarts what the fault broke
// and checks what survived.
type repeated interface {
	scenario
	rounds() int
	again() error
}

// pendingError is returned by a setup that cannot run here; the scenario
// is reported as pending, not failed.
type pendingError struct{ name, why string }

func (p pendingError) Error() string { return p.name + ": " + p.why }

// runScenario runs s's steps and writes its figures and bars to r.
func runScenario(s scenario, r *loadgen.Report) error {
	defer s.close()
	if err := s.setup(); err != nil {
		var p pendingError
		if errors.As(err, &p) {
			r.Pending(p.name, p.why)
			return nil
		}
		return err
	}
	rounds, rep := 1, repeated(nil)
	if x, ok := s.(repeated); ok {
		rounds, rep = x.rounds(), x
	}
	for i := range rounds {
		if i > 0 {
			if err := rep.again(); err != nil {
				return err
			}
		}
		if err := loadDuringFault(s); err != nil {
			return err
		}
	}
	return s.judge(r)
}

// loadDuringFault runs s's load in the background while its fault runs,
// and stops the load once the fault has returned.
func loadDuringFault(s scenario) error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.load(ctx)
	}()
	err := s.fault()
	cancel()
	<-done
	return err
}

// background runs each function in its own goroutine and waits for all:
// a load made of several loops that share one context.
func background(fns ...func()) {
	done := make(chan struct{}, len(fns))
	for _, f := range fns {
		go func() {
			defer func() { done <- struct{}{} }()
			f()
		}()
	}
	for range fns {
		<-done
	}
}
