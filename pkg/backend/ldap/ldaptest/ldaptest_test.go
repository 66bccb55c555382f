package ldaptest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/internal/integration"
	"github.com/gatehouse-auth/gatehouse/pkg/testproc"
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

// TestCertificatesArePrivateToTheRun (issue 17, item 11): the CA and
// certificates scripts/ldap-up.sh makes are in a directory of the run's
// own, not the fixed folder under the system temp directory that every
// run once shared.
func TestCertificatesArePrivateToTheRun(t *testing.T) {
	st, err := readSettings()
	if err != nil {
		integration.Unavailable(t, "ldaptest: %v", err)
	}
	shared := filepath.Join(os.TempDir(), "gatehouse-ldap", "certs")
	if filepath.Clean(st.certs) == shared {
		t.Fatalf("GATEHOUSE_TEST_LDAP_CERTS is the shared %s", shared)
	}
}
