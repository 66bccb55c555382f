// Package client talks to a running Gatehouse server: it logs in with
// HTTP Basic credentials, logs out, and manages API keys through the
// st2-shaped /apikeys routes. It also keeps the per-user token cache the
// `gatehouse login` command writes (see Cache).
//
// Every failure is one of three kinds, each with a message fit to show a
// person as it is: *APIError (the server answered with an error status;
// Message is its faultstring), *ConnError (the server could not be
// reached), *TLSError (the TLS handshake failed).
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultURL is where `gatehouse serve` listens with no configuration.
const DefaultURL = "http://127.0.0.1:9100"

// maxResponseBytes caps what is read of an answer; a page of 100 API keys
// is far smaller.
const maxResponseBytes = 8 << 20

// Options configure New.
type Options struct {
	// CACertFile is a PEM file of extra certificate authorities to trust
	// for an https URL, on top of the system's.
	CACertFile string
	// Timeout bounds each request; 0 means 30 seconds.
	Timeout time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// APIKeysURL, when set, is an st2 API URL such as
	// https://st2.example.org/api/v1 (st2's [api] url): the API key calls
	// go to APIKeysURL/apikeys, as st2's own client sends them. When empty
	// they go to the server's /auth/v1/apikeys.
	APIKeysURL string
}

// Client is a Gatehouse server at one URL, with at most one credential.
type Client struct {
	base      *url.URL
	apiKeys   *url.URL // nil: base + /auth/v1
	http      *http.Client
	userAgent string

	// Token is sent as X-Auth-Token, APIKey as St2-Api-Key; when both are
	// set only the token is sent.
	Token  string
	APIKey string
}

