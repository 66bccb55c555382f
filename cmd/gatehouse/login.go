package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
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
		Use:   "login [USER]",
		Short: "Get a token from a running server and cache it (like st2 login)",
		Long: `Get a token for USER from a running Gatehouse server (POST /auth/v1/tokens with
HTTP Basic credentials) and cache it, per server, in the user's configuration
directory, so that later commands (gatehouse apikey, whoami, token) run as
USER. A server given with --url (and a CA file given with --cacert) is
recorded in the settings file, ~/.config/gatehouse/config, for later commands.

A password given with --password, on stdin, at the prompt, or in a settings
file's [credentials] is always checked by the server, as st2 login does. Only
a login with no password at all (stdin empty and not a terminal, or a
terminal and a cached token) reuses USER's cached token while it is good for
more than a minute; --force or --ttl always gets a new one. USER defaults to
the [credentials] username of a settings file.

With --sso, sign in at the server's OpenID Connect provider instead. When
the provider offers device authorization (RFC 8628), the command prints a
URL and a short code to enter there, on this machine or any other (and opens
the URL in a browser here unless --no-browser), and waits while the server
asks the provider whether you have signed in. Otherwise it listens on
http://127.0.0.1:<free port>/callback, opens the provider's page in a
browser (or prints its URL), and the server exchanges the code the provider
sends back. Either way the result is an ordinary token, cached as above;
--sso-method device or loopback chooses one way.`,
		Example: `  gatehouse login admin
  echo "$PASSWORD" | gatehouse login admin --url https://auth.example.org
  gatehouse login ci --ttl 3600 --only-token
  kinit alice@EXAMPLE.ORG && gatehouse login --kerberos --url https://auth.example.org
  gatehouse login --sso --url https://auth.example.org`,
		Args: optionalArg("USER"),
		RunE: runLogin,
	}
	f := cmd.Flags()
	f.StringP("password", "p", "", "the password (default: one line from stdin, else a prompt)")
	f.IntP("ttl", "l", 0, "token lifetime in seconds (default: the server's auth.token_ttl); always gets a new token")
	f.BoolP("only-token", "t", false, "print the token and nothing else")
	f.String("scope", "", `what the token may do: "read" (GET, HEAD, OPTIONS only), "path:/prefix", or "write" (the default); always gets a new token`)
	f.Bool("force", false, "get a new token even if the cached one is still good")
	f.Bool("kerberos", false, "log in with the Kerberos ticket of the credential cache (KRB5CCNAME; run kinit first), no password")
	f.String("spn", "", "with --kerberos: the server's service principal (default HTTP/<host of --url>)")
	f.Bool("sso", false, "sign in through the server's single sign-on provider (OpenID Connect) in a browser")
	f.Bool("no-browser", false, "with --sso: print the sign-in URL instead of opening a browser")
	f.String("sso-method", "auto", "with --sso: device (enter a code at the provider), loopback (a browser on this machine), or auto (device when the provider offers it)")
	addServerFlags(f)
	return cmd
}

func runLogin(cmd *cobra.Command, args []string) error {
	st, err := loadSettings(cmd)
	if err != nil {
		return err
	}
	if sso, _ := cmd.Flags().GetBool("sso"); sso {
		if len(args) > 0 || cmd.Flags().Changed("password") || cmd.Flags().Changed("ttl") {
			return usageError(cmd, "--sso takes no USER, --password or --ttl: the provider says who you are")
		}
		return runSSOLogin(cmd, st)
	}
	fresh, ttl, err := freshTokenWanted(cmd)
	if err != nil {
		return err
	}
	if krb, _ := cmd.Flags().GetBool("kerberos"); krb {
		if len(args) > 0 {
			return usageError(cmd, "--kerberos takes no USER: the ticket names the user")
		}
		return runKerberosLogin(cmd, st, ttl)
	}
	user, err := loginUser(cmd, st, args)
	if err != nil {
		return err
	}
	c, cache, err := st.clientAndCache()
	if err != nil {
		return err
	}
	password, err := givenPassword(cmd, st, user)
	if err != nil {
		return err
	}
	if password == "" && !fresh {
		cached, ok, err := reusableToken(cmd.Context(), c, cache, user)
		if err != nil {
			return explainTransport(err)
		}
		if ok {
			return loggedIn(cmd, cache, cached, true)
		}
	}
	if password == "" {
		if password, err = askPassword(cmd); err != nil {
			return err
		}
	}
	return login(cmd, st, c, cache, user, password, ttl)
}

// login asks the server for a token, caches it and says so.
func login(cmd *cobra.Command, st settings, c *client.Client, cache client.Cache, user, password string, ttl int) error {
	scope, _ := cmd.Flags().GetString("scope")
	tok, err := c.LoginWith(cmd.Context(), user, password, client.LoginOptions{TTL: ttl, Scope: scope})
	if err != nil {
		return loginFailed(cmd, user, err)
	}
	return keepToken(cmd, st, c, cache, tok, user)
}

