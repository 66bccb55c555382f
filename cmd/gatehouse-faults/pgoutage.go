package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
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

// pgFault is how one PostgreSQL scenario takes the database away and
// brings it back.
type pgFault struct {
	name    string
	what    string        // for the title
	failBar time.Duration // every 503 within this
	freeze  bool
	apply   func(e *env) (frozen int, err error)
	restore func(e *env) error
}

func (f pgFault) title() string { return fmt.Sprintf("%s: PostgreSQL %s under load", f.name, f.what) }

// pgStop is scenario 1: pg_ctl stop -m immediate, later start.
var pgStop = pgFault{
	name: "pg-stop", what: "stopped (pg_ctl stop -m immediate, then start)", failBar: 2 * time.Second,
	apply:   func(e *env) (int, error) { return 0, e.pgctl("stop", "immediate") },
	restore: func(e *env) error { return e.pgctl("start") },
}

// pgFreezeFault is scenario 2: SIGSTOP on every process of the cluster,
// later SIGCONT.
var pgFreezeFault = pgFault{
	name: "pg-freeze", what: "frozen (SIGSTOP on the postmaster and all its children, then SIGCONT)", failBar: 3 * time.Second,
	freeze: true, apply: (*env).pgFreeze, restore: (*env).pgThaw,
}

// pgOutage takes the database away under an open-loop mix of logins and
// introspections, with /readyz polled, and judges every answer, the
// recovery and the tokens issued.
type pgOutage struct {
	e     *env
	f     pgFault
	dbURL string
	g     *gatehouse
	svc   string
	// pool is introspected under load; issued holds every token that got
	// a 201, to be validated after the outage.
	pool, issued *tokenPool
	rec, ready   loadgen.Samples
	dropped      int64
	frozen       int
	// fault applied → down → restore begun → up again
	tFault, tDown, tRestore, tUp time.Time
}

func (p *pgOutage) setup() error {
	var err error
	if p.dbURL, err = p.e.freshDB("faults_" + strings.ReplaceAll(p.f.name, "-", "_")); err != nil {
		return err
	}
	if p.g, err = p.e.startGatehouse(instanceConfig{Name: p.f.name, DBURL: p.dbURL}); err != nil {
		return err
	}
	if p.svc, err = mustToken(p.g.Base, "svc", 0); err != nil {
		return err
	}
	p.pool, p.issued = newTokenPool(), newTokenPool()
	p.issued.add(p.svc, "svc")
	return mustTokens(p.g.Base, "joe", 20, p.pool, p.issued)
}

func (p *pgOutage) load(ctx context.Context) {
	hc := loadgen.NewClient(512, true, 15*time.Second)
	pc := loadgen.NewClient(1, false, 5*time.Second)
	streams := []loadgen.Stream{
		{Rate: loginRate, Fire: func() loadgen.Sample {
			s := login(hc, p.g.Base, "joe", passwords["joe"], 0)
			if s.Token != "" {
				p.pool.add(s.Token, "joe")
				p.issued.add(s.Token, "joe")
			}
			return s
		}},
		{Rate: introRate, Fire: func() loadgen.Sample {
			tok, u := p.pool.pick()
			s := introspect(hc, p.g.Base, p.svc, tok, "access_token")
			expectActive(&s, u, "access_token")
			return s
		}},
	}
	background(
		func() { p.dropped = loadgen.Open(ctx, streams, 4000, &p.rec) },
		func() {
			loadgen.Probe(ctx, 50*time.Millisecond, func() loadgen.Sample { return readyz(pc, p.g.Base) }, &p.ready)
		},
	)
}

func (p *pgOutage) fault() error {
	time.Sleep(outageLead)
	p.tFault = time.Now()
	var err error
	p.frozen, err = p.f.apply(p.e)
	p.tDown = time.Now()
	if err != nil {
		_ = p.e.pgThaw()
		_ = p.e.pgctl("start")
		return err
	}
	time.Sleep(outageLength)
	p.tRestore = time.Now()
	err = p.f.restore(p.e)
	p.tUp = time.Now()
	if err != nil {
		return fmt.Errorf("bringing the database back: %w", err)
	}
	waitRecovered(p.rec.Snapshot, p.tUp, recoveryQuiet)
	return nil
}

func (p *pgOutage) close() {
	if p.g != nil {
		p.g.Stop(30 * time.Second)
	}
}

