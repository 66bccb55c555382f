package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "List, renew, look up or revoke tokens (RFC 7662 introspection, RFC 7009 revocation)",
		Long: `List, renew, look up or revoke tokens on a running server, authenticated with
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
		Use:   "revoke ID|TOKEN",
		Short: "Revoke a token by its id (as 'token list' shows it), or a token or API key by its value",
		Long: `Revoke a token by its id (24 hex digits, as 'gatehouse token list' shows it:
DELETE /auth/v1/tokens/ID), or a token or API key by its value (RFC 7009: a
token is deleted, an API key disabled). Your own, or anyone's for an admin.`,
		Args: tokenArg,
		RunE: runRevoke,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List your live tokens (an admin: anyone's with --user); never the tokens themselves",
		Args:  cobra.NoArgs,
		RunE:  runTokenList,
	}
	list.Flags().StringP("user", "u", "", "the tokens of this user (admins)")
	addOutputFlags(list)
	renew := &cobra.Command{
		Use:   "renew",
		Short: "Renew the token you are using, up to the server's auth.token_max_lifetime",
		Args:  cobra.NoArgs,
		RunE:  runTokenRenew,
	}
	renew.Flags().IntP("ttl", "l", 0, "new lifetime in seconds from now (default: the server's auth.token_ttl)")
	cmd.AddCommand(introspect, revoke, list, renew)
	return cmd
}

func runTokenList(cmd *cobra.Command, _ []string) error {
	user, _ := cmd.Flags().GetString("user")
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	tokens, raw, err := s.ListTokens(cmd.Context(), user)
	if err != nil {
		return s.explain(err)
	}
	out := cmd.OutOrStdout()
	if o := outputOf(cmd); o.custom() {
		return o.print(out, raw)
	}
	if len(tokens) == 0 {
		_, err := fmt.Fprintln(out, "No tokens.")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tSCOPE\tCREATED_AT\tEXPIRY\tSERVICE")
	for _, t := range tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\n", t.ID, t.User, t.Scope, t.CreatedAt, t.Expiry, t.Service)
	}
	return tw.Flush()
}

func runTokenRenew(cmd *cobra.Command, _ []string) error {
	ttl, _ := cmd.Flags().GetInt("ttl")
	if ttl < 0 {
		return usageError(cmd, "--ttl must be a positive number of seconds")
	}
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	r, err := s.Renew(cmd.Context(), ttl)
	if err != nil {
		return s.explain(err)
	}
	if s.user != "" { // the cached token: remember its new expiry
		if err := updateCachedExpiry(s, r.Expiry); err != nil {
			return err
		}
	}
	return printFields(cmd.OutOrStdout(), [][2]string{{"id", r.ID}, {"user", r.User}, {"expiry", r.Expiry}, {"scope", r.Scope}})
}

// updateCachedExpiry rewrites the expiry of the session's cached token.
func updateCachedExpiry(s *session, expiry string) error {
	cache, err := openCache()
	if err != nil {
		return err
	}
	t, err := cache.Load(s.URL(), s.user)
	if err != nil {
		return err
	}
	exp, err := time.Parse(time.RFC3339Nano, expiry)
	if err != nil {
		return fmt.Errorf("unexpected answer: expiry %q is not a time", expiry)
	}
	t.Expiry, t.ExpireTimestamp = expiry, exp.Unix()
	return cache.Save(t)
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
	if tokenID.MatchString(tok) {
		if err := s.RevokeTokenID(cmd.Context(), tok); err != nil {
			return s.explain(err)
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "Revoked token %s.\n", tok)
		return err
	}
	if err := s.Revoke(cmd.Context(), tok); err != nil {
		return s.explain(err)
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), "Revoked, if it was active and yours to revoke (the server answers the same either way).")
	return err
}

// tokenID is the shape of a token's id; tokens (32 hex digits) and API
// keys (86 characters) never have it.
var tokenID = regexp.MustCompile(`^[0-9a-f]{24}$`)
