// Package testproc runs the servers that tests start as children (nginx,
// slapd, gatehouse) each in a process group of its own, and stops whole
// groups, so that no process a server forked (nginx's workers) outlives
// the test.
//
// A child in its own group no longer gets the terminal's Ctrl-C, so the
// first Start also makes SIGINT, SIGTERM and SIGHUP kill every group still
// running before the test binary dies of the signal as it would have.
package testproc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var (
	mu      sync.Mutex
	running = map[int]bool{} // process group ids
	watch   sync.Once
)

// Start starts cmd as the leader of a new process group, whose id is
// cmd.Process.Pid.
func Start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	watch.Do(killOnSignal)
	if err := cmd.Start(); err != nil {
		return err
	}
	mu.Lock()
	running[cmd.Process.Pid] = true
	mu.Unlock()
	return nil
}

// Signal sends sig to every process in the group cmd leads.
func Signal(cmd *exec.Cmd, sig syscall.Signal) error {
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signal %v to process group %d: %w", sig, cmd.Process.Pid, err)
	}
	return nil
}

// Stop ends the group cmd leads: sig to every process in it, then wait,
// which must return once cmd has been reaped (cmd.Wait, or a channel its
// Wait closes), for at most timeout; then SIGKILL to the group. It returns
// when no live process of the group is left, with an error when sig was not
// enough or processes remain.
func Stop(cmd *exec.Cmd, sig syscall.Signal, timeout time.Duration, wait func()) error {
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, sig)
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	var errs []error
	select {
	case <-done:
	case <-time.After(timeout):
		errs = append(errs, fmt.Errorf("process group %d did not stop on %v within %v: killed", pgid, sig, timeout))
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
	if !gone(pgid, timeout) {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if !gone(pgid, timeout) {
			errs = append(errs, fmt.Errorf("processes of group %d are still running", pgid))
		}
	}
	Forget(cmd)
	return errors.Join(errs...)
}

// Forget drops cmd's group from those killed at an interrupt, once the
// caller has reaped a leader that had no children of its own.
func Forget(cmd *exec.Cmd) {
	mu.Lock()
	delete(running, cmd.Process.Pid)
	mu.Unlock()
}

// gone waits at most timeout until no live process is in group pgid.
func gone(pgid int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if !Alive(pgid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// Alive reports whether group pgid has a process that has not exited.
// Exited processes waiting to be reaped (zombies) do not count: once the
// leader is reaped, its children's parent is init, which may be slow to
// reap them, or never do it in a container.
func Alive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return true // no /proc: the group exists, so say yes
	}
	for _, f := range stats {
		state, group, ok := procState(f)
		if ok && group == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// Freeze stops process pid with SIGSTOP and returns once every thread of
// it is stopped, as /proc shows: a signal takes effect asynchronously, and
// a request sent just after kill returns can still be answered (a test of
// a hung server saw its provider answer 6 ms after SIGSTOP). Without /proc
// it waits 100 ms. Thaw it with SIGCONT.
func Freeze(pid int, timeout time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("SIGSTOP to %d: %w", pid, err)
	}
	return WaitStopped(pid, timeout)
}

// WaitStopped waits until every thread of pid, sent SIGSTOP, is stopped.
func WaitStopped(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !stopped(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d not stopped %v after SIGSTOP", pid, timeout)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// stopped reports whether every thread of pid is stopped.
func stopped(pid int) bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		time.Sleep(100 * time.Millisecond)
		return true
	}
	for _, f := range tasks {
		state, _, ok := procState(f)
		if ok && state != 'T' && state != 't' {
			return false
		}
	}
	return true
}

// procState reads the state and process group of /proc/PID/stat: "pid
// (comm) S ppid pgrp …", where comm may hold spaces and parentheses.
func procState(file string) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(string(f[2]))
	return f[0][0], pgrp, err == nil
}

// killOnSignal kills every running group at SIGINT, SIGTERM or SIGHUP and
// then lets the signal end the test binary as it would have.
func killOnSignal() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-c
		mu.Lock()
		for pgid := range running {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		mu.Unlock()
		signal.Reset(sig)
		_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
	}()
}
