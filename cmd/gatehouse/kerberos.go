package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/kerberos"
)

// runKerberosLogin is `gatehouse login --kerberos`: a token for the
// principal of the user's credential cache (KRB5CCNAME, as kinit left
// it), sent as an HTTP Negotiate ticket for HTTP/<server host>; no
// password.
func runKerberosLogin(cmd *cobra.Command, st settings, ttl int) error {
	c, cache, err := st.clientAndCache()
	if err != nil {
		return err
	}
	spn, _ := cmd.Flags().GetString("spn")
	if spn == "" {
		if spn, err = defaultSPN(c.URL()); err != nil {
			return err
		}
	}
	header, key, err := negotiateHeader(spn)
	if err != nil {
		return err
	}
	tok, answer, err := c.LoginAuthorization(cmd.Context(), header, ttl)
	if err != nil {
		return loginFailed(cmd, "(Kerberos)", err)
	}
	// The token came from whoever answered: make sure it holds the
	// service's key before trusting it (TLS does that too, when used).
	if err := kerberos.CheckReply(key, header, answer.Get("WWW-Authenticate")); err != nil {
		return fmt.Errorf("the server at %s failed Kerberos mutual authentication as %s: %w", c.URL(), spn, err)
	}
	return keepToken(cmd, st, c, cache, tok, "")
}

// defaultSPN is HTTP/<host of the server URL>, the service principal
// browsers and curl --negotiate ask a ticket for.
func defaultSPN(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("cannot tell the service principal from the server URL %q; pass --spn HTTP/host", server)
	}
	return "HTTP/" + u.Hostname(), nil
}

// negotiateHeader gets a ticket for spn with the TGT in the credential
// cache and returns the `Negotiate <token>` header value and the ticket's
// session key, for checking the server's reply.
func negotiateHeader(spn string) (string, types.EncryptionKey, error) {
	ccPath := ccachePath()
	cc, err := credentials.LoadCCache(ccPath)
	if err != nil {
		return "", types.EncryptionKey{}, fmt.Errorf("no Kerberos credentials in %s (run kinit first): %w", ccPath, err)
	}
	confPath := os.Getenv("KRB5_CONFIG")
	if confPath == "" {
		confPath = "/etc/krb5.conf"
	}
	conf, err := config.Load(confPath)
	if err != nil {
		var unsupported config.UnsupportedDirective
		if !errors.As(err, &unsupported) {
			return "", types.EncryptionKey{}, fmt.Errorf("reading %s: %w", confPath, err)
		}
	}
	cl, err := client.NewFromCCache(cc, conf, client.DisablePAFXFAST(true))
	if err != nil {
		return "", types.EncryptionKey{}, fmt.Errorf("the credential cache %s: %w (run kinit again)", ccPath, err)
	}
	defer cl.Destroy()
	s := spnego.SPNEGOClient(cl, spn)
	tok, err := s.InitSecContext()
	if err != nil {
		return "", types.EncryptionKey{}, fmt.Errorf("getting a Kerberos ticket for %s: %w", spn, err)
	}
	raw, err := tok.Marshal()
	if err != nil {
		return "", types.EncryptionKey{}, err
	}
	_, key, err := cl.GetServiceTicket(spn) // from the client's cache: no second request
	if err != nil {
		return "", types.EncryptionKey{}, err
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(raw), key, nil
}

// ccachePath is the file credential cache KRB5CCNAME names, else MIT's
// default /tmp/krb5cc_<uid>. Only FILE caches can be read.
func ccachePath() string {
	name := os.Getenv("KRB5CCNAME")
	if name == "" {
		return fmt.Sprintf("/tmp/krb5cc_%d", os.Getuid())
	}
	return strings.TrimPrefix(name, "FILE:")
}
