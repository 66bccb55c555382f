package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Look up or revoke a token or API key (RFC 7662 introspection, RFC 7009 revocation)",
		Long: `Look up or revoke a token or API key on a running server, authenticated with
your current credential (see 'gatehouse apikey --help' for which one). TOKEN
"-" reads it as one line from stdin, which keeps it out of 'ps' and shell
history.`,
	}
	addServerFlags(cmd.PersistentFlags())
	addCredentialFlags(cmd)
	tokenArg := requiredArg(`token or API key ("-": read it from stdin)`)
	introspect := &cobra.Command{
		Use:   "introspect TOKEN",
		Short: "Show whether TOKEN is active and whose it is (service accounts and admins)",
		Args:  tokenArg,
		RunE:  runIntrospect,
	}
	addOutputFlags(introspect)
	revoke := &cobra.Command{
		Use:   "revoke TOKEN",
		Short: "Revoke TOKEN (a token is deleted, an API key disabled): your own, or anyone's for an admin",
		Args:  tokenArg,
		RunE:  runRevoke,
	}
	cmd.AddCommand(introspect, revoke)
	return cmd
}

// tokenArgument is the TOKEN argument, or one line of stdin for "-".
func tokenArgument(cmd *cobra.Command, arg string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the token from stdin: %w", err)
	}
	if tok := strings.TrimSpace(line); tok != "" {
		return tok, nil
	}
	return "", usageError(cmd, "missing token: stdin was empty")
}

func runIntrospect(cmd *cobra.Command, args []string) error {
	tok, err := tokenArgument(cmd, args[0])
	if err != nil {
		return err
	}
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	in, err := s.Introspect(cmd.Context(), tok)
	if err != nil {
		return s.explain(err)
	}
	out := cmd.OutOrStdout()
	if o := outputOf(cmd); o.custom() {
		return o.print(out, in.Raw)
	}
	return printFields(out, introspectionRows(in.Raw))
}

// introspectionRows shows every member of an introspection answer, in the
// server's order, with exp and iat as times.
func introspectionRows(raw json.RawMessage) [][2]string {
	var rows [][2]string
	for _, k := range objectKeys(raw) {
		v, _ := lookup(raw, k)
		var n int64
		var list []string
		switch {
		case (k == "exp" || k == "iat") && json.Unmarshal(v, &n) == nil:
			rows = append(rows, [2]string{k, formatTime(time.Unix(n, 0))})
		case k == "groups" && json.Unmarshal(v, &list) == nil:
			rows = append(rows, listRows(k, list)...)
		default:
			rows = append(rows, [2]string{k, cell(v)})
		}
	}
	return rows
}

func runRevoke(cmd *cobra.Command, args []string) error {
	tok, err := tokenArgument(cmd, args[0])
	if err != nil {
		return err
	}
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	if err := s.Revoke(cmd.Context(), tok); err != nil {
		return s.explain(err)
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), "Revoked, if it was active and yours to revoke (the server answers the same either way).")
	return err
}
