package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

// Flatness bounds of the soak: the server's resources at the end (under
// the same load) against the start (after warm-up).
const (
	goroutineSlack = 10
	fdSlack        = 10
	heapFactor     = 1.5
	heapSlack      = 8 << 20
	rssFactor      = 1.5
	rssSlack       = 16 << 20
)

// soakOptions are the soak's flags.
type soakOptions struct {
	duration, warmup, every time.Duration
	workers                 int
	loginRate               float64
	scanFailures            int
}

func soakMain(args []string) error {
	e, o, err := parseSoakFlags(args)
	if err != nil {
		return err
	}
	if err := e.setUsers(); err != nil {
		return err
	}
	r := &loadgen.Report{Title: "soak"}
	if err := runScenario(&soak{e: e, o: o}, r); err != nil {
		return err
	}
	r.Print(os.Stdout)
	if r.Missed() > 0 {
		return errBarsMissed
	}
	return nil
}

func parseSoakFlags(args []string) (*env, soakOptions, error) {
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	e := &env{}
	var o soakOptions
	fs.StringVar(&e.bin, "gatehouse", "bin/gatehouse", "the gatehouse binary")
	fs.StringVar(&e.work, "work", "", "scratch directory (required)")
	fs.StringVar(&e.pgURL, "pg-url", "", "admin URL of a PostgreSQL cluster for a fresh database \"soak\" (required)")
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "measured duration, after the warm-up")
	fs.DurationVar(&o.warmup, "warmup", 0, "warm-up before the start figures (default: duration/10, between 10 s and 60 s)")
	fs.IntVar(&o.workers, "workers", 8, "closed-loop workers sending the mix")
	fs.Float64Var(&o.loginRate, "login-rate", 2, "logins per second (one in five with a wrong password)")
	fs.DurationVar(&o.every, "every", 0, "timeline interval (default: duration/10, at least 5 s)")
	fs.IntVar(&o.scanFailures, "scan-failures", 0, "throttle.scan_failures for the server (0: off; see docs/RELIABILITY.md)")
	_ = fs.Parse(args)
	if e.work == "" || e.pgURL == "" {
		return nil, o, fmt.Errorf("-work and -pg-url are required (scripts/soak.sh sets them)")
	}
	if o.warmup <= 0 {
		o.warmup = min(max(o.duration/10, 10*time.Second), time.Minute)
	}
	if o.every <= 0 {
		o.every = max(o.duration/10, 5*time.Second)
	}
	e.absPaths(&e.bin, &e.work)
	return e, o, nil
}

// soak is a long run of a checked mix against one server: its fault is
// time. It reads the server's resources after the warm-up, every
// o.every, and at the end, and judges every answer and whether the
// resources stayed flat.
type soak struct {
	e  *env
	o  soakOptions
	g  *gatehouse
	st *soakState

	startRes, endRes, idleRes resources
	timeline                  []soakPoint
	n0, n1                    int           // requests sent when the measured period began and ended
	elapsed                   time.Duration // the measured period
	exited                    bool          // the server exited during the run
}

// soakPoint is one row of the timeline.
type soakPoint struct {
	at          time.Duration
	rps         float64
	res         resources
	errs, wrong int
}

// setup starts the server and makes the credentials the mix uses: 200
// valid tokens, 50 that expire at once, 10 API keys.
func (s *soak) setup() error {
	dbURL, err := s.e.freshDB("soak")
	if err != nil {
		return err
	}
	// Throttling is on by default, and one caller asking about many
	// unknown or expired tokens, or one address failing many logins, is
	// exactly what it stops: limits are set so that the soak's own mix
	// never trips them, keeping the login counters' code path in use.
	extra := ""
	if configHasKey("scan_failures") {
		extra = fmt.Sprintf("throttle:\n  login_failures: 1000000\n  account_failures: 1000000\n  address_failures: 1000000\n  scan_failures: %d\n", s.o.scanFailures)
	}
	if s.g, err = s.e.startGatehouse(instanceConfig{Name: "soak", DBURL: dbURL, Extra: extra}); err != nil {
		return err
	}
	s.st = &soakState{base: s.g.Base, valid: newTokenPool(), expired: newTokenPool(), keys: newTokenPool(),
		hc: loadgen.NewClient(s.o.workers+4, true, 30*time.Second), counts: map[string]*opCount{},
		hists: [2]*loadgen.Histogram{loadgen.NewHistogram(), loadgen.NewHistogram()}}
	if err := s.credentials(); err != nil {
		return err
	}
	time.Sleep(1500 * time.Millisecond) // the ttl-1 tokens have expired
	s.printHeader()
	return nil
}