// judge validates every token that got a 201, before, during or after the
// outage, now that the database is back: through the API (the cache was
// dropped when the listener lost its connection, so this reads the
// database) and in the table itself; then writes the figures and bars.
func (p *pgOutage) judge(r *loadgen.Report) error {
	vctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	toks := p.issued.all()
	lost, retried := validateAll(vctx, p.g.Base, p.svc, toks)
	hashes, err := pgTokenHashes(p.dbURL)
	rows := checkRows(toks, hashes, err)
	all := p.rec.Snapshot()
	o := p.classify(all)
	p.loadFigures(r, all)
	p.outageFigures(r, all, o)
	p.recoveryFigures(r, all)
	r.Fig("tokens issued (201) in the run, incl. 21 before the load", "%d; %d validated again after the outage (%d retries)", len(toks), len(toks)-len(lost), retried)
	if rows.err != nil {
		r.Fig("token rows in the database", "could not read: %v", rows.err)
	} else {
		r.Fig("token rows in the database", "%d; missing for a 201: %d; rows whose 201 never reached the client: %d", rows.rows, rows.missing, rows.ghosts)
	}
	if errs := p.g.ErrorLines(); len(errs) > 0 {
		r.Fig("first server error line", "`%.300s`", errs[0])
	}
	p.bars(r, all, o, lost, rows)
	return nil
}

// pgOutcome sorts the requests by when they ran against the outage.
type pgOutcome struct {
	outage      []loadgen.Sample // started while down
	cacheServed []loadgen.Sample // …answered 200 from the validation cache in its grace
	notRefused  []loadgen.Sample // …answered before the restore, with neither a 503 nor the cache's 200
	issuedDown  []loadgen.Sample // …answered 201 before the restore
}

func (p *pgOutage) classify(all []loadgen.Sample) pgOutcome {
	var o pgOutcome
	o.outage = loadgen.Filter(all, startedIn(p.tDown, p.tRestore))
	done := loadgen.Filter(o.outage, func(s loadgen.Sample) bool { return s.End.Before(p.tRestore) })
	fromCache := func(s loadgen.Sample) bool {
		return isIntrospect(s) && s.Status == http.StatusOK && s.Start.Before(p.tDown.Add(cacheGrace))
	}
	o.cacheServed = loadgen.Filter(done, fromCache)
	o.notRefused = loadgen.Filter(done, func(s loadgen.Sample) bool { return !is503(s) && !fromCache(s) })
	o.issuedDown = loadgen.Filter(o.outage, func(s loadgen.Sample) bool {
		return s.Status == http.StatusCreated && s.End.Before(p.tRestore)
	})
	return o
}

func (p *pgOutage) loadFigures(r *loadgen.Report, all []loadgen.Sample) {
	r.Fig("load", "%.0f logins/s (flat_file, bcrypt cost 4) + %.0f introspections/s, open loop; %d ticks dropped", loginRate, introRate, p.dropped)
	if p.f.freeze {
		r.Fig("processes frozen", "%d (postmaster + children)", p.frozen)
	}
	r.Fig("fault applied in", "%s", loadgen.Ms(p.tDown.Sub(p.tFault)))
	r.Fig("database away for", "%s (fault applied → restore begun); restore took %s", loadgen.Secs(p.tRestore.Sub(p.tDown)), loadgen.Ms(p.tUp.Sub(p.tRestore)))
	r.Fig("logins", "%s", loadgen.StatusCounts(loadgen.Filter(all, isLogin)))
	r.Fig("introspections", "%s", loadgen.StatusCounts(loadgen.Filter(all, isIntrospect)))
}

