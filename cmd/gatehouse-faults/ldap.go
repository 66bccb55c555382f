package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
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
	ldapTitle     = "ldap: LDAP stopped and frozen under load (backend ldap, network_timeout 2)"
)

// ldapFault is one way of taking slapd away and bringing it back; the
// scenario applies them in turn.
type ldapFault struct {
	name    string
	apply   func(d *slapd) error
	restore func(d *slapd) error
}

var ldapFaults = []ldapFault{
	{"stopped (SIGKILL)", (*slapd).kill, (*slapd).serve},
	{"frozen (SIGSTOP)",
		func(d *slapd) error { return d.signal(syscall.SIGSTOP) },
		func(d *slapd) error { return d.signal(syscall.SIGCONT) }},
}

// ldapPhase is when one ldapFault happened.
type ldapPhase struct {
	ldapFault
	down, restore, up    time.Time
	applyDur, restoreDur time.Duration
}

// The request kinds of the ldap scenario.
const (
	kindLDAPLogin = "ldap-login"
	kindFlatLogin = "flat-login"
	kindIntroLDAP = "introspect-on-ldap"
	kindIntroFlat = "introspect-on-flat"
)

// ldapOutage is scenario 3: with backend ldap (network_timeout 2) on one
// Gatehouse and flat_file on a second one sharing its PostgreSQL database,
// slapd is killed (then started again), and later frozen (SIGSTOP, then
// SIGCONT), under a mix of LDAP logins, flat_file logins and
// introspections on both. LDAP logins must fail fast with 503; everything
// that needs no directory must not notice.
type ldapOutage struct {
	e          *env
	script     string
	d          *slapd
	ga, gb     *gatehouse // backend ldap; flat_file
	svcA, svcB string
	pool       *tokenPool
	rec        loadgen.Samples
	dropped    int64
	phases     []ldapPhase
}

func (l *ldapOutage) setup() error {
	for _, p := range []string{"pkg/backend/ldap", l.script} {
		if _, err := os.Stat(p); err != nil {
			return pendingError{"LDAP scenario", "pending: " + p + " does not exist yet"}
		}
	}
	var err error
	if l.d, err = newSlapd(l.script, filepath.Join(l.e.work, "ldap")); err != nil {
		return err
	}
	dbURL, err := l.e.freshDB("faults_ldap")
	if err != nil {
		return err
	}
	if l.ga, err = l.e.startGatehouse(instanceConfig{Name: "ldap-a", DBURL: dbURL, Backend: "ldap", BackendKwargs: l.kwargs()}); err != nil {
		return err
	}
	if l.gb, err = l.e.startGatehouse(instanceConfig{Name: "ldap-b-flat", DBURL: dbURL}); err != nil {
		return err
	}
	return l.tokens()
}

// kwargs is the ldap backend's configuration: LDAPS with the test CA,
// group cn=ops.
func (l *ldapOutage) kwargs() string {
	return fmt.Sprintf(`{host: "127.0.0.1", port: %d, use_ssl: true, cacert: %q, `+
		`bind_dn: "cn=gatehouse,ou=services,dc=example,dc=org", bind_password: "gatehouse-service-password", `+
		`base_ou: "ou=people,dc=example,dc=org", base_ou_group: "ou=groups,dc=example,dc=org", `+
		`group_dns: ["cn=ops,ou=groups,dc=example,dc=org"], network_timeout: %g}`,
		l.d.tlsPort, filepath.Join(l.d.certs, "ca.pem"), ldapNetworkTimeout.Seconds())
}

// tokens logs the service in on both servers (svc is in the directory,
// password svc-password, group ops, and in the htpasswd file with the same
// password) and fills the pool with alice's (LDAP) and joe's tokens.
func (l *ldapOutage) tokens() error {
	var err error
	if l.svcA, err = mustToken(l.ga.Base, "svc", 0); err != nil {
		return fmt.Errorf("LDAP login of svc: %w", err)
	}
	if l.svcB, err = mustToken(l.gb.Base, "svc", 0); err != nil {
		return err
	}
	l.pool = newTokenPool()
	for range 10 {
		t, err := ldapToken(l.ga.Base)
		if err != nil {
			return err
		}
		l.pool.add(t, "alice")
		if err := mustTokens(l.gb.Base, "joe", 1, l.pool); err != nil {
			return err
		}
	}
	return nil
}

