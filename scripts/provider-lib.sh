# Shared by scripts/hydra-up.sh and scripts/oidc-op-up.sh, which build a
# test OpenID provider from the Go module proxy once into a cache and check
# that it serves its discovery document. Source it, don't run it; the
# caller defines say().

# cached_build BIN MODDIR GO-BUILD-ARGS...: unless BIN exists, runs `go
# build GO-BUILD-ARGS -o <temp>` in MODDIR and moves the result to BIN
# (atomic: a parallel run sees no half-written binary).
cached_build() {
	local bin=$1 mod=$2 tmp
	shift 2
	[ -x "$bin" ] && return 0
	mkdir -p "$(dirname "$bin")"
	tmp=$(mktemp "$bin.XXXXXX")
	(cd "$mod" && go build -mod=readonly -trimpath -o "$tmp" "$@") || {
		rm -f "$tmp"
		say "build failed"
		return 1
	}
	mv "$tmp" "$bin"
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# await_discovery PID LOG URL PATTERN: waits (10 s at most) until the
# provider PID serves a discovery document at URL that contains PATTERN,
# then stops it. On failure it prints LOG and returns 1. LOG is removed.
await_discovery() {
	local pid=$1 log=$2 url=$3 pattern=$4 ok=0
	for _ in $(seq 1 100); do
		if curl -fsS "$url/.well-known/openid-configuration" 2>/dev/null | grep -q "$pattern"; then
			ok=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ "$ok" != 1 ]; then
		say "no discovery document with $pattern at $url; the provider's log:"
		cat "$log" >&2
	fi
	rm -f "$log"
	[ "$ok" = 1 ]
}
