// Package ldaptest starts private OpenLDAP slapd instances for tests.
//
// Each call to Start runs its own slapd on free loopback ports (ldap:// and
// ldaps://), in its own temporary directory, loaded from
// scripts/testdata/ldap (slapd.conf.tmpl and *.ldif) with slapadd. Tests
// can therefore stop, restart or freeze (SIGSTOP) their server without
// disturbing tests running in parallel.
//
// Start reads the settings that scripts/ldap-up.sh prints:
//
//	GATEHOUSE_TEST_LDAP_SLAPD     the slapd binary (required)
//	GATEHOUSE_TEST_LDAP_CERTS     ca.pem, server.pem, server-key.pem, wrong-ca.pem (required)
//	GATEHOUSE_TEST_LDAP_SCHEMA    schema directory (default /etc/ldap/schema)
//	GATEHOUSE_TEST_LDAP_MODULES   directory of back_mdb.so ("" if built in)
//	GATEHOUSE_TEST_LDAP_LDIF      scripts/testdata/ldap (default: found from this file)
//
// When they are missing or slapd does not start, the test is skipped, or
// failed when GATEHOUSE_REQUIRE_INTEGRATION=1 (make test).
//
// slapd runs with "-d stats", and its log (connections, binds, searches)
// can be read with Log, Binds and Connections.
package ldaptest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/pkg/internal/integration"
	"github.com/gatehouse-auth/gatehouse/pkg/testproc"
)

// The directory loaded from scripts/testdata/ldap.
const (
	BaseDN    = "dc=example,dc=org"
	PeopleDN  = "ou=people," + BaseDN
	GroupsDN  = "ou=groups," + BaseDN
	ServiceDN = "cn=gatehouse,ou=services," + BaseDN
	// ServicePassword is ServiceDN's password.
	ServicePassword = "gatehouse-service-password"
	// RootDN may do anything (slapd's rootdn); RootPassword is its password.
	RootDN       = "cn=admin," + BaseDN
	RootPassword = "admin-secret"

	OpsDN      = "cn=ops," + GroupsDN      // groupOfNames: alice, admin, svc, jsmith, zoë
	DevDN      = "cn=dev," + GroupsDN      // groupOfUniqueNames: alice, bob
	PosixersDN = "cn=posixers," + GroupsDN // posixGroup (memberUid): dave
	EmptyDN    = "cn=empty," + GroupsDN    // no test user
)

// Password returns the password of a test user: "<user>-password" (for zoë,
// "zoe-password").
func Password(user string) string {
	if user == "zoë" {
		return "zoe-password"
	}
	return user + "-password"
}

// UserDN returns the DN of a test user in ou=people.
func UserDN(user string) string {
	if user == "jsmith" {
		return `cn=Smith\, John,` + PeopleDN
	}
	return "uid=" + user + "," + PeopleDN
}

// Server is one running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:Port (plain, StartTLS possible), LDAPSURL is
	// ldaps://127.0.0.1:TLSPort.
	URL, LDAPSURL string
	Host          string // 127.0.0.1
	Port, TLSPort int
	// CACert signed the server's certificate (for 127.0.0.1 and localhost);
	// WrongCACert did not.
	CACert, WrongCACert string
	// Dir holds slapd.conf and the database.
	Dir string

	tb    testing.TB
	slapd string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	frozen bool
	log    strings.Builder
	probes int // connections made by start to see that slapd listens
}

// settings are what Start needs from the environment.
type settings struct {
	slapd, certs, schema, modules, ldif string
}

// Available reports whether Start can run slapd here, and if not, why. A
// benchmark uses it to skip (rather than fail) when slapd is missing.
func Available() (string, bool) {
	if _, err := readSettings(); err != nil {
		return err.Error(), false
	}
	return "", true
}

