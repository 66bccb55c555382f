package htpasswd_test

import (
	"path/filepath"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/backendtest"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/htpasswd"
)

func TestConformance(t *testing.T) {
	file := filepath.Join(t.TempDir(), "htpasswd")
	if err := htpasswd.SetUser(file, "alice", "alice-password", 4); err != nil {
		t.Fatal(err)
	}
	b, err := htpasswd.New(htpasswd.Config{FilePath: file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Run(t, b, backendtest.Fixture{User: "alice", Password: "alice-password"})
}
