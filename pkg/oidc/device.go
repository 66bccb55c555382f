package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

// Device authorization (RFC 8628), brokered: Gatehouse, which holds the
// client secret, asks the provider for a device code and polls its token
// endpoint; the terminal only ever holds an opaque handle. The device code
// is kept in the pending-logins store (any replica can answer a poll),
// keyed by the handle's hash and sealed under a key derived from the
// handle, so a reader of the database can neither find nor use it.
//
// golang.org/x/oauth2's DeviceAuth sends no client authentication (it is
// written for public clients) and its DeviceAccessToken polls in a loop
// inside one call; a confidential broker that polls once per request needs
// neither, so the two form posts are written here.

var _ auth.DeviceSSO = (*Provider)(nil)

// deviceGrant is the device flow's grant type; it also marks a pending
// login as a device login (store.PendingLogin.RedirectURI), so that the
// loopback and browser routes never finish one.
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

const deviceMarker = deviceGrant

// Bounds of what a provider may ask for.
const (
	defaultInterval = 5  // seconds, RFC 8628 §3.2
	maxInterval     = 60 // seconds: a provider asking for more is capped
	slowDownStep    = 5  // seconds added on slow_down, RFC 8628 §3.5
)

// deviceState is what a pending device login keeps, sealed.
type deviceState struct {
	DeviceCode string `json:"d"`
	// Interval is the wait between polls of the provider, in seconds.
	Interval int `json:"i"`
	// NextPoll is the earliest time (Unix microseconds) Gatehouse asks
	// the provider again: a terminal that polls sooner is told to wait,
	// and the provider is not bothered.
	NextPoll int64 `json:"n"`
}

// BeginDevice asks the provider's device_authorization_endpoint for a
// device code (auth.DeviceSSO). A provider whose discovery lists none, or
// that refuses this client the device grant, is auth.ErrNoDevice: the
// terminal falls back to the loopback redirect.
func (p *Provider) BeginDevice(ctx context.Context, pending store.PendingLoginStore, now time.Time) (auth.DeviceLogin, error) {
	d, err := p.discoverCached(ctx)
	if err != nil {
		return auth.DeviceLogin{}, err
	}
	endpoint := d.prov.Endpoint().DeviceAuthURL
	if endpoint == "" {
		return auth.DeviceLogin{}, auth.ErrNoDevice
	}
	var ans struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURL         string `json:"verification_url"` // Google's name for it
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int    `json:"expires_in"`
		Interval                int    `json:"interval"`
	}
	status, oerr, err := p.postForm(ctx, endpoint, url.Values{"scope": {strings.Join(p.scopes, " ")}}, &ans)
	switch {
	case err != nil:
		return auth.DeviceLogin{}, fmt.Errorf("oidc: device authorization: %w: %w", backend.ErrUnavailable, err)
	case status >= 400:
		p.log.Warn("oidc: the provider refused a device authorization; terminals use the loopback redirect",
			"status", status, "error", oerr.Error, "description", oerr.Description)
		return auth.DeviceLogin{}, auth.ErrNoDevice
	}
	if ans.VerificationURI == "" {
		ans.VerificationURI = ans.VerificationURL
	}
	if ans.DeviceCode == "" || ans.UserCode == "" || ans.VerificationURI == "" {
		return auth.DeviceLogin{}, fmt.Errorf("oidc: device authorization answer lacks device_code, user_code or verification_uri: %w", backend.ErrUnavailable)
	}
	if ans.ExpiresIn <= 0 || time.Duration(ans.ExpiresIn)*time.Second > LoginLifetime {
		ans.ExpiresIn = int(LoginLifetime / time.Second)
	}
	ans.Interval = clampInterval(ans.Interval)
	handle := newSecret()
	st := deviceState{DeviceCode: ans.DeviceCode, Interval: ans.Interval, NextPoll: now.Add(time.Duration(ans.Interval) * time.Second).UnixMicro()}
	l := store.PendingLogin{
		StateHash: handleHash(handle), RedirectURI: deviceMarker,
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(ans.ExpiresIn) * time.Second),
	}
	if err := pending.CreatePendingLogin(ctx, sealDevice(l, handle, st)); err != nil {
		return auth.DeviceLogin{}, err
	}
	return auth.DeviceLogin{
		Handle: handle, UserCode: ans.UserCode, VerificationURI: ans.VerificationURI,
		VerificationURIComplete: ans.VerificationURIComplete, ExpiresIn: ans.ExpiresIn, Interval: ans.Interval,
	}, nil
}

