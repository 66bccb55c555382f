package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

// Timings of the PostgreSQL outage scenarios.
const (
	outageLead     = 3 * time.Second  // load before the fault
	outageLength   = 5 * time.Second  // how long the database stays away
	recoveryBar    = 10 * time.Second // back to normal within this after the database returns
	recoveryQuiet  = 3 * time.Second  // this long without a failure counts as recovered
	recoveryGiveUp = 15 * time.Second // stop waiting for recovery
	// cacheGrace: a valid token may still be answered from the validation
	// cache until the revocation listener notices the outage, which its
	// design bounds at about 1 s (500 ms idle + 500 ms ping); 1.5 s allows
	// for scheduling.
	cacheGrace = 1500 * time.Millisecond
	loginRate  = 100.0 // logins per second under load
	introRate  = 300.0 // introspections per second under load
)

// pgOutage is scenarios 1 (freeze false: pg_ctl stop -m immediate, later
// start) and 2 (freeze true: SIGSTOP on every process of the cluster,
// later SIGCONT) under a mix of logins and introspections.
func (e *env) pgOutage(freeze bool) (*report, error) {
	name, what, failBar := "pg-stop", "stopped (pg_ctl stop -m immediate, then start)", 2*time.Second
	if freeze {
		name, what, failBar = "pg-freeze", "frozen (SIGSTOP on the postmaster and all its children, then SIGCONT)", 3*time.Second
	}
	r := &report{Title: fmt.Sprintf("%s: PostgreSQL %s under load", name, what)}
	dbURL, err := e.freshDB("faults_" + strings.ReplaceAll(name, "-", "_"))
	if err != nil {
		return nil, err
	}
	g, err := e.startGatehouse(instanceConfig{Name: name, DBURL: dbURL})
	if err != nil {
		return nil, err
	}
	defer g.Stop(30 * time.Second)

	svc, err := mustToken(g.Base, "svc", 0)
	if err != nil {
		return nil, err
	}
	pool, issued := newTokenPool(), newTokenPool() // introspected; every 201 ever
	issued.add(svc, "svc")
	for range 20 {
		t, err := mustToken(g.Base, "joe", 0)
		if err != nil {
			return nil, err
		}
		pool.add(t, "joe")
		issued.add(t, "joe")
	}

	hc := newClient(512, true, 15*time.Second)
	rec, ready := &recorder{}, &recorder{}
	streams := []stream{
		{rate: loginRate, fire: func() sample {
			s := login(hc, g.Base, "joe", passwords["joe"], 0)
			if s.Token != "" {
				pool.add(s.Token, "joe")
				issued.add(s.Token, "joe")
			}
			return s
		}},
		{rate: introRate, fire: func() sample {
			tok, u := pool.pick()
			s := introspect(hc, g.Base, svc, tok, "access_token")
			expectActive(&s, u, "access_token")
			return s
		}},
	}
	pc := newClient(1, false, 5*time.Second)
	pctx, stopProbe := context.WithCancel(context.Background())
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		probe(pctx, 50*time.Millisecond, func() sample {
			req, _ := http.NewRequest("GET", g.Base+"/readyz", nil)
			return do(pc, "readyz", req)
		}, ready)
	}()
	lctx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan int64, 1)
	go func() { loadDone <- openLoop(lctx, streams, 4000, rec) }()
	stopAll := func() int64 {
		stopLoad()
		d := <-loadDone
		stopProbe()
		<-probeDone
		return d
	}

	time.Sleep(outageLead)
	tFault := time.Now()
	var frozen int
	if freeze {
		frozen, err = e.pgFreeze()
	} else {
		err = e.pgctl("stop", "immediate")
	}
	tDown := time.Now()
	if err != nil {
		_ = e.pgThaw()
		_ = e.pgctl("start")
		stopAll()
		return nil, err
	}
	time.Sleep(outageLength)
	tRestore := time.Now()
	if freeze {
		err = e.pgThaw()
	} else {
		err = e.pgctl("start")
	}
	tUp := time.Now()
	if err != nil {
		stopAll()
		return nil, fmt.Errorf("bringing the database back: %w", err)
	}
	for time.Since(tUp) < recoveryGiveUp {
		time.Sleep(250 * time.Millisecond)
		if d, ok := recovery(rec.snapshot(), tUp); ok && time.Since(tUp.Add(d)) >= recoveryQuiet {
			break
		}
	}
	dropped := stopAll()
	all := rec.snapshot()

	// Every token that got a 201, before, during or after the outage, must
	// be valid now that the database is back: through the API (the cache
	// was dropped when the listener lost its connection, so this reads the
	// database) and in the table itself.
	vctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	toks := issued.all()
	lost, retried := validateAll(vctx, g.Base, svc, toks)
	hashes, herr := pgTokenHashes(dbURL)
	missingRows, ghosts := 0, 0
	if herr == nil {
		known := map[string]bool{}
		for t := range toks {
			h := token.HashToken(t)
			known[h] = true
			if _, ok := hashes[h]; !ok {
				missingRows++
			}
		}
		for h := range hashes {
			if !known[h] {
				ghosts++
			}
		}
	}

	// Figures.
	logins := filter(all, func(s sample) bool { return s.Kind == "login" })
	intros := filter(all, func(s sample) bool { return s.Kind == "introspect" })
	r.fig("load", "%.0f logins/s (flat_file, bcrypt cost 4) + %.0f introspections/s, open loop; %d ticks dropped", loginRate, introRate, dropped)
	if freeze {
		r.fig("processes frozen", "%d (postmaster + children)", frozen)
	}
	r.fig("fault applied in", "%s", ms(tDown.Sub(tFault)))
	r.fig("database away for", "%s (fault applied → restore begun); restore took %s", secs(tRestore.Sub(tDown)), ms(tUp.Sub(tRestore)))
	r.fig("logins", "%s", statusCounts(logins))
	r.fig("introspections", "%s", statusCounts(intros))

	outage := filter(all, func(s sample) bool { return !s.Start.Before(tDown) && s.Start.Before(tRestore) })
	r.fig("requests started while down", "%d (%s)", len(outage), statusCounts(outage))
	done := filter(outage, func(s sample) bool { return s.End.Before(tRestore) })
	cacheServed := filter(done, func(s sample) bool {
		return s.Kind == "introspect" && s.Status == http.StatusOK && s.Start.Before(tDown.Add(cacheGrace))
	})
	notRefused := filter(done, func(s sample) bool {
		return s.Status != http.StatusServiceUnavailable &&
			!(s.Kind == "introspect" && s.Status == http.StatusOK && s.Start.Before(tDown.Add(cacheGrace)))
	})
	lastCached := time.Duration(-1)
	for _, c := range cacheServed {
		lastCached = max(lastCached, c.End.Sub(tDown))
	}
	cached := fmt.Sprint(len(cacheServed))
	if lastCached >= 0 {
		cached += fmt.Sprintf(", the last %s after the fault", ms(lastCached))
	}
	r.fig("…answered 200 from the validation cache before the listener noticed", "%s (allowed in the first %s)", cached, secs(cacheGrace))
	failed := filter(all, func(s sample) bool { return s.Status == http.StatusServiceUnavailable })
	r.fig("503 latency (all 503s)", "%s", lats(failed))
	r.fig("latency of requests started while down (incl. those answered after the restore)", "%s; slowest: %s", lats(outage), slowest(outage, tDown, 3))
	r.fig("503 latency, logins", "%s", lats(filter(failed, func(s sample) bool { return s.Kind == "login" })))
	r.fig("503 latency, introspections", "%s", lats(filter(failed, func(s sample) bool { return s.Kind == "introspect" })))

	other5xx := filter(all, func(s sample) bool { return s.Status >= 500 && s.Status != http.StatusServiceUnavailable })
	noAnswer := filter(all, func(s sample) bool { return s.Status == 0 })
	wrong := filter(all, func(s sample) bool { return s.Wrong != "" })
	issuedDown := filter(outage, func(s sample) bool { return s.Status == http.StatusCreated && s.End.Before(tRestore) })
	straddle := filter(logins, func(s sample) bool {
		return s.Status == http.StatusCreated && s.Start.Before(tDown) && !s.End.Before(tDown)
	})
	r.fig("201s for logins in flight when the fault hit", "%d (committed before it; validated below)", len(straddle))

	firstReady503, firstReady200 := time.Duration(-1), time.Duration(-1)
	for _, s := range ready.snapshot() {
		if firstReady503 < 0 && !s.Start.Before(tFault) && s.Status == http.StatusServiceUnavailable {
			firstReady503 = s.End.Sub(tFault)
		}
		if firstReady200 < 0 && !s.Start.Before(tUp) && s.Status == http.StatusOK {
			firstReady200 = s.End.Sub(tUp)
		}
	}
	r.fig("/readyz 503 after the fault", "%s", durOrNever(firstReady503))
	r.fig("/readyz 200 after the database returned", "%s", durOrNever(firstReady200))
	recov, recovered := recovery(all, tUp)
	firstOK := time.Duration(-1)
	for _, s := range all {
		if !s.Start.Before(tUp) && s.ok() && (firstOK < 0 || s.End.Sub(tUp) < firstOK) {
			firstOK = s.End.Sub(tUp)
		}
	}
	r.fig("first success after the database returned", "%s", durOrNever(firstOK))
	r.fig("last failure after the database returned", "%s", secs(recov))
	r.fig("tokens issued (201) in the run, incl. 21 before the load", "%d; %d validated again after the outage (%d retries)", len(toks), len(toks)-len(lost), retried)
	if herr != nil {
		r.fig("token rows in the database", "could not read: %v", herr)
	} else {
		r.fig("token rows in the database", "%d; missing for a 201: %d; rows whose 201 never reached the client: %d", len(hashes), missingRows, ghosts)
	}
	if errs := g.ErrorLines(); len(errs) > 0 {
		r.fig("first server error line", "`%.300s`", errs[0])
	}

	// Bars.
	r.bar("every request started while down answered 503 (bar: no other answer, no 201)", len(notRefused) == 0,
		fmt.Sprintf("%d other answers %s", len(notRefused), firstExamples(notRefused, 3)), "0")
	r.bar(fmt.Sprintf("every 503 within %s", secs(failBar)), lats(failed).max() < failBar, "max "+ms(lats(failed).max()), "< "+secs(failBar))
	r.bar("no 500 (or other 5xx but 503)", len(other5xx) == 0, fmt.Sprint(len(other5xx)), "0")
	r.bar("no request without an answer (reset, timeout)", len(noAnswer) == 0, fmt.Sprintf("%d %s", len(noAnswer), firstExamples(noAnswer, 2)), "0")
	r.bar("no wrong answer (200 that is not active for the right user)", len(wrong) == 0, fmt.Sprintf("%d %s", len(wrong), firstExamples(wrong, 2)), "0")
	r.bar("no token issued while down (201)", len(issuedDown) == 0, fmt.Sprint(len(issuedDown)), "0")
	r.bar("every 201 token valid after the database returned", len(lost) == 0 && missingRows == 0,
		fmt.Sprintf("%d lost %s", len(lost), strings.Join(first(lost, 3), "; ")), "0 lost")
	r.bar("recovered without restarting Gatehouse (last failure after the database returned)",
		recovered && recov <= recoveryBar, recoveredText(recov, recovered), "≤ "+secs(recoveryBar))
	return r, nil
}

