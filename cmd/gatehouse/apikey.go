package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/pkg/client"
)

func newAPIKeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Manage API keys on a running server (like st2 apikey)",
		Long: `Manage API keys on a running Gatehouse server through its st2-compatible
/apikeys routes.

The credential is, first found: --token, --api-key, the cached token of --as
USER, $` + envToken + `, $` + envAPIKey + `, $` + envST2Token + `, $` + envST2APIKey + `,
the cached token of the user of the last 'gatehouse login' to the server, the
[credentials] of a settings file (docs/CLI.md).`,
	}
	addServerFlags(cmd.PersistentFlags())
	addCredentialFlags(cmd)

	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key; the key is shown this once",
		Args:  cobra.NoArgs,
		RunE:  apikeyCreate,
	}
	create.Flags().StringP("metadata", "m", "", `metadata, a JSON object such as '{"used_by": "ci"}'`)
	create.Flags().StringP("user", "u", "", "owner of the key (default: you; others' keys need an admin)")
	create.Flags().BoolP("only-key", "k", false, "print the key and nothing else")
	create.Flags().String("scope", "", `what the key may do: "read", "write", "path:/prefix" (several separated by spaces; default: your own scope)`)
	create.Flags().String("ttl", "", "the key expires after this long: seconds, or a duration such as 720h (default: never)")
	create.Flags().String("expires-at", "", "the key expires at this RFC 3339 time (instead of --ttl)")

	rotate := &cobra.Command{
		Use:   "rotate ID_OR_KEY",
		Short: "Give an API key a new secret, shown this once; the old one works for --grace more",
		Args:  requiredArg("API key id or key"),
		RunE:  apikeyRotate,
	}
	rotate.Flags().String("grace", "0", "how long the old secret keeps working: seconds, or a duration such as 1h (default 0: it stops at once)")
	rotate.Flags().BoolP("only-key", "k", false, "print the new key and nothing else")

	list := &cobra.Command{
		Use:   "list",
		Short: "List API keys (yours, or everyone's for an admin)",
		Args:  cobra.NoArgs,
		RunE:  apikeyList,
	}
	list.Flags().StringP("user", "u", "", "only the keys of this user")
	list.Flags().IntP("limit", "n", 50, "at most this many keys (-1: all, admins only)")
	list.Flags().Int("offset", 0, "skip this many keys")
	list.Flags().Bool("show-secrets", false, "show key_hash and uid (admins; the export format apikey import reads)")

	keyArg := requiredArg("API key id or key")
	get := &cobra.Command{Use: "get ID_OR_KEY", Short: "Show an API key", Args: keyArg, RunE: apikeyGet}
	enable := &cobra.Command{Use: "enable ID_OR_KEY", Short: "Enable an API key", Args: keyArg,
		RunE: func(cmd *cobra.Command, args []string) error { return apikeySetEnabled(cmd, args[0], true) }}
	disable := &cobra.Command{Use: "disable ID_OR_KEY", Short: "Disable an API key: the server refuses it until enabled", Args: keyArg,
		RunE: func(cmd *cobra.Command, args []string) error { return apikeySetEnabled(cmd, args[0], false) }}
	del := &cobra.Command{Use: "delete ID_OR_KEY", Short: "Delete an API key", Args: keyArg, RunE: apikeyDelete}
	for _, c := range []*cobra.Command{create, list, get, enable, disable, rotate} {
		addOutputFlags(c)
	}
	cmd.AddCommand(create, list, get, enable, disable, del, rotate, newAPIKeyImportCommand())
	return cmd
}

func newAPIKeyImportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Import API keys exported from StackStorm (st2 apikey list -j --show-secrets)",
		Long: `Import API keys exported from StackStorm with

    st2 apikey list -j --show-secrets -n -1 > keys.json

(a JSON list of objects with id, uid, user, key_hash, metadata, created_at,
enabled; a single object is accepted too; FILE "-" is stdin). Each key is
created with its key_hash, id and created_at, so the keys that integrations
already hold keep working. Keys the server already has are reported and
skipped. Keys of other users need an admin.`,
		Args: requiredArg(`file to import ("-": stdin)`),
		RunE: apikeyImport,
	}
}

