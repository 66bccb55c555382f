package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/token"
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

// soakOp is one kind of request of the mix, with its share.
type soakOp struct {
	name   string
	weight int
}

// The mix (weights out of 100).
var soakMix = []soakOp{
	{"introspect valid token", 35},
	{"introspect valid API key", 5},
	{"introspect unknown token", 15},
	{"introspect expired token", 15},
	{"verify ?x-auth-token=valid", 10},
	{"verify ?x-auth-token=unknown", 5},
	{"verify ?x-auth-token=expired", 5},
	{"verify ?st2-api-key=valid", 5},
	{"verify ?st2-api-key=unknown", 5},
}

// soakState is what the workers share.
type soakState struct {
	base, svc      string
	valid, expired *tokenPool
	keys           *tokenPool // API key → user
	hc             *http.Client

	measuring atomic.Bool // false during warm-up
	hists     [2]*histogram
	mu        sync.Mutex
	counts    map[string]*opCount
	examples  []string
}

type opCount struct{ n, errors, wrong int }

func (st *soakState) record(op string, s sample) {
	h := st.hists[0]
	if st.measuring.Load() {
		h = st.hists[1]
	}
	h.add(s.Latency)
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.counts[op]
	if c == nil {
		c = &opCount{}
		st.counts[op] = c
	}
	c.n++
	switch {
	case s.Status == 0 || s.Status >= 500:
		c.errors++
	case s.Wrong != "":
		c.wrong++
	default:
		return
	}
	if len(st.examples) < 10 {
		what := s.Wrong
		if what == "" {
			what = fmt.Sprintf("status %d %s", s.Status, s.Err)
		}
		st.examples = append(st.examples, op+": "+what)
	}
}

func (st *soakState) totals() (n, errs, wrong int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, c := range st.counts {
		n, errs, wrong = n+c.n, errs+c.errors, wrong+c.wrong
	}
	return
}

// one sends one request of the mix and checks its answer.
func (st *soakState) one() {
	w := rand.IntN(100)
	var op string
	for _, o := range soakMix {
		if w < o.weight {
			op = o.name
			break
		}
		w -= o.weight
	}
	var s sample
	expectStatus := func(want int) {
		if s.Status != 0 && s.Status < 500 && s.Status != want && s.Wrong == "" {
			s.Wrong = fmt.Sprintf("status %d, want %d: %.200s", s.Status, want, s.Body)
		}
	}
	verifyUser := func(user string) {
		expectStatus(http.StatusOK)
		if s.Status == http.StatusOK && s.Header.Get("X-Auth-User") != user {
			s.Wrong = fmt.Sprintf("X-Auth-User %q, want %q", s.Header.Get("X-Auth-User"), user)
		}
	}
	verifyRefused := func() {
		expectStatus(http.StatusUnauthorized)
		if s.Status == http.StatusUnauthorized && s.Header.Get("X-Auth-User") != "" {
			s.Wrong = "401 with X-Auth-User"
		}
	}
	switch op {
	case "introspect valid token":
		tok, u := st.valid.pick()
		s = introspect(st.hc, st.base, st.svc, tok, "access_token")
		expectStatus(http.StatusOK)
		expectActive(&s, u, "access_token")
	case "introspect valid API key":
		k, u := st.keys.pick()
		s = introspect(st.hc, st.base, st.svc, k, "api_key")
		expectStatus(http.StatusOK)
		expectActive(&s, u, "api_key")
	case "introspect unknown token":
		s = introspect(st.hc, st.base, st.svc, token.NewToken(), "")
		expectStatus(http.StatusOK)
		expectInactive(&s)
	case "introspect expired token":
		tok, _ := st.expired.pick()
		s = introspect(st.hc, st.base, st.svc, tok, "access_token")
		expectStatus(http.StatusOK)
		expectInactive(&s)
	case "verify ?x-auth-token=valid":
		tok, u := st.valid.pick()
		s = verify(st.hc, st.base, "/hook?x-auth-token="+url.QueryEscape(tok))
		verifyUser(u)
	case "verify ?x-auth-token=unknown":
		s = verify(st.hc, st.base, "/hook?x-auth-token="+token.NewToken())
		verifyRefused()
	case "verify ?x-auth-token=expired":
		tok, _ := st.expired.pick()
		s = verify(st.hc, st.base, "/hook?x-auth-token="+tok)
		verifyRefused()
	case "verify ?st2-api-key=valid":
		k, u := st.keys.pick()
		s = verify(st.hc, st.base, "/webhooks/x?a=1&st2-api-key="+url.QueryEscape(k))
		verifyUser(u)
	case "verify ?st2-api-key=unknown":
		s = verify(st.hc, st.base, "/webhooks/x?st2-api-key="+token.NewAPIKey())
		verifyRefused()
	}
	st.record(op, s)
}

