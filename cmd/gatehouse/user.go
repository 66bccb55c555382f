package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/pkg/client"
)

// newUserCommand is `gatehouse user`: the local users of a running
// server (its /auth/v1/users routes), and unlocking an account.
func newUserCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage local users on a running server (admins)"}
	addServerFlags(cmd.PersistentFlags())
	addCredentialFlags(cmd)
	nameArg := requiredArg("user name")
	add := &cobra.Command{Use: "add NAME", Short: "Add a local user; the password is prompted for, or read from stdin",
		Args: nameArg, RunE: userAdd}
	add.Flags().StringArray("group", nil, "a group of the user (repeatable)")
	add.Flags().Bool("must-change-password", false, "make the user change the password at the first login")
	list := &cobra.Command{Use: "list", Short: "List local users", Args: cobra.NoArgs, RunE: userList}
	list.Flags().IntP("limit", "n", 100, "at most this many users (at most 100)")
	list.Flags().Int("offset", 0, "skip this many users")
	get := &cobra.Command{Use: "get NAME", Short: "Show a local user", Args: nameArg,
		RunE: userAction(func(s *session, name string) (any, error) { return s.GetUser(s.cmd.Context(), name) })}
	setPassword := &cobra.Command{Use: "set-password NAME", Short: "Set a user's password (prompted, or from stdin)", Args: nameArg, RunE: userSetPassword}
	setPassword.Flags().Bool("must-change-password", false, "make the user change it at the next login (gatehouse passwd)")
	enable := &cobra.Command{Use: "enable NAME", Short: "Enable a local user", Args: nameArg, RunE: userSetActive(true)}
	disable := &cobra.Command{Use: "disable NAME", Short: "Disable a local user: their tokens and API keys stop working at once",
		Args: nameArg, RunE: userSetActive(false)}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a local user, their tokens and API keys", Args: nameArg,
		RunE: userDone("Deleted user %s.\n", func(s *session, name string) error { return s.DeleteUser(s.cmd.Context(), name) })}
	unlock := &cobra.Command{Use: "unlock NAME", Short: "Forget an account's failed logins, from every address", Args: nameArg,
		RunE: userDone("Unlocked %s.\n", func(s *session, name string) error { return s.UnlockUser(s.cmd.Context(), name) })}
	for _, c := range []*cobra.Command{add, list, get, setPassword, enable, disable} {
		addOutputFlags(c)
	}
	cmd.AddCommand(add, list, get, setPassword, enable, disable, del, unlock, newUserImportCommand())
	return cmd
}

func userAdd(cmd *cobra.Command, args []string) error {
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	pw, err := readNewPassword(cmd.Context(), cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	groups, _ := cmd.Flags().GetStringArray("group")
	must, _ := cmd.Flags().GetBool("must-change-password")
	u, err := s.CreateUser(cmd.Context(), client.NewUser{Name: args[0], Password: pw, Groups: groups, MustChangePassword: must})
	return printUser(s, u, err)
}

func userList(cmd *cobra.Command, _ []string) error {
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	limit, _ := cmd.Flags().GetInt("limit")
	offset, _ := cmd.Flags().GetInt("offset")
	users, err := s.ListUsers(cmd.Context(), limit, offset)
	return printUser(s, users, err)
}

func userSetPassword(cmd *cobra.Command, args []string) error {
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	pw, err := readNewPassword(cmd.Context(), cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	ch := client.UserChange{Password: &pw}
	if must, _ := cmd.Flags().GetBool("must-change-password"); must {
		ch.MustChangePassword = &must
	}
	u, err := s.UpdateUser(cmd.Context(), args[0], ch)
	return printUser(s, u, err)
}

func userSetActive(active bool) func(*cobra.Command, []string) error {
	return userAction(func(s *session, name string) (any, error) {
		return s.UpdateUser(s.cmd.Context(), name, client.UserChange{Active: &active})
	})
}

// userAction opens a session, does f for the named user and prints what
// it returns.
func userAction(f func(s *session, name string) (any, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, err := openSession(cmd)
		if err != nil {
			return err
		}
		v, err := f(s, args[0])
		return printUser(s, v, err)
	}
}

// userDone opens a session, does f and prints msg with the name.
func userDone(msg string, f func(s *session, name string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, err := openSession(cmd)
		if err != nil {
			return err
		}
		if err := f(s, args[0]); err != nil {
			return s.explain(err)
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), msg, args[0])
		return err
	}
}

// printUser prints v (a user or a list) as JSON, or with -j/-y/-a.
func printUser(s *session, v any, err error) error {
	if err != nil {
		return s.explain(err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return outputOf(s.cmd).print(s.cmd.OutOrStdout(), raw)
}