// New returns a client of the server at rawURL (scheme, host and port; a
// path prefix, such as that of a reverse proxy, is kept).
func New(rawURL string, opts Options) (*Client, error) {
	base, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if opts.CACertFile != "" {
		pool, err := certPool(opts.CACertFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	var apiKeys *url.URL
	if opts.APIKeysURL != "" {
		if apiKeys, err = ParseURL(opts.APIKeysURL); err != nil {
			return nil, err
		}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	return &Client{
		base:    base,
		apiKeys: apiKeys,
		http: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			// A credential header must never follow a redirect to
			// another server; a redirect is reported instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		userAgent: opts.UserAgent,
	}, nil
}

// ParseURL checks a server URL and returns it without a trailing slash.
func ParseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: expected http://HOST:PORT or https://HOST:PORT", rawURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid server URL %q: no query or fragment expected", rawURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// URL is the server's URL, without any user:password part.
func (c *Client) URL() string { return c.base.Redacted() }

func certPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA certificates: no PEM certificate in %s", file)
	}
	return pool, nil
}

// Response is a successful answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// request is one call: method, path under the server URL (or under base
// when set), query, JSON body (nil: none) or form body, and the status
// that means success.
type request struct {
	method, path string
	base         *url.URL
	query        url.Values
	body         any
	form         url.Values
	want         int
	// alsoWant, when set, is a second status accepted as an answer.
	alsoWant  int
	basicUser string
	basicPass string
	basic     bool
	// authorization, when set, is sent as the Authorization header
	// (Negotiate for Kerberos).
	authorization string
}

// do sends r and returns the answer when its status is r.want.
func (c *Client) do(ctx context.Context, r request) (Response, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return Response{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{}, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Response{}, c.transportError(ctx, err)
	}
	if resp.StatusCode != r.want && (r.alsoWant == 0 || resp.StatusCode != r.alsoWant) {
		return Response{}, c.statusError(resp, raw)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// newRequest builds r's HTTP request with the client's credential.
func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	base := r.base
	if base == nil {
		base = c.base
	}
	u := *base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	var body io.Reader
	contentType := ""
	switch {
	case r.form != nil:
		body, contentType = strings.NewReader(r.form.Encode()), "application/x-www-form-urlencoded"
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, err
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	switch {
	case r.authorization != "":
		req.Header.Set("Authorization", r.authorization)
	case r.basic:
		req.SetBasicAuth(r.basicUser, r.basicPass)
	case c.Token != "":
		req.Header.Set("X-Auth-Token", c.Token)
	case c.APIKey != "":
		req.Header.Set("St2-Api-Key", c.APIKey)
	}
	return req, nil
}

// doJSON is do, then decodes the body into v.
func (c *Client) doJSON(ctx context.Context, r request, v any) (Response, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return resp, &APIError{Status: resp.Status, URL: c.URL(),
			Message: fmt.Sprintf("unexpected answer from %s: %d with a body that is not the expected JSON (is this a Gatehouse server?)", c.URL(), resp.Status)}
	}
	return resp, nil
}

// APIError is an answer with an unexpected status.
type APIError struct {
	Status int
	// Message is the server's faultstring (or RFC error_description)
	// when it sent one, otherwise a description of the answer.
	Message string
	// Faultstring is true when Message is the server's own text.
	Faultstring bool
	URL         string
	// RetryAfter is the wait the server asked for with Retry-After (a
	// 429 or 503), or 0.
	RetryAfter time.Duration
}

func (e *APIError) Error() string { return e.Message }

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// RetryAfterOf returns the Retry-After wait of an *APIError in err's
// chain, or 0.
func RetryAfterOf(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}

// retryAfter reads a Retry-After header: whole seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 || secs > 1<<31 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

func (c *Client) statusError(resp *http.Response, raw []byte) error {
	e := &APIError{Status: resp.StatusCode, URL: c.URL(), RetryAfter: retryAfter(resp.Header, time.Now())}
	var body struct {
		Faultstring      *string `json:"faultstring"`
		ErrorDescription *string `json:"error_description"`
	}
	_ = json.Unmarshal(raw, &body)
	switch {
	case body.Faultstring != nil:
		e.Message, e.Faultstring = *body.Faultstring, true
	case body.ErrorDescription != nil:
		e.Message, e.Faultstring = *body.ErrorDescription, true
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "":
		e.Message = fmt.Sprintf("%s redirects to %s; use that URL", c.URL(), redactLocation(resp.Header.Get("Location")))
	case bytes.Contains(raw, []byte("HTTP request to an HTTPS server")):
		e.Message = fmt.Sprintf("%s speaks HTTPS; use an https:// URL", c.URL())
	default:
		e.Message = fmt.Sprintf("unexpected answer from %s: %s (is this a Gatehouse server?)", c.URL(), statusText(resp))
	}
	return e
}

func statusText(resp *http.Response) string {
	if resp.Status != "" {
		return resp.Status
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

func redactLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "another URL"
	}
	u.RawQuery = "" // might carry a token
	return u.Redacted()
}

// ConnError means the server could not be reached or broke off.
type ConnError struct {
	URL    string
	Reason string // "connection refused", "no such host example.org", …
	Err    error
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("cannot reach Gatehouse at %s: %s", e.URL, e.Reason)
}

func (e *ConnError) Unwrap() error { return e.Err }

// TLSError means the TLS handshake with the server failed.
type TLSError struct {
	URL    string
	Reason string
	// UnknownAuthority is true when the server's certificate is signed by
	// an authority the client does not trust (Options.CACertFile helps).
	UnknownAuthority bool
	Err              error
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("TLS error talking to Gatehouse at %s: %s", e.URL, e.Reason)
}

func (e *TLSError) Unwrap() error { return e.Err }

// transportError turns what net/http returns into a ConnError or TLSError
// with a short reason; the request URL, and so any detail of it, is left
// out.
func (c *Client) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	base := c.URL()
	var (
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalid    x509.CertificateInvalidError
		recordErr  tls.RecordHeaderError
		verifyErr  *tls.CertificateVerificationError
		alertErr   tls.AlertError
		dnsErr     *net.DNSError
		netErr     net.Error
		unknownCA2 *x509.UnknownAuthorityError
	)
	switch {
	case errors.As(err, &unknownCA) || errors.As(err, &unknownCA2):
		return &TLSError{URL: base, Reason: "certificate signed by unknown authority", UnknownAuthority: true, Err: err}
	case errors.As(err, &hostErr):
		return &TLSError{URL: base, Reason: "the certificate is not valid for " + hostErr.Host, Err: err}
	case errors.As(err, &invalid):
		return &TLSError{URL: base, Reason: invalid.Error(), Err: err}
	case errors.As(err, &recordErr):
		return &TLSError{URL: base, Reason: "the server does not speak TLS; use an http:// URL", Err: err}
	case errors.As(err, &verifyErr):
		return &TLSError{URL: base, Reason: verifyErr.Err.Error(), Err: err}
	case errors.As(err, &alertErr):
		return &TLSError{URL: base, Reason: "the server refused the handshake: " + alertErr.Error(), Err: err}
	case errors.Is(err, http.ErrSchemeMismatch):
		return &TLSError{URL: base, Reason: "the server does not speak TLS; use an http:// URL", Err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &ConnError{URL: base, Reason: "connection refused", Err: err}
	case errors.As(err, &dnsErr):
		return &ConnError{URL: base, Reason: "no such host " + dnsErr.Name, Err: err}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &ConnError{URL: base, Reason: "the server closed the connection", Err: err}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &ConnError{URL: base, Reason: "no route to host", Err: err}
	case errors.As(err, &netErr) && netErr.Timeout():
		return &ConnError{URL: base, Reason: "no answer (timed out)", Err: err}
	}
	return &ConnError{URL: base, Reason: innermost(err), Err: err}
}

// innermost is the text of the last error in a chain of single wraps,
// which for net/http is the cause without the "Post URL:" prefix.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
