package ldaptest

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testproc"
)

// TestStopEndsSlapd (issue 17, item 11): Stop ends slapd's whole process
// group and waits for it, so nothing is left listening after a test.
func TestStopEndsSlapd(t *testing.T) {
	s := Start(t)
	s.mu.Lock()
	pgid := s.cmd.Process.Pid
	s.mu.Unlock()
	s.Freeze() // a frozen slapd must stop too
	s.Stop()
	if testproc.Alive(pgid) {
		t.Fatalf("slapd's process group %d is still alive after Stop", pgid)
	}
}
