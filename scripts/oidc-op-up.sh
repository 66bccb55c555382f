#!/usr/bin/env bash
# Builds the OpenID provider of github.com/zitadel/oidc/v3 v3.52.0 (its
# example server, a certified OpenID Connect library's own provider), the
# provider the device authorization (RFC 8628) tests sign in through, and
# prints the setting they read:
#
#   GATEHOUSE_TEST_OIDC_OP=/path/to/oidc-op
#
# Ory Hydra, the other test provider, has no device endpoint. The binary is
# built from the Go module proxy through the module in scripts/oidc-op (its
# own go.mod and go.sum, so Gatehouse's go.mod stays clean and `go test
# ./...` never builds it); its main.go only wires zitadel's op, exampleop
# and storage packages on a loopback address of the caller's choice. It is
# built ONCE into a cache,
#
#   ${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}/oidc-op-v3.52.0-<hash>/oidc-op
#
# where <hash> is of scripts/oidc-op/go.mod, go.sum and main.go. The tests
# start their own private processes (loopback ports); this script checks
# once that one starts and serves a discovery document that lists a
# device_authorization_endpoint, and exits non-zero if not: tests must
# fail, not skip.
set -euo pipefail

say() { echo "oidc-op-up: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOD="$ROOT/scripts/oidc-op"
HASH=$(cat "$MOD/go.mod" "$MOD/go.sum" "$MOD/main.go" | sha256sum | cut -c1-16)
CACHE=${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}
DIR="$CACHE/oidc-op-v3.52.0-$HASH"
BIN="$DIR/oidc-op"

. "$ROOT/scripts/provider-lib.sh"
[ -x "$BIN" ] || say "building the zitadel/oidc v3.52.0 provider into $DIR"
CGO_ENABLED=0 cached_build "$BIN" "$MOD" .

port=$(free_port)
log=$(mktemp)
"$BIN" -addr "127.0.0.1:$port" >"$log" 2>&1 &
await_discovery $! "$log" "http://127.0.0.1:$port" '"device_authorization_endpoint"'
echo "GATEHOUSE_TEST_OIDC_OP=$BIN"
