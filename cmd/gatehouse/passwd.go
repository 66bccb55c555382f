package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gatehouse-auth/gatehouse/pkg/client"
)

func newPasswdCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "passwd [USER]",
		Short: "Change your own password on a running server (local users)",
		Long: `Change USER's own password on a running Gatehouse server (POST
/auth/v1/password). Only users of the local backend have a password
Gatehouse can change; an LDAP, PAM or flat-file user is refused.

The server is asked as USER with the cached token of USER's login when it
is still good; otherwise with the current password (HTTP Basic), from
--password, the prompt "Current password:", or the first line of stdin.
A user who must change the password (user add --must-change-password)
cannot log in, so this is how they start.

The new password is prompted for twice, or read as the next line of stdin
when it is not a terminal: 8 to 1024 characters, not the user name. The
server then revokes USER's other tokens (all of them when the current
password was used: log in again afterwards). USER defaults to the user of
the last login to the server, else the [credentials] username of a
settings file.`,
		Example: `  gatehouse passwd
  gatehouse passwd bob                      # prompts for the current and the new password
  printf '%s\n%s\n' "$OLD" "$NEW" | gatehouse passwd bob`,
		Args: optionalArg("USER"),
		RunE: runPasswd,
	}
	cmd.Flags().StringP("password", "p", "", "the current password (default: USER's cached token, else a prompt or the first line of stdin)")
	addServerFlags(cmd.Flags())
	return cmd
}

// passwdCredential is how passwd proves who it is: the current password
// (basic) or the client's token.
type passwdCredential struct {
	basic    bool
	password string
}

func runPasswd(cmd *cobra.Command, args []string) error {
	st, c, cache, err := openClientAndCache(cmd)
	if err != nil {
		return err
	}
	user, err := passwdUser(cmd, st, cache, c.URL(), args)
	if err != nil {
		return err
	}
	in := newPasswordInput(cmd)
	cred, err := passwdCredentialOf(cmd, c, cache, user, in)
	if err != nil {
		return err
	}
	newPassword, err := in.newPassword()
	if err != nil {
		return err
	}
	basicUser := ""
	if cred.basic {
		basicUser = user
	}
	if err := c.ChangePassword(cmd.Context(), basicUser, cred.password, newPassword); err != nil {
		return passwdFailed(err)
	}
	return passwdDone(cmd, cache, c.URL(), user, cred)
}

// passwdUser is the USER argument, else the server's current user (the
// last login there), else the [credentials] username of a settings file.
func passwdUser(cmd *cobra.Command, st settings, cache client.Cache, server string, args []string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	user, err := cache.CurrentUser(server)
	switch {
	case err == nil:
		return user, nil
	case !errors.Is(err, client.ErrNotCached):
		return "", err
	case st.user != "":
		return st.user, nil
	}
	return "", usageError(cmd, "missing user name (not logged in to "+server+")")
}

// passwdCredentialOf picks the credential: --password, else user's
// cached token when the server still accepts it, else the current
// password read from in. A token the server refuses in any way is
// passed over for the password.
func passwdCredentialOf(cmd *cobra.Command, c *client.Client, cache client.Cache, user string, in *passwordInput) (passwdCredential, error) {
	if cmd.Flags().Changed("password") {
		p, _ := cmd.Flags().GetString("password")
		return passwdCredential{basic: true, password: p}, nonEmpty(p)
	}
	t, ok, err := reusableToken(cmd.Context(), c, cache, user)
	if err != nil && client.StatusOf(err) == 0 {
		return passwdCredential{}, explainTransport(err) // the server cannot be asked
	}
	if ok {
		c.Token = t.Token
		return passwdCredential{}, nil
	}
	p, err := in.current()
	return passwdCredential{basic: true, password: p}, err
}

// passwdFailed says why the server refused the change, in its own words
// (a wrong current password, the password policy, not a local user).
func passwdFailed(err error) error {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return fmt.Errorf("password not changed: %w", err)
	}
	return explainTransport(err)
}

// passwdDone says the password changed and what happened to the tokens.
// After a change with the current password the server revoked every
// token of user, so the cached one is forgotten.
func passwdDone(cmd *cobra.Command, cache client.Cache, server, user string, cred passwdCredential) error {
	out := cmd.OutOrStdout()
	if !cred.basic {
		_, err := fmt.Fprintf(out, "Password changed for %s. Your other tokens were revoked; this login's token still works.\n", user)
		return err
	}
	if err := cache.Remove(server, user); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "Password changed for %s. Every token of %s was revoked; log in again with: %s\n",
		user, user, loginCommandLine(cmd, user))
	return err
}

// passwordInput reads the passwords of passwd: prompts on a terminal,
// else consecutive lines of stdin (the current password first, when it
// is needed, then the new one).
type passwordInput struct {
	cmd   *cobra.Command
	tty   *os.File // stdin when it is a terminal, else nil
	lines *bufio.Reader
}

func newPasswordInput(cmd *cobra.Command) *passwordInput {
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &passwordInput{cmd: cmd, tty: f}
	}
	return &passwordInput{cmd: cmd, lines: bufio.NewReader(in)}
}

// current reads the current password.
func (in *passwordInput) current() (string, error) {
	if in.tty == nil {
		return in.line("current password")
	}
	p, err := promptPasswordContext(in.cmd.Context(), in.tty, in.cmd.ErrOrStderr(), "Current password: ")
	if err != nil {
		return "", err
	}
	return p, nonEmpty(p)
}

// newPassword reads the new password: twice on a terminal.
func (in *passwordInput) newPassword() (string, error) {
	if in.tty == nil {
		return in.line("new password")
	}
	return readNewPassword(in.cmd.Context(), in.tty, in.cmd.ErrOrStderr())
}

// line reads the next line of stdin as what.
func (in *passwordInput) line(what string) (string, error) {
	line, err := in.lines.ReadString('\n')
	if errors.Is(err, io.EOF) && line == "" {
		return "", fmt.Errorf("no %s: give it as a line on stdin, or run on a terminal", what)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the %s from stdin: %w", what, err)
	}
	password := strings.TrimRight(line, "\r\n")
	return password, nonEmpty(password)
}
