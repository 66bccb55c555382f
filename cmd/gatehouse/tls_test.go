package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCA signs server certificates for 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Gatehouse test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns PEM certificate and key for 127.0.0.1 with the given
// serial, valid for validFor from now.
func (ca *testCA) issue(t *testing.T, serial int64, validFor time.Duration) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("gatehouse-%d", serial)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(validFor),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// tlsFixture is a directory with a user file, a configuration with
// use_ssl on, and cert.pem / key.pem for it.
type tlsFixture struct {
	dir, config, cert, key string
}

func newTLSFixture(t *testing.T, certPEM, keyPEM []byte) tlsFixture {
	t.Helper()
	dir := t.TempDir()
	f := tlsFixture{
		dir:    dir,
		config: filepath.Join(dir, "gatehouse.yaml"),
		cert:   filepath.Join(dir, "cert.pem"),
		key:    filepath.Join(dir, "key.pem"),
	}
	users := filepath.Join(dir, "users")
	set := exec.Command(binary, "htpasswd", "set", "joe", "--file", users, "--cost", "4")
	set.Stdin = strings.NewReader("joe-password\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("htpasswd set: %v %s", err, out)
	}
	writeFile(t, f.config, fmt.Sprintf("auth:\n  port: 0\n  use_ssl: true\n  cert: %s\n  key: %s\n"+
		"  backend_kwargs: {file_path: %s}\ndatabase:\n  url: sqlite:%s/db\n", f.cert, f.key, users, dir))
	f.write(t, certPEM, keyPEM)
	return f
}

// write replaces the certificate and key files.
func (f tlsFixture) write(t *testing.T, certPEM, keyPEM []byte) {
	t.Helper()
	writeFile(t, f.cert, string(certPEM))
	writeFile(t, f.key, string(keyPEM))
}

// startTLS starts gatehouse on f and returns it with its https:// URL.
func startTLS(t *testing.T, f tlsFixture) *process {
	t.Helper()
	p := startGatehouse(t, f.dir, nil, "serve", "--config", f.config)
	p.URL = "https://" + strings.TrimPrefix(p.URL, "http://")
	return p
}

// tlsClient trusts only ca; each client has its own connection pool.
func tlsClient(ca *testCA, minVersion, maxVersion uint16) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.pool, MinVersion: minVersion, MaxVersion: maxVersion},
		},
	}
}

// served is what one request saw of the connection.
type served struct {
	status  int
	serial  int64
	version uint16
	reused  bool
}

func get(t *testing.T, c *http.Client, url string) served {
	t.Helper()
	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // so the connection goes back to the pool
	return served{
		status:  resp.StatusCode,
		serial:  resp.TLS.PeerCertificates[0].SerialNumber.Int64(),
		version: resp.TLS.Version,
		reused:  reused,
	}
}

// waitForCount waits until msg appears at least n times in the log.
func waitForCount(t *testing.T, p *process, msg string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); strings.Count(p.Stderr(), msg) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged %d times:\n%s", msg, n, p.Stderr())
		}
	}
}

