package main

import (
	"time"

	"github.com/spf13/cobra"
)

func newWhoamiCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the current credential belongs to (GET /auth/v1/me)",
		Long: `Show the user, groups and credential the server sees for the credential the
other commands would use (see 'gatehouse apikey --help' for which one).`,
		Args: cobra.NoArgs,
		RunE: runWhoami,
	}
	addServerFlags(cmd.Flags())
	addCredentialFlags(cmd)
	addOutputFlags(cmd)
	return cmd
}

func runWhoami(cmd *cobra.Command, _ []string) error {
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	me, err := s.Me(cmd.Context())
	if err != nil {
		return s.explain(err)
	}
	out := cmd.OutOrStdout()
	if o := outputOf(cmd); o.custom() {
		return o.print(out, me.Raw)
	}
	rows := [][2]string{{"username", me.Username}}
	rows = append(rows, listRows("groups", me.Groups)...)
	a := me.Authentication
	rows = append(rows, [2]string{"credential", a.Method + " (" + a.Location + ")"})
	if t, err := time.Parse(time.RFC3339, a.TokenExpire); err == nil {
		rows = append(rows, [2]string{"expires", formatTime(t)})
	}
	rows = append(rows, [2]string{"server", s.URL()})
	return printFields(out, rows)
}

// listRows shows a list one value a row (group DNs hold commas), name on
// the first; an empty list is one empty row.
func listRows(name string, values []string) [][2]string {
	if len(values) == 0 {
		return [][2]string{{name, ""}}
	}
	rows := make([][2]string, len(values))
	for i, v := range values {
		rows[i] = [2]string{"", v}
	}
	rows[0][0] = name
	return rows
}