func readSettings() (settings, error) {
	s := settings{
		slapd:   os.Getenv("GATEHOUSE_TEST_LDAP_SLAPD"),
		certs:   os.Getenv("GATEHOUSE_TEST_LDAP_CERTS"),
		schema:  os.Getenv("GATEHOUSE_TEST_LDAP_SCHEMA"),
		modules: os.Getenv("GATEHOUSE_TEST_LDAP_MODULES"),
		ldif:    os.Getenv("GATEHOUSE_TEST_LDAP_LDIF"),
	}
	if s.slapd == "" || s.certs == "" {
		return s, errors.New("GATEHOUSE_TEST_LDAP_SLAPD and GATEHOUSE_TEST_LDAP_CERTS are not set (run scripts/ldap-up.sh)")
	}
	if s.schema == "" {
		s.schema = "/etc/ldap/schema"
	}
	if s.ldif == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return s, errors.New("cannot locate scripts/testdata/ldap; set GATEHOUSE_TEST_LDAP_LDIF")
		}
		s.ldif = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "scripts", "testdata", "ldap")
	}
	for _, f := range []string{s.slapd, filepath.Join(s.certs, "ca.pem"), filepath.Join(s.schema, "core.schema"),
		filepath.Join(s.ldif, "slapd.conf.tmpl")} {
		if _, err := os.Stat(f); err != nil {
			return s, fmt.Errorf("ldaptest: %w (run scripts/ldap-up.sh)", err)
		}
	}
	return s, nil
}

// Start runs a new slapd loaded with the test directory and stops it when
// the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	st, err := readSettings()
	if err != nil {
		integration.Unavailable(tb, "ldaptest: %v", err)
	}
	dir := tb.TempDir()
	s := &Server{
		Host:        "127.0.0.1",
		CACert:      filepath.Join(st.certs, "ca.pem"),
		WrongCACert: filepath.Join(st.certs, "wrong-ca.pem"),
		Dir:         dir,
		tb:          tb,
		slapd:       st.slapd,
	}
	if err := s.configure(st); err != nil {
		integration.Unavailable(tb, "ldaptest: %v", err)
	}
	tb.Cleanup(s.Stop)
	// Another process may take a free port before slapd binds it: try
	// other ports then.
	for attempt := 1; ; attempt++ {
		s.Port, s.TLSPort = freePort(tb), freePort(tb)
		for s.TLSPort == s.Port {
			s.TLSPort = freePort(tb)
		}
		s.URL = fmt.Sprintf("ldap://%s:%d", s.Host, s.Port)
		s.LDAPSURL = fmt.Sprintf("ldaps://%s:%d", s.Host, s.TLSPort)
		err := s.start()
		if err == nil {
			return s
		}
		if attempt == 3 {
			integration.Unavailable(tb, "ldaptest: %v", err)
		}
	}
}

