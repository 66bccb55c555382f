package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/client"
)

func newUserImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import-htpasswd FILE",
		Short: "Create local users from an htpasswd file, keeping their passwords (bcrypt entries only)",
		Long: `Create a local user on the running server for each user of an htpasswd
file (the flat_file backend's, or Apache's), with the hash from the file
(POST /auth/v1/users with password_hash; admins only), so that each keeps
the password they have. The server re-hashes it with argon2id at the
user's next good login.

Only bcrypt entries ($2y$, $2a$, $2b$: what gatehouse htpasswd set and
htpasswd -B write) can be imported; entries in other schemes (apr1, MD5,
SHA-1, crypt) are reported and skipped: give those users a password with
user add. A user who already exists is left unchanged, so the import can
be run again. One line is printed per user; the exit status is 1 when any
user was skipped or could not be created. FILE "-" is stdin.`,
		Example: `  gatehouse user import-htpasswd /etc/st2/htpasswd
  gatehouse user import-htpasswd data/htpasswd --must-change-password`,
		Args: requiredArg(`htpasswd file ("-": stdin)`),
		RunE: userImportHtpasswd,
	}
	cmd.Flags().Bool("must-change-password", false, "make every imported user change the password at the next login")
	return cmd
}

// htpasswdEntry is one user of an htpasswd file.
type htpasswdEntry struct {
	user, hash string
}

// importCounts counts the outcomes of an import.
type importCounts struct {
	imported, exists, skipped, failed int
}

func userImportHtpasswd(cmd *cobra.Command, args []string) error {
	data, err := readImportFile(cmd, args[0])
	if err != nil {
		return err
	}
	entries := htpasswdEntries(string(data))
	if len(entries) == 0 {
		return fmt.Errorf("%s: no users in the file", args[0])
	}
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	must, _ := cmd.Flags().GetBool("must-change-password")
	var n importCounts
	for _, e := range entries {
		if err := importHtpasswdUser(s, e, must, &n); err != nil {
			return s.explain(err)
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d imported, %d already existed, %d skipped, %d failed.\n",
		n.imported, n.exists, n.skipped, n.failed)
	if bad := n.skipped + n.failed; bad > 0 {
		return fmt.Errorf("%d of %d users could not be imported", bad, len(entries))
	}
	return nil
}

// importHtpasswdUser creates e's user, prints the outcome and counts it
// in n. It returns only the errors that end the import: the server could
// not be reached, refused the caller (not an admin) or has no local users.
func importHtpasswdUser(s *session, e htpasswdEntry, must bool, n *importCounts) error {
	out := s.cmd.OutOrStdout()
	if scheme := unsupportedScheme(e.hash); scheme != "" {
		n.skipped++
		fmt.Fprintf(out, "skipped   %s: unsupported hash scheme (%s); only bcrypt can be imported\n", e.user, scheme)
		return nil
	}
	_, err := s.CreateUser(s.cmd.Context(), client.NewUser{Name: e.user, PasswordHash: e.hash, MustChangePassword: must})
	switch status := client.StatusOf(err); {
	case err == nil:
		n.imported++
		fmt.Fprintf(out, "imported  %s\n", e.user)
	case status == http.StatusConflict:
		n.exists++
		fmt.Fprintf(out, "exists    %s: already a local user (409), left unchanged\n", e.user)
	case fatal(err), status == http.StatusForbidden, status == http.StatusNotFound:
		return err
	default:
		n.failed++
		fmt.Fprintf(out, "failed    %s: %v\n", e.user, err)
	}
	return nil
}

// htpasswdEntries are the users of an htpasswd file in the order they
// first appear, each with its last hash, as the flat_file backend reads
// the file.
func htpasswdEntries(data string) []htpasswdEntry {
	var entries []htpasswdEntry
	at := map[string]int{}
	for line := range strings.Lines(data) {
		user, hash, ok := htpasswd.ParseLine(line)
		if !ok {
			continue
		}
		if i, seen := at[user]; seen {
			entries[i].hash = hash
			continue
		}
		at[user] = len(entries)
		entries = append(entries, htpasswdEntry{user: user, hash: hash})
	}
	return entries
}

// unsupportedScheme names the scheme of an htpasswd hash the local
// backend cannot take, or is "" for bcrypt, which it can. A malformed
// bcrypt hash is left for the server to refuse.
func unsupportedScheme(hash string) string {
	for _, p := range []string{"$2a$", "$2b$", "$2y$"} {
		if strings.HasPrefix(hash, p) {
			return ""
		}
	}
	for _, s := range []struct{ prefix, name string }{
		{"$apr1$", "apr1, Apache MD5"}, {"$1$", "MD5-crypt"}, {"$5$", "SHA-256-crypt"},
		{"$6$", "SHA-512-crypt"}, {"{SHA}", "SHA-1"},
	} {
		if strings.HasPrefix(hash, s.prefix) {
			return s.name
		}
	}
	if len(hash) == 13 {
		return "DES crypt"
	}
	return "plain text or unknown"
}
