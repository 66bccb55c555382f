package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/pkg/client"
)

// ssoWait bounds how long `gatehouse login --sso` waits for the browser.
const ssoWait = 5 * time.Minute

// callbackResult is what the loopback listener received.
type callbackResult struct {
	code, state string
	err         error
}

// runSSOLogin is `gatehouse login --sso`: a device login (RFC 8628,
// runDeviceLogin) when the server's provider offers it, else a loopback
// redirect login (RFC 8252). The loopback way listens on http://127.0.0.1:<free port>/callback, asks the
// server for the provider's URL for that redirect, opens it in a browser
// (or prints it), waits for the provider to send the browser back with a
// code, and has the server exchange the code for an ordinary token, which
// is cached like a password login's. The client secret stays on the
// server.
func runSSOLogin(cmd *cobra.Command, st settings) error {
	method, _ := cmd.Flags().GetString("sso-method")
	if method != "auto" && method != "device" && method != "loopback" {
		return usageError(cmd, "--sso-method is device, loopback or auto, not "+strconv.Quote(method))
	}
	c, cache, err := st.clientAndCache()
	if err != nil {
		return err
	}
	if method != "loopback" {
		d, err := c.SSODeviceStart(cmd.Context())
		switch {
		case err == nil:
			return runDeviceLogin(cmd, st, c, cache, d)
		case method == "auto" && client.StatusOf(err) == http.StatusNotFound:
			// No device authorization at the provider (or an older
			// server): the loopback redirect below.
		default:
			return loginFailed(cmd, "", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for the provider's redirect on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	redirect := fmt.Sprintf("http://%s/callback", ln.Addr())
	authURL, err := c.SSOStart(cmd.Context(), redirect)
	if err != nil {
		return explainTransport(err)
	}
	u, err := url.Parse(authURL)
	if err != nil || u.Query().Get("state") == "" {
		return fmt.Errorf("the server's authorization URL carries no state: %s", authURL)
	}
	got := make(chan callbackResult, 1)
	srv := &http.Server{Handler: callbackHandler(got, u.Query().Get("state")), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	noBrowser, _ := cmd.Flags().GetBool("no-browser")
	showAuthURL(cmd, authURL, !noBrowser && openBrowser(authURL))
	res, err := waitCallback(cmd.Context(), got)
	if err != nil {
		return err
	}
	tok, err := c.SSOFinish(cmd.Context(), res.code, res.state)
	if err != nil {
		return loginFailed(cmd, "", err)
	}
	return keepToken(cmd, st, c, cache, tok, "")
}

// showAuthURL tells the user where to sign in, on stderr.
func showAuthURL(cmd *cobra.Command, u string, opened bool) {
	w := cmd.ErrOrStderr()
	if opened {
		fmt.Fprintf(w, "Opened your browser to sign in. If it did not open, visit:\n\n  %s\n\n", u)
		return
	}
	fmt.Fprintf(w, "Open this URL in a browser on this machine to sign in:\n\n  %s\n\n", u)
}

// waitCallback waits for the provider's redirect, at most ssoWait.
func waitCallback(ctx context.Context, got <-chan callbackResult) (callbackResult, error) {
	t := time.NewTimer(ssoWait)
	defer t.Stop()
	select {
	case r := <-got:
		return r, r.err
	case <-t.C:
		return callbackResult{}, fmt.Errorf("no sign-in within %s; run gatehouse login --sso again", ssoWait)
	case <-ctx.Done():
		return callbackResult{}, errors.New("interrupted")
	}
}

// callbackHandler answers the provider's redirect to /callback and hands
// its code and state (or its error) over. Only a request with this
// login's state counts (compared in constant time): anything on this
// machine can reach the loopback port, and must neither slip in a code
// of its own login nor end this one with a bare /callback. Such a
// request is answered 400 and the login keeps waiting. A request with the
// right state and an error is the provider's answer (RFC 6749 4.1.2.1
// repeats the state): it ends the login.
func callbackHandler(got chan<- callbackResult, state string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		q := r.URL.Query()
		res := callbackResult{code: q.Get("code"), state: q.Get("state")}
		e := q.Get("error")
		if subtle.ConstantTimeCompare([]byte(res.state), []byte(state)) != 1 || (res.code == "" && e == "") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "<!doctype html><title>Gatehouse</title><p>This is not the answer to the sign-in the terminal is waiting for.</p>\n")
			return
		}
		msg := "You are signed in. You can close this window and go back to the terminal."
		if e != "" || res.code == "" {
			res.err = fmt.Errorf("the identity provider did not sign you in: %s %s", e, q.Get("error_description"))
			msg = "Sign-in failed: " + e + ". Go back to the terminal."
		}
		fmt.Fprintf(w, "<!doctype html><title>Gatehouse</title><p>%s</p>\n", html.EscapeString(msg))
		select {
		case got <- res:
		default: // answered already (the provider's redirect, reloaded)
		}
	})
}

// openBrowser tries to open u in the user's browser, and reports whether
// a browser opener was started. On a machine without a display it is not
// tried (the URL is printed instead).
func openBrowser(u string) bool {
	var name string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name = "rundll32"
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return false
		}
		name = "xdg-open"
	}
	args := []string{u}
	if name == "rundll32" {
		args = []string{"url.dll,FileProtocolHandler", u}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return false
	}
	cmd := exec.Command(p, args...)
	if cmd.Start() != nil {
		return false
	}
	go func() { _ = cmd.Wait() }()
	return true
}

// runDeviceLogin shows the user where to sign in and the code to enter
// (opening the page here unless --no-browser), then polls the server at
// the interval it asks for until the user has signed in, refused, or the
// code expired. The server, which holds the client secret, asks the
// provider; this command only ever holds an opaque handle.
func runDeviceLogin(cmd *cobra.Command, st settings, c *client.Client, cache client.Cache, d client.DeviceLogin) error {
	w := cmd.ErrOrStderr()
	open := d.VerificationURIComplete
	if open == "" {
		open = d.VerificationURI
	}
	noBrowser, _ := cmd.Flags().GetBool("no-browser")
	fmt.Fprintf(w, "To sign in, open %s and enter the code %s\n", d.VerificationURI, d.UserCode)
	if !noBrowser && openBrowser(open) {
		fmt.Fprintf(w, "(opened your browser at %s)\n", open)
	} else if d.VerificationURIComplete != "" {
		fmt.Fprintf(w, "or open, with the code filled in:\n\n  %s\n\n", d.VerificationURIComplete)
	}
	fmt.Fprintln(w, "Waiting for you to sign in…")
	interval := time.Duration(max(d.Interval, 1)) * time.Second
	deadline := time.NewTimer(time.Duration(max(d.ExpiresIn, 1))*time.Second + interval)
	defer deadline.Stop()
	for {
		t := time.NewTimer(interval)
		select {
		case <-t.C:
		case <-deadline.C:
			t.Stop()
			return errors.New("the code expired before you signed in; run gatehouse login --sso again")
		case <-cmd.Context().Done():
			t.Stop()
			return errors.New("interrupted")
		}
		tok, pending, next, err := c.SSODevicePoll(cmd.Context(), d.Handle)
		if err != nil {
			return loginFailed(cmd, "", err)
		}
		if !pending {
			return keepToken(cmd, st, c, cache, tok, "")
		}
		if next > 0 {
			interval = time.Duration(next) * time.Second
		}
	}
}
