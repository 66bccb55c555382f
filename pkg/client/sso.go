package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// SSOStart begins a terminal single sign-on login (GET
// /auth/v1/oidc/login?redirect_uri=…) and returns the provider's URL to
// open in a browser. redirectURI is the terminal's loopback listener,
// http://127.0.0.1:<port>/callback.
func (c *Client) SSOStart(ctx context.Context, redirectURI string) (string, error) {
	var out struct {
		URL string `json:"authorization_url"`
	}
	_, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/auth/v1/oidc/login",
		query: url.Values{"redirect_uri": {redirectURI}}, want: http.StatusOK}, &out)
	if err != nil {
		return "", err
	}
	if out.URL == "" {
		return "", fmt.Errorf("unexpected answer from %s: no authorization_url", c.URL())
	}
	return out.URL, nil
}

// SSOFinish brings the code and state the provider sent to the loopback
// listener to the server (POST /auth/v1/oidc/token), which exchanges them
// (it alone holds the client secret) and answers with a token, as Login.
func (c *Client) SSOFinish(ctx context.Context, code, state string) (Token, error) {
	var t Token
	_, err := c.doJSON(ctx, request{method: http.MethodPost, path: "/auth/v1/oidc/token",
		body: map[string]string{"code": code, "state": state}, want: http.StatusCreated}, &t)
	if err != nil {
		return Token{}, err
	}
	if t.Token == "" || t.User == "" {
		return Token{}, fmt.Errorf("unexpected answer from %s: no token or user in the 201 answer", c.URL())
	}
	if _, err := t.ExpiresAt(); err != nil {
		return Token{}, fmt.Errorf("unexpected answer from %s: expiry %q is not a time", c.URL(), t.Expiry)
	}
	return t, nil
}

// DeviceLogin is a started device login (RFC 8628): what to show the
// user, and the handle to poll with.
type DeviceLogin struct {
	Handle                  string `json:"handle"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// SSODeviceStart begins a terminal device login (POST
// /auth/v1/oidc/device). A 404 *APIError means the provider (or the
// server) offers none: use the loopback redirect (SSOStart).
func (c *Client) SSODeviceStart(ctx context.Context) (DeviceLogin, error) {
	var d DeviceLogin
	_, err := c.doJSON(ctx, request{method: http.MethodPost, path: "/auth/v1/oidc/device", want: http.StatusOK}, &d)
	if err != nil {
		return DeviceLogin{}, err
	}
	if d.Handle == "" || d.UserCode == "" || d.VerificationURI == "" {
		return DeviceLogin{}, fmt.Errorf("unexpected answer from %s: no handle, user_code or verification_uri", c.URL())
	}
	return d, nil
}

// SSODevicePoll polls a device login once (POST
// /auth/v1/oidc/device/token). While the user has not signed in yet it
// returns pending and the seconds to wait before the next poll; then the
// token, as Login.
func (c *Client) SSODevicePoll(ctx context.Context, handle string) (tok Token, pending bool, interval int, err error) {
	var out struct {
		Token
		Pending  bool `json:"pending"`
		Interval int  `json:"interval"`
	}
	resp, err := c.doJSON(ctx, request{method: http.MethodPost, path: "/auth/v1/oidc/device/token",
		body: map[string]string{"handle": handle}, want: http.StatusCreated, alsoWant: http.StatusAccepted}, &out)
	if err != nil {
		return Token{}, false, 0, err
	}
	if resp.Status == http.StatusAccepted {
		return Token{}, true, out.Interval, nil
	}
	t := out.Token
	if t.Token == "" || t.User == "" {
		return Token{}, false, 0, fmt.Errorf("unexpected answer from %s: no token or user in the 201 answer", c.URL())
	}
	if _, err := t.ExpiresAt(); err != nil {
		return Token{}, false, 0, fmt.Errorf("unexpected answer from %s: expiry %q is not a time", c.URL(), t.Expiry)
	}
	return t, false, 0, nil
}
