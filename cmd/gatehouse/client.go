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

// The environment the client commands read; flags win over it.
const (
	envURL    = "GATEHOUSE_URL"
	envCACert = "GATEHOUSE_CACERT"
	envToken  = "GATEHOUSE_TOKEN"
	envAPIKey = "GATEHOUSE_API_KEY"
)

// addServerFlags adds the flags that say where the server is.
func addServerFlags(fs *pflag.FlagSet) {
	fs.String("url", "", "server URL (env "+envURL+"; default "+client.DefaultURL+")")
	fs.String("cacert", "", "PEM file of CA certificates to trust for an https URL (env "+envCACert+")")
}

// addCredentialFlags adds the flags that choose the credential of a
// command that needs one.
func addCredentialFlags(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.String("token", "", "authenticate with this token (env "+envToken+")")
	fs.String("api-key", "", "authenticate with this API key (env "+envAPIKey+")")
	fs.String("as", "", "authenticate with the cached token of this user (default: the user of the last login)")
	cmd.MarkFlagsMutuallyExclusive("token", "api-key", "as")
}

// flagOrEnv is the flag's value when set, else the environment's.
func flagOrEnv(cmd *cobra.Command, flag, env string) string {
	if v, _ := cmd.Flags().GetString(flag); v != "" {
		return v
	}
	return os.Getenv(env)
}

// newClient is a client of the server named by --url, GATEHOUSE_URL or the
// default, with no credential yet.
func newClient(cmd *cobra.Command) (*client.Client, error) {
	url := flagOrEnv(cmd, "url", envURL)
	if url == "" {
		url = client.DefaultURL
	}
	return client.New(url, client.Options{
		CACertFile: flagOrEnv(cmd, "cacert", envCACert),
		UserAgent:  "gatehouse-cli/" + version,
	})
}

// session is a client with the credential a command runs with.
type session struct {
	*client.Client
	cmd *cobra.Command
	// user is set when the credential is user's cached token.
	user   string
	expiry time.Time
}

// openSession picks the credential, first found: --token, --api-key, the
// cached token of --as, GATEHOUSE_TOKEN, GATEHOUSE_API_KEY, the cached
// token of the current user (the last one who logged in). Flags win over
// the environment, which wins over the cache.
func openSession(cmd *cobra.Command) (*session, error) {
	c, err := newClient(cmd)
	if err != nil {
		return nil, err
	}
	s := &session{Client: c, cmd: cmd}
	flag := func(name string) string { v, _ := cmd.Flags().GetString(name); return v }
	switch {
	case flag("token") != "":
		c.Token = flag("token")
	case flag("api-key") != "":
		c.APIKey = flag("api-key")
	case flag("as") != "":
		return s, s.useCache(flag("as"))
	case os.Getenv(envToken) != "":
		c.Token = os.Getenv(envToken)
	case os.Getenv(envAPIKey) != "":
		c.APIKey = os.Getenv(envAPIKey)
	default:
		cache, err := client.DefaultCache()
		if err != nil {
			return nil, err
		}
		user, err := cache.CurrentUser()
		if errors.Is(err, client.ErrNotCached) {
			return nil, errors.New("not logged in; run: gatehouse login USER (or set " + envToken + " or " + envAPIKey + ")")
		}
		if err != nil {
			return nil, err
		}
		return s, s.useCache(user)
	}
	return s, nil
}

// useCache makes user's cached token the credential, if it is there, for
// this server, and not expired.
func (s *session) useCache(user string) error {
	cache, err := client.DefaultCache()
	if err != nil {
		return err
	}
	t, err := cache.Load(user)
	switch {
	case errors.Is(err, client.ErrNotCached):
		return fmt.Errorf("not logged in as %s; run: %s", user, s.loginHint(user))
	case err != nil:
		return fmt.Errorf("%w; run: %s", err, s.loginHint(user))
	case t.URL != s.URL():
		return fmt.Errorf("your token for %s was issued by %s, not %s; pass --url %s (or set %s), or run: %s",
			user, t.URL, s.URL(), t.URL, envURL, s.loginHint(user))
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
	line := "gatehouse login " + shellQuote(user)
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