func (p *pgOutage) outageFigures(r *loadgen.Report, all []loadgen.Sample, o pgOutcome) {
	r.Fig("requests started while down", "%d (%s)", len(o.outage), loadgen.StatusCounts(o.outage))
	lastCached := time.Duration(-1)
	for _, c := range o.cacheServed {
		lastCached = max(lastCached, c.End.Sub(p.tDown))
	}
	cached := fmt.Sprint(len(o.cacheServed))
	if lastCached >= 0 {
		cached += fmt.Sprintf(", the last %s after the fault", loadgen.Ms(lastCached))
	}
	r.Fig("…answered 200 from the validation cache before the listener noticed", "%s (allowed in the first %s)", cached, loadgen.Secs(cacheGrace))
	refused := loadgen.Filter(all, is503)
	r.Fig("503 latency (all 503s)", "%s", loadgen.Lats(refused))
	r.Fig("latency of requests started while down (incl. those answered after the restore)", "%s; slowest: %s", loadgen.Lats(o.outage), slowest(o.outage, p.tDown, 3))
	r.Fig("503 latency, logins", "%s", loadgen.Lats(loadgen.Filter(refused, isLogin)))
	r.Fig("503 latency, introspections", "%s", loadgen.Lats(loadgen.Filter(refused, isIntrospect)))
	straddle := loadgen.Filter(all, func(s loadgen.Sample) bool {
		return isLogin(s) && s.Status == http.StatusCreated && s.Start.Before(p.tDown) && !s.End.Before(p.tDown)
	})
	r.Fig("201s for logins in flight when the fault hit", "%d (committed before it; validated below)", len(straddle))
}

func (p *pgOutage) recoveryFigures(r *loadgen.Report, all []loadgen.Sample) {
	firstReady503, firstReady200 := time.Duration(-1), time.Duration(-1)
	for _, s := range p.ready.Snapshot() {
		if firstReady503 < 0 && !s.Start.Before(p.tFault) && is503(s) {
			firstReady503 = s.End.Sub(p.tFault)
		}
		if firstReady200 < 0 && !s.Start.Before(p.tUp) && s.Status == http.StatusOK {
			firstReady200 = s.End.Sub(p.tUp)
		}
	}
	r.Fig("/readyz 503 after the fault", "%s", loadgen.MsOrNever(firstReady503))
	r.Fig("/readyz 200 after the database returned", "%s", loadgen.MsOrNever(firstReady200))
	firstOK := time.Duration(-1)
	for _, s := range all {
		if !s.Start.Before(p.tUp) && s.OK() && (firstOK < 0 || s.End.Sub(p.tUp) < firstOK) {
			firstOK = s.End.Sub(p.tUp)
		}
	}
	r.Fig("first success after the database returned", "%s", loadgen.MsOrNever(firstOK))
	recov, _ := recovery(all, p.tUp)
	r.Fig("last failure after the database returned", "%s", loadgen.Secs(recov))
}

func (p *pgOutage) bars(r *loadgen.Report, all []loadgen.Sample, o pgOutcome, lost []string, rows rowCheck) {
	ex := loadgen.FirstExamples
	fivexx, silent, wrong := loadgen.Filter(all, other5xx), loadgen.Filter(all, noAnswer), loadgen.Filter(all, isWrong)
	maxFail := loadgen.Lats(loadgen.Filter(all, is503)).Max()
	r.Bar("every request started while down answered 503 (bar: no other answer, no 201)", len(o.notRefused) == 0,
		fmt.Sprintf("%d other answers %s", len(o.notRefused), ex(o.notRefused, 3)), "0")
	r.Bar(fmt.Sprintf("every 503 within %s", loadgen.Secs(p.f.failBar)), maxFail < p.f.failBar, "max "+loadgen.Ms(maxFail), "< "+loadgen.Secs(p.f.failBar))
	r.Bar("no 500 (or other 5xx but 503)", len(fivexx) == 0, fmt.Sprint(len(fivexx)), "0")
	r.Bar("no request without an answer (reset, timeout)", len(silent) == 0, fmt.Sprintf("%d %s", len(silent), ex(silent, 2)), "0")
	r.Bar("no wrong answer (200 that is not active for the right user)", len(wrong) == 0, fmt.Sprintf("%d %s", len(wrong), ex(wrong, 2)), "0")
	r.Bar("no token issued while down (201)", len(o.issuedDown) == 0, fmt.Sprint(len(o.issuedDown)), "0")
	r.Bar("every 201 token valid after the database returned", len(lost) == 0 && rows.missing == 0,
		fmt.Sprintf("%d lost %s", len(lost), strings.Join(loadgen.First(lost, 3), "; ")), "0 lost")
	recov, recovered := recovery(all, p.tUp)
	r.Bar("recovered without restarting Gatehouse (last failure after the database returned)",
		recovered && recov <= recoveryBar, recoveredText(recov, recovered), "≤ "+loadgen.Secs(recoveryBar))
}