// recovery returns, for requests started at or after up, how long after up
// the last one that failed ended (0 if none failed), and whether logins
// and introspections both succeeded after it.
func recovery(ss []sample, up time.Time, kinds ...string) (time.Duration, bool) {
	if len(kinds) == 0 {
		kinds = []string{"login", "introspect"}
	}
	lastFail := up
	for _, s := range ss {
		if !s.Start.Before(up) && !s.ok() && s.End.After(lastFail) {
			lastFail = s.End
		}
	}
	okKinds := map[string]bool{}
	for _, s := range ss {
		if s.Start.After(lastFail) && s.ok() {
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
		return fmt.Sprintf("not recovered (last failure %s after)", secs(d))
	}
	return secs(d)
}

func durOrNever(d time.Duration) string {
	if d < 0 {
		return "never seen"
	}
	return ms(d)
}

func first(ss []string, n int) []string {
	if len(ss) > n {
		return ss[:n]
	}
	return ss
}

// slowest describes the n slowest samples: kind, status, when sent
// (relative to ref) and latency.
func slowest(ss []sample, ref time.Time, n int) string {
	s := slices.Clone(ss)
	slices.SortFunc(s, func(a, b sample) int { return cmp.Compare(b.Latency, a.Latency) })
	var parts []string
	for _, x := range first2(s, n) {
		parts = append(parts, fmt.Sprintf("%s %d sent at %s took %s", x.Kind, x.Status, relTo(x.Start, ref), ms(x.Latency)))
	}
	return strings.Join(parts, "; ")
}

func first2[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}
