package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// servePGRef serves the lean reference for cache-miss introspection: a
// bare net/http server with a pgxpool of the same size as Gatehouse's,
// doing one indexed SELECT of the token's hash and an expiry check per
// request. It is what any service could do with no cache, no
// authentication of the caller, no metrics and no logging: the floor that
// Gatehouse's own miss path is measured against.
func servePGRef(args []string) error {
	fs := flag.NewFlagSet("pgref", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	db := fs.String("db", "", "PostgreSQL URL")
	conns := fs.Int("pool", 16, "pool size (Gatehouse's default pool_max_conns is 16)")
	_ = fs.Parse(args)
	cfg, err := pgxpool.ParseConfig(*db)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(*conns)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/v1/introspect", pgrefHandler(pool))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return (&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}).Serve(ln)
}

func pgrefHandler(pool *pgxpool.Pool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.Sum256([]byte(r.PostFormValue("token")))
		var user string
		var exp time.Time
		err := pool.QueryRow(r.Context(), `SELECT username, expires_at FROM tokens WHERE token_hash = $1`,
			hex.EncodeToString(sum[:])).Scan(&user, &exp)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case errors.Is(err, pgx.ErrNoRows) || (err == nil && !exp.After(time.Now())):
			_, _ = w.Write([]byte(`{"active":false}`))
		case err != nil:
			http.Error(w, `{"faultstring":"unavailable"}`, http.StatusServiceUnavailable)
		default:
			fmt.Fprintf(w, `{"active":true,"username":%q,"exp":%d}`, user, exp.Unix())
		}
	}
}
