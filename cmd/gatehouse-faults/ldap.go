package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LDAP scenario settings.
const (
	ldapNetworkTimeout = 2 * time.Second
	ldapFailBar        = ldapNetworkTimeout + 500*time.Millisecond
	// fastBar: what "unaffected" means for requests that need no LDAP.
	fastBar       = 100 * time.Millisecond
	ldapLoginRate = 20.0
	flatLoginRate = 20.0
	ldapIntroRate = 100.0
)

// slapd is the private directory server of the ldap scenario, run by
// scripts/ldap-up.sh --serve in a state directory of its own.
type slapd struct {
	script, state string
	port, tlsPort int
	certs         string
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (d *slapd) env() []string {
	return append(os.Environ(), "GATEHOUSE_LDAP_STATE="+d.state,
		"GATEHOUSE_LDAP_PORT="+strconv.Itoa(d.port), "GATEHOUSE_LDAPS_PORT="+strconv.Itoa(d.tlsPort))
}

// serve (re)starts slapd and returns once it answers over LDAPS.
func (d *slapd) serve() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // may apt-get install
	defer cancel()
	cmd := exec.CommandContext(ctx, d.script, "--serve")
	cmd.Env = d.env()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("ldap-up.sh --serve: %v: %s", err, stderr.String())
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "GATEHOUSE_TEST_LDAP_CERTS="); ok {
			d.certs = v
		}
	}
	if d.certs == "" {
		return fmt.Errorf("ldap-up.sh --serve printed no GATEHOUSE_TEST_LDAP_CERTS")
	}
	return nil
}

