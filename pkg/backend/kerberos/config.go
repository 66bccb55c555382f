package kerberos

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// Name is the backend's name in auth.backend and auth.backends.
const Name = "kerberos"

// Defaults.
const (
	// DefaultTimeout bounds one password check's exchanges with the KDC.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxClockSkew is how far a client's clock may be from ours
	// (Kerberos' usual five minutes).
	DefaultMaxClockSkew = 5 * time.Minute
	// DefaultMaxConcurrent bounds the password checks in flight at once.
	DefaultMaxConcurrent = 64
)

// Config is the kerberos backend's backend_kwargs.
//
//	keytab: /etc/gatehouse/http.keytab
//	service_principal: HTTP/gatehouse.example.org@EXAMPLE.ORG
//	realm: EXAMPLE.ORG
//	kdcs: [dc1.example.org, dc2.example.org:88]
//	strip_realm: true
//	allowed_realms: [EXAMPLE.ORG]
type Config struct {
	// Keytab is the file holding the service principal's keys (required;
	// ktpass on Active Directory, ipa-getkeytab on FreeIPA, ktadd on MIT).
	Keytab string `mapstructure:"keytab"`
	// ServicePrincipal is HTTP/<the host name clients use>@REALM
	// (required). Tickets for any other principal are refused.
	ServicePrincipal string `mapstructure:"service_principal"`
	// Realm is the realm of user names without one (default: the
	// service principal's).
	Realm string `mapstructure:"realm"`
	// KDCs are the KDCs asked for password checks (host or host:port);
	// empty: those krb5.conf names for the realm.
	KDCs []string `mapstructure:"kdcs"`
	// Krb5Conf is the krb5.conf read when KDCs is empty (default
	// $KRB5_CONFIG, else /etc/krb5.conf).
	Krb5Conf string `mapstructure:"krb5_conf"`
	// StripRealm makes alice@EXAMPLE.ORG the user alice (default true);
	// only Realm is stripped: names of the other AllowedRealms keep theirs.
	StripRealm bool `mapstructure:"strip_realm"`
	// AllowedRealms are the client realms accepted (default: Realm).
	AllowedRealms []string `mapstructure:"allowed_realms"`
	// Timeout, in seconds, bounds a password check's exchanges with the
	// KDC (default 5): past it the answer is 503.
	Timeout float64 `mapstructure:"timeout"`
	// MaxClockSkew, in seconds, is how far a client's clock may be from
	// the server's (default 300).
	MaxClockSkew float64 `mapstructure:"max_clock_skew"`
}

// DefaultConfig returns a Config with the defaults and no required option.
func DefaultConfig() Config {
	return Config{StripRealm: true, Timeout: DefaultTimeout.Seconds(), MaxClockSkew: DefaultMaxClockSkew.Seconds()}
}

// settings are a validated Config, ready to use.
type settings struct {
	keytab   *keytab.Keytab
	spn      types.PrincipalName
	spnRealm string
	spnText  string // HTTP/host@REALM
	realm    string
	krb5     *krbconfig.Config
	strip    bool
	allowed  []string
	timeout  time.Duration
	skew     time.Duration
}

