package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// User is a local user as GET /auth/v1/users/{name} shows it.
type User struct {
	Name               string         `json:"name"`
	Active             bool           `json:"active"`
	MustChangePassword bool           `json:"must_change_password"`
	Groups             []string       `json:"groups"`
	Extra              map[string]any `json:"extra"`
	CreatedAt          string         `json:"created_at"`
	UpdatedAt          string         `json:"updated_at"`
	PasswordChangedAt  string         `json:"password_changed_at"`
}

// NewUser is POST /auth/v1/users' body: Password, or PasswordHash (a
// bcrypt hash, admins only, for htpasswd imports).
type NewUser struct {
	Name               string   `json:"name"`
	Password           string   `json:"password,omitempty"`
	PasswordHash       string   `json:"password_hash,omitempty"`
	MustChangePassword bool     `json:"must_change_password,omitempty"`
	Groups             []string `json:"groups,omitempty"`
}

// UserChange is PUT /auth/v1/users/{name}'s body; nil fields stay.
type UserChange struct {
	Password           *string `json:"password,omitempty"`
	Active             *bool   `json:"active,omitempty"`
	MustChangePassword *bool   `json:"must_change_password,omitempty"`
}

func userPath(name string) string { return "/auth/v1/users/" + url.PathEscape(name) }

// CreateUser is POST /auth/v1/users (admins).
func (c *Client) CreateUser(ctx context.Context, u NewUser) (User, error) {
	var out User
	_, err := c.doJSON(ctx, request{method: http.MethodPost, path: "/auth/v1/users", body: u, want: http.StatusCreated}, &out)
	return out, err
}

// ListUsers is GET /auth/v1/users (admins): one page of at most 100.
func (c *Client) ListUsers(ctx context.Context, limit, offset int) ([]User, error) {
	var out []User
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	_, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/auth/v1/users", query: q, want: http.StatusOK}, &out)
	return out, err
}

// GetUser is GET /auth/v1/users/{name}.
func (c *Client) GetUser(ctx context.Context, name string) (User, error) {
	var out User
	_, err := c.doJSON(ctx, request{method: http.MethodGet, path: userPath(name), want: http.StatusOK}, &out)
	return out, err
}

// UpdateUser is PUT /auth/v1/users/{name} (admins).
func (c *Client) UpdateUser(ctx context.Context, name string, ch UserChange) (User, error) {
	var out User
	_, err := c.doJSON(ctx, request{method: http.MethodPut, path: userPath(name), body: ch, want: http.StatusOK}, &out)
	return out, err
}

// DeleteUser is DELETE /auth/v1/users/{name} (admins).
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: userPath(name), want: http.StatusNoContent})
	return err
}

// UnlockUser is DELETE /auth/v1/throttle/users/{name} (admins).
func (c *Client) UnlockUser(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/auth/v1/throttle/users/" + url.PathEscape(name), want: http.StatusNoContent})
	return err
}

// ChangePassword is POST /auth/v1/password: with user and password set,
// as that user (HTTP Basic, the current password); else with the client's
// token.
func (c *Client) ChangePassword(ctx context.Context, user, password, newPassword string) error {
	r := request{method: http.MethodPost, path: "/auth/v1/password", want: http.StatusNoContent,
		body: map[string]string{"new_password": newPassword}}
	if user != "" {
		r.basic, r.basicUser, r.basicPass = true, user, password
	}
	_, err := c.do(ctx, r)
	return err
}
