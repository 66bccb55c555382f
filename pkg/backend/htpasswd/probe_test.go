package htpasswd

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// TestProbe: a name in the file is the file's, whatever its hash; only a
// name missing from the file is Unknown, so a chain passes only those on.
func TestProbe(t *testing.T) {
	b := openFixture(t)
	tests := []struct {
		name, user, password string
		want                 backend.Verdict
	}{
		{"right password", "bcrypt_2y", "testpassword", backend.Accepted},
		{"wrong password", "bcrypt_2y", "wrong", backend.Refused},
		{"empty password", "bcrypt_2y", "", backend.Refused},
		{"plaintext entry never matches but is the file's", "plaintext", "testpassword", backend.Refused},
		{"unknown hash scheme", "yescrypt", "testpassword", backend.Refused},
		{"not in the file", "nobody", "testpassword", backend.Unknown},
		{"names are exact", "BCRYPT_2Y", "testpassword", backend.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, v, err := b.Probe(t.Context(), tt.user, tt.password)
			if err != nil || v != tt.want {
				t.Fatalf("Probe(%q) = %v, %v; want %v", tt.user, v, err, tt.want)
			}
			if (v == backend.Accepted) != (id.Username == tt.user) {
				t.Errorf("Probe(%q) identity %+v with %v", tt.user, id, v)
			}
		})
	}
}

// TestProbeUnreadable: a file that cannot be read is an error, not a
// verdict, and Spend then returns without work.
func TestProbeUnreadable(t *testing.T) {
	path := writeFile(t, "alice:$2y$04$ABCDEFGHIJKLMNOPQRSTUupTJBGMnUhsOsfbpwyG/qCCtHFwy8Jdy\n")
	b, err := New(Config{FilePath: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.checkInterval = 0
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Probe(t.Context(), "alice", "testpassword"); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Probe with the file gone = %v, want ErrUnavailable", err)
	}
	b.Spend(t.Context())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := openFixture(t).Probe(ctx, "bcrypt_2y", "testpassword"); !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("Probe with a done context = %v, want ErrUnavailable", err)
	}
}