func apikeyCreate(cmd *cobra.Command, _ []string) error {
	req := client.NewAPIKey{}
	req.User, _ = cmd.Flags().GetString("user")
	if m, _ := cmd.Flags().GetString("metadata"); m != "" {
		if err := json.Unmarshal([]byte(m), &req.Metadata); err != nil || req.Metadata == nil {
			return errors.New(`--metadata must be a JSON object, such as '{"used_by": "ci"}'`)
		}
	}
	req.Scope, _ = cmd.Flags().GetString("scope")
	req.ExpiresAt, _ = cmd.Flags().GetString("expires-at")
	if v, _ := cmd.Flags().GetString("ttl"); v != "" {
		ttl, err := parseSeconds(v)
		if err != nil || ttl < time.Second || req.ExpiresAt != "" {
			return usageError(cmd, "--ttl must be at least 1 second (3600 or 1h), and not given with --expires-at")
		}
		req.TTL = int(ttl / time.Second)
	}
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	k, err := s.CreateAPIKey(cmd.Context(), req)
	if err != nil {
		return s.explain(err)
	}
	return showNewKey(cmd, k)
}

// showNewKey prints a key whose secret is shown this once.
func showNewKey(cmd *cobra.Command, k client.APIKey) error {
	out := cmd.OutOrStdout()
	key := ""
	if k.Key != nil {
		key = *k.Key
	}
	if only, _ := cmd.Flags().GetBool("only-key"); only {
		_, err := fmt.Fprintln(out, key)
		return err
	}
	if o := outputOf(cmd); o.custom() {
		return o.print(out, k.Raw)
	}
	if err := printFields(out, append(keyFields(k), [2]string{"key", key})); err != nil {
		return err
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "The key is shown only this once: keep it now.")
	return nil
}

