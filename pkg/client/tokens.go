package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Token is an issued token, st2's TokenAPI.
type Token struct {
	ID       string         `json:"id"`
	User     string         `json:"user"`
	Token    string         `json:"token"`
	Expiry   string         `json:"expiry"` // as the server wrote it
	Metadata map[string]any `json:"metadata"`
	Service  bool           `json:"service"`
	// Scope is the token's scope ("write", "read", "path:/…"); empty from
	// a server that predates scopes.
	Scope string `json:"scope,omitempty"`
}

// ExpiresAt parses Expiry.
func (t Token) ExpiresAt() (time.Time, error) {
	return time.Parse(time.RFC3339Nano, t.Expiry)
}

// Login asks for a token with HTTP Basic credentials (POST
// /auth/v1/tokens). ttl is in seconds; 0 asks for the server's default.
func (c *Client) Login(ctx context.Context, user, password string, ttl int) (Token, error) {
	return c.LoginWith(ctx, user, password, LoginOptions{TTL: ttl})
}

// LoginOptions are what a login may ask for besides the user.
type LoginOptions struct {
	// TTL is the lifetime in seconds; 0 asks for the server's default.
	TTL int
	// Scope limits the token ("read", "path:/hooks/a"); "" is write.
	Scope string
}

// LoginWith is Login with options.
func (c *Client) LoginWith(ctx context.Context, user, password string, o LoginOptions) (Token, error) {
	t, _, err := c.login(ctx, request{basic: true, basicUser: user, basicPass: password}, o)
	return t, err
}

// LoginAuthorization is Login with an Authorization header of the
// caller's making instead of a password: `Negotiate <base64 SPNEGO
// token>` for a Kerberos login (gatehouse login --kerberos). It also
// returns the answer's headers, which carry the server's
// mutual-authentication reply (WWW-Authenticate) for the caller to check.
func (c *Client) LoginAuthorization(ctx context.Context, authorization string, ttl int) (Token, http.Header, error) {
	return c.login(ctx, request{authorization: authorization}, LoginOptions{TTL: ttl})
}

func (c *Client) login(ctx context.Context, r request, o LoginOptions) (Token, http.Header, error) {
	if o.TTL > 0 || o.Scope != "" {
		m := map[string]any{}
		if o.TTL > 0 {
			m["ttl"] = o.TTL
		}
		if o.Scope != "" {
			m["scope"] = o.Scope
		}
		r.body = m
	}
	r.method, r.path, r.want = http.MethodPost, "/auth/v1/tokens", http.StatusCreated
	var t Token
	resp, err := c.doJSON(ctx, r, &t)
	if err != nil {
		return Token{}, nil, err
	}
	if t.Token == "" {
		return Token{}, nil, fmt.Errorf("unexpected answer from %s: no token in the 201 answer", c.URL())
	}
	if _, err := t.ExpiresAt(); err != nil {
		return Token{}, nil, fmt.Errorf("unexpected answer from %s: expiry %q is not a time", c.URL(), t.Expiry)
	}
	return t, resp.Header, nil
}

// Logout revokes the client's token (DELETE /auth/v1/tokens/current).
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/auth/v1/tokens/current", want: http.StatusNoContent})
	return err
}

// Me is the authenticated caller (GET /auth/v1/me).
type Me struct {
	Username       string   `json:"username"`
	Groups         []string `json:"groups"`
	Authentication struct {
		Method      string `json:"method"`
		Location    string `json:"location"`
		TokenExpire string `json:"token_expire,omitempty"`
	} `json:"authentication"`
	Raw json.RawMessage `json:"-"`
}

// Me asks the server who the client's credential belongs to.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var m Me
	resp, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/auth/v1/me", want: http.StatusOK}, &m)
	m.Raw = resp.Body
	return m, err
}

// Introspection is an RFC 7662 answer: Active, and for an active token or
// key who it belongs to. Raw is the object as the server sent it.
type Introspection struct {
	Active    bool            `json:"active"`
	Username  string          `json:"username"`
	TokenType string          `json:"token_type"`
	Exp       int64           `json:"exp"`
	Iat       int64           `json:"iat"`
	Groups    []string        `json:"groups"`
	Raw       json.RawMessage `json:"-"`
}

// Introspect asks whether tok (a token or an API key) is active (POST
// /auth/v1/introspect); the client's credential must be a service
// account's or an admin's.
func (c *Client) Introspect(ctx context.Context, tok string) (Introspection, error) {
	var in Introspection
	resp, err := c.doJSON(ctx, request{method: http.MethodPost, path: "/auth/v1/introspect",
		form: url.Values{"token": {tok}}, want: http.StatusOK}, &in)
	in.Raw = resp.Body
	return in, err
}

// Revoke revokes tok, a token or an API key (POST /auth/v1/revoke, RFC
// 7009). The server answers the same whether or not there was anything the
// caller may revoke: its own tokens and keys, anyone's for an admin or a
// service account.
func (c *Client) Revoke(ctx context.Context, tok string) error {
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/auth/v1/revoke",
		form: url.Values{"token": {tok}}, want: http.StatusOK})
	return err
}

// TokenInfo is a token as GET /auth/v1/tokens lists it: never the token.
type TokenInfo struct {
	ID        string         `json:"id"`
	User      string         `json:"user"`
	Scope     string         `json:"scope"`
	CreatedAt string         `json:"created_at"`
	Expiry    string         `json:"expiry"`
	Service   bool           `json:"service"`
	Metadata  map[string]any `json:"metadata"`
}

// ListTokens lists the live tokens of the caller, or of user for an admin
// (GET /auth/v1/tokens).
func (c *Client) ListTokens(ctx context.Context, user string) ([]TokenInfo, json.RawMessage, error) {
	path := "/auth/v1/tokens"
	if user != "" {
		path += "?user=" + url.QueryEscape(user)
	}
	var out []TokenInfo
	resp, err := c.doJSON(ctx, request{method: http.MethodGet, path: path, want: http.StatusOK}, &out)
	return out, resp.Body, err
}

// RevokeTokenID revokes the token with that id (DELETE
// /auth/v1/tokens/{id}): the caller's own, or anyone's for an admin.
func (c *Client) RevokeTokenID(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/auth/v1/tokens/" + url.PathEscape(id),
		want: http.StatusNoContent})
	return err
}

// Renewed is the answer of a renewal.
type Renewed struct {
	ID     string `json:"id"`
	User   string `json:"user"`
	Expiry string `json:"expiry"`
	Scope  string `json:"scope"`
}

// Renew extends the client's token (POST /auth/v1/tokens/renew); ttl 0
// asks for the server's default.
func (c *Client) Renew(ctx context.Context, ttl int) (Renewed, error) {
	var body any = map[string]any{}
	if ttl > 0 {
		body = map[string]int{"ttl": ttl}
	}
	var out Renewed
	_, err := c.doJSON(ctx, request{method: http.MethodPost, path: "/auth/v1/tokens/renew", body: body,
		want: http.StatusOK}, &out)
	return out, err
}