// validate checks cfg, reads the keytab and the KDC settings, and reports
// every problem at once.
func (cfg Config) validate() (settings, error) {
	var errs []error
	s := settings{strip: cfg.StripRealm}
	if cfg.ServicePrincipal == "" {
		errs = append(errs, errors.New(`missing required option "service_principal" (HTTP/host@REALM)`))
	} else {
		s.spn, s.spnRealm = types.ParseSPNString(cfg.ServicePrincipal)
		if s.spnRealm == "" || len(s.spn.NameString) == 0 {
			errs = append(errs, fmt.Errorf(`service_principal %q: want HTTP/host@REALM`, cfg.ServicePrincipal))
		}
		s.spnText = cfg.ServicePrincipal
	}
	s.realm = cmpOr(cfg.Realm, s.spnRealm)
	s.allowed = cfg.AllowedRealms
	if len(s.allowed) == 0 && s.realm != "" {
		s.allowed = []string{s.realm}
	}
	var err error
	if s.timeout, err = seconds("timeout", cfg.Timeout); err != nil {
		errs = append(errs, err)
	}
	if s.skew, err = seconds("max_clock_skew", cfg.MaxClockSkew); err != nil {
		errs = append(errs, err)
	}
	if cfg.Keytab == "" {
		errs = append(errs, errors.New(`missing required option "keytab"`))
	} else if s.keytab, err = loadKeytab(cfg.Keytab, s); err != nil {
		errs = append(errs, err)
	}
	if s.krb5, err = cfg.krb5Config(s.realm); err != nil {
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}

// loadKeytab reads the keytab and checks that it holds the service
// principal's keys; errors name the file, never its content.
func loadKeytab(path string, s settings) (*keytab.Keytab, error) {
	kt, err := keytab.Load(path)
	if err != nil {
		return nil, fmt.Errorf("keytab %s: %w", path, unwrapPathError(err))
	}
	if s.spnRealm == "" {
		return kt, nil
	}
	if !hasPrincipal(kt, s) {
		return nil, fmt.Errorf("keytab %s holds no key for %s", path, s.spnText)
	}
	return kt, nil
}

// hasPrincipal reports whether kt has any entry for the service principal.
func hasPrincipal(kt *keytab.Keytab, s settings) bool {
	for _, e := range kt.Entries {
		if e.Principal.Realm == s.spnRealm && slices.Equal(e.Principal.Components, s.spn.NameString) {
			return true
		}
	}
	return false
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// krb5Config is the client configuration for password checks: the KDCs
// given, or krb5.conf's.
func (cfg Config) krb5Config(realm string) (*krbconfig.Config, error) {
	var c *krbconfig.Config
	if len(cfg.KDCs) > 0 {
		c = krbconfig.New()
		c.Realms = []krbconfig.Realm{{Realm: realm, KDC: withPort(cfg.KDCs)}}
	} else {
		path := cmpOr(cfg.Krb5Conf, os.Getenv("KRB5_CONFIG"), "/etc/krb5.conf")
		var err error
		c, err = krbconfig.Load(path)
		if err != nil {
			var unsupported krbconfig.UnsupportedDirective
			if !errors.As(err, &unsupported) {
				return nil, fmt.Errorf("krb5.conf %s (set kdcs to do without it): %w", path, err)
			}
		}
	}
	if realm != "" {
		c.LibDefaults.DefaultRealm = realm
	}
	c.LibDefaults.DNSLookupKDC = len(cfg.KDCs) == 0 && c.LibDefaults.DNSLookupKDC
	// TCP only: a UDP answer lost on the way is a timeout, and AD's
	// answers with groups do not fit a datagram anyway.
	c.LibDefaults.UDPPreferenceLimit = 1
	return c, nil
}

// withPort adds Kerberos' port 88 to hosts given without one.
func withPort(kdcs []string) []string {
	out := make([]string, 0, len(kdcs))
	for _, k := range kdcs {
		if !strings.Contains(strings.TrimPrefix(k, "["), ":") || strings.HasSuffix(k, "]") {
			k += ":88"
		}
		out = append(out, k)
	}
	return out
}

func seconds(name string, v float64) (time.Duration, error) {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) || v > 86400 {
		return 0, fmt.Errorf("%s must be a number of seconds between 0 and 86400, not %v", name, v)
	}
	return time.Duration(v * float64(time.Second)), nil
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// decodeConfig fills DefaultConfig from backend_kwargs.
func decodeConfig(kwargs map[string]any) (Config, error) {
	cfg := DefaultConfig()
	err := backend.DecodeKwargs(kwargs, &cfg, backend.KwargsOptions{WeaklyTyped: true})
	return cfg, err
}
