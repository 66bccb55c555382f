#!/usr/bin/env bash
# Builds Ory Hydra v2.3.0, the OpenID Connect provider the oidc login
# method's tests sign in through, and prints the setting they read:
#
#   GATEHOUSE_TEST_HYDRA=/path/to/hydra
#
# Hydra is built from the Go module proxy through the module in
# scripts/hydra (its own go.mod and go.sum, so Gatehouse's go.mod stays
# clean and `go test ./...` never builds it), with -tags sqlite so that its
# in-memory database (DSN=memory) works. The build takes minutes, so it is
# done ONCE into a cache,
#
#   ${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}/hydra-v2.3.0-<hash>/hydra
#
# where <hash> is of scripts/hydra/go.mod and go.sum: a cached binary is
# reused only when it was built from the same module versions. The tests
# start their own private Hydra processes (in-memory, loopback ports), so
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

if [ ! -x "$BIN" ]; then
	say "building Ory Hydra v2.3.0 into $DIR (takes minutes the first time)"
	mkdir -p "$DIR"
	tmp=$(mktemp "$DIR/hydra.XXXXXX")
	(cd "$MOD" && CGO_ENABLED=1 go build -mod=readonly -trimpath \
		-tags sqlite,sqlite_omit_load_extension -o "$tmp" github.com/ory/hydra/v2) || {
		rm -f "$tmp"
		say "build failed"
		exit 1
	}
	mv "$tmp" "$BIN" # atomic: a parallel run sees no half-written binary
fi

# free_port prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

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
pid=$!
ok=0
for _ in $(seq 1 100); do
	if curl -fsS "http://127.0.0.1:$pub/.well-known/openid-configuration" >/dev/null 2>&1; then
		ok=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ "$ok" != 1 ]; then
	say "hydra did not serve its discovery document; its log:"
	cat "$log" >&2
	rm -f "$log"
	exit 1
fi
rm -f "$log"
echo "GATEHOUSE_TEST_HYDRA=$BIN"
