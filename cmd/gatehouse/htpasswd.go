package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
	"github.com/gatehouse-auth/gatehouse/pkg/config"
)

func newHtpasswdCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "htpasswd",
		Short: "Manage users of the flat_file backend (bcrypt)",
	}
	cmd.PersistentFlags().String("file", "", "htpasswd file (default: the configured flat_file file_path)")
	cmd.PersistentFlags().Int("cost", htpasswd.DefaultCost, "bcrypt cost")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the user names in the file (never their hashes)",
		Args:  cobra.NoArgs,
		RunE:  htpasswdList,
	}
	addOutputFlags(list)
	cmd.AddCommand(&cobra.Command{
		Use:   "set USER",
		Short: "Add a user or change a password; the password is read from a prompt, or from stdin",
		Args:  requiredArg("user name"),
		RunE:  htpasswdSet,
	}, &cobra.Command{
		Use:   "delete USER",
		Short: "Remove a user",
		Args:  requiredArg("user name"),
		RunE:  htpasswdDelete,
	}, list)
	return cmd
}

// htpasswdPath is --file, or the configured flat_file path.
func htpasswdPath(cmd *cobra.Command) (string, error) {
	if p, _ := cmd.Flags().GetString("file"); p != "" {
		return p, nil
	}
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path, nil)
	if err != nil {
		return "", err
	}
	p, _ := cfg.Auth.BackendKwargs["file_path"].(string)
	if p == "" {
		return "", errors.New("no htpasswd file: pass --file or configure backend_kwargs.file_path")
	}
	return p, nil
}

func htpasswdSet(cmd *cobra.Command, args []string) error {
	path, err := htpasswdPath(cmd)
	if err != nil {
		return err
	}
	password, err := readNewPassword(cmd.Context(), cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	cost, _ := cmd.Flags().GetInt("cost")
	if err := htpasswd.SetUser(path, args[0], password, cost); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "password set for %s in %s\n", args[0], path)
	return nil
}

func htpasswdDelete(cmd *cobra.Command, args []string) error {
	path, err := htpasswdPath(cmd)
	if err != nil {
		return err
	}
	found, err := htpasswd.DeleteUser(path, args[0])
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("user %s not found in %s", args[0], path)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "deleted %s from %s\n", args[0], path)
	return nil
}

// htpasswdList prints the file's user names, one a line, in file order (a
// name given twice counts once, as the backend reads it); -j, -y and -a
// print [{"user": NAME}, …].
func htpasswdList(cmd *cobra.Command, _ []string) error {
	path, err := htpasswdPath(cmd)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("htpasswd: %w", err)
	}
	var users []string
	seen := map[string]bool{}
	for line := range strings.Lines(string(data)) {
		if user, _, ok := htpasswd.ParseLine(line); ok && !seen[user] {
			seen[user] = true
			users = append(users, user)
		}
	}
	out := cmd.OutOrStdout()
	if o := outputOf(cmd); o.custom() {
		items := make([]map[string]string, len(users))
		for i, u := range users {
			items[i] = map[string]string{"user": u}
		}
		raw, err := json.Marshal(items)
		if err != nil {
			return err
		}
		return o.print(out, raw)
	}
	for _, u := range users {
		fmt.Fprintln(out, u)
	}
	return nil
}

// readNewPassword prompts twice on a terminal (Ctrl-C ends it), or reads
// one line from a pipe.
func readNewPassword(ctx context.Context, in io.Reader, prompt io.Writer) (string, error) {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return readPasswordLine(in)
	}
	first, err := promptPasswordContext(ctx, f, prompt, "New password: ")
	if err != nil {
		return "", err
	}
	again, err := promptPasswordContext(ctx, f, prompt, "Repeat password: ")
	if err != nil {
		return "", err
	}
	if first != again {
		return "", errors.New("passwords do not match")
	}
	return first, nonEmpty(first)
}

// readPasswordLine reads a password as one line of a pipe.
func readPasswordLine(in io.Reader) (string, error) {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	password := strings.TrimRight(line, "\r\n")
	return password, nonEmpty(password)
}

func promptPassword(f *os.File, prompt io.Writer, text string) (string, error) {
	fmt.Fprint(prompt, text)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(prompt)
	return string(b), err
}

func nonEmpty(password string) error {
	if password == "" {
		return errors.New("empty password")
	}
	return nil
}
