package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Token-issuing authentication service, compatible with StackStorm's st2auth",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetVersionTemplate(versionLine() + "\n")
	root.PersistentFlags().StringP("config", "c", "", "configuration file (YAML, or an st2-style INI such as /etc/st2/st2.conf)")
	root.AddCommand(newServeCommand(), newMigrateCommand(), newHtpasswdCommand(), newVersionCommand(),
		newLoginCommand(), newLogoutCommand(), newAPIKeyCommand(), newUserCommand(), newPasswdCommand(), newWhoamiCommand(), newTokenCommand())
	return root
}

// versionLine is what `gatehouse version` and `gatehouse --version` print.
func versionLine() string {
	return fmt.Sprintf("gatehouse %s (commit %s, built %s, %s)", version, commit, date, runtime.Version())
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and build date",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
		},
	}
}
