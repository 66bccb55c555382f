package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/pkg/config"
)

func newMigrateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations to the configured database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Validated as serve does: Load leaves a bad value at its
			// default, which must not silently pick another database.
			cfg, err := loadConfig(cmd, false)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg.Database.URL)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "migrations applied to", cfg.Database.Driver(), "database")
			return st.Close()
		},
	}
	config.BindFlags(cmd.Flags())
	return cmd
}
