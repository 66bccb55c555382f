package oidc_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc/hydratest"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc/optest"
)

var alice = optest.User{Name: "alice", Password: "alice-password-1"}

// deviceEnv is a Gatehouse API with the oidc method in front of a private
// zitadel/oidc provider, which offers device authorization.
type deviceEnv struct {
	*env
	op *optest.Server
	// skew is added to the API's clock (tests of expiry).
	skew atomic.Int64
}

func newDeviceEnv(t *testing.T, tune func(*oidc.Config), api ...func(*httpapi.Config)) *deviceEnv {
	t.Helper()
	e := &deviceEnv{env: newGatewayEnv(t), op: optest.Start(t, alice)}
	clock := func(c *httpapi.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }
	}
	e.startGateway(oidc.Config{Issuer: e.op.Issuer, ClientID: e.op.ClientID, ClientSecret: e.op.ClientSecret,
		RedirectURL: "http://" + e.gw.Listener.Addr().String() + "/auth/v1/oidc/callback", UsernameClaim: "sub"},
		tune, append([]func(*httpapi.Config){clock}, api...)...)
	return e
}

// deviceStart is POST /auth/v1/oidc/device's answer.
type deviceStart struct {
	Handle          string `json:"handle"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	Complete        string `json:"verification_uri_complete"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
}

func (e *env) post(path string, v any) *http.Response {
	e.t.Helper()
	var b []byte
	if v != nil {
		b, _ = json.Marshal(v)
	}
	resp, err := http.Post(e.gw.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// beginDevice starts a device login at Gatehouse.
func (e *deviceEnv) beginDevice() deviceStart {
	e.t.Helper()
	resp := e.post("/auth/v1/oidc/device", nil)
	raw := body(resp)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("device: %d %s", resp.StatusCode, raw)
	}
	if strings.Contains(raw, "device_code") {
		e.t.Fatalf("the provider's device code reached the terminal: %s", raw)
	}
	var d deviceStart
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		e.t.Fatal(err)
	}
	if d.Handle == "" || d.UserCode == "" || !strings.HasPrefix(d.VerificationURI, e.op.Issuer) ||
		!strings.Contains(d.Complete, d.UserCode) || d.ExpiresIn <= 0 || d.Interval <= 0 {
		e.t.Fatalf("device answer %+v", d)
	}
	return d
}

// poll is one POST /auth/v1/oidc/device/token.
func (e *deviceEnv) poll(handle string) *http.Response {
	e.t.Helper()
	return e.post("/auth/v1/oidc/device/token", map[string]string{"handle": handle})
}

