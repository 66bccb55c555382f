// Command authn-example is a tiny service behind Gatehouse: it answers
// "hello <user>" with the caller's groups, and only to callers with a token
// or API key that Gatehouse calls active.
//
//	GATEHOUSE_API_KEY=… go run ./cmd/authn-example -gatehouse http://127.0.0.1:9100 -listen 127.0.0.1:8080
//	curl -H "X-Auth-Token: $TOKEN" http://127.0.0.1:8080/
//
// The service's own credential comes from GATEHOUSE_API_KEY or
// GATEHOUSE_TOKEN, and its user must be in Gatehouse's auth.service_users
// (or auth.admin_users).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse/pkg/authn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	gatehouse := flag.String("gatehouse", "http://127.0.0.1:9100", "Gatehouse base URL")
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	flag.Parse()
	if err := run(ctx, *gatehouse, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "authn-example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, gatehouse, listen string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	// 1. One middleware per process, with the service's own credential.
	mw, err := authn.New(authn.Config{
		URL:    gatehouse,
		APIKey: os.Getenv("GATEHOUSE_API_KEY"),
		Token:  os.Getenv("GATEHOUSE_TOKEN"),
		Logger: log,
	})
	if err != nil {
		return err
	}
	// 2. Put the application behind it.
	mux := http.NewServeMux()
	mux.Handle("/", mw.Handler(http.HandlerFunc(hello)))

	srv := &http.Server{Addr: listen, Handler: mux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	return serve(ctx, srv, log)
}

// hello answers the caller by name.
func hello(w http.ResponseWriter, r *http.Request) {
	// 3. Who is asking: always there behind the middleware.
	id, _ := authn.FromContext(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	groups := "none"
	if len(id.Groups) > 0 {
		groups = strings.Join(id.Groups, ", ")
	}
	fmt.Fprintf(w, "hello %s\ngroups: %s\n", id.Username, groups)
}

// serve runs srv until ctx is done, then shuts it down gracefully.
func serve(ctx context.Context, srv *http.Server, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("serving", "addr", srv.Addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
