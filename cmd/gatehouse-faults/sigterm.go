package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// sigterm is scenario 4: SIGTERM while logins (some slow: bcrypt cost 12)
// and introspections run back to back over kept-alive connections, and a
// separate client polls /readyz on a new connection every 10 ms.
//
// What the server did with each request is read from its access log (the
// checker sends its own X-Request-ID, which the log echoes): a request the
// client saw fail although the server logged it was accepted and then lost.
type sigterm struct {
	e        *env
	drainMin time.Duration // /readyz must answer 503 this long before the listener closes
	g        *gatehouse
	svc      string
	pool     *tokenPool
	mu       sync.Mutex
	served   map[string]int // request id → status, from the access log
	rec      loadgen.Samples
	ready    loadgen.Samples
	tSig     time.Time
	tExit    time.Time
	code     int
	exited   bool
}

func (t *sigterm) setup() error {
	dbURL, err := t.e.freshDB("faults_sigterm")
	if err != nil {
		return err
	}
	t.served = map[string]int{}
	// A tree that has auth.shutdown_delay (docs/RELIABILITY.md) drains for
	// 2 s rather than its default, to keep the run short.
	authExtra := ""
	if configHasKey("shutdown_delay") {
		authExtra = "shutdown_delay: 2"
	}
	t.g, err = t.e.startGatehouse(instanceConfig{Name: "sigterm", DBURL: dbURL, AuthExtra: authExtra, OnRequest: func(id string, status int) {
		t.mu.Lock()
		t.served[id] = status
		t.mu.Unlock()
	}})
	if err != nil {
		return err
	}
	if t.svc, err = mustToken(t.g.Base, "svc", 0); err != nil {
		return err
	}
	t.pool = newTokenPool()
	return mustTokens(t.g.Base, "joe", 20, t.pool)
}

func (t *sigterm) load(ctx context.Context) {
	hc := loadgen.NewClient(64, true, 60*time.Second)
	pc := loadgen.NewClient(1, false, 5*time.Second)
	intro := func() loadgen.Sample {
		tok, u := t.pool.pick()
		s := introspect(hc, t.g.Base, t.svc, tok, "access_token")
		expectActive(&s, u, "access_token")
		return s
	}
	joe := func() loadgen.Sample { return login(hc, t.g.Base, "joe", passwords["joe"], 0) }
	slow := func() loadgen.Sample {
		s := login(hc, t.g.Base, "slow", passwords["slow"], 0)
		s.Kind = "slow-login"
		return s
	}
	background(
		func() { loadgen.Closed(ctx, 8, intro, &t.rec) },
		func() { loadgen.Closed(ctx, 2, joe, &t.rec) },
		func() { loadgen.Closed(ctx, 2, slow, &t.rec) },
		func() {
			loadgen.Probe(ctx, 10*time.Millisecond, func() loadgen.Sample { return readyz(pc, t.g.Base) }, &t.ready)
		},
	)
}

// fault sends SIGTERM after 2 s of load and waits for the exit; the load
// goes on for 200 ms more, to see what the closed listener answers.
func (t *sigterm) fault() error {
	time.Sleep(2 * time.Second)
	t.tSig = time.Now()
	if err := t.g.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	t.code, t.exited = t.g.Wait(60 * time.Second)
	t.tExit = time.Now()
	time.Sleep(200 * time.Millisecond)
	return nil
}

func (t *sigterm) close() {
	if t.g != nil {
		t.g.Stop(30 * time.Second)
	}
}

// readiness is /readyz after SIGTERM as a load balancer would see it.
type readiness struct {
	first503, firstRefused, last200 time.Time
	seen503First                    bool          // a 503 came before the first refused connection
	window                          time.Duration // from the first 503 to the listener's close
}

func (t *sigterm) readiness() readiness {
	var rd readiness
	for _, s := range t.ready.Snapshot() {
		if s.Start.Before(t.tSig) {
			continue
		}
		switch {
		case s.Status == http.StatusOK:
			rd.last200 = s.End
		case is503(s) && rd.first503.IsZero():
			rd.first503 = s.End
		case s.Status == 0 && rd.firstRefused.IsZero():
			rd.firstRefused = s.Start
		}
	}
	rd.seen503First = !rd.first503.IsZero() && (rd.firstRefused.IsZero() || rd.first503.Before(rd.firstRefused))
	if rd.seen503First {
		end := rd.firstRefused
		if end.IsZero() {
			end = t.tExit
		}
		rd.window = end.Sub(rd.first503)
	}
	return rd
}

// sigtermOutcome sorts the load's requests. "Accepted" means the server
// read the request and ran its handler: its access log has the request's
// id.
type sigtermOutcome struct {
	refused, unread, lostAccepted, badAnswers []loadgen.Sample
	inflight, inflightAccepted                []loadgen.Sample // at SIGTERM
	inflightAcceptedOK                        int
	acceptedAfter                             int
}