// logins sends rate logins per second until ctx is done: four in five
// with the right password (201 naming the user; the token joins the valid
// pool), one in five with a wrong one (401).
func (st *soakState) logins(ctx context.Context, rate float64) {
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		user := []string{"joe", "ann"}[i%2]
		if i%5 == 4 {
			s := login(st.hc, st.base, user, "not-the-password", 0)
			if s.Status != 0 && s.Status < 500 && s.Status != http.StatusUnauthorized {
				s.Wrong = fmt.Sprintf("wrong password: status %d, want 401", s.Status)
			}
			st.record("login, wrong password", s)
			continue
		}
		s := login(st.hc, st.base, user, passwords[user], 0)
		if s.Status != 0 && s.Status < 500 && s.Status != http.StatusCreated && s.Wrong == "" {
			s.Wrong = fmt.Sprintf("login: status %d, want 201: %.200s", s.Status, s.Body)
		}
		if s.Token != "" {
			st.valid.add(s.Token, user)
		}
		st.record("login", s)
	}
}

// resources of the server process.
type resources struct {
	RSS, Heap, Goroutines, FDs float64
}

func (r resources) String() string {
	return fmt.Sprintf("RSS %.1f MiB · heap in use %.1f MiB · %0.f goroutines · %0.f fds",
		r.RSS/(1<<20), r.Heap/(1<<20), r.Goroutines, r.FDs)
}

// readResources reads VmRSS and the fd count from /proc, and the Go heap
// and goroutines from /metrics.
func readResources(pid int, base string) (resources, error) {
	var r resources
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return r, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			r.RSS = kb * 1024
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return r, err
	}
	r.FDs = float64(len(fds))
	hc := newClient(1, false, 5*time.Second)
	resp, err := hc.Get(base + "/metrics")
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "go_goroutines":
			r.Goroutines, _ = strconv.ParseFloat(val, 64)
		case "go_memstats_heap_inuse_bytes":
			r.Heap, _ = strconv.ParseFloat(val, 64)
		}
	}
	if r.Heap == 0 || r.Goroutines == 0 {
		return r, fmt.Errorf("/metrics lacks go_goroutines or go_memstats_heap_inuse_bytes")
	}
	return r, sc.Err()
}

// medianResources takes three readings a second apart and keeps the median
// of each figure (one reading may catch a GC cycle's peak).
func medianResources(pid int, base string) (resources, error) {
	var rs []resources
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		r, err := readResources(pid, base)
		if err != nil {
			return r, err
		}
		rs = append(rs, r)
	}
	med := func(f func(resources) float64) float64 {
		v := []float64{f(rs[0]), f(rs[1]), f(rs[2])}
		a, b, c := v[0], v[1], v[2]
		return math.Max(math.Min(a, b), math.Min(math.Max(a, b), c))
	}
	return resources{
		RSS:        med(func(r resources) float64 { return r.RSS }),
		Heap:       med(func(r resources) float64 { return r.Heap }),
		Goroutines: med(func(r resources) float64 { return r.Goroutines }),
		FDs:        med(func(r resources) float64 { return r.FDs }),
	}, nil
}