func (s *soak) credentials() error {
	st, base := s.st, s.g.Base
	var err error
	if st.svc, err = mustToken(base, "svc", 0); err != nil {
		return err
	}
	for i := range 200 {
		if err := mustTokens(base, []string{"joe", "ann"}[i%2], 1, st.valid); err != nil {
			return err
		}
	}
	for range 50 {
		t, err := mustToken(base, "joe", 1) // expires in a second
		if err != nil {
			return err
		}
		st.expired.add(t, "joe")
	}
	for i := range 10 {
		u := []string{"joe", "ann"}[i%2]
		t, _ := st.valid.pick()
		for tok, owner := range st.valid.all() {
			if owner == u {
				t = tok
				break
			}
		}
		k, err := createAPIKey(base, t)
		if err != nil {
			return err
		}
		st.keys.add(k, u)
	}
	return nil
}

func (s *soak) printHeader() {
	fmt.Printf("# make soak — %s\n\n", machine())
	fmt.Printf("%d workers, closed loop, over kept-alive loopback connections, plus %.0f logins/s; warm-up %s, measured %s; PostgreSQL (private cluster); bin %s\n\n",
		s.o.workers, s.o.loginRate, s.o.warmup, s.o.duration, s.e.bin)
	fmt.Printf("| mix | share |\n| --- | --- |\n")
	for _, o := range soakMix {
		fmt.Printf("| %s | %d%% |\n", o.Item.name, o.Weight)
	}
	fmt.Println()
}

// load runs the mix on o.workers closed-loop workers, and the logins at
// o.loginRate.
func (s *soak) load(ctx context.Context) {
	background(
		func() { loadgen.Closed(ctx, s.o.workers, s.st.one, s.st) },
		func() { loadgen.Pace(ctx, s.o.loginRate, func() { s.st.Record(s.st.login()) }) },
	)
}

// fault lets the warm-up pass, reads the server's resources, and goes on
// reading them every o.every until o.duration has passed (or the server
// has exited); then reads them once more, still under load.
func (s *soak) fault() error {
	time.Sleep(s.o.warmup)
	var err error
	if s.startRes, err = medianResources(s.g.Pid(), s.g.Base); err != nil {
		return err
	}
	s.st.measuring.Store(true)
	t0 := time.Now()
	s.n0, _, _ = s.st.totals()
	s.timeline = []soakPoint{{0, 0, s.startRes, 0, 0}}
	fmt.Fprintf(os.Stderr, "soak: start %s\n", s.startRes)
	if err := s.readTimeline(t0); err != nil {
		return err
	}
	if s.exited = s.g.Exited(); !s.exited {
		if s.endRes, err = medianResources(s.g.Pid(), s.g.Base); err != nil {
			return err
		}
	}
	s.n1, _, _ = s.st.totals()
	s.elapsed = time.Since(t0)
	return nil
}

// readTimeline adds a timeline point every o.every from t0 until
// o.duration has passed or the server has exited.
func (s *soak) readTimeline(t0 time.Time) error {
	prevN, prevT := s.n0, t0
	for time.Since(t0) < s.o.duration {
		time.Sleep(min(s.o.every, s.o.duration-time.Since(t0)))
		if s.g.Exited() {
			return nil
		}
		res, err := readResources(s.g.Pid(), s.g.Base)
		if err != nil {
			return err
		}
		n, errs, wrong := s.st.totals()
		now := time.Now()
		p := soakPoint{now.Sub(t0), float64(n-prevN) / now.Sub(prevT).Seconds(), res, errs, wrong}
		s.timeline = append(s.timeline, p)
		fmt.Fprintf(os.Stderr, "soak: %s %.0f req/s, %s, errors %d, wrong %d\n", p.at.Round(time.Second), p.rps, res, errs, wrong)
		prevN, prevT = n, now
	}
	return nil
}

func (s *soak) close() {
	if s.g != nil {
		s.g.Stop(30 * time.Second)
	}
}

// judge reads the idle server, prints the count and timeline tables, and
// writes the figures and bars.
func (s *soak) judge(r *loadgen.Report) error {
	if !s.exited {
		time.Sleep(2 * time.Second)
		s.idleRes, _ = medianResources(s.g.Pid(), s.g.Base)
	}
	s.printCounts()
	s.printTimeline()
	s.figures(r)
	s.bars(r)
	return nil
}