// PollDevice asks the provider's token endpoint once whether the user has
// signed in (auth.DeviceSSO). The pending login is taken from the store
// for the poll and put back while it is still pending (or the provider
// could not be reached), so of two concurrent polls of one handle only
// one reaches the provider, from whichever replica. A poll before the
// interval has passed is answered pending without asking the provider.
func (p *Provider) PollDevice(ctx context.Context, pending store.PendingLoginStore, handle string, now time.Time) (auth.DevicePoll, error) {
	if handle == "" {
		return auth.DevicePoll{}, refused("no device login handle")
	}
	l, err := pending.ConsumePendingLogin(ctx, handleHash(handle), now)
	if errors.Is(err, store.ErrNotFound) {
		return auth.DevicePoll{}, refused("device login unknown, finished or expired")
	}
	if err != nil {
		return auth.DevicePoll{}, err
	}
	if l.RedirectURI != deviceMarker {
		return auth.DevicePoll{}, refused("not a device login")
	}
	plain, err := openWith(deviceKeyLabel, handle, l.Verifier)
	var st deviceState
	if err == nil {
		err = json.Unmarshal([]byte(plain), &st)
	}
	if err != nil {
		return auth.DevicePoll{}, refused("device login state: %v", err)
	}
	// keep puts the login back for the next poll; a store that cannot is
	// the poll's answer (the login is lost, the user starts again).
	keep := func(st deviceState, then error) (auth.DevicePoll, error) {
		if err := pending.CreatePendingLogin(ctx, sealDevice(l, handle, st)); err != nil {
			return auth.DevicePoll{}, err
		}
		if then != nil {
			return auth.DevicePoll{}, then
		}
		return auth.DevicePoll{Pending: true, Interval: st.Interval}, nil
	}
	if now.UnixMicro() < st.NextPoll {
		return keep(st, nil)
	}
	d, err := p.provider(ctx)
	if err != nil {
		return keep(st, err)
	}
	var tok struct {
		IDToken string `json:"id_token"`
	}
	status, oerr, err := p.postForm(ctx, d.prov.Endpoint().TokenURL,
		url.Values{"grant_type": {deviceGrant}, "device_code": {st.DeviceCode}}, &tok)
	if err != nil {
		return keep(st, fmt.Errorf("oidc: device token: %w: %w", backend.ErrUnavailable, err))
	}
	if status >= 400 {
		switch oerr.Error {
		case "authorization_pending":
		case "slow_down":
			st.Interval = clampInterval(st.Interval + slowDownStep)
		default: // access_denied, expired_token, invalid_grant, …: over
			return auth.DevicePoll{}, refused("device token refused: %d %s", status, oerr.Error)
		}
		st.NextPoll = now.Add(time.Duration(st.Interval) * time.Second).UnixMicro()
		return keep(st, nil)
	}
	// The device flow sends no nonce (RFC 8628 has none); the ID token is
	// this login's because Gatehouse itself got it for this device code,
	// from the token endpoint, over the client's authenticated channel.
	idt, err := p.checkIDToken(ctx, d, tok.IDToken)
	if err != nil {
		return auth.DevicePoll{}, err
	}
	id, err := p.identity(idt)
	if err != nil {
		return auth.DevicePoll{}, err
	}
	return auth.DevicePoll{Identity: id}, nil
}

// sealDevice is l with st sealed under the handle.
func sealDevice(l store.PendingLogin, handle string, st deviceState) store.PendingLogin {
	b, _ := json.Marshal(st)
	l.Verifier = sealWith(deviceKeyLabel, handle, string(b))
	return l
}

func clampInterval(s int) int {
	switch {
	case s <= 0:
		return defaultInterval
	case s > maxInterval:
		return maxInterval
	}
	return s
}

// oauthError is an OAuth 2.0 error answer (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// postForm posts form to one of the provider's endpoints with the client's
// credentials (HTTP Basic, client_secret_basic, which RFC 6749 §2.3.1
// requires every provider to accept) within the timeout, and decodes a 2xx
// answer into out. A 4xx answer (but 429) is returned with its OAuth error;
// no answer, a 429 or a 5xx is an error (an outage).
func (p *Provider) postForm(ctx context.Context, endpoint string, form url.Values, out any) (int, oauthError, error) {
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	form.Set("client_id", p.cfg.ClientID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, oauthError{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
	resp, err := p.client.Do(req)
	if err != nil {
		p.unreachable()
		return 0, oauthError{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, oauthError{}, err
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if err := json.Unmarshal(body, out); err != nil {
			return 0, oauthError{}, fmt.Errorf("%s answered %d with a body that is not JSON", endpoint, resp.StatusCode)
		}
		return resp.StatusCode, oauthError{}, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		var oe oauthError
		_ = json.Unmarshal(body, &oe) // a 4xx without an OAuth error is a refusal all the same
		return resp.StatusCode, oe, nil
	}
	p.unreachable()
	return 0, oauthError{}, fmt.Errorf("%s answered %d", endpoint, resp.StatusCode)
}
