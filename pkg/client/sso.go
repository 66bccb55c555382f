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
