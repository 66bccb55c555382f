package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gatehouse-auth/gatehouse/pkg/client"
)

// reuseMargin is how long a cached token must still be good for to be
// reused by `gatehouse login` instead of asking for the password.
const reuseMargin = 60 * time.Second

func newLoginCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login USER",
		Short: "Get a token from a running server and cache it (like st2 login)",
		Long: `Get a token for USER from a running Gatehouse server (POST /auth/v1/tokens with
HTTP Basic credentials) and cache it in the user's configuration directory, so
that later commands (gatehouse apikey …) run as USER.

While USER's cached token is good for more than a minute, login reuses it
without asking for the password; --force or --ttl always gets a new one.
The password is read from --password, from a prompt on a terminal, or as one
line from stdin.`,
		Example: `  gatehouse login admin
  echo "$PASSWORD" | gatehouse login admin --url https://auth.example.org
  gatehouse login ci --ttl 3600 --only-token`,
		Args: cobra.ExactArgs(1),
		RunE: runLogin,
	}
	f := cmd.Flags()
	f.StringP("password", "p", "", "the password (default: a prompt, or one line from stdin)")
	f.IntP("ttl", "l", 0, "token lifetime in seconds (default: the server's auth.token_ttl); always gets a new token")
	f.BoolP("only-token", "t", false, "print the token and nothing else")
	f.Bool("force", false, "get a new token even if the cached one is still good")
	addServerFlags(f)
	return cmd
}

func runLogin(cmd *cobra.Command, args []string) error {
	user := args[0]
	ctx := cmd.Context()
	c, err := newClient(cmd)
	if err != nil {
		return err
	}
	cache, err := client.DefaultCache()
	if err != nil {
		return err
	}
	force, _ := cmd.Flags().GetBool("force")
	ttl, _ := cmd.Flags().GetInt("ttl")
	if ttl < 0 || (cmd.Flags().Changed("ttl") && ttl == 0) {
		return errors.New("--ttl must be a positive number of seconds")
	}
	if !force && !cmd.Flags().Changed("ttl") {
		cached, ok, err := reusableToken(ctx, c, cache, user)
		if err != nil {
			return explainTransport(err)
		}
		if ok {
			return loggedIn(cmd, cache, cached, true)
		}
	}
	password, err := loginPassword(cmd)
	if err != nil {
		return err
	}
	tok, err := c.Login(ctx, user, password, ttl)
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return fmt.Errorf("login failed: %w", err)
	}
	if err != nil {
		return explainTransport(err)
	}
	cached := client.NewCachedToken(tok, c.URL())
	cached.User = user // the name the cache is looked up by
	if err := cache.Save(cached); err != nil {
		return err
	}
	return loggedIn(cmd, cache, cached, false)
}

// reusableToken is user's cached token when it was issued by this server,
// is good for more than reuseMargin, and the server still accepts it (it
// may have been revoked). Only a failure to ask the server is an error.
func reusableToken(ctx context.Context, c *client.Client, cache client.Cache, user string) (client.CachedToken, bool, error) {
	t, err := cache.Load(user)
	if err != nil || t.URL != c.URL() || !t.ValidFor(time.Now(), reuseMargin) {
		return t, false, nil // none, damaged, elsewhere or expiring: log in again
	}
	probe := *c
	probe.Token, probe.APIKey = t.Token, ""
	if _, err := probe.Me(ctx); err != nil {
		if client.StatusOf(err) == http.StatusUnauthorized {
			return t, false, nil
		}
		return t, false, err
	}
	return t, true, nil
}

// loggedIn remembers the user as the current one and says so.
func loggedIn(cmd *cobra.Command, cache client.Cache, t client.CachedToken, reused bool) error {
	if err := cache.SetCurrentUser(t.User); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if only, _ := cmd.Flags().GetBool("only-token"); only {
		_, err := fmt.Fprintln(out, t.Token)
		return err
	}
	exp := t.ExpiresAt()
	how := "the token"
	if reused {
		how = "the cached token"
	}
	_, err := fmt.Fprintf(out, "Logged in as %s; %s expires at %s (in %s).\n",
		t.User, how, formatTime(exp), time.Until(exp).Round(time.Second))
	return err
}

// loginPassword is --password, else a prompt on a terminal, else one line
// of stdin.
func loginPassword(cmd *cobra.Command) (string, error) {
	if cmd.Flags().Changed("password") {
		p, _ := cmd.Flags().GetString("password")
		return p, nonEmpty(p)
	}
	in, prompt := cmd.InOrStdin(), cmd.ErrOrStderr()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p, err := promptPasswordContext(cmd.Context(), f, prompt, "Password: ")
		if err != nil {
			return "", err
		}
		return p, nonEmpty(p)
	}
	return readPasswordLine(in)
}

// promptPasswordContext is promptPassword that gives up when ctx is done
// (Ctrl-C: main turns SIGINT into a cancelled context, so the signal alone
// would not end a blocked read), putting the terminal's echo back.
func promptPasswordContext(ctx context.Context, f *os.File, prompt io.Writer, text string) (string, error) {
	fd := int(f.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	type result struct {
		password string
		err      error
	}
	done := make(chan result, 1)
	go func() {
		p, err := promptPassword(f, prompt, text)
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		return r.password, r.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(prompt)
		return "", errors.New("interrupted")
	}
}

func newLogoutCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logout [USER]",
		Short: "Revoke the cached token of USER (default: the current user) and forget it",
		Args:  cobra.MaximumNArgs(1),
		RunE:  runLogout,
	}
	addServerFlags(cmd.Flags())
	return cmd
}

func runLogout(cmd *cobra.Command, args []string) error {
	cache, err := client.DefaultCache()
	if err != nil {
		return err
	}
	var user string
	if len(args) == 1 {
		user = args[0]
	} else if user, err = cache.CurrentUser(); errors.Is(err, client.ErrNotCached) {
		return errors.New("not logged in")
	} else if err != nil {
		return err
	}
	c, err := newClient(cmd)
	if err != nil {
		return err
	}
	t, err := cache.Load(user)
	switch {
	case errors.Is(err, client.ErrNotCached):
		_ = cache.ClearCurrentUser(user)
		return fmt.Errorf("not logged in as %s", user)
	case err != nil:
		// A damaged cache holds no usable token: forget it.
	case t.URL != c.URL():
		return fmt.Errorf("your token for %s was issued by %s, not %s; pass --url %s (or set %s)", user, t.URL, c.URL(), t.URL, envURL)
	case t.ValidFor(time.Now(), 0):
		c.Token = t.Token
		if err := c.Logout(cmd.Context()); err != nil && client.StatusOf(err) != http.StatusUnauthorized {
			return explainTransport(err) // keep the cache: the token still works
		}
	}
	if err := cache.Remove(user); err != nil {
		return err
	}
	if err := cache.ClearCurrentUser(user); err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "Logged out %s.\n", user)
	return err
}
