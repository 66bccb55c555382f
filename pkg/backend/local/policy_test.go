package local_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/local"
)

func TestCheckPolicy(t *testing.T) {
	tests := []struct {
		name, user, password string
		want                 string // "" for allowed, else a word of the message
	}{
		{"eight characters", "alice", "abcdefgh", ""},
		{"seven characters", "alice", "abcdefg", "at least 8"},
		{"empty", "alice", "", "at least 8"},
		{"eight runes in more bytes", "alice", "ééééééé", "at least 8"},
		{"eight runes", "alice", "éééééééé", ""},
		{"1024 characters", "alice", strings.Repeat("x", 1024), ""},
		{"1025 characters", "alice", strings.Repeat("x", 1025), "at most 1024"},
		{"the user name", "alice-admin", "alice-admin", "user name"},
		{"the user name in other case", "alice-admin", "Alice-Admin", "user name"},
		{"contains the user name", "alice", "alice-password", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := local.CheckPolicy(tt.user, tt.password)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckPolicy = %v, want nil", err)
			case tt.want != "" && (!errors.Is(err, local.ErrPolicy) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckPolicy = %v, want ErrPolicy saying %q", err, tt.want)
			case err != nil && tt.password != "" && strings.Contains(err.Error(), tt.password):
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
}
