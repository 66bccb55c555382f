package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/config"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/store"
	"github.com/gatehouse-auth/gatehouse/pkg/store/storeopen"
)

func newServeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the authentication service",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, true)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, newLogger(cfg.Auth.Debug), nil)
		},
	}
	config.BindFlags(cmd.Flags())
	return cmd
}

// loadConfig reads --config, the environment and the command's flags, and
// validates the result against the backends this binary has. With
// checkBackend it also builds the backend once, and drops it, so that a
// problem in backend_kwargs joins the same list instead of showing only on
// the next start; serve does, migrate (which uses no backend) does not.
func loadConfig(cmd *cobra.Command, checkBackend bool) (config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path, cmd.Flags())
	if err != nil {
		return cfg, err
	}
	reg := newRegistry(nil)
	var problems []*config.FieldError
	if verr := (*config.ValidationError)(nil); errors.As(cfg.Validate(reg.Names()), &verr) {
		problems = verr.Problems
	}
	if checkBackend && !slices.ContainsFunc(problems, func(p *config.FieldError) bool { return strings.HasPrefix(p.Key, "auth.backend") }) {
		if err := tryBackend(reg, cfg); err != nil {
			key := "auth.backend_kwargs"
			if len(cfg.Auth.Backends) > 0 {
				key = "auth.backends"
			}
			problems = append(problems, &config.FieldError{Key: key, Source: cfg.Source(key), Err: err})
			slices.SortStableFunc(problems, func(a, b *config.FieldError) int { return strings.Compare(a.Key, b.Key) })
		}
	}
	if len(problems) > 0 {
		return cfg, configProblems{&config.ValidationError{Problems: problems}}
	}
	return cfg, nil
}

// tryBackend builds the configured backends, without logging, to check
// their settings, and closes them.
func tryBackend(reg *backend.Registry, cfg config.Config) error {
	bs, err := openBackends(reg, cfg, nil) // Validate checked the names
	if err != nil {
		return err
	}
	if c, ok := bs.backend.(io.Closer); ok {
		_ = c.Close()
	}
	return nil
}

// configProblems prints every configuration problem on a line of its own,
// indented under a line saying how many there are:
//
//	gatehouse: invalid configuration, 2 problems:
//	  auth.port (gatehouse.yaml:3): must be between 0 (any free port) and 65535, got 70000
//	  auth.token_ttl (environment variable GATEHOUSE_AUTH_TOKEN_TTL): "abc" is not a whole number of seconds
type configProblems struct{ v *config.ValidationError }

func (e configProblems) Error() string {
	var b strings.Builder
	if n := len(e.v.Problems); n == 1 {
		b.WriteString("invalid configuration, 1 problem:")
	} else {
		fmt.Fprintf(&b, "invalid configuration, %d problems:", n)
	}
	for _, p := range e.v.Problems {
		b.WriteString("\n  " + p.Error())
	}
	return b.String()
}

func (e configProblems) Unwrap() error { return e.v }

func newLogger(debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// defaultGCPercent is Gatehouse's garbage collector setting unless GOGC is
// set: the live heap is small (the validation cache is most of it), and
// collecting less often keeps collections out of the latency tail of the
// introspection hot path (docs/BENCHMARKS.md). The soft memory limit
// (auth.memory_limit_mib) bounds what that lets the heap grow to.
const defaultGCPercent = 400

// cacheBytes is auth.cache_max_mib for httpapi.Config: 0 turns the cache
// off, which the Config says with a negative size.
func cacheBytes(mib int) int {
	if mib == 0 {
		return -1
	}
	return mib << 20
}

// tuneGC sets the collector's pace and the soft memory limit, unless the
// GOGC and GOMEMLIMIT environment variables set them.
func tuneGC(limitMiB int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" && limitMiB > 0 {
		debug.SetMemoryLimit(int64(limitMiB) << 20)
	}
}

// serve runs the service until ctx is done. When ready is not nil it gets
// the listening address once the service accepts connections.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, ready chan<- net.Addr) error {
	tuneGC(cfg.Auth.MemoryLimitMiB)
	st, err := openStore(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := firstRun(ctx, cfg, st, os.Stderr); err != nil {
		return err
	}
	bs, err := openBackends(newRegistry(st), cfg, log)
	if err != nil {
		return err
	}
	b := bs.backend
	defer closeBackend(b, log)
	api := httpapi.NewServer(apiConfig(cfg, st, bs, log))
	srv, certs, err := newHTTPServer(cfg, api, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Auth.Host, strconv.Itoa(cfg.Auth.Port)))
	if err != nil {
		return err
	}
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	background.Go(func() { api.Run(bg) })
	background.Go(func() { warnIfNotReady(bg, bs.name, b, log) })
	defer func() { stopBackground(); background.Wait() }()
	hupCtx, stopHUP := context.WithCancel(ctx)
	defer stopHUP()
	handleSIGHUP(hupCtx, log, certs.reloadFunc())
	return run(ctx, srv, ln, api, log, ready, time.Duration(cfg.Auth.ShutdownDelay)*time.Second)
}

