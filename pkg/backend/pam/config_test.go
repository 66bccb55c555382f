package pam

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeKwargsDefaults(t *testing.T) {
	for _, kwargs := range []map[string]any{nil, {}} {
		cfg, err := decodeKwargs(kwargs)
		if err != nil {
			t.Fatal(err)
		}
		if cfg != DefaultConfig() {
			t.Errorf("decodeKwargs(%v) = %+v, want %+v", kwargs, cfg, DefaultConfig())
		}
	}
	want := Config{Service: "login", MaxConcurrent: 4, QueueTimeout: 100 * time.Millisecond, CheckForRoot: true}
	if DefaultConfig() != want {
		t.Errorf("DefaultConfig() = %+v, want %+v", DefaultConfig(), want)
	}
}

func TestDecodeKwargs(t *testing.T) {
	tests := []struct {
		name   string
		kwargs map[string]any
		want   Config
	}{
		{
			name:   "st2 options",
			kwargs: map[string]any{"service": "gatehouse", "check_for_root": false},
			want:   Config{Service: "gatehouse", MaxConcurrent: 4, QueueTimeout: 100 * time.Millisecond},
		},
		{
			name: "every option, YAML types",
			kwargs: map[string]any{"service": "st2", "confdir": "/srv/pam.d", "max_concurrent": 8,
				"queue_timeout": "250ms", "check_for_root": true},
			want: Config{Service: "st2", ConfDir: "/srv/pam.d", MaxConcurrent: 8,
				QueueTimeout: 250 * time.Millisecond, CheckForRoot: true},
		},
		{
			name:   "JSON numbers (st2.conf)",
			kwargs: map[string]any{"max_concurrent": 2.0, "queue_timeout": 0.5},
			want:   Config{Service: "login", MaxConcurrent: 2, QueueTimeout: 500 * time.Millisecond, CheckForRoot: true},
		},
		{
			name:   "whole seconds",
			kwargs: map[string]any{"queue_timeout": 2},
			want:   Config{Service: "login", MaxConcurrent: 4, QueueTimeout: 2 * time.Second, CheckForRoot: true},
		},
		{
			name:   "seconds as a string",
			kwargs: map[string]any{"queue_timeout": "0.05"},
			want:   Config{Service: "login", MaxConcurrent: 4, QueueTimeout: 50 * time.Millisecond, CheckForRoot: true},
		},
		{
			name:   "no waiting",
			kwargs: map[string]any{"queue_timeout": 0},
			want:   Config{Service: "login", MaxConcurrent: 4, CheckForRoot: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeKwargs(tt.kwargs)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if err := got.validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestDecodeKwargsErrors(t *testing.T) {
	tests := []struct {
		name   string
		kwargs map[string]any
		want   []string // substrings of the error
	}{
		{"unknown keys are named", map[string]any{"service": "x", "colour": "red", "servcie": "y"}, []string{"colour", "servcie"}},
		{"wrong type", map[string]any{"service": 7}, []string{"service"}},
		{"fractional max_concurrent", map[string]any{"max_concurrent": 2.5}, []string{"max_concurrent", "whole number"}},
		{"bad duration", map[string]any{"queue_timeout": "soon"}, []string{"queue_timeout", "soon"}},
		{"bad duration type", map[string]any{"queue_timeout": true}, []string{"queue_timeout"}},
		{"check_for_root not a bool", map[string]any{"check_for_root": "yes"}, []string{"check_for_root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeKwargs(tt.kwargs)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"empty service", func(c *Config) { c.Service = "" }, []string{`"service"`}},
		{"path as service", func(c *Config) { c.Service = "../shadow" }, []string{"service", "'/'"}},
		{"NUL in confdir", func(c *Config) { c.ConfDir = "/a\x00b" }, []string{"confdir"}},
		{"zero max_concurrent", func(c *Config) { c.MaxConcurrent = 0 }, []string{"max_concurrent 0"}},
		{"huge max_concurrent", func(c *Config) { c.MaxConcurrent = 100000 }, []string{"max_concurrent 100000", "256"}},
		{"negative queue_timeout", func(c *Config) { c.QueueTimeout = -time.Second }, []string{"queue_timeout -1s"}},
		{"all at once", func(c *Config) { c.Service, c.MaxConcurrent, c.QueueTimeout = "", -1, -1 },
			[]string{"service", "max_concurrent", "queue_timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.change(&cfg)
			err := cfg.validate()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