func soakMain(args []string) error {
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	var e env
	fs.StringVar(&e.bin, "gatehouse", "bin/gatehouse", "the gatehouse binary")
	fs.StringVar(&e.work, "work", "", "scratch directory (required)")
	fs.StringVar(&e.pgURL, "pg-url", "", "admin URL of a PostgreSQL cluster for a fresh database \"soak\" (required)")
	duration := fs.Duration("duration", 10*time.Minute, "measured duration, after the warm-up")
	warmup := fs.Duration("warmup", 0, "warm-up before the start figures (default: duration/10, between 10 s and 60 s)")
	workers := fs.Int("workers", 8, "closed-loop workers sending the mix")
	loginRate := fs.Float64("login-rate", 2, "logins per second (one in five with a wrong password)")
	every := fs.Duration("every", 0, "timeline interval (default: duration/10, at least 5 s)")
	scanFailures := fs.Int("scan-failures", 0, "throttle.scan_failures for the server (0: off; see docs/RELIABILITY.md)")
	_ = fs.Parse(args)
	if e.work == "" || e.pgURL == "" {
		return fmt.Errorf("-work and -pg-url are required (scripts/soak.sh sets them)")
	}
	if *warmup <= 0 {
		*warmup = min(max(*duration/10, 10*time.Second), time.Minute)
	}
	if *every <= 0 {
		*every = max(*duration/10, 5*time.Second)
	}
	for _, p := range []*string{&e.bin, &e.work} {
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs
		}
	}
	if err := e.setUsers(); err != nil {
		return err
	}
	dbURL, err := e.freshDB("soak")
	if err != nil {
		return err
	}
	// Throttling is on by default, and one caller asking about many
	// unknown or expired tokens, or one address failing many logins, is
	// exactly what it stops: limits are set so that the soak's own mix
	// never trips them, keeping the login counters' code path in use.
	extra := ""
	if configHasKey("scan_failures") {
		extra = fmt.Sprintf("throttle:\n  login_failures: 1000000\n  account_failures: 1000000\n  address_failures: 1000000\n  scan_failures: %d\n", *scanFailures)
	}
	g, err := e.startGatehouse(instanceConfig{Name: "soak", DBURL: dbURL, Extra: extra})
	if err != nil {
		return err
	}
	defer g.Stop(30 * time.Second)

	st := &soakState{base: g.Base, valid: newTokenPool(), expired: newTokenPool(), keys: newTokenPool(),
		hc: newClient(*workers+4, true, 30*time.Second), counts: map[string]*opCount{},
		hists: [2]*histogram{newHistogram(), newHistogram()}}
	if st.svc, err = mustToken(g.Base, "svc", 0); err != nil {
		return err
	}
	for i := range 200 {
		u := []string{"joe", "ann"}[i%2]
		t, err := mustToken(g.Base, u, 0)
		if err != nil {
			return err
		}
		st.valid.add(t, u)
	}
	for range 50 {
		t, err := mustToken(g.Base, "joe", 1) // expires in a second
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
		k, err := createAPIKey(g.Base, t)
		if err != nil {
			return err
		}
		st.keys.add(k, u)
	}
	time.Sleep(1500 * time.Millisecond) // the ttl-1 tokens have expired

	fmt.Printf("# make soak — %s\n\n", machine())
	fmt.Printf("%d workers, closed loop, over kept-alive loopback connections, plus %.0f logins/s; warm-up %s, measured %s; PostgreSQL (private cluster); bin %s\n\n",
		*workers, *loginRate, *warmup, *duration, e.bin)
	fmt.Printf("| mix | share |\n| --- | --- |\n")
	for _, o := range soakMix {
		fmt.Printf("| %s | %d%% |\n", o.name, o.weight)
	}
	fmt.Println()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				st.one()
			}
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); st.logins(ctx, *loginRate) }()
	stopLoad := func() { cancel(); wg.Wait() }

	time.Sleep(*warmup)
	startRes, err := medianResources(g.Pid(), g.Base)
	if err != nil {
		stopLoad()
		return err
	}
	st.measuring.Store(true)
	t0 := time.Now()
	n0, _, _ := st.totals()
	type point struct {
		at    time.Duration
		rps   float64
		res   resources
		errs  int
		wrong int
	}
	timeline := []point{{0, 0, startRes, 0, 0}}
	fmt.Fprintf(os.Stderr, "soak: start %s\n", startRes)
	prevN, prevT := n0, t0
	for time.Since(t0) < *duration {
		left := *duration - time.Since(t0)
		time.Sleep(min(*every, left))
		if g.Exited() {
			break
		}
		res, err := readResources(g.Pid(), g.Base)
		if err != nil {
			stopLoad()
			return err
		}
		n, errs, wrong := st.totals()
		now := time.Now()
		p := point{now.Sub(t0), float64(n-prevN) / now.Sub(prevT).Seconds(), res, errs, wrong}
		timeline = append(timeline, p)
		fmt.Fprintf(os.Stderr, "soak: %s %.0f req/s, %s, errors %d, wrong %d\n", p.at.Round(time.Second), p.rps, res, errs, wrong)
		prevN, prevT = n, now
	}
	var endRes resources
	exited := g.Exited()
	if !exited {
		if endRes, err = medianResources(g.Pid(), g.Base); err != nil {
			stopLoad()
			return err
		}
	}
	n1, _, _ := st.totals()
	elapsed := time.Since(t0)
	stopLoad()
	var idle resources
	if !exited {
		time.Sleep(2 * time.Second)
		idle, _ = medianResources(g.Pid(), g.Base)
	}

	// Figures.
	total, errs, wrong := st.totals()
	h := st.hists[1]
	fmt.Printf("| request | count | errors | wrong answers |\n| --- | --- | --- | --- |\n")
	for _, o := range append(append([]soakOp(nil), soakMix...), soakOp{name: "login"}, soakOp{name: "login, wrong password"}) {
		if c := st.counts[o.name]; c != nil {
			fmt.Printf("| %s | %d | %d | %d |\n", o.name, c.n, c.errors, c.wrong)
		}
	}
	fmt.Printf("\n| timeline | req/s | RSS | heap in use | goroutines | fds | errors | wrong |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, p := range timeline {
		rps := "-"
		if p.rps > 0 {
			rps = fmt.Sprintf("%.0f", p.rps)
		}
		fmt.Printf("| %s | %s | %.1f MiB | %.1f MiB | %.0f | %.0f | %d | %d |\n", p.at.Round(time.Second), rps,
			p.res.RSS/(1<<20), p.res.Heap/(1<<20), p.res.Goroutines, p.res.FDs, p.errs, p.wrong)
	}
	r := &report{Title: "soak"}
	r.fig("requests (whole run, warm-up included)", "%d; %d logins", total, st.counts["login"].safeN()+st.counts["login, wrong password"].safeN())
	r.fig("requests per second (measured period)", "%.0f", float64(n1-n0)/elapsed.Seconds())
	r.fig("latency (measured period)", "p50 %s · p99 %s · max %s", ms(h.pct(0.5)), ms(h.pct(0.99)), ms(h.max()))
	r.fig("valid tokens in the pool at the end", "%d (%d at the start)", st.valid.len(), 200)
	r.fig("server at start (after warm-up, under load)", "%s", startRes)
	r.fig("server at end (under load)", "%s", endRes)
	r.fig("server at end, idle 2 s after the load stopped", "%s", idle)
	if len(st.examples) > 0 {
		r.fig("first errors / wrong answers", "%s", strings.Join(st.examples, "; "))
	}
	r.bar("server still running", !exited, fmt.Sprint(!exited), "true")
	r.bar("errors (no answer, 5xx)", errs == 0, fmt.Sprint(errs), "0")
	r.bar("wrong answers", wrong == 0, fmt.Sprint(wrong), "0")
	r.bar("goroutines flat", endRes.Goroutines <= startRes.Goroutines+goroutineSlack,
		fmt.Sprintf("%.0f → %.0f", startRes.Goroutines, endRes.Goroutines), fmt.Sprintf("end ≤ start + %d", goroutineSlack))
	r.bar("open fds flat", endRes.FDs <= startRes.FDs+fdSlack,
		fmt.Sprintf("%.0f → %.0f", startRes.FDs, endRes.FDs), fmt.Sprintf("end ≤ start + %d", fdSlack))
	r.bar("Go heap in use flat", endRes.Heap <= heapFactor*startRes.Heap+heapSlack,
		fmt.Sprintf("%.1f → %.1f MiB", startRes.Heap/(1<<20), endRes.Heap/(1<<20)), fmt.Sprintf("end ≤ %.1f × start + %d MiB", heapFactor, heapSlack>>20))
	r.bar("RSS flat", endRes.RSS <= rssFactor*startRes.RSS+rssSlack,
		fmt.Sprintf("%.1f → %.1f MiB", startRes.RSS/(1<<20), endRes.RSS/(1<<20)), fmt.Sprintf("end ≤ %.1f × start + %d MiB", rssFactor, rssSlack>>20))
	r.print(os.Stdout)
	if r.missed() > 0 {
		return errBarsMissed
	}
	return nil
}

func (c *opCount) safeN() int {
	if c == nil {
		return 0
	}
	return c.n
}

// createAPIKey makes an API key for the owner of tok.
func createAPIKey(base, tok string) (string, error) {
	req, _ := http.NewRequest("POST", base+"/api/v1/apikeys", strings.NewReader(`{}`))
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := newClient(1, false, 10*time.Second).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var k struct {
		Key string `json:"key"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &k) != nil || k.Key == "" {
		return "", fmt.Errorf("create API key: %d %.200s", resp.StatusCode, b)
	}
	return k.Key, nil
}

// configHasKey reports whether this tree's configuration knows key
// (configs/gatehouse.example.yaml lists every key): unknown keys stop the
// server from starting.
func configHasKey(key string) bool {
	b, err := os.ReadFile("configs/gatehouse.example.yaml")
	return err == nil && strings.Contains(string(b), key+":")
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
	return fmt.Sprintf("%s, %d CPUs (%s)", time.Now().UTC().Format(time.RFC3339), numCPU(), cpu)
}