func apikeyList(cmd *cobra.Command, _ []string) error {
	var o client.ListOptions
	o.User, _ = cmd.Flags().GetString("user")
	o.Limit, _ = cmd.Flags().GetInt("limit")
	o.Offset, _ = cmd.Flags().GetInt("offset")
	o.ShowSecrets, _ = cmd.Flags().GetBool("show-secrets")
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	page, err := s.ListAPIKeys(cmd.Context(), o)
	if err != nil {
		return s.explain(err)
	}
	if shown := o.Offset + len(page.Keys); shown < page.Total {
		fmt.Fprintf(cmd.ErrOrStderr(), "Note: showing %d of %d API keys; use --limit and --offset for more.\n", len(page.Keys), page.Total)
	}
	out := cmd.OutOrStdout()
	if o := outputOf(cmd); o.custom() {
		return o.print(out, page.Raw)
	}
	if len(page.Keys) == 0 {
		_, err := fmt.Fprintln(out, "No API keys.")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	header := "ID\tUSER\tENABLED\tCREATED_AT\tMETADATA"
	if o.ShowSecrets {
		header += "\tKEY_HASH"
	}
	fmt.Fprintln(tw, header)
	for _, k := range page.Keys {
		fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s", k.ID, k.User, k.Enabled, k.CreatedAt, compactJSON(k.Metadata))
		if o.ShowSecrets {
			fmt.Fprintf(tw, "\t%s", k.KeyHash)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func apikeyGet(cmd *cobra.Command, args []string) error {
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	k, err := s.GetAPIKey(cmd.Context(), args[0])
	if err != nil {
		return s.explain(err)
	}
	return printKey(cmd, k)
}

// apikeySetEnabled is st2's enable/disable: GET the key, then PUT it back
// whole with enabled set.
func apikeySetEnabled(cmd *cobra.Command, ref string, enabled bool) error {
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	k, err := s.GetAPIKey(cmd.Context(), ref)
	if err != nil {
		return s.explain(err)
	}
	k.Enabled = enabled
	k, err = s.UpdateAPIKey(cmd.Context(), k)
	if err != nil {
		return s.explain(err)
	}
	return printKey(cmd, k)
}

// apikeyDelete looks the key up first, so that it can name the key by its
// id (never by its value) in what it prints.
func apikeyDelete(cmd *cobra.Command, args []string) error {
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	k, err := s.GetAPIKey(cmd.Context(), args[0])
	if err != nil {
		return s.explain(err)
	}
	if err := s.DeleteAPIKey(cmd.Context(), k.ID); err != nil {
		return s.explain(err)
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "Deleted API key %s of %s.\n", k.ID, k.User)
	return err
}

func printKey(cmd *cobra.Command, k client.APIKey) error {
	if o := outputOf(cmd); o.custom() {
		return o.print(cmd.OutOrStdout(), k.Raw)
	}
	return printFields(cmd.OutOrStdout(), keyFields(k))
}

func keyFields(k client.APIKey) [][2]string {
	rows := [][2]string{{"id", k.ID}}
	if k.UID != "" {
		rows = append(rows, [2]string{"uid", k.UID})
	}
	rows = append(rows, [2]string{"user", k.User})
	if k.KeyHash != "" {
		rows = append(rows, [2]string{"key_hash", k.KeyHash})
	}
	rows = append(rows,
		[2]string{"metadata", compactJSON(k.Metadata)},
		[2]string{"created_at", k.CreatedAt},
		[2]string{"enabled", strconv.FormatBool(k.Enabled)})
	if k.Scope == "" { // a server from before scopes
		return rows
	}
	return append(rows, [2]string{"scope", k.Scope},
		[2]string{"expires_at", orNever(k.ExpiresAt, "never")},
		[2]string{"last_used_at", orNever(k.LastUsedAt, "never")})
}

func orNever(v *string, none string) string {
	if v == nil {
		return none
	}
	return *v
}

func apikeyImport(cmd *cobra.Command, args []string) error {
	data, err := readImportFile(cmd, args[0])
	if err != nil {
		return err
	}
	items, err := client.ParseExport(data)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	var imported, present, failed int
	for _, it := range items {
		outcome, err := client.Failed, it.Err
		if err == nil {
			outcome, err = s.ImportAPIKey(cmd.Context(), it.Key)
		}
		if fatal(err) {
			return s.explain(err)
		}
		switch outcome {
		case client.Imported:
			imported++
			fmt.Fprintf(out, "imported  %s (%s)\n", it.Name(), it.Key.User)
		case client.Present:
			present++
			fmt.Fprintf(out, "present   %s (%s): already on the server (same id or key_hash), skipped\n", it.Name(), it.Key.User)
		default:
			failed++
			fmt.Fprintf(out, "failed    %s (%s): %v\n", it.Name(), it.Key.User, err)
		}
	}
	fmt.Fprintf(out, "%d imported, %d already present, %d failed.\n", imported, present, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d API keys could not be imported", failed, len(items))
	}
	return nil
}

// fatal reports whether an import error would fail every other key too:
// the server cannot be reached, or refuses the credential.
func fatal(err error) bool {
	var connErr *client.ConnError
	var tlsErr *client.TLSError
	return errors.As(err, &connErr) || errors.As(err, &tlsErr) ||
		client.StatusOf(err) == http.StatusUnauthorized || errors.Is(err, context.Canceled)
}

func readImportFile(cmd *cobra.Command, name string) ([]byte, error) {
	var r io.Reader = cmd.InOrStdin()
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

func apikeyRotate(cmd *cobra.Command, args []string) error {
	v, _ := cmd.Flags().GetString("grace")
	grace, err := parseSeconds(v)
	if err != nil || grace < 0 {
		return usageError(cmd, "--grace must be seconds or a duration such as 1h, not negative")
	}
	s, err := openSession(cmd)
	if err != nil {
		return err
	}
	k, err := s.RotateAPIKey(cmd.Context(), args[0], int(grace/time.Second))
	if err != nil {
		return s.explain(err)
	}
	if err := showNewKey(cmd, k); err != nil {
		return err
	}
	if grace > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "The old key keeps working for %s.\n", grace)
	}
	return nil
}

// parseSeconds reads a whole number of seconds ("3600") or a Go duration
// ("1h", "90m").
func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}
