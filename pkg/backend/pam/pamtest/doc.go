// Package pamtest prepares real PAM stacks for tests of the pam backend:
// private service directories for pam_start_confdir, pam_pwdfile password
// files, and throw-away host accounts for pam_unix.
//
// Tests that need only modules (pam_pwdfile, pam_permit) run wherever the
// modules are installed. Tests that create host accounts (useradd) also
// need root and GATEHOUSE_TEST_PAM=1, which scripts/pam-up.sh prints, so
// that `go test` on a developer's machine never adds users by surprise.
// A missing prerequisite skips the test, or fails it when
// GATEHOUSE_REQUIRE_INTEGRATION=1 (make test): CI must never pass by
// skipping.
//
//	dir := pamtest.ConfDir(t, map[string]string{
//		"svc": "auth required pam_pwdfile.so pwdfile=" + pamtest.PwdFile(t, map[string]string{"alice": "pw"}) + "\n" +
//			"account required pam_permit.so\n",
//	})
package pamtest
