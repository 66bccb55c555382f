package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sigterm is scenario 4: SIGTERM while logins (some slow: bcrypt cost 12)
// and introspections run back to back over kept-alive connections, and a
// separate client polls /readyz on a new connection every 10 ms.
//
// What the server did with each request is read from its access log (the
// checker sends its own X-Request-ID, which the log echoes): a request the
// client saw fail although the server logged it was accepted and then lost.
func (e *env) sigterm(drainMin time.Duration) (*report, error) {
	r := &report{Title: "sigterm: SIGTERM under load"}
	dbURL, err := e.freshDB("faults_sigterm")
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	served := map[string]int{} // request id → status, from the access log
	// A tree that has the proposed auth.shutdown_delay (docs/RELIABILITY.md)
	// drains for 2 s rather than its default, to keep the run short.
	authExtra := ""
	if configHasKey("shutdown_delay") {
		authExtra = "shutdown_delay: 2"
	}
	g, err := e.startGatehouse(instanceConfig{Name: "sigterm", DBURL: dbURL, AuthExtra: authExtra, OnRequest: func(id string, status int) {
		mu.Lock()
		served[id] = status
		mu.Unlock()
	}})
	if err != nil {
		return nil, err
	}
	defer g.Stop(30 * time.Second)
	svc, err := mustToken(g.Base, "svc", 0)
	if err != nil {
		return nil, err
	}
	pool := newTokenPool()
	for range 20 {
		t, err := mustToken(g.Base, "joe", 0)
		if err != nil {
			return nil, err
		}
		pool.add(t, "joe")
	}

	hc := newClient(64, true, 60*time.Second)
	rec, ready := &recorder{}, &recorder{}
	lctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(workers int, fire func() sample) {
		wg.Add(1)
		go func() { defer wg.Done(); closedLoop(lctx, workers, fire, rec) }()
	}
	run(8, func() sample {
		tok, u := pool.pick()
		s := introspect(hc, g.Base, svc, tok, "access_token")
		expectActive(&s, u, "access_token")
		return s
	})
	run(2, func() sample { return login(hc, g.Base, "joe", passwords["joe"], 0) })
	run(2, func() sample { s := login(hc, g.Base, "slow", passwords["slow"], 0); s.Kind = "slow-login"; return s })
	pc := newClient(1, false, 5*time.Second)
	pctx, stopProbe := context.WithCancel(context.Background())
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		probe(pctx, 10*time.Millisecond, func() sample {
			req, _ := http.NewRequest("GET", g.Base+"/readyz", nil)
			return do(pc, "readyz", req)
		}, ready)
	}()

	time.Sleep(2 * time.Second)
	tSig := time.Now()
	if err := g.Signal(syscall.SIGTERM); err != nil {
		stopLoad()
		stopProbe()
		return nil, err
	}
	code, exited := g.Wait(60 * time.Second)
	tExit := time.Now()
	time.Sleep(200 * time.Millisecond)
	stopLoad()
	wg.Wait()
	stopProbe()
	<-probeDone
	all := rec.snapshot()

	// Readiness as a load balancer would see it.
	var first503, firstRefused, last200 time.Time
	for _, s := range ready.snapshot() {
		if s.Start.Before(tSig) {
			continue
		}
		switch {
		case s.Status == http.StatusOK:
			last200 = s.End
		case s.Status == http.StatusServiceUnavailable && first503.IsZero():
			first503 = s.End
		case s.Status == 0 && firstRefused.IsZero():
			firstRefused = s.Start
		}
	}
	var window time.Duration
	seen503First := !first503.IsZero() && (firstRefused.IsZero() || first503.Before(firstRefused))
	if seen503First {
		end := firstRefused
		if end.IsZero() {
			end = tExit
		}
		window = end.Sub(first503)
	}

	// The load's requests. "Accepted" means the server read the request
	// and ran its handler: its access log has the request's id.
	mu.Lock()
	accepted := func(s sample) bool { _, ok := served[s.ID]; return ok }
	var refused, unread, lostAccepted, badAnswers, inflight, inflightAccepted, inflightAcceptedOK []sample
	acceptedAfter := 0
	for _, s := range all {
		if s.Start.Before(tSig) && s.End.After(tSig) {
			inflight = append(inflight, s)
			if accepted(s) {
				inflightAccepted = append(inflightAccepted, s)
				if s.ok() {
					inflightAcceptedOK = append(inflightAcceptedOK, s)
				}
			}
		}
		if s.Start.After(tSig) && accepted(s) {
			acceptedAfter++
		}
		switch {
		case s.Status != 0 && !s.ok():
			badAnswers = append(badAnswers, s)
		case s.Status != 0:
		case s.Dial:
			refused = append(refused, s)
		case accepted(s):
			lostAccepted = append(lostAccepted, s)
		default:
			unread = append(unread, s)
		}
	}
	mu.Unlock()
	slowInflight := filter(inflightAccepted, func(s sample) bool { return s.Kind == "slow-login" })

	r.fig("load", "closed loop: 8 introspection workers, 2 login workers (bcrypt cost 4), 2 slow-login workers (bcrypt cost 12); keep-alive")
	r.fig("requests", "%d: %s", len(all), statusCounts(all))
	r.fig("in flight when SIGTERM was sent (client's view)", "%d: %s", len(inflight), statusCounts(inflight))
	r.fig("…of which the server had accepted", "%d (%d slow logins): %s", len(inflightAccepted), len(slowInflight), statusCounts(inflightAccepted))
	r.fig("latency of the slow logins in flight at SIGTERM", "%s", lats(slowInflight))
	r.fig("requests accepted by the server after SIGTERM", "%d", acceptedAfter)
	r.fig("failed: connection refused (listener closed; never accepted)", "%d", len(refused))
	r.fig("failed: kept-alive connection closed before the server read the request (not accepted)", "%d %s", len(unread), whenFailed(unread, tSig, 3))
	r.fig("failed: accepted by the server (in its access log), answer lost", "%d %s", len(lostAccepted), whenFailed(lostAccepted, tSig, 3))
	r.fig("/readyz after SIGTERM", "last 200 at %s, first 503 at %s, first refused connection at %s",
		relTo(last200, tSig), relTo(first503, tSig), relTo(firstRefused, tSig))
	r.fig("/readyz 503 window before the listener closed", "%s", ms(window))
	r.fig("SIGTERM → exit", "%s, exit code %d", ms(tExit.Sub(tSig)), code)

	r.bar("exit code 0, within the 30 s shutdown timeout", exited && code == 0, fmt.Sprintf("exited=%v code=%d after %s", exited, code, secs(tExit.Sub(tSig))), "0")
	r.bar("every request accepted before SIGTERM and in flight completed normally", len(inflightAcceptedOK) == len(inflightAccepted),
		fmt.Sprintf("%d of %d", len(inflightAcceptedOK), len(inflightAccepted)), "all")
	sentBefore := filter(all, func(s sample) bool { return s.Start.Before(tSig) })
	sentBeforeFailed := filter(sentBefore, func(s sample) bool { return !s.ok() })
	r.bar("every request sent before SIGTERM answered normally (stricter: includes requests the server had not read yet)",
		len(sentBeforeFailed) == 0, fmt.Sprintf("%d of %d failed", len(sentBeforeFailed), len(sentBefore)), "0")
	r.bar("no accepted request lost (reset, error)", len(lostAccepted) == 0, fmt.Sprint(len(lostAccepted)), "0")
	r.bar("no wrong or failed answer (every answer 200/201 and right)", len(badAnswers) == 0,
		fmt.Sprintf("%d %s", len(badAnswers), firstExamples(badAnswers, 2)), "0")
	r.bar(fmt.Sprintf("/readyz turned 503 before the listener closed, for at least %s", secs(drainMin)),
		seen503First && window >= drainMin, readinessText(seen503First, window, first503, firstRefused, tSig), "≥ "+secs(drainMin))
	return r, nil
}

func relTo(t, ref time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return fmt.Sprintf("%+.1f ms", float64(t.Sub(ref).Microseconds())/1000)
}

func readinessText(seen bool, window time.Duration, first503, firstRefused, sig time.Time) string {
	if !seen {
		return fmt.Sprintf("never: no 503 before the first refused connection (%s after SIGTERM)", relTo(firstRefused, sig))
	}
	return ms(window)
}

// whenFailed describes up to n failed samples relative to the signal.
func whenFailed(ss []sample, sig time.Time, n int) string {
	var parts []string
	for _, s := range ss {
		if len(parts) == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s sent %s, failed %s (kept-alive %v, written %v): %s",
			s.Kind, relTo(s.Start, sig), relTo(s.End, sig), s.Reused, s.Wrote, s.Err))
	}
	return strings.Join(parts, "; ")
}