// configure writes slapd.conf and loads the LDIF files with slapadd.
func (s *Server) configure(st settings) error {
	tmpl, err := os.ReadFile(filepath.Join(st.ldif, "slapd.conf.tmpl"))
	if err != nil {
		return err
	}
	modules := ""
	if st.modules != "" {
		modules = "modulepath " + st.modules + "\nmoduleload back_mdb"
	}
	conf := strings.NewReplacer(
		"@SCHEMA_DIR@", st.schema,
		"@MODULES@", modules,
		"@STATE_DIR@", s.Dir,
		"@CERTS_DIR@", st.certs,
	).Replace(string(tmpl))
	if err := os.Mkdir(filepath.Join(s.Dir, "data"), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "slapd.conf"), []byte(conf), 0o600); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(st.ldif, "*.ldif"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no LDIF files in %s", st.ldif)
	}
	sort.Strings(files)
	var ldif strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		ldif.Write(b)
		ldif.WriteString("\n\n")
	}
	// "slapd -T add" is slapadd.
	cmd := exec.Command(s.slapd, "-T", "add", "-q", "-f", filepath.Join(s.Dir, "slapd.conf"))
	cmd.Stdin = strings.NewReader(ldif.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("slapadd: %v\n%s", err, out)
	}
	return nil
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs slapd and waits until it accepts connections on both ports.
func (s *Server) start() error {
	cmd := exec.Command(s.slapd, "-d", "stats",
		"-h", fmt.Sprintf("%s/ %s/", s.URL, s.LDAPSURL),
		"-f", filepath.Join(s.Dir, "slapd.conf"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = io.Discard
	if err := testproc.Start(cmd); err != nil {
		return fmt.Errorf("start slapd: %w", err)
	}
	ready := make(chan struct{})
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited, s.frozen = cmd, exited, false
	s.mu.Unlock()
	go func() {
		s.readLog(stderr, ready)
		_ = cmd.Wait()
		close(exited)
	}()
	select {
	case <-ready:
	case <-exited:
		return fmt.Errorf("slapd exited at start:\n%s", s.Log())
	case <-time.After(15 * time.Second):
		s.Stop()
		return fmt.Errorf("slapd did not start within 15s:\n%s", s.Log())
	}
	// slapd logs "slapd starting" a moment before it listens.
	if err := s.waitListening(exited); err != nil {
		s.Stop()
		return err
	}
	return nil
}

// waitListening connects to both ports until slapd accepts, and waits
// until slapd has logged those connections, so that Connections counts
// only the test's own.
func (s *Server) waitListening(exited <-chan struct{}) error {
	deadline := time.Now().Add(15 * time.Second)
	for _, port := range []int{s.Port, s.TLSPort} {
		addr := net.JoinHostPort(s.Host, strconv.Itoa(port))
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				s.mu.Lock()
				s.probes++
				s.mu.Unlock()
				break
			}
			select {
			case <-exited:
				return fmt.Errorf("slapd exited at start:\n%s", s.Log())
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("slapd does not listen on %s: %v\n%s", addr, err, s.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for s.Connections() < 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("slapd did not log the probe connections:\n%s", s.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// readLog copies slapd's stderr into s.log and closes ready at the line
// slapd prints once it listens.
func (s *Server) readLog(r io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.log.WriteString(line)
		s.log.WriteByte('\n')
		s.mu.Unlock()
		if !signalled && strings.Contains(line, "slapd starting") {
			close(ready)
			signalled = true
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// Stop stops slapd's process group (thawing it first if frozen) and waits
// until it has exited. It is safe to call more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited, frozen := s.cmd, s.exited, s.frozen
	s.cmd, s.frozen = nil, false
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if frozen {
		_ = testproc.Signal(cmd, syscall.SIGCONT)
	}
	if err := testproc.Stop(cmd, syscall.SIGTERM, 10*time.Second, func() { <-exited }); err != nil {
		s.tb.Logf("ldaptest: slapd: %v", err)
	}
}

// Restart starts slapd again on the same ports with the same data, after
// Stop (or stops it first).
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	var err error
	for range 50 { // the ports may take a moment to be free again
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("ldaptest: restart: %v", err)
}

// Freeze stops slapd with SIGSTOP: connections are still accepted by the
// kernel but nothing answers, as with a hung server. It returns once every
// thread of slapd is stopped (a signal takes effect asynchronously).
func (s *Server) Freeze() {
	s.signal(syscall.SIGSTOP, true)
	s.mu.Lock()
	pid := s.cmd.Process.Pid
	s.mu.Unlock()
	if err := testproc.WaitStopped(pid, 5*time.Second); err != nil {
		s.tb.Fatalf("ldaptest: slapd: %v", err)
	}
}

// Thaw resumes a frozen slapd with SIGCONT.
func (s *Server) Thaw() { s.signal(syscall.SIGCONT, false) }

func (s *Server) signal(sig syscall.Signal, frozen bool) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.tb.Fatal("ldaptest: slapd is not running")
	}
	if err := testproc.Signal(s.cmd, sig); err != nil {
		s.tb.Fatal(err)
	}
	s.frozen = frozen
}

// Log returns everything slapd logged so far (all runs).
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Binds counts the bind requests for dn that reached slapd (compared
// without regard to case, as slapd logs the DN the client sent).
func (s *Server) Binds(dn string) int {
	want := strings.ToLower(`BIND dn="` + dn + `" method=`)
	n := 0
	for line := range strings.Lines(strings.ToLower(s.Log())) {
		if strings.Contains(line, want) {
			n++
		}
	}
	return n
}

// Connections counts the connections slapd accepted, apart from those
// Start and Restart made to see that it listens.
func (s *Server) Connections() int {
	log := s.Log()
	s.mu.Lock()
	probes := s.probes
	s.mu.Unlock()
	return strings.Count(log, " ACCEPT from ") - probes
}

// Searches counts the search requests whose base is base (case-insensitive).
func (s *Server) Searches(base string) int {
	want := strings.ToLower(`SRCH base="` + base + `"`)
	return strings.Count(strings.ToLower(s.Log()), want)
}

// Admin returns a connection bound as RootDN, closed when the test ends,
// for changing the directory during a test.
func (s *Server) Admin(tb testing.TB) *goldap.Conn {
	tb.Helper()
	c, err := goldap.DialURL(s.URL, goldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		tb.Fatal(err)
	}
	c.SetTimeout(10 * time.Second)
	tb.Cleanup(func() { c.Close() })
	if err := c.Bind(RootDN, RootPassword); err != nil {
		tb.Fatal(err)
	}
	return c
}
