package pam

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Name is the backend name used in the configuration, as in st2.
const Name = "pam"

// Defaults and limits of the options.
const (
	DefaultService       = "login"
	DefaultMaxConcurrent = 4
	DefaultQueueTimeout  = 100 * time.Millisecond
	// MaxMaxConcurrent bounds max_concurrent: each running transaction
	// holds an OS thread, and more than this many is a typo, not a plan.
	MaxMaxConcurrent = 256
)

// Config configures the pam backend. In gatehouse.yaml:
//
//	auth:
//	  backend: pam
//	  backend_kwargs:
//	    service: gatehouse     # /etc/pam.d/gatehouse; default "login"
//	    max_concurrent: 4      # PAM transactions at once; default 4
//	    queue_timeout: 100ms   # wait for a free slot, then 503; default 100ms
//	    check_for_root: true   # st2's option; default true
//
// or, in st2.conf, backend_kwargs = {"service": "gatehouse"}.
//
// Start from DefaultConfig: New does not fill in zero fields.
type Config struct {
	// Service is the PAM service name: the file /etc/pam.d/<service>, or
	// <confdir>/<service>. Default "login", as in st2. Like every PAM
	// application, an unknown service falls back to the "other" service.
	Service string `mapstructure:"service"`

	// ConfDir, if set, is a directory read instead of /etc/pam.d (and
	// /usr/lib/pam.d, /etc/pam.conf), through pam_start_confdir (Linux-PAM
	// 1.4 or later). Mostly for tests and private stacks.
	ConfDir string `mapstructure:"confdir"`

	// MaxConcurrent caps the PAM transactions running at once, between 1
	// and MaxMaxConcurrent. Default 4.
	MaxConcurrent int `mapstructure:"max_concurrent"`

	// QueueTimeout is how long a login waits for a free slot before it
	// fails with backend.ErrBusy (HTTP 503); 0 fails at once. In
	// backend_kwargs: a number of seconds (0.1) or a Go duration ("100ms").
	// Default 100ms.
	QueueTimeout time.Duration `mapstructure:"queue_timeout"`

	// CheckForRoot is st2's option and means the same: New fails unless the
	// process runs as root (euid 0), because pam_unix can only check other
	// users' passwords as root. Set it to false for stacks that need no
	// root (pam_pwdfile, pam_sss, a service user in the shadow group).
	// Default true.
	CheckForRoot bool `mapstructure:"check_for_root"`
}

// DefaultConfig returns the configuration used for options not given.
func DefaultConfig() Config {
	return Config{
		Service:       DefaultService,
		MaxConcurrent: DefaultMaxConcurrent,
		QueueTimeout:  DefaultQueueTimeout,
		CheckForRoot:  true,
	}
}

// decodeKwargs reads st2-style backend_kwargs over DefaultConfig. Unknown
// keys and values of the wrong type are errors naming the key.
func decodeKwargs(kwargs map[string]any) (Config, error) {
	cfg := DefaultConfig()
	if err := backend.DecodeKwargs(kwargs, &cfg, backend.KwargsOptions{Hook: decodeHook}); err != nil {
		return cfg, fmt.Errorf("pam: %w", err)
	}
	return cfg, nil
}

var durationType = reflect.TypeFor[time.Duration]()

// decodeHook reads durations as seconds (numbers) or Go durations
// (strings), and refuses a fractional number for an integer option, which
// mapstructure would otherwise truncate.
func decodeHook(from, to reflect.Type, data any) (any, error) {
	if to == durationType {
		return parseDuration(data)
	}
	if to.Kind() == reflect.Int {
		if f, ok := data.(float64); ok && f != math.Trunc(f) {
			return nil, fmt.Errorf("want a whole number, got %v", f)
		}
	}
	return data, nil
}

// parseDuration accepts 0.1, 1, "100ms", "1s" or "0.1" (seconds).
func parseDuration(v any) (time.Duration, error) {
	var secs float64
	switch v := v.(type) {
	case time.Duration:
		return v, nil
	case int:
		secs = float64(v)
	case int64:
		secs = float64(v)
	case uint64:
		secs = float64(v)
	case float64:
		secs = v
	case string:
		if d, err := time.ParseDuration(v); err == nil {
			return d, nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, fmt.Errorf("want seconds or a duration such as \"100ms\", got %q", v)
		}
		secs = f
	default:
		return 0, fmt.Errorf("want seconds or a duration such as \"100ms\", got %T", v)
	}
	if math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > (1<<62)/float64(time.Second) {
		return 0, fmt.Errorf("duration %v out of range", v)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// validate reports every problem of cfg at once.
func (cfg Config) validate() error {
	var errs []error
	switch {
	case cfg.Service == "":
		errs = append(errs, errors.New(`missing required option "service"`))
	case strings.ContainsAny(cfg.Service, "/\x00"):
		errs = append(errs, fmt.Errorf("service %q: must be a file name, without '/'", cfg.Service))
	}
	if strings.ContainsRune(cfg.ConfDir, 0) {
		errs = append(errs, fmt.Errorf("confdir %q: contains NUL", cfg.ConfDir))
	}
	if cfg.MaxConcurrent < 1 || cfg.MaxConcurrent > MaxMaxConcurrent {
		errs = append(errs, fmt.Errorf("max_concurrent %d: want 1 to %d", cfg.MaxConcurrent, MaxMaxConcurrent))
	}
	if cfg.QueueTimeout < 0 {
		errs = append(errs, fmt.Errorf("queue_timeout %s: must not be negative", cfg.QueueTimeout))
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New("pam: " + strings.Join(msgs, "; "))
}