// pollUntilDone polls at the interval Gatehouse asks for until the
// answer is not 202, and returns it.
func (e *deviceEnv) pollUntilDone(handle string) *http.Response {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp := e.poll(handle)
		if resp.StatusCode != http.StatusAccepted {
			return resp
		}
		var p struct {
			Pending  bool `json:"pending"`
			Interval int  `json:"interval"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || !p.Pending || p.Interval <= 0 {
			e.t.Fatalf("a 202 that is not {pending, interval}: %+v %v", p, err)
		}
		time.Sleep(time.Duration(p.Interval) * time.Second)
	}
	e.t.Fatal("the device login stayed pending for a minute")
	return nil
}

// TestDeviceLogin: a device login through a real provider that offers
// it, the test as the user at the provider's device page: pending until
// the user approves, then an ordinary token; the handle is single use.
func TestDeviceLogin(t *testing.T) {
	e := newDeviceEnv(t, nil)
	d := e.beginDevice()
	if resp := e.poll(d.Handle); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("a poll before the user signed in: %d %s", resp.StatusCode, body(resp))
	}
	e.op.Approve(t, d.Complete, d.UserCode, alice, true)
	resp := e.pollUntilDone(d.Handle)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("after the user approved: %d %s", resp.StatusCode, body(resp))
	}
	var tok struct {
		User  string `json:"user"`
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.User != "alice" || tok.Token == "" {
		t.Fatalf("token answer %+v %v", tok, err)
	}
	if user, _ := e.me(tok.Token); user != "alice" {
		t.Fatalf("/me says %q", user)
	}
	wantFault(t, e.poll(d.Handle), http.StatusUnauthorized) // used
	if strings.Contains(e.logs.String(), tok.Token) || strings.Contains(e.logs.String(), d.Handle) {
		t.Fatal("a token or handle reached the log")
	}
	// The code entered by hand at the plain verification URI works too.
	d = e.beginDevice()
	e.op.Approve(t, d.VerificationURI, d.UserCode, alice, true)
	if resp := e.pollUntilDone(d.Handle); resp.StatusCode != http.StatusCreated {
		t.Fatalf("code typed in: %d %s", resp.StatusCode, body(resp))
	}
}

// TestDeviceRefusals: a user who denies, an expired login, an unknown
// handle and a bad body are refused, and refusals count against the
// client address like wrong passwords.
func TestDeviceRefusals(t *testing.T) {
	e := newDeviceEnv(t, nil, func(c *httpapi.Config) { c.Throttle = httpapi.Throttle{AddressFailures: 4} })
	t.Run("Denied", func(t *testing.T) {
		d := e.beginDevice()
		e.op.Approve(t, d.Complete, d.UserCode, alice, false)
		wantFault(t, e.pollUntilDone(d.Handle), http.StatusUnauthorized)
	})
	t.Run("Expired", func(t *testing.T) {
		d := e.beginDevice()
		e.skew.Store(int64(time.Duration(d.ExpiresIn+1) * time.Second))
		defer e.skew.Store(0)
		wantFault(t, e.poll(d.Handle), http.StatusUnauthorized)
	})
	t.Run("UnknownHandle", func(t *testing.T) {
		wantFault(t, e.poll("not-a-handle-we-gave"), http.StatusUnauthorized)
	})
	t.Run("NoHandle", func(t *testing.T) {
		wantFault(t, e.post("/auth/v1/oidc/device/token", map[string]string{}), http.StatusBadRequest)
	})
	t.Run("LoopbackRouteWithHandle", func(t *testing.T) {
		// A device handle is no state of the loopback flow.
		d := e.beginDevice()
		wantFault(t, e.post("/auth/v1/oidc/token", map[string]string{"state": d.Handle, "code": "x"}), http.StatusUnauthorized)
	})
	t.Run("Throttled", func(t *testing.T) {
		// Four refusals so far (denied, expired, unknown, loopback): a
		// good login is now 429.
		d := e.beginDevice()
		resp := e.poll(d.Handle)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("a poll after 4 refusals: %d %s", resp.StatusCode, body(resp))
		}
	})
}

// TestDeviceAllowedGroups: the device flow applies allowed_groups like
// the redirect flows (the provider's users are in no group): 403.
func TestDeviceAllowedGroups(t *testing.T) {
	e := newDeviceEnv(t, func(c *oidc.Config) { c.AllowedGroups = []string{"st2-users"} })
	d := e.beginDevice()
	e.op.Approve(t, d.Complete, d.UserCode, alice, true)
	wantFault(t, e.pollUntilDone(d.Handle), http.StatusForbidden)
}

// TestDeviceProviderDown: a hung provider is a 503 within the configured
// timeout, to start a device login or to poll one; a poll that met the
// outage loses nothing, and the login finishes once the provider answers.
func TestDeviceProviderDown(t *testing.T) {
	e := newDeviceEnv(t, func(c *oidc.Config) { c.Timeout = 2 })
	within := func(what string, resp func() *http.Response) {
		t.Helper()
		start := time.Now()
		r := resp()
		if took := time.Since(start); r.StatusCode != http.StatusServiceUnavailable || took > 5*time.Second {
			t.Fatalf("%s: %d after %v, want 503 within the 2 s timeout: %s", what, r.StatusCode, took, body(r))
		}
	}
	e.op.Freeze()
	within("start while down", func() *http.Response { return e.post("/auth/v1/oidc/device", nil) })
	e.op.Thaw()
	d := e.beginDevice()
	e.op.Approve(t, d.Complete, d.UserCode, alice, true)
	time.Sleep(time.Duration(d.Interval) * time.Second)
	e.op.Freeze()
	within("poll while down", func() *http.Response { return e.poll(d.Handle) })
	e.op.Thaw()
	if resp := e.pollUntilDone(d.Handle); resp.StatusCode != http.StatusCreated {
		t.Fatalf("after recovery: %d %s", resp.StatusCode, body(resp))
	}
}

// TestDeviceNotOffered: Hydra lists no device_authorization_endpoint, so
// a device login is a 404 that tells the terminal to use the loopback
// redirect (which TestCLILoginSSO drives through the CLI).
func TestDeviceNotOffered(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil)
	resp := e.post("/auth/v1/oidc/device", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("device login at Hydra: %d %s", resp.StatusCode, body(resp))
	}
	if b := body(resp); !strings.Contains(b, "loopback") {
		t.Fatalf("the 404 does not say what to do: %s", b)
	}
	// No device login was begun, so no handle is known.
	wantFault(t, e.post("/auth/v1/oidc/device/token", map[string]string{"handle": "x"}), http.StatusUnauthorized)
}
