package testproc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTree starts a shell that forks two sleeping children, as nginx's
// master forks workers, and waits until both run.
func startTree(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", script+"; sleep 300 & sleep 300 & echo started; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := out.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "started") {
		t.Fatalf("%q %v", buf[:n], err)
	}
	if !Alive(cmd.Process.Pid) {
		t.Fatal("the group is not alive")
	}
	return cmd
}

func TestStopEndsTheWholeGroup(t *testing.T) {
	cmd := startTree(t, "true")
	if err := Stop(cmd, syscall.SIGTERM, 5*time.Second, func() { _ = cmd.Wait() }); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid) {
		t.Fatal("a child outlived Stop")
	}
}

func TestStopKillsWhatIgnoresTheSignal(t *testing.T) {
	cmd := startTree(t, "trap '' TERM")
	err := Stop(cmd, syscall.SIGTERM, 500*time.Millisecond, func() { _ = cmd.Wait() })
	if err == nil || !strings.Contains(err.Error(), "did not stop on terminated") {
		t.Fatalf("Stop: %v", err)
	}
	if Alive(cmd.Process.Pid) {
		t.Fatal("a child outlived Stop")
	}
}

// TestKillingOnlyTheLeaderLeavesChildren shows the bug Stop avoids: a
// signal to the leader alone (cmd.Process.Kill) leaves its children.
func TestKillingOnlyTheLeaderLeavesChildren(t *testing.T) {
	cmd := startTree(t, "true")
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if !Alive(cmd.Process.Pid) {
		t.Fatal("the children died with the leader; the test shows nothing")
	}
	if err := Stop(cmd, syscall.SIGTERM, 5*time.Second, func() {}); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid) {
		t.Fatal("a child outlived Stop")
	}
}

// Freeze returns only once the process is stopped, and SIGCONT resumes it.
func TestFreeze(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Stop(cmd, syscall.SIGKILL, 5*time.Second, func() { _ = cmd.Wait() }) })
	if err := Freeze(cmd.Process.Pid, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	state := func() byte {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		return b[bytes.LastIndexByte(b, ')')+2]
	}
	if s := state(); s != 'T' {
		t.Fatalf("state after Freeze %q, want T", s)
	}
	_ = Signal(cmd, syscall.SIGCONT)
	deadline := time.Now().Add(5 * time.Second)
	for state() == 'T' {
		if time.Now().After(deadline) {
			t.Fatal("still stopped after SIGCONT")
		}
		time.Sleep(time.Millisecond)
	}
}