// ldapToken logs alice in over LDAP.
func ldapToken(base string) (string, error) {
	hc := loadgen.NewClient(1, false, 10*time.Second)
	s := login(hc, base, "alice", "alice-password", 0)
	if s.Token == "" {
		return "", fmt.Errorf("LDAP login of alice: status %d %s %s", s.Status, s.Err, s.Wrong)
	}
	return s.Token, nil
}

func (l *ldapOutage) load(ctx context.Context) {
	hc := loadgen.NewClient(512, true, 15*time.Second)
	intro := func(kind, base, caller string) func() loadgen.Sample {
		return func() loadgen.Sample {
			tok, u := l.pool.pick()
			s := introspect(hc, base, caller, tok, "access_token")
			expectActive(&s, u, "access_token")
			s.Kind = kind
			return s
		}
	}
	logins := func(kind, base, user, pw string) func() loadgen.Sample {
		return func() loadgen.Sample {
			s := login(hc, base, user, pw, 0)
			s.Kind = kind
			return s
		}
	}
	l.dropped = loadgen.Open(ctx, []loadgen.Stream{
		{Rate: ldapLoginRate, Fire: logins(kindLDAPLogin, l.ga.Base, "alice", "alice-password")},
		{Rate: flatLoginRate, Fire: logins(kindFlatLogin, l.gb.Base, "joe", passwords["joe"])},
		{Rate: ldapIntroRate, Fire: intro(kindIntroLDAP, l.ga.Base, l.svcA)},
		{Rate: ldapIntroRate, Fire: intro(kindIntroFlat, l.gb.Base, l.svcB)},
	}, 4000, &l.rec)
}

// fault applies each ldapFault in turn, each for outageLength, and waits
// for LDAP logins to recover after each.
func (l *ldapOutage) fault() error {
	time.Sleep(outageLead)
	ldapLogins := func() []loadgen.Sample { return loadgen.OfKind(l.rec.Snapshot(), kindLDAPLogin) }
	for _, f := range ldapFaults {
		p := ldapPhase{ldapFault: f}
		t := time.Now()
		if err := f.apply(l.d); err != nil {
			return err
		}
		p.down = time.Now()
		p.applyDur = p.down.Sub(t)
		time.Sleep(outageLength)
		p.restore = time.Now()
		if err := f.restore(l.d); err != nil {
			return fmt.Errorf("slapd %s: bringing it back: %w", f.name, err)
		}
		p.up = time.Now()
		p.restoreDur = p.up.Sub(p.restore)
		l.phases = append(l.phases, p)
		waitRecovered(ldapLogins, p.up, 2*time.Second, kindLDAPLogin)
	}
	return nil
}

func (l *ldapOutage) close() {
	for _, g := range []*gatehouse{l.gb, l.ga} {
		if g != nil {
			g.Stop(30 * time.Second)
		}
	}
	if l.d != nil {
		l.d.stop()
	}
}

