package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// certExpiryWarning is how close to its expiry a certificate must be for
// the start and every reload to log a warning.
const certExpiryWarning = 14 * 24 * time.Hour

// certReloader serves the key pair in certFile and keyFile and re-reads it
// on Reload. The current pair sits in an atomic pointer that
// tls.Config.GetCertificate reads on every handshake, so a reload swaps the
// certificate for new connections without touching established ones.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	cur atomic.Pointer[tls.Certificate]
	mu  sync.Mutex // serialises Reload
}

// newCertReloader loads the pair once; an error names both settings and
// files, and the service must not start.
func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	cert, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(cert)
	r.logCertificate("TLS certificate loaded", cert.Leaf)
	return r, nil
}

// load reads and parses the pair from disk.
func (r *certReloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("auth.cert %s / auth.key %s: %w", r.certFile, r.keyFile, err)
	}
	if cert.Leaf == nil { // set by LoadX509KeyPair since Go 1.23, unless GODEBUG x509keypairleaf=0
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("auth.cert %s: %w", r.certFile, err)
		}
	}
	return &cert, nil
}

// GetCertificate is tls.Config.GetCertificate: the current pair.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// Reload re-reads the pair. On failure the current pair stays in use and
// the error is returned (and logged); on success the new pair serves every
// handshake from now on.
func (r *certReloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cert, err := r.load()
	if err != nil {
		r.log.Error("TLS certificate reload failed; still serving the previous certificate",
			slog.String("error", err.Error()), certAttrs(r.cur.Load().Leaf))
		return err
	}
	r.cur.Store(cert)
	r.logCertificate("TLS certificate reloaded", cert.Leaf)
	return nil
}

// logCertificate logs what identifies a certificate (never key material)
// and warns when it has expired or expires within certExpiryWarning.
func (r *certReloader) logCertificate(msg string, leaf *x509.Certificate) {
	r.log.Info(msg, slog.String("cert", r.certFile), certAttrs(leaf))
	left := time.Until(leaf.NotAfter)
	switch {
	case left <= 0:
		r.log.Warn("TLS certificate has expired", slog.String("cert", r.certFile), certAttrs(leaf))
	case left < certExpiryWarning:
		r.log.Warn("TLS certificate expires soon", slog.String("cert", r.certFile),
			slog.String("expires_in", left.Round(time.Minute).String()), certAttrs(leaf))
	}
}

func certAttrs(leaf *x509.Certificate) slog.Attr {
	return slog.Group("certificate",
		slog.String("subject", leaf.Subject.String()),
		slog.String("serial", leaf.SerialNumber.Text(16)),
		slog.Time("not_after", leaf.NotAfter.UTC()),
	)
}

// tls12CipherSuites are the suites offered to TLS 1.2 clients: ECDHE key
// exchange with an AEAD only. Go's defaults also accept AES-CBC with
// HMAC-SHA1, which is open to padding-oracle and Lucky13-style timing
// attacks; every TLS 1.2 client of the last decade has one of these. TLS
// 1.3 suites are all AEAD and not configurable in Go.
var tls12CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// tlsConfig is the server's TLS configuration: TLS 1.2 and 1.3 only, AEAD
// cipher suites only, and the certificate from r.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   tls12CipherSuites,
		GetCertificate: r.GetCertificate,
	}
}

// handleSIGHUP calls reload for every SIGHUP until ctx is done. It only
// adds SIGHUP to what the process listens for, so main's SIGTERM/SIGINT
// handling is unaffected; while it runs, SIGHUP no longer kills the
// process (systemd's ExecReload=/bin/kill -HUP $MAINPID is safe even
// without TLS). reload may be nil: there is nothing to reload then.
//
// It subscribes to SIGHUP before it returns and then serves the signal in
// the background until ctx is done, so that a SIGHUP arriving as soon as
// the server logs "serving" is already caught (the default action would
// end the process).
func handleSIGHUP(ctx context.Context, log *slog.Logger, reload func() error) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go serveSIGHUP(ctx, hup, log, reload)
}

func serveSIGHUP(ctx context.Context, hup chan os.Signal, log *slog.Logger, reload func() error) {
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if reload == nil {
				log.Info("SIGHUP: nothing to reload (auth.use_ssl is off; htpasswd edits apply without a signal)")
				continue
			}
			log.Info("SIGHUP: reloading TLS certificate")
			_ = reload() // logged by the reloader; the old certificate stays
		}
	}
}

// reloadFunc returns r.Reload, or nil when r is nil (no TLS).
func (r *certReloader) reloadFunc() func() error {
	if r == nil {
		return nil
	}
	return r.Reload
}