// keepToken caches a login's token (looked up by user when one was given;
// a Kerberos or single sign-on login takes the server's name for it),
// remembers the server and says who is logged in.
func keepToken(cmd *cobra.Command, st settings, c *client.Client, cache client.Cache, tok client.Token, user string) error {
	cached := client.NewCachedToken(tok, c.URL())
	if user != "" {
		cached.User = user
	}
	if err := cache.Save(cached); err != nil {
		return err
	}
	if err := rememberServer(st, cmd.ErrOrStderr()); err != nil {
		return err
	}
	return loggedIn(cmd, cache, cached, false)
}

// loginUser is the USER argument, else the [credentials] username of a
// settings file.
func loginUser(cmd *cobra.Command, st settings, args []string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	if st.user != "" {
		return st.user, nil
	}
	return "", usageError(cmd, "missing user name")
}

// freshTokenWanted reports whether --force or --ttl ask for a new token,
// and the ttl.
func freshTokenWanted(cmd *cobra.Command) (bool, int, error) {
	force, _ := cmd.Flags().GetBool("force")
	ttl, _ := cmd.Flags().GetInt("ttl")
	changed := cmd.Flags().Changed("ttl")
	if ttl < 0 || (changed && ttl == 0) {
		return false, 0, errors.New("--ttl must be a positive number of seconds")
	}
	scoped := cmd.Flags().Changed("scope")
	return force || changed || scoped, ttl, nil
}

// givenPassword is the password given without asking: --password, else
// the settings' [credentials] password when they name this user, else one
// line of stdin when it is not a terminal. It is "" when none was given
// (stdin a terminal, or empty); an empty line is an error.
func givenPassword(cmd *cobra.Command, st settings, user string) (string, error) {
	if cmd.Flags().Changed("password") {
		p, _ := cmd.Flags().GetString("password")
		return p, nonEmpty(p)
	}
	if st.password != "" && st.user == user {
		return st.password, nil
	}
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return "", nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if errors.Is(err, io.EOF) && line == "" {
		return "", nil // nothing at all on stdin: no password
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	return password, nonEmpty(password)
}

// askPassword prompts for the password on a terminal.
func askPassword(cmd *cobra.Command) (string, error) {
	if f, ok := cmd.InOrStdin().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p, err := promptPasswordContext(cmd.Context(), f, cmd.ErrOrStderr(), "Password: ")
		if err != nil {
			return "", err
		}
		return p, nonEmpty(p)
	}
	return "", errors.New("no password: pass --password, give it as one line on stdin, or run on a terminal")
}

// reusableToken is user's cached token when it was issued by this server,
// is good for more than reuseMargin, and the server still accepts it (it
// may have been revoked). Only a failure to ask the server is an error.
func reusableToken(ctx context.Context, c *client.Client, cache client.Cache, user string) (client.CachedToken, bool, error) {
	t, err := cache.Load(c.URL(), user)
	if err != nil || !t.ValidFor(time.Now(), reuseMargin) {
		return t, false, nil // none, damaged or expiring: log in again
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
	if err := cache.SetCurrentUser(t.URL, t.User); err != nil {
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
		Short: "Revoke the cached token of USER (default: the server's current user) and forget it",
		Args:  optionalArg("USER"),
		RunE:  runLogout,
	}
	addServerFlags(cmd.Flags())
	return cmd
}

func runLogout(cmd *cobra.Command, args []string) error {
	_, c, cache, err := openClientAndCache(cmd)
	if err != nil {
		return err
	}
	server := c.URL()
	var user string
	if len(args) == 1 {
		user = args[0]
	} else if user, err = cache.CurrentUser(server); errors.Is(err, client.ErrNotCached) {
		return fmt.Errorf("not logged in to %s", server)
	} else if err != nil {
		return err
	}
	t, err := cache.Load(server, user)
	switch {
	case errors.Is(err, client.ErrNotCached):
		_ = cache.ClearCurrentUser(server, user)
		return fmt.Errorf("not logged in as %s to %s", user, server)
	case err != nil:
		// A damaged cache holds no usable token: forget it.
	case t.ValidFor(time.Now(), 0):
		c.Token = t.Token
		if err := c.Logout(cmd.Context()); err != nil && client.StatusOf(err) != http.StatusUnauthorized {
			return explainTransport(err) // keep the cache: the token still works
		}
	}
	if err := cache.Remove(server, user); err != nil {
		return err
	}
	if err := cache.ClearCurrentUser(server, user); err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "Logged out %s.\n", user)
	return err
}