// warnIfNotReady probes the backend once, beside serving (an LDAP server
// that does not answer takes network_timeout), and logs one warning if it
// cannot check passwords yet. Gatehouse runs anyway, as st2auth does: the
// backend retries on each login, so it recovers without a restart.
func warnIfNotReady(ctx context.Context, name string, b backend.Backend, log *slog.Logger) {
	p, ok := b.(backend.ReadyChecker)
	if !ok {
		return
	}
	if err := p.Ready(ctx); err != nil && ctx.Err() == nil {
		log.Warn(fmt.Sprintf("%s backend cannot check passwords: %v; logins will fail with 503 until it can, no restart needed", name, err),
			slog.String("backend", name))
	}
}

// openStore opens the database and applies migrations, giving up after a
// bounded time so a wrong URL fails the start instead of hanging.
func openStore(ctx context.Context, url string) (store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := storeopen.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}

func apiConfig(cfg config.Config, st store.Store, bs backends, log *slog.Logger) httpapi.Config {
	trusted, _ := cfg.Auth.TrustedProxies()        // checked by Validate
	metricsAllowed, _ := cfg.Auth.MetricsAllowed() // checked by Validate
	return httpapi.Config{
		Mode:               cfg.Auth.Mode,
		BackendName:        bs.name,
		TrustedProxies:     trusted,
		MetricsAllowed:     metricsAllowed,
		GroupHeader:        cfg.Auth.GroupHeader,
		ForwardAuthHeaders: cfg.Auth.ForwardAuthHeaders,
		AllowedOrigins:     cfg.AllowedOrigins(),
		AllowedHosts:       cfg.Auth.AllowedHosts,
		CacheBytes:         cacheBytes(cfg.Auth.CacheMaxMiB),
		Throttle: httpapi.Throttle{
			LoginFailures:   cfg.Throttle.LoginFailures,
			AccountFailures: cfg.Throttle.AccountFailures,
			AddressFailures: cfg.Throttle.AddressFailures,
			LoginWindow:     time.Duration(cfg.Throttle.LoginWindow) * time.Second,
			ScanFailures:    cfg.Throttle.ScanFailures,
			ScanWindow:      time.Duration(cfg.Throttle.ScanWindow) * time.Second,
		},
		Store:             st,
		Backend:           bs.backend,
		Negotiator:        bs.negotiator,
		Local:             localHasher(bs),
		SSO:               bs.sso,
		Logger:            log,
		TokenTTL:          time.Duration(cfg.Auth.TokenTTL) * time.Second,
		ServiceTokenTTL:   time.Duration(cfg.Auth.ServiceTokenTTL) * time.Second,
		APIURL:            cfg.Auth.EffectiveAPIURL(),
		AdminUsers:        cfg.Auth.AdminUsers,
		ServiceUsers:      cfg.Auth.ServiceUsers,
		ImpersonateAdmins: cfg.Auth.ImpersonateAdmins,
		TokenMaxLifetime:  time.Duration(cfg.Auth.TokenMaxLifetime) * time.Second,
	}
}

// Server limits. Header bytes are capped far below Go's 1 MiB default: a
// Basic header and a token fit in a few hundred bytes.
const (
	// maxHeaderBytes is the documented cap on an HTTP/1 request's line and
	// headers: a larger block gets 431.
	maxHeaderBytes = 16 << 10
	// headerSlack is what net/http reads beyond http.Server.MaxHeaderBytes
	// before it gives up (its "bufio slop"); MaxHeaderBytes is set this
	// much lower so that the cap is maxHeaderBytes exactly.
	headerSlack       = 4096
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 30 * time.Second
)

// newHTTPServer builds the server. With auth.use_ssl it also returns the
// certificate reloader its TLS configuration reads from (nil otherwise).
func newHTTPServer(cfg config.Config, h http.Handler, log *slog.Logger) (*http.Server, *certReloader, error) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes - headerSlack,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if !cfg.Auth.UseSSL {
		return srv, nil, nil
	}
	certs, err := newCertReloader(cfg.Auth.Cert, cfg.Auth.Key, log)
	if err != nil {
		return nil, nil, err
	}
	srv.TLSConfig = certs.tlsConfig()
	return srv, certs, nil
}

// durationMS is a duration attribute in milliseconds, to the microsecond:
// "duration_ms": 0.631 rather than slog's raw nanoseconds.
func durationMS(key string, d time.Duration) slog.Attr {
	return slog.Float64(key, float64(d.Microseconds())/1000)
}

// run serves on ln until ctx is done, then turns readiness off, keeps
// serving for drain so that load balancers polling /readyz stop sending new
// requests, and lets in-flight requests finish. (Shutdown closes the
// listener and idle connections at once: without the drain, readiness would
// go straight from 200 to connection refused.)
func run(ctx context.Context, srv *http.Server, ln net.Listener, api *httpapi.Server, log *slog.Logger, ready chan<- net.Addr, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	scheme := "http"
	if srv.TLSConfig != nil {
		scheme = "https"
	}
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.Bool("tls", srv.TLSConfig != nil),
		slog.String("web_page", scheme+"://"+ln.Addr().String()+"/ui/"))
	if ready != nil {
		ready <- ln.Addr()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; a second signal exits at once", durationMS("drain_ms", drain))
	api.StartDraining()
	if drain > 0 {
		t := time.NewTimer(drain)
		select {
		case <-t.C:
		case err := <-errc:
			t.Stop()
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
