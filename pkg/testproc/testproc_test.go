package testproc

import (
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
