package kerberos_test

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/kerberos"
)

// offlineBackend is a kerberos backend with a keytab made here and no
// KDC: enough to parse and refuse tokens.
func offlineBackend(tb testing.TB) *kerberos.Backend {
	tb.Helper()
	kt := keytab.New()
	if err := kt.AddEntry("HTTP/localhost", "FUZZ.TEST", "service-key", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		tb.Fatal(err)
	}
	raw, err := kt.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "http.keytab")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg := kerberos.DefaultConfig()
	cfg.Keytab, cfg.ServicePrincipal, cfg.KDCs = path, "HTTP/localhost@FUZZ.TEST", []string{"127.0.0.1:1"}
	b, err := kerberos.New(cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// seedToken is a SPNEGO NegTokenInit as Firefox sends it, with an AP-REQ
// of another realm (from RFC 4559-style captures, shortened).
const seedToken = "YIIBzQYGKwYBBQUCoIIBwTCCAb2gDTALBgkqhkiG9xIBAgKiggGqBIIBpmCCAaIGCSqGSIb3EgECAgEAboIBkTCCAY2gAwIBBaEDAgEOogcDBQAgAAAAo4HeYYHbMIHYoAMCAQWhDRsLRVhBTVBMRS5PUkeiJDAioAMCAQOhGzAZGwRIVFRQGxFob3N0LmV4YW1wbGUub3Jno4GdMIGaoAMCARKhAwIBAaKBjQSBiqOfakeciphertextAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// FuzzNegotiate: no token, however malformed, panics or is accepted.
func FuzzNegotiate(f *testing.F) {
	b := offlineBackend(f)
	seed, _ := base64.StdEncoding.DecodeString(seedToken)
	f.Add(seed)
	f.Add(seed[:40])
	f.Add([]byte{0x60, 0x03, 0x06, 0x01, 0x00})
	f.Add([]byte{0xa1, 0x00})
	f.Add([]byte("NTLMSSP\x00\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, token []byte) {
		_, err := b.Negotiate(t.Context(), token, netip.Addr{})
		if !errors.Is(err, backend.ErrInvalidCredentials) {
			t.Fatalf("token %x: %v, want a refusal", token, err)
		}
		if backend.TicketReason(err) == "" {
			t.Fatalf("token %x: a refusal without a reason", token)
		}
	})
}
