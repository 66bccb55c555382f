package main_test

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSecondSignalExitsAtOnce (issue 17, item 8): Ctrl-C starts the
// drain of auth.shutdown_delay; a second Ctrl-C exits at once with 130.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	p := startGatehouse(t, t.TempDir(), []string{"GATEHOUSE_AUTH_SHUTDOWN_DELAY=5"}, "serve", "--port", "0")
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, `"msg":"shutting down`)
	start := time.Now()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Read the last line before Wait, which closes the pipe.
	waitFor(t, p, "gatehouse: second SIGINT: exiting now\n")
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if took := time.Since(start); !errors.As(err, &exit) || exit.ExitCode() != 130 || took > 2*time.Second {
		t.Fatalf("second SIGINT: %v after %s; stderr:\n%s", err, took, p.Stderr())
	}
}

// TestCtrlCWithoutDelay (issue 17, item 8): with the delay at 0, as make
// run sets it, an idle server stops at the first Ctrl-C, at once and with
// status 0.
func TestCtrlCWithoutDelay(t *testing.T) {
	t.Parallel()
	p := startGatehouse(t, t.TempDir(), nil, "serve", "--port", "0")
	start := time.Now()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("SIGINT: %v after %s; stderr:\n%s", err, time.Since(start), p.Stderr())
	}
}

// TestLogDurationsInMilliseconds (issue 17, item 8): the access log gives
// "duration_ms" as a float, never slog's raw nanoseconds.
func TestLogDurationsInMilliseconds(t *testing.T) {
	t.Parallel()
	p := startGatehouse(t, t.TempDir(), nil, "serve", "--port", "0")
	if code, _ := postToken(t, p.URL, "nobody", "x"); code != 401 {
		t.Fatalf("POST /auth/v1/tokens: %d", code)
	}
	waitFor(t, p, `"msg":"request"`)
	line := regexp.MustCompile(`(?m)^.*"msg":"request".*$`).FindString(p.Stderr())
	if !regexp.MustCompile(`"duration_ms":\d+(\.\d+)?(e-\d+)?,`).MatchString(line) || strings.Contains(line, `"duration":`) {
		t.Fatalf("access log line: %s", line)
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, `"drain_ms":0}`) // the shutdown line
	// Reap it here: a SIGTERM from the cleanup while it is still shutting
	// down would be a second signal, which exits at once with status 1.
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v; stderr:\n%s", err, p.Stderr())
	}
}

// TestMakeRun (issue 17, items 8 and 9): make run says what it builds and
// where it serves, and runs without the drain delay so Ctrl-C is instant.
func TestMakeRun(t *testing.T) {
	t.Parallel()
	mk, err := exec.LookPath("make")
	if err != nil {
		requireIntegration(t, "make is not installed")
		return
	}
	cmd := exec.CommandContext(t.Context(), mk, "-n", "run")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n run: %v\n%s", err, out)
	}
	for _, want := range []string{
		`echo "building bin/gatehouse (the first build downloads modules and takes a few minutes)..."`,
		`echo "starting bin/gatehouse serve on http://${GATEHOUSE_AUTH_HOST:-127.0.0.1}:${GATEHOUSE_AUTH_PORT:-9100}`,
		"GATEHOUSE_AUTH_SHUTDOWN_DELAY=${GATEHOUSE_AUTH_SHUTDOWN_DELAY:-0} ./bin/gatehouse serve\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make -n run lacks %q:\n%s", want, out)
		}
	}
}
