package authn

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout   = 2 * time.Second
	DefaultCacheTTL  = 5 * time.Second
	DefaultCacheSize = 10000
)

// IntrospectPath is where Gatehouse answers introspection, below Config.URL.
const IntrospectPath = "/auth/v1/introspect"

// Config says where Gatehouse is and how this service proves who it is.
// The service's own account must be listed in Gatehouse's
// auth.service_users or auth.admin_users, or every introspection is refused
// (403) and the middleware answers 503.
//
//	authn.Config{
//		URL:    "http://127.0.0.1:9100",     // required
//		APIKey: os.Getenv("GATEHOUSE_API_KEY"), // or Token, or Username+Password
//	}
type Config struct {
	// URL is Gatehouse's base URL, e.g. http://127.0.0.1:9100. Required;
	// http or https, no user info, query or fragment. A path prefix is kept
	// (https://example.org/gatehouse asks https://example.org/gatehouse/auth/v1/introspect).
	URL string

	// The service's own credential: exactly one of Token (sent as
	// X-Auth-Token), APIKey (sent as St2-Api-Key), or Username and Password
	// (HTTP Basic). Required.
	Token    string
	APIKey   string
	Username string
	Password string

	// Client sends the introspection requests. Default: a client with a
	// 2 s timeout that does not follow redirects (a redirected POST would
	// lose its body, and the service credential must not go elsewhere).
	// A client of your own should have a timeout too.
	Client *http.Client

	// CacheTTL is how long an active answer is reused (default 5 s; a
	// negative value turns the cache off). An entry never outlives the
	// token's own expiry. Inactive answers are never cached, so a token
	// issued a moment ago works at once; a revoked one keeps working for
	// at most CacheTTL.
	CacheTTL time.Duration
	// CacheSize bounds the cache (entries; default 10,000; negative turns
	// the cache off). When it is full the least recently used entry goes.
	CacheSize int

	// Logger receives failures to reach Gatehouse (warn) and refused
	// credentials (debug). Credentials are never logged. Default: discard.
	Logger *slog.Logger
}

// withDefaults checks cfg and fills in its zero values.
func (cfg Config) withDefaults() (Config, error) {
	if err := cfg.checkURL(); err != nil {
		return cfg, err
	}
	if err := cfg.checkCredential(); err != nil {
		return cfg, err
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout: DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

func (cfg Config) checkURL() error {
	if cfg.URL == "" {
		return errors.New("authn: Config.URL is required")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// Not %w: url.Error repeats the URL, which may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("authn: Config.URL is not a URL: %v", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("authn: Config.URL %q: scheme must be http or https", u.Redacted())
	case u.Host == "":
		return fmt.Errorf("authn: Config.URL %q: no host", u.Redacted())
	case u.User != nil:
		return errors.New("authn: Config.URL must not hold credentials; use Username and Password")
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("authn: Config.URL %q: no query or fragment allowed", u.Redacted())
	}
	return nil
}

func (cfg Config) checkCredential() error {
	n := 0
	for _, set := range []bool{cfg.Token != "", cfg.APIKey != "", cfg.Username != "" || cfg.Password != ""} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return errors.New("authn: Config needs the service's credential: Token, APIKey, or Username and Password")
	case n > 1:
		return errors.New("authn: Config: set only one of Token, APIKey, or Username and Password")
	case (cfg.Username == "") != (cfg.Password == ""):
		return errors.New("authn: Config: Username and Password go together")
	case strings.Contains(cfg.Username, ":"):
		return errors.New("authn: Config.Username must not contain a colon (HTTP Basic)")
	}
	return nil
}

// introspectURL is the endpoint below the base URL.
func (cfg Config) introspectURL() string {
	return strings.TrimRight(cfg.URL, "/") + IntrospectPath
}

// authorize puts the service's own credential on an introspection request.
func (cfg Config) authorize(req *http.Request) {
	switch {
	case cfg.Token != "":
		req.Header.Set(HeaderToken, cfg.Token)
	case cfg.APIKey != "":
		req.Header.Set(HeaderAPIKey, cfg.APIKey)
	default:
		req.SetBasicAuth(cfg.Username, cfg.Password)
	}
}