func (l *ldapOutage) judge(r *loadgen.Report) error {
	all := l.rec.Snapshot()
	r.Fig("load", "open loop: %.0f LDAP logins/s (alice) on the ldap Gatehouse, %.0f flat_file logins/s (joe) on the flat_file one (same database), %.0f introspections/s on each; %d ticks dropped",
		ldapLoginRate, flatLoginRate, ldapIntroRate, l.dropped)
	for _, k := range []string{kindLDAPLogin, kindFlatLogin, kindIntroLDAP, kindIntroFlat} {
		r.Fig(k+", whole run", "%s", loadgen.StatusCounts(loadgen.OfKind(all, k)))
	}
	for i, p := range l.phases {
		// Recovery is judged on the LDAP logins that ended before the
		// next outage began: one still in flight when slapd is frozen
		// again fails because of that outage, not this one.
		next := time.Now().Add(time.Hour)
		if i+1 < len(l.phases) {
			next = l.phases[i+1].down
		}
		judgeLDAPPhase(r, all, p, next)
	}
	fivexx, silent := loadgen.Filter(all, other5xx), loadgen.Filter(all, noAnswer)
	r.Bar("no 500 (or other 5xx but 503), whole run", len(fivexx) == 0, fmt.Sprint(len(fivexx)), "0")
	r.Bar("no request without an answer, whole run", len(silent) == 0, fmt.Sprintf("%d %s", len(silent), loadgen.FirstExamples(silent, 2)), "0")
	return nil
}

// judgeLDAPPhase writes one outage's figures and bars; next is when the
// following outage began.
func judgeLDAPPhase(r *loadgen.Report, all []loadgen.Sample, p ldapPhase, next time.Time) {
	after := loadgen.Filter(loadgen.OfKind(all, kindLDAPLogin), func(s loadgen.Sample) bool { return s.End.Before(next) })
	during := loadgen.Filter(all, startedIn(p.down, p.restore))
	ldapDown := loadgen.OfKind(during, kindLDAPLogin)
	ldapDone := loadgen.Filter(ldapDown, func(s loadgen.Sample) bool { return s.End.Before(p.restore) })
	not503 := loadgen.Filter(ldapDone, func(s loadgen.Sample) bool { return !is503(s) })
	unaffected := loadgen.Filter(during, func(s loadgen.Sample) bool { return s.Kind != kindLDAPLogin })
	bad := loadgen.Filter(unaffected, failed)
	recov, recovered := recovery(after, p.up, kindLDAPLogin)
	fig := func(what, format string, args ...any) { r.Fig("LDAP "+p.name+": "+what, format, args...) }
	fig("applied in / restored in", "%s / %s", loadgen.Ms(p.applyDur), loadgen.Ms(p.restoreDur))
	fig("LDAP logins started while down", "%d (%s); latency %s", len(ldapDown), loadgen.StatusCounts(ldapDown), loadgen.Lats(ldapDown))
	for _, k := range []string{kindFlatLogin, kindIntroLDAP, kindIntroFlat} {
		ks := loadgen.OfKind(during, k)
		fig(k+" meanwhile", "%s; latency %s", loadgen.StatusCounts(ks), loadgen.Lats(ks))
	}
	fig("last LDAP login failure after slapd returned", "%s", recoveredText(recov, recovered))
	fast := loadgen.Lats(unaffected)
	r.Bar(p.name+": every LDAP login while down answered 503", len(not503) == 0,
		fmt.Sprintf("%d other answers %s", len(not503), loadgen.FirstExamples(not503, 3)), "0")
	r.Bar(fmt.Sprintf("%s: LDAP logins answered within network_timeout + 0.5 s", p.name), loadgen.Lats(ldapDown).Max() < ldapFailBar,
		"max "+loadgen.Ms(loadgen.Lats(ldapDown).Max()), "< "+loadgen.Secs(ldapFailBar))
	r.Bar(p.name+": flat_file logins and introspections (both servers) unaffected: all 200/201 and right", len(bad) == 0,
		fmt.Sprintf("%d failed of %d %s", len(bad), len(unaffected), loadgen.FirstExamples(bad, 3)), "0")
	r.Bar(fmt.Sprintf("%s: …and fast: p99 < %s", p.name, loadgen.Ms(fastBar)), fast.Pct(0.99) < fastBar,
		fmt.Sprintf("p99 %s, max %s", loadgen.Ms(fast.Pct(0.99)), loadgen.Ms(fast.Max())), "< "+loadgen.Ms(fastBar))
	r.Bar(p.name+": LDAP logins recovered after slapd returned", recovered && recov <= recoveryBar, recoveredText(recov, recovered), "≤ "+loadgen.Secs(recoveryBar))
}
