// Package kdctest runs a private MIT Kerberos KDC for tests: its own realm
// (GATEHOUSE.TEST) in a temporary directory, made by scripts/kdc-up.sh
// --realm-dir, served by krb5kdc on a free 127.0.0.1 port. Each test gets
// its own, so that stopping one disturbs no other test.
//
// It needs GATEHOUSE_TEST_KDC_UP (printed by scripts/kdc-up.sh, which
// scripts/lib.sh's setup_parts runs); without it the test is skipped, or
// failed when GATEHOUSE_REQUIRE_INTEGRATION=1 (make test).
package kdctest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/internal/integration"
	"github.com/gatehouse-auth/gatehouse/pkg/testproc"
)

// The realm's principals (see scripts/kdc-up.sh).
const (
	Realm = "GATEHOUSE.TEST"
	// Service is the principal whose keys are in Keytab.
	Service = "HTTP/localhost@" + Realm
	// OtherService is a principal of the realm whose keys Gatehouse does
	// not have.
	OtherService = "HTTP/127.0.0.1@" + Realm
)

// Password returns the password of the realm's users alice and bob.
func Password(user string) string { return user + "-password" }

// KDC is one private realm and its krb5kdc.
type KDC struct {
	// Addr is krb5kdc's host:port.
	Addr string
	// Config is the realm's krb5.conf (what KRB5_CONFIG must name).
	Config string
	// Keytab holds the keys of Service.
	Keytab string
	// Dir is the realm's directory.
	Dir string

	tb      testing.TB
	krb5kdc string
	profile string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start makes a realm and runs its KDC until the test ends.
func Start(tb testing.TB) *KDC {
	tb.Helper()
	script := os.Getenv("GATEHOUSE_TEST_KDC_UP")
	if script == "" {
		integration.Unavailable(tb, "kdctest: GATEHOUSE_TEST_KDC_UP is not set (run scripts/kdc-up.sh)")
	}
	dir := filepath.Join(tb.TempDir(), "realm")
	port := freePort(tb)
	out, err := exec.Command(script, "--realm-dir", dir, "--port", strconv.Itoa(port)).Output()
	if err != nil {
		integration.Unavailable(tb, "kdctest: %s --realm-dir: %v", script, describe(err))
	}
	set := parseSettings(out)
	k := &KDC{
		Addr: set["GATEHOUSE_TEST_KDC_ADDR"], Config: set["GATEHOUSE_TEST_KDC_CONFIG"],
		Keytab: set["GATEHOUSE_TEST_KDC_KEYTAB"], Dir: dir, tb: tb,
		krb5kdc: set["GATEHOUSE_TEST_KDC_KRB5KDC"], profile: set["GATEHOUSE_TEST_KDC_PROFILE"],
	}
	if k.Addr == "" || k.Config == "" || k.Keytab == "" || k.krb5kdc == "" {
		integration.Unavailable(tb, "kdctest: %s printed no settings:\n%s", script, out)
	}
	tb.Cleanup(k.Stop)
	if err := k.start(); err != nil {
		integration.Unavailable(tb, "kdctest: %v", err)
	}
	return k
}

func describe(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return fmt.Sprintf("%v: %s", err, ee.Stderr)
	}
	return err.Error()
}

func parseSettings(out []byte) map[string]string {
	set := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			set[k] = v
		}
	}
	return set
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

// Env is the environment for a Kerberos client of this realm (kinit, curl,
// gatehouse login --kerberos): the process's own, with KRB5_CONFIG set and
// KRB5CCNAME set to ccache when it is not empty.
func (k *KDC) Env(ccache string) []string {
	env := append(os.Environ(), "KRB5_CONFIG="+k.Config)
	if ccache != "" {
		env = append(env, "KRB5CCNAME=FILE:"+ccache)
	}
	return env
}

// start runs krb5kdc in the foreground and waits until it accepts
// connections.
func (k *KDC) start() error {
	cmd := exec.Command(k.krb5kdc, "-n", "-r", Realm)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+k.Config, "KRB5_KDC_PROFILE="+k.profile)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := testproc.Start(cmd); err != nil {
		return fmt.Errorf("start krb5kdc: %w", err)
	}
	exited := make(chan struct{})
	k.mu.Lock()
	k.cmd, k.exited = cmd, exited
	k.mu.Unlock()
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", k.Addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(k.Dir, "kdc.log"))
			return fmt.Errorf("krb5kdc exited at start: %s\n%s", stderr.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			k.Stop()
			return fmt.Errorf("krb5kdc does not listen on %s: %v", k.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops krb5kdc and waits until it has exited. It is safe to call
// more than once.
func (k *KDC) Stop() {
	k.mu.Lock()
	cmd, exited := k.cmd, k.exited
	k.cmd = nil
	k.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := testproc.Stop(cmd, syscall.SIGTERM, 10*time.Second, func() { <-exited }); err != nil {
		k.tb.Logf("kdctest: krb5kdc: %v", err)
	}
}

// Restart starts krb5kdc again on the same port with the same realm.
func (k *KDC) Restart() {
	k.tb.Helper()
	k.Stop()
	if err := k.start(); err != nil {
		k.tb.Fatalf("kdctest: restart: %v", err)
	}
}

// Kinit gets a ticket-granting ticket for user (alice or bob) with the
// real kinit into a new credential cache and returns the cache's path.
// Extra arguments go to kinit before the principal (e.g. "-l", "5s").
func (k *KDC) Kinit(tb testing.TB, user string, args ...string) string {
	tb.Helper()
	ccache := filepath.Join(tb.TempDir(), "krb5cc_"+user)
	ctx, cancel := context.WithTimeout(tb.Context(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kinit", append(args, user)...)
	cmd.Env = k.Env(ccache)
	cmd.Stdin = strings.NewReader(Password(user) + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("kinit %s: %v\n%s", user, err, out)
	}
	return ccache
}

// Kadmin runs one kadmin.local query against the realm (e.g. "modprinc
// -maxlife 5sec alice").
func (k *KDC) Kadmin(tb testing.TB, query string) {
	tb.Helper()
	cmd := exec.CommandContext(tb.Context(), "kadmin.local", "-r", Realm, "-q", query)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+k.Config, "KRB5_KDC_PROFILE="+k.profile)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("kadmin.local -q %q: %v\n%s", query, err, out)
	}
}