func (t *sigterm) classify(all []loadgen.Sample) sigtermOutcome {
	t.mu.Lock()
	defer t.mu.Unlock()
	accepted := func(s loadgen.Sample) bool { _, ok := t.served[s.ID]; return ok }
	var o sigtermOutcome
	for _, s := range all {
		if s.Start.Before(t.tSig) && s.End.After(t.tSig) {
			o.inflight = append(o.inflight, s)
			if accepted(s) {
				o.inflightAccepted = append(o.inflightAccepted, s)
				if s.OK() {
					o.inflightAcceptedOK++
				}
			}
		}
		if s.Start.After(t.tSig) && accepted(s) {
			o.acceptedAfter++
		}
		switch {
		case s.Status != 0 && !s.OK():
			o.badAnswers = append(o.badAnswers, s)
		case s.Status != 0:
		case s.Dial:
			o.refused = append(o.refused, s)
		case accepted(s):
			o.lostAccepted = append(o.lostAccepted, s)
		default:
			o.unread = append(o.unread, s)
		}
	}
	return o
}

func (t *sigterm) judge(r *loadgen.Report) error {
	all := t.rec.Snapshot()
	rd, o := t.readiness(), t.classify(all)
	t.figures(r, all, rd, o)
	t.bars(r, all, rd, o)
	return nil
}

func (t *sigterm) figures(r *loadgen.Report, all []loadgen.Sample, rd readiness, o sigtermOutcome) {
	sc := loadgen.StatusCounts
	slowInflight := loadgen.OfKind(o.inflightAccepted, "slow-login")
	r.Fig("load", "closed loop: 8 introspection workers, 2 login workers (bcrypt cost 4), 2 slow-login workers (bcrypt cost 12); keep-alive")
	r.Fig("requests", "%d: %s", len(all), sc(all))
	r.Fig("in flight when SIGTERM was sent (client's view)", "%d: %s", len(o.inflight), sc(o.inflight))
	r.Fig("…of which the server had accepted", "%d (%d slow logins): %s", len(o.inflightAccepted), len(slowInflight), sc(o.inflightAccepted))
	r.Fig("latency of the slow logins in flight at SIGTERM", "%s", loadgen.Lats(slowInflight))
	r.Fig("requests accepted by the server after SIGTERM", "%d", o.acceptedAfter)
	r.Fig("failed: connection refused (listener closed; never accepted)", "%d", len(o.refused))
	r.Fig("failed: kept-alive connection closed before the server read the request (not accepted)", "%d %s", len(o.unread), whenFailed(o.unread, t.tSig, 3))
	r.Fig("failed: accepted by the server (in its access log), answer lost", "%d %s", len(o.lostAccepted), whenFailed(o.lostAccepted, t.tSig, 3))
	r.Fig("/readyz after SIGTERM", "last 200 at %s, first 503 at %s, first refused connection at %s",
		loadgen.RelTo(rd.last200, t.tSig), loadgen.RelTo(rd.first503, t.tSig), loadgen.RelTo(rd.firstRefused, t.tSig))
	r.Fig("/readyz 503 window before the listener closed", "%s", loadgen.Ms(rd.window))
	r.Fig("SIGTERM → exit", "%s, exit code %d", loadgen.Ms(t.tExit.Sub(t.tSig)), t.code)
}

func (t *sigterm) bars(r *loadgen.Report, all []loadgen.Sample, rd readiness, o sigtermOutcome) {
	r.Bar("exit code 0, within the 30 s shutdown timeout", t.exited && t.code == 0,
		fmt.Sprintf("exited=%v code=%d after %s", t.exited, t.code, loadgen.Secs(t.tExit.Sub(t.tSig))), "0")
	r.Bar("every request accepted before SIGTERM and in flight completed normally", o.inflightAcceptedOK == len(o.inflightAccepted),
		fmt.Sprintf("%d of %d", o.inflightAcceptedOK, len(o.inflightAccepted)), "all")
	sentBefore := loadgen.Filter(all, func(s loadgen.Sample) bool { return s.Start.Before(t.tSig) })
	sentBeforeFailed := loadgen.Filter(sentBefore, failed)
	r.Bar("every request sent before SIGTERM answered normally (stricter: includes requests the server had not read yet)",
		len(sentBeforeFailed) == 0, fmt.Sprintf("%d of %d failed", len(sentBeforeFailed), len(sentBefore)), "0")
	r.Bar("no accepted request lost (reset, error)", len(o.lostAccepted) == 0, fmt.Sprint(len(o.lostAccepted)), "0")
	r.Bar("no wrong or failed answer (every answer 200/201 and right)", len(o.badAnswers) == 0,
		fmt.Sprintf("%d %s", len(o.badAnswers), loadgen.FirstExamples(o.badAnswers, 2)), "0")
	r.Bar(fmt.Sprintf("/readyz turned 503 before the listener closed, for at least %s", loadgen.Secs(t.drainMin)),
		rd.seen503First && rd.window >= t.drainMin, readinessText(rd, t.tSig), "≥ "+loadgen.Secs(t.drainMin))
}

func readinessText(rd readiness, sig time.Time) string {
	if !rd.seen503First {
		return fmt.Sprintf("never: no 503 before the first refused connection (%s after SIGTERM)", loadgen.RelTo(rd.firstRefused, sig))
	}
	return loadgen.Ms(rd.window)
}

// whenFailed describes up to n failed samples relative to the signal.
func whenFailed(ss []loadgen.Sample, sig time.Time, n int) string {
	var parts []string
	for _, s := range loadgen.First(ss, n) {
		parts = append(parts, fmt.Sprintf("%s sent %s, failed %s (kept-alive %v, written %v): %s",
			s.Kind, loadgen.RelTo(s.Start, sig), loadgen.RelTo(s.End, sig), s.Reused, s.Wrote, s.Err))
	}
	return strings.Join(parts, "; ")
}
