#!/usr/bin/env bash
# Builds Ory Hydra v2.3.0, the OpenID Connect provider the oidc login
# method's tests sign in through, and prints the setting they read:
#
#   GATEHOUSE_TEST_HYDRA=/path/to/hydra
#
# Hydra is built from the Go module proxy through the module in
# scripts/hydra (its own go.mod and go.sum, so Gatehouse's go.mod stays
# clean and `go test ./...` never builds it), with -tags sqlite so that its
# SQLite databases work (the check below uses DSN=memory; the tests each a
# migrated file of their own). The build takes minutes, so it is
# done ONCE into a cache,
#
#   ${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}/hydra-v2.3.0-<hash>/hydra
#
# where <hash> is of scripts/hydra/go.mod and go.sum: a cached binary is
# reused only when it was built from the same module versions. The tests
# start their own private Hydra processes (own database file, loopback ports), so
# stopping one never disturbs another. This script checks once that such a
# process starts and answers its discovery document, and exits non-zero if
# not: tests must fail, not skip.
set -euo pipefail

say() { echo "hydra-up: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOD="$ROOT/scripts/hydra"
HASH=$(cat "$MOD/go.mod" "$MOD/go.sum" | sha256sum | cut -c1-16)
CACHE=${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}
DIR="$CACHE/hydra-v2.3.0-$HASH"
BIN="$DIR/hydra"

. "$ROOT/scripts/provider-lib.sh"
[ -x "$BIN" ] || say "building Ory Hydra v2.3.0 into $DIR (takes minutes the first time)"
CGO_ENABLED=1 cached_build "$BIN" "$MOD" -tags sqlite,sqlite_omit_load_extension github.com/ory/hydra/v2

# Check that the binary starts and serves discovery, on ports of its own.
pub=$(free_port)
adm=$(free_port)
log=$(mktemp)
DSN=memory \
	SECRETS_SYSTEM=hydra-up-check-secret-0123456789 \
	URLS_SELF_ISSUER="http://127.0.0.1:$pub/" \
	URLS_LOGIN="http://127.0.0.1:1/login" URLS_CONSENT="http://127.0.0.1:1/consent" \
	SERVE_PUBLIC_HOST=127.0.0.1 SERVE_PUBLIC_PORT=$pub \
	SERVE_ADMIN_HOST=127.0.0.1 SERVE_ADMIN_PORT=$adm \
	LOG_LEVEL=error \
	"$BIN" serve all --dev >"$log" 2>&1 &
await_discovery $! "$log" "http://127.0.0.1:$pub" '"issuer"'
echo "GATEHOUSE_TEST_HYDRA=$BIN"