func (s *soak) printCounts() {
	fmt.Printf("| request | count | errors | wrong answers |\n| --- | --- | --- | --- |\n")
	names := []string{}
	for _, o := range soakMix {
		names = append(names, o.Item.name)
	}
	for _, name := range append(names, opLogin, opWrongLogin) {
		if c := s.st.counts[name]; c != nil {
			fmt.Printf("| %s | %d | %d | %d |\n", name, c.n, c.errors, c.wrong)
		}
	}
}

func (s *soak) printTimeline() {
	fmt.Printf("\n| timeline | req/s | RSS | heap in use | goroutines | fds | errors | wrong |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, p := range s.timeline {
		rps := "-"
		if p.rps > 0 {
			rps = fmt.Sprintf("%.0f", p.rps)
		}
		fmt.Printf("| %s | %s | %.1f MiB | %.1f MiB | %.0f | %.0f | %d | %d |\n", p.at.Round(time.Second), rps,
			p.res.RSS/(1<<20), p.res.Heap/(1<<20), p.res.Goroutines, p.res.FDs, p.errs, p.wrong)
	}
}

func (s *soak) figures(r *loadgen.Report) {
	st, h := s.st, s.st.hists[1]
	total, _, _ := st.totals()
	r.Fig("requests (whole run, warm-up included)", "%d; %d logins", total, st.counts[opLogin].safeN()+st.counts[opWrongLogin].safeN())
	r.Fig("requests per second (measured period)", "%.0f", float64(s.n1-s.n0)/s.elapsed.Seconds())
	r.Fig("latency (measured period)", "p50 %s · p99 %s · max %s", loadgen.Ms(h.Pct(0.5)), loadgen.Ms(h.Pct(0.99)), loadgen.Ms(h.Max()))
	r.Fig("valid tokens in the pool at the end", "%d (%d at the start)", st.valid.len(), 200)
	r.Fig("server at start (after warm-up, under load)", "%s", s.startRes)
	r.Fig("server at end (under load)", "%s", s.endRes)
	r.Fig("server at end, idle 2 s after the load stopped", "%s", s.idleRes)
	if len(st.examples) > 0 {
		r.Fig("first errors / wrong answers", "%s", strings.Join(st.examples, "; "))
	}
}

func (s *soak) bars(r *loadgen.Report) {
	start, end := s.startRes, s.endRes
	_, errs, wrong := s.st.totals()
	mib := func(b float64) float64 { return b / (1 << 20) }
	r.Bar("server still running", !s.exited, fmt.Sprint(!s.exited), "true")
	r.Bar("errors (no answer, 5xx)", errs == 0, fmt.Sprint(errs), "0")
	r.Bar("wrong answers", wrong == 0, fmt.Sprint(wrong), "0")
	r.Bar("goroutines flat", end.Goroutines <= start.Goroutines+goroutineSlack,
		fmt.Sprintf("%.0f → %.0f", start.Goroutines, end.Goroutines), fmt.Sprintf("end ≤ start + %d", goroutineSlack))
	r.Bar("open fds flat", end.FDs <= start.FDs+fdSlack,
		fmt.Sprintf("%.0f → %.0f", start.FDs, end.FDs), fmt.Sprintf("end ≤ start + %d", fdSlack))
	r.Bar("Go heap in use flat", end.Heap <= heapFactor*start.Heap+heapSlack,
		fmt.Sprintf("%.1f → %.1f MiB", mib(start.Heap), mib(end.Heap)), fmt.Sprintf("end ≤ %.1f × start + %d MiB", heapFactor, heapSlack>>20))
	r.Bar("RSS flat", end.RSS <= rssFactor*start.RSS+rssSlack,
		fmt.Sprintf("%.1f → %.1f MiB", mib(start.RSS), mib(end.RSS)), fmt.Sprintf("end ≤ %.1f × start + %d MiB", rssFactor, rssSlack>>20))
}

// machine describes where the run happens.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs (%s)", time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), cpu)
}

// configHasKey reports whether this tree's configuration knows key
// (configs/gatehouse.example.yaml lists every key): unknown keys stop the
// server from starting.
func configHasKey(key string) bool {
	b, err := os.ReadFile("configs/gatehouse.example.yaml")
	return err == nil && strings.Contains(string(b), key+":")
}
