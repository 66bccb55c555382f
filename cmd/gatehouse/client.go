package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse-auth/gatehouse/pkg/client"
)

// addServerFlags adds the flags that say where the server is.
func addServerFlags(fs *pflag.FlagSet) {
	fs.String("url", "", "server URL (env "+envURL+" or "+envST2Auth+"; default: the settings file, else "+client.DefaultURL+")")
	fs.String("cacert", "", "PEM file of CA certificates to trust for an https URL (env "+envCACert+")")
}

// addCredentialFlags adds the flags that choose the credential of a
// command that needs one.
func addCredentialFlags(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.String("token", "", "authenticate with this token (env "+envToken+" or "+envST2Token+")")
	fs.String("api-key", "", "authenticate with this API key (env "+envAPIKey+" or "+envST2APIKey+")")
	fs.String("as", "", "authenticate with the cached token of this user (default: the user of the last login to the server)")
	cmd.MarkFlagsMutuallyExclusive("token", "api-key", "as")
}

// session is a client with the credential a command runs with.
type session struct {
	*client.Client
	cmd      *cobra.Command
	settings settings
	// user is set when the credential is user's cached token.
	user   string
	expiry time.Time
}

// credentialEnv are the variables that carry a credential, in order.
var credentialEnv = []struct {
	name   string
	apiKey bool
}{{envToken, false}, {envAPIKey, true}, {envST2Token, false}, {envST2APIKey, true}}

// openSession picks the credential, first found: --token, --api-key, the
// cached token of --as, GATEHOUSE_TOKEN, GATEHOUSE_API_KEY, ST2_AUTH_TOKEN,
// ST2_API_KEY, the cached token of the server's current user (the last one
// who logged in there), else of the [credentials] user of a settings file,
// logging in with its password when there is no good cached token.
func openSession(cmd *cobra.Command) (*session, error) {
	st, err := loadSettings(cmd)
	if err != nil {
		return nil, err
	}
	c, err := st.newClient()
	if err != nil {
		return nil, err
	}
	s := &session{Client: c, cmd: cmd, settings: st}
	flag := func(name string) string { v, _ := cmd.Flags().GetString(name); return v }
	switch {
	case flag("token") != "":
		c.Token = flag("token")
		return s, nil
	case flag("api-key") != "":
		c.APIKey = flag("api-key")
		return s, nil
	case flag("as") != "":
		return s, s.useCache(flag("as"))
	}
	for _, e := range credentialEnv {
		v := os.Getenv(e.name)
		if v == "" {
			continue
		}
		if e.apiKey {
			c.APIKey = v
		} else {
			c.Token = v
		}
		return s, nil
	}
	return s, s.useDefaultUser()
}

// useDefaultUser uses the cached token of the server's current user, else
// that of the settings' [credentials] user, logging in with its password
// when it has none that is good.
func (s *session) useDefaultUser() error {
	cache, err := openCache()
	if err != nil {
		return err
	}
	user, err := cache.CurrentUser(s.URL())
	switch {
	case errors.Is(err, client.ErrNotCached) && s.settings.user != "":
		user = s.settings.user
	case errors.Is(err, client.ErrNotCached):
		return errors.New("not logged in; run: gatehouse login USER (or set " + envToken + " or " + envAPIKey + ")")
	case err != nil:
		return err
	}
	err = s.useCache(user)
	if err != nil && user == s.settings.user && s.settings.password != "" {
		return s.loginWithSettings(cache)
	}
	return err
}

// loginWithSettings gets and caches a token with the user name and
// password of a settings file's [credentials], as st2's CLI does.
func (s *session) loginWithSettings(cache client.Cache) error {
	tok, err := s.Login(s.cmd.Context(), s.settings.user, s.settings.password, 0)
	if err != nil {
		return loginFailed(s.cmd, s.settings.user, err)
	}
	t := client.NewCachedToken(tok, s.URL())
	t.User = s.settings.user
	if err := cache.Save(t); err != nil {
		return err
	}
	if err := cache.SetCurrentUser(s.URL(), t.User); err != nil {
		return err
	}
	s.Token, s.user, s.expiry = t.Token, t.User, t.ExpiresAt()
	return nil
}

