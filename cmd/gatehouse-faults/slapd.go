package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// slapd is the private directory server of the ldap scenario, run by
// scripts/ldap-up.sh --serve in a state directory of its own.
type slapd struct {
	script, state string
	port, tlsPort int
	certs         string
}

// newSlapd picks two free ports and starts slapd.
func newSlapd(script, state string) (*slapd, error) {
	d := &slapd{script: script, state: state}
	var err error
	if d.port, err = freePort(); err != nil {
		return nil, err
	}
	if d.tlsPort, err = freePort(); err != nil {
		return nil, err
	}
	return d, d.serve()
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
