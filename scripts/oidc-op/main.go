// Command oidc-op runs the OpenID provider example of github.com/zitadel/oidc/v3
// (a certified OpenID Connect library) on a loopback port of the caller's
// choice, with the clients and users Gatehouse's tests need. It is the
// provider the device authorization (RFC 8628) tests sign in through: Ory
// Hydra, the other test provider, has no device endpoint.
//
// All protocol code is zitadel's (pkg/op, example/server/exampleop and its
// in-memory example/server/storage); this file only wires them, because the
// example's own main hard-codes the issuer http://localhost:<port>/, listens
// on every interface and registers no device client.
//
//	oidc-op -addr 127.0.0.1:PORT -users users.json -client ID -secret SECRET
//
// The issuer is http://<addr>/; the device verification page is /device.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "host:port to listen on (loopback)")
	users := flag.String("users", "", "JSON file of users (storage.StoreFromFile format); empty: the example's own users")
	client := flag.String("client", "gatehouse-device", "client_id of the device-flow client")
	secret := flag.String("secret", "gatehouse-device-secret", "client_secret of the device-flow client")
	flag.Parse()

	issuer := fmt.Sprintf("http://%s/", *addr)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	storage.RegisterClients(storage.DeviceClient(*client, *secret))
	var store storage.UserStore = storage.NewUserStore(issuer)
	if *users != "" {
		var err error
		if store, err = storage.StoreFromFile(*users); err != nil {
			fmt.Fprintln(os.Stderr, "oidc-op:", err)
			os.Exit(1)
		}
	}
	router := exampleop.SetupServer(issuer, storage.NewStorage(store), logger, false)
	fmt.Fprintln(os.Stderr, "oidc-op: listening, issuer", issuer)
	if err := http.ListenAndServe(*addr, router); err != nil {
		fmt.Fprintln(os.Stderr, "oidc-op:", err)
		os.Exit(1)
	}
}