func (d *slapd) pid() (int, error) {
	b, err := os.ReadFile(filepath.Join(d.state, "serve", "pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func (d *slapd) signal(sig syscall.Signal) error {
	p, err := d.pid()
	if err != nil {
		return err
	}
	return syscall.Kill(p, sig)
}

// kill stops slapd at once (SIGKILL: a crashed or unplugged directory) and
// waits until it is gone.
func (d *slapd) kill() error {
	p, err := d.pid()
	if err != nil {
		return err
	}
	_ = syscall.Kill(p, syscall.SIGCONT)
	if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
		return err
	}
	for range 250 {
		if gone(p) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("slapd %d still there after SIGKILL", p)
}

func (d *slapd) stop() {
	_ = d.signal(syscall.SIGCONT)
	cmd := exec.Command(d.script, "--stop")
	cmd.Env = d.env()
	_ = cmd.Run()
}

// ldapOutage is scenario 3: with backend ldap (network_timeout 2) on one
// Gatehouse and flat_file on a second one sharing its PostgreSQL database,
// slapd is killed (then started again), and later frozen (SIGSTOP, then
// SIGCONT), under a mix of LDAP logins, flat_file logins and
// introspections on both. LDAP logins must fail fast with 503; everything
// that needs no directory must not notice.
func (e *env) ldapOutage(script string) (*report, error) {
	r := &report{Title: "ldap: LDAP stopped and frozen under load (backend ldap, network_timeout 2)"}
	if _, err := os.Stat("pkg/backend/ldap"); err != nil {
		r.pending("LDAP scenario", "pending: pkg/backend/ldap does not exist yet")
		return r, nil
	}
	if _, err := os.Stat(script); err != nil {
		r.pending("LDAP scenario", "pending: "+script+" does not exist yet")
		return r, nil
	}
	d := &slapd{script: script, state: filepath.Join(e.work, "ldap")}
	var err error
	if d.port, err = freePort(); err != nil {
		return nil, err
	}
	if d.tlsPort, err = freePort(); err != nil {
		return nil, err
	}
	if err := d.serve(); err != nil {
		return nil, err
	}
	defer d.stop()

	dbURL, err := e.freshDB("faults_ldap")
	if err != nil {
		return nil, err
	}
	kwargs := fmt.Sprintf(`{host: "127.0.0.1", port: %d, use_ssl: true, cacert: %q, `+
		`bind_dn: "cn=gatehouse,ou=services,dc=example,dc=org", bind_password: "gatehouse-service-password", `+
		`base_ou: "ou=people,dc=example,dc=org", base_ou_group: "ou=groups,dc=example,dc=org", `+
		`group_dns: ["cn=ops,ou=groups,dc=example,dc=org"], network_timeout: %g}`,
		d.tlsPort, filepath.Join(d.certs, "ca.pem"), ldapNetworkTimeout.Seconds())
	ga, err := e.startGatehouse(instanceConfig{Name: "ldap-a", DBURL: dbURL, Backend: "ldap", BackendKwargs: kwargs})
	if err != nil {
		return nil, err
	}
	defer ga.Stop(30 * time.Second)
	gb, err := e.startGatehouse(instanceConfig{Name: "ldap-b-flat", DBURL: dbURL})
	if err != nil {
		return nil, err
	}
	defer gb.Stop(30 * time.Second)

	// svc is in the directory (password svc-password, group ops) and in
	// the htpasswd file with the same password.
	svcA, err := mustToken(ga.Base, "svc", 0)
	if err != nil {
		return nil, fmt.Errorf("LDAP login of svc: %w", err)
	}
	svcB, err := mustToken(gb.Base, "svc", 0)
	if err != nil {
		return nil, err
	}
	pool := newTokenPool()
	for range 10 {
		t, err := ldapToken(ga.Base)
		if err != nil {
			return nil, err
		}
		pool.add(t, "alice")
		if t, err = mustToken(gb.Base, "joe", 0); err != nil {
			return nil, err
		}
		pool.add(t, "joe")
	}

	hc := newClient(512, true, 15*time.Second)
	intro := func(kind, base, caller string) func() sample {
		return func() sample {
			tok, u := pool.pick()
			s := introspect(hc, base, caller, tok, "access_token")
			expectActive(&s, u, "access_token")
			s.Kind = kind
			return s
		}
	}
	streams := []stream{
		{rate: ldapLoginRate, fire: func() sample {
			s := login(hc, ga.Base, "alice", "alice-password", 0)
			s.Kind = "ldap-login"
			return s
		}},
		{rate: flatLoginRate, fire: func() sample {
			s := login(hc, gb.Base, "joe", passwords["joe"], 0)
			s.Kind = "flat-login"
			return s
		}},
		{rate: ldapIntroRate, fire: intro("introspect-on-ldap", ga.Base, svcA)},
		{rate: ldapIntroRate, fire: intro("introspect-on-flat", gb.Base, svcB)},
	}
	rec := &recorder{}
	lctx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan int64, 1)
	go func() { loadDone <- openLoop(lctx, streams, 4000, rec) }()
	dropped := int64(-1)
	finish := func() {
		if dropped < 0 {
			stopLoad()
			dropped = <-loadDone
		}
	}
	defer finish()

	ldapOnly := func(ss []sample) []sample {
		return filter(ss, func(s sample) bool { return s.Kind == "ldap-login" })
	}
	waitRecovered := func(up time.Time) {
		for time.Since(up) < recoveryGiveUp {
			time.Sleep(250 * time.Millisecond)
			if d, ok := recovery(ldapOnly(rec.snapshot()), up, "ldap-login"); ok && time.Since(up.Add(d)) >= 2*time.Second {
				return
			}
		}
	}
	type phase struct {
		name                 string
		down, restore, up    time.Time
		applyDur, restoreDur time.Duration
	}
	var phases []phase
	time.Sleep(outageLead)
	// Stopped.
	p := phase{name: "stopped (SIGKILL)"}
	t := time.Now()
	if err := d.kill(); err != nil {
		return nil, err
	}
	p.down = time.Now()
	p.applyDur = p.down.Sub(t)
	time.Sleep(outageLength)
	p.restore = time.Now()
	if err := d.serve(); err != nil {
		return nil, fmt.Errorf("restarting slapd: %w", err)
	}
	p.up = time.Now()
	p.restoreDur = p.up.Sub(p.restore)
	phases = append(phases, p)
	waitRecovered(p.up)
	// Frozen.
	p = phase{name: "frozen (SIGSTOP)"}
	t = time.Now()
	if err := d.signal(syscall.SIGSTOP); err != nil {
		return nil, err
	}
	p.down = time.Now()
	p.applyDur = p.down.Sub(t)
	time.Sleep(outageLength)
	p.restore = time.Now()
	if err := d.signal(syscall.SIGCONT); err != nil {
		return nil, err
	}
	p.up = time.Now()
	p.restoreDur = p.up.Sub(p.restore)
	phases = append(phases, p)
	waitRecovered(p.up)
	finish()
	all := rec.snapshot()

	byKind := func(ss []sample, k string) []sample {
		return filter(ss, func(s sample) bool { return s.Kind == k })
	}
	r.fig("load", "open loop: %.0f LDAP logins/s (alice) on the ldap Gatehouse, %.0f flat_file logins/s (joe) on the flat_file one (same database), %.0f introspections/s on each; %d ticks dropped",
		ldapLoginRate, flatLoginRate, ldapIntroRate, dropped)
	for _, k := range []string{"ldap-login", "flat-login", "introspect-on-ldap", "introspect-on-flat"} {
		r.fig(k+", whole run", "%s", statusCounts(byKind(all, k)))
	}
	other5xx := filter(all, func(s sample) bool { return s.Status >= 500 && s.Status != http.StatusServiceUnavailable })
	noAnswer := filter(all, func(s sample) bool { return s.Status == 0 })
	for i, p := range phases {
		// Recovery is judged on the LDAP logins that ended before the
		// next outage began: one still in flight when slapd is frozen
		// again fails because of that outage, not this one.
		next := time.Now().Add(time.Hour)
		if i+1 < len(phases) {
			next = phases[i+1].down
		}
		after := filter(ldapOnly(all), func(s sample) bool { return s.End.Before(next) })
		during := filter(all, func(s sample) bool { return !s.Start.Before(p.down) && s.Start.Before(p.restore) })
		ldapDown := byKind(during, "ldap-login")
		ldapDone := filter(ldapDown, func(s sample) bool { return s.End.Before(p.restore) })
		not503 := filter(ldapDone, func(s sample) bool { return s.Status != http.StatusServiceUnavailable })
		unaffected := filter(during, func(s sample) bool { return s.Kind != "ldap-login" })
		bad := filter(unaffected, func(s sample) bool { return !s.ok() })
		recov, recovered := recovery(after, p.up, "ldap-login")
		r.fig("LDAP "+p.name+": applied in / restored in", "%s / %s", ms(p.applyDur), ms(p.restoreDur))
		r.fig("LDAP "+p.name+": LDAP logins started while down", "%d (%s); latency %s", len(ldapDown), statusCounts(ldapDown), lats(ldapDown))
		for _, k := range []string{"flat-login", "introspect-on-ldap", "introspect-on-flat"} {
			ks := byKind(during, k)
			r.fig("LDAP "+p.name+": "+k+" meanwhile", "%s; latency %s", statusCounts(ks), lats(ks))
		}
		r.fig("LDAP "+p.name+": last LDAP login failure after slapd returned", "%s", recoveredText(recov, recovered))
		r.bar(p.name+": every LDAP login while down answered 503", len(not503) == 0,
			fmt.Sprintf("%d other answers %s", len(not503), firstExamples(not503, 3)), "0")
		r.bar(fmt.Sprintf("%s: LDAP logins answered within network_timeout + 0.5 s", p.name), lats(ldapDown).max() < ldapFailBar,
			"max "+ms(lats(ldapDown).max()), "< "+secs(ldapFailBar))
		r.bar(p.name+": flat_file logins and introspections (both servers) unaffected: all 200/201 and right", len(bad) == 0,
			fmt.Sprintf("%d failed of %d %s", len(bad), len(unaffected), firstExamples(bad, 3)), "0")
		r.bar(fmt.Sprintf("%s: …and fast: p99 < %s", p.name, ms(fastBar)), lats(unaffected).pct(0.99) < fastBar,
			fmt.Sprintf("p99 %s, max %s", ms(lats(unaffected).pct(0.99)), ms(lats(unaffected).max())), "< "+ms(fastBar))
		r.bar(p.name+": LDAP logins recovered after slapd returned", recovered && recov <= recoveryBar, recoveredText(recov, recovered), "≤ "+secs(recoveryBar))
	}
	r.bar("no 500 (or other 5xx but 503), whole run", len(other5xx) == 0, fmt.Sprint(len(other5xx)), "0")
	r.bar("no request without an answer, whole run", len(noAnswer) == 0, fmt.Sprintf("%d %s", len(noAnswer), firstExamples(noAnswer, 2)), "0")
	return r, nil
}

// ldapToken logs alice in over LDAP.
func ldapToken(base string) (string, error) {
	hc := newClient(1, false, 10*time.Second)
	s := login(hc, base, "alice", "alice-password", 0)
	if s.Token == "" {
		return "", fmt.Errorf("LDAP login of alice: status %d %s %s", s.Status, s.Err, s.Wrong)
	}
	return s.Token, nil
}

// gone reports whether process p has exited: it no longer exists, or is a
// zombie waiting for whoever adopted it to reap it.
func gone(p int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "X")
}