// TestTLS serves HTTPS from use_ssl/cert/key and reloads the certificate on
// SIGHUP without dropping established connections.
func TestTLS(t *testing.T) {
	ca := newTestCA(t)
	cert1, key1 := ca.issue(t, 1001, 10*24*time.Hour) // inside the 14-day warning
	cert2, key2 := ca.issue(t, 1002, 90*24*time.Hour)
	f := newTLSFixture(t, cert1, key1)
	p := startTLS(t, f)
	addr := strings.TrimPrefix(p.URL, "https://")

	t.Run("start logs the certificate and warns of its expiry", func(t *testing.T) {
		for _, want := range []string{`"msg":"TLS certificate loaded"`, `"serial":"3e9"`, `"msg":"TLS certificate expires soon"`} {
			if !strings.Contains(p.Stderr(), want) {
				t.Errorf("no %s in the log:\n%s", want, p.Stderr())
			}
		}
		if strings.Contains(p.Stderr(), "PRIVATE KEY") {
			t.Error("key material in the log")
		}
	})

	t.Run("login over HTTPS", func(t *testing.T) {
		c := tlsClient(ca, 0, 0)
		req, _ := http.NewRequestWithContext(t.Context(), "POST", p.URL+"/auth/v1/tokens", nil)
		req.SetBasicAuth("joe", "joe-password")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("login: %d", resp.StatusCode)
		}
	})

	t.Run("TLS 1.2 and 1.3 accepted", func(t *testing.T) {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			if s := get(t, tlsClient(ca, v, v), p.URL+"/healthz"); s.status != 200 || s.version != v {
				t.Errorf("%s: %+v", tls.VersionName(v), s)
			}
		}
	})

	t.Run("TLS 1.1 refused", func(t *testing.T) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{
			RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11,
		})
		if err == nil {
			conn.Close()
			t.Fatal("TLS 1.1 handshake succeeded")
		}
		// The server's alert, not the client refusing to try.
		if !strings.Contains(err.Error(), "protocol version") {
			t.Fatalf("handshake error: %v", err)
		}
	})

	t.Run("TLS 1.2 offers only AEAD suites", func(t *testing.T) {
		dial := func(suite uint16) error {
			conn, err := tls.Dial("tcp", addr, &tls.Config{
				RootCAs: ca.pool, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite},
			})
			if err == nil {
				conn.Close()
			}
			return err
		}
		for _, suite := range []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		} {
			// The server's alert, not the client refusing to try.
			if err := dial(suite); err == nil || !strings.Contains(err.Error(), "handshake failure") {
				t.Errorf("%s: %v, want a handshake failure", tls.CipherSuiteName(suite), err)
			}
		}
		for _, suite := range []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		} {
			if err := dial(suite); err != nil {
				t.Errorf("%s: %v", tls.CipherSuiteName(suite), err)
			}
		}
	})

	t.Run("plain HTTP refused", func(t *testing.T) {
		resp, err := httpClient.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("plain HTTP to the TLS port: %d", resp.StatusCode)
			}
		}
	})

	kept := tlsClient(ca, 0, 0) // one keep-alive connection across the reload
	if s := get(t, kept, p.URL+"/healthz"); s.serial != 1001 {
		t.Fatalf("before reload: %+v", s)
	}

	t.Run("SIGHUP reloads the certificate", func(t *testing.T) {
		f.write(t, cert2, key2)
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitForCount(t, p, `"msg":"TLS certificate reloaded"`, 1)
		if s := get(t, tlsClient(ca, 0, 0), p.URL+"/healthz"); s.status != 200 || s.serial != 1002 {
			t.Fatalf("new connection after reload: %+v, want serial 1002", s)
		}
		if s := get(t, kept, p.URL+"/healthz"); s.status != 200 || !s.reused || s.serial != 1001 {
			t.Fatalf("connection from before the reload: %+v, want reused with serial 1001", s)
		}
	})

	cert3, _ := ca.issue(t, 1003, 90*24*time.Hour)
	for i, tc := range []struct {
		name      string
		cert, key []byte
	}{
		{"broken certificate", []byte("-----BEGIN CERTIFICATE-----\nnot base64\n"), key2},
		{"key of another certificate", cert3, key2},
	} {
		t.Run("SIGHUP with "+tc.name+" keeps the old one", func(t *testing.T) {
			f.write(t, tc.cert, tc.key)
			if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitForCount(t, p, `"msg":"TLS certificate reload failed; still serving the previous certificate"`, i+1)
			if s := get(t, tlsClient(ca, 0, 0), p.URL+"/healthz"); s.status != 200 || s.serial != 1002 {
				t.Fatalf("after a failed reload: %+v, want serial 1002", s)
			}
			if p.cmd.ProcessState != nil {
				t.Fatalf("process exited: %v", p.cmd.ProcessState)
			}
		})
	}
	if strings.Contains(p.Stderr(), "PRIVATE KEY") {
		t.Error("key material in the log")
	}
}

// TestTLSMissingCertificate checks that a missing certificate file stops
// the start with a message naming auth.cert and the file.
func TestTLSMissingCertificate(t *testing.T) {
	ca := newTestCA(t)
	cert, key := ca.issue(t, 7, 24*time.Hour)
	f := newTLSFixture(t, cert, key)
	if err := os.Remove(f.cert); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--config", f.config)
	cmd.Dir = f.dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	for _, want := range []string{"auth.cert", f.cert, "no such file"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), `"msg":"serving"`) {
		t.Errorf("served without a certificate:\n%s", out)
	}
}

// TestSIGHUPWithoutTLS checks that SIGHUP, which systemd's ExecReload
// sends, does not kill a server without TLS.
func TestSIGHUPWithoutTLS(t *testing.T) {
	p := startGatehouse(t, t.TempDir(), nil, "serve", "--port", "0")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "SIGHUP: nothing to reload")
	if code := call(t, "GET", p.URL+"/healthz", nil).code; code != 200 {
		t.Fatalf("healthz after SIGHUP: %d", code)
	}
}