// useCache makes user's cached token from this server the credential, if
// it is there and not expired.
func (s *session) useCache(user string) error {
	cache, err := openCache()
	if err != nil {
		return err
	}
	t, err := cache.Load(s.URL(), user)
	switch {
	case errors.Is(err, client.ErrNotCached):
		return fmt.Errorf("not logged in as %s to %s; run: %s", user, s.URL(), s.loginHint(user))
	case err != nil:
		return fmt.Errorf("%w; run: %s", err, s.loginHint(user))
	case !t.ValidFor(time.Now(), 0):
		return fmt.Errorf("your token for %s expired at %s; run: %s", user, formatTime(t.ExpiresAt()), s.loginHint(user))
	}
	s.Token, s.user, s.expiry = t.Token, user, t.ExpiresAt()
	return nil
}

// loginHint is the command that gets user a fresh token from this server.
func (s *session) loginHint(user string) string {
	return loginCommandLine(s.cmd, user)
}

// loginCommandLine is "gatehouse login USER", with --url when the URL came
// from the flag (GATEHOUSE_URL would be set for the login too).
func loginCommandLine(cmd *cobra.Command, user string) string {
	return userCommandLine(cmd, "login", user)
}

// passwdCommandLine is "gatehouse passwd USER", with --url likewise.
func passwdCommandLine(cmd *cobra.Command, user string) string {
	return userCommandLine(cmd, "passwd", user)
}

// userCommandLine is "gatehouse SUB USER", with --url when the URL came
// from the flag.
func userCommandLine(cmd *cobra.Command, sub, user string) string {
	line := "gatehouse " + sub + " " + shellQuote(user)
	if u, _ := cmd.Flags().GetString("url"); u != "" {
		line += " --url " + shellQuote(u)
	}
	return line
}

// explain makes a server or transport error a one-line message that says
// what to do when there is something to do.
func (s *session) explain(err error) error {
	if err == nil {
		return nil
	}
	if s.user == "" || client.StatusOf(err) != http.StatusUnauthorized {
		return explainTransport(err)
	}
	if err.Error() == "Unauthorized - Token has expired." {
		return fmt.Errorf("your token for %s expired at %s; run: %s", s.user, formatTime(s.expiry), s.loginHint(s.user))
	}
	return fmt.Errorf("the server refused your token for %s (%w); run: %s", s.user, err, s.loginHint(s.user))
}

// explained is an error shown with a message of its own, keeping the
// error it explains for errors.Is and errors.As.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// passwordChangeRequired is the server's faultstring for a right
// password of a user who must change it (auth.ErrPasswordChangeRequired).
const passwordChangeRequired = "Password change required."

// loginFailed says why the server refused user's login: a lockout with
// the wait the server asked for, a password to change first with the
// command that does it, or the server's faultstring.
func loginFailed(cmd *cobra.Command, user string, err error) error {
	if client.StatusOf(err) == http.StatusForbidden && err.Error() == passwordChangeRequired {
		return &explained{msg: "login failed: password change required; run: " + passwdCommandLine(cmd, user), err: err}
	}
	if client.StatusOf(err) == http.StatusTooManyRequests {
		wait := "later"
		if d := client.RetryAfterOf(err); d > 0 {
			wait = "in " + d.String()
		}
		return &explained{msg: "login failed: too many failed attempts; try again " + wait, err: err}
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return fmt.Errorf("login failed: %w", err)
	}
	return explainTransport(err)
}

// explainTransport adds what to do to a TLS error it can help with.
func explainTransport(err error) error {
	var tlsErr *client.TLSError
	if errors.As(err, &tlsErr) && tlsErr.UnknownAuthority {
		return fmt.Errorf("%w; trust its CA with --cacert FILE (or %s)", err, envCACert)
	}
	return err
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9._@%+=:,/-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// formatTime shows a time to a person: local, to the second.
func formatTime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// printJSON writes a server's JSON answer indented.
func printJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// printFields writes name/value rows aligned in two columns.
func printFields(w io.Writer, rows [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

// compactJSON shows a value such as metadata on one line.
func compactJSON(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
