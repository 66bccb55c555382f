#!/usr/bin/env bash
# Introspection at scale (issue 18): many distinct tokens, bounded memory,
# revocation latency. Every figure is a ratio against a reference measured
# in the same run, in interleaved rounds, because these machines drift.
#
#   1. cache-miss path: a random seeded token per request (uniform over
#      TOKENS) against Gatehouse and against `gatehouse-load pgref`, a bare
#      net/http server with a pgxpool of Gatehouse's size doing one indexed
#      SELECT and an expiry check. Goal: Gatehouse >= 0.90x.
#   2. memory: Gatehouse's RSS after every round (goal <= 64 MiB, flat),
#      and where the heap goes (Go runtime metrics from /metrics).
#   3. scale: the cache turned off, store-path rates at each size in SCALES
#      (default "1000 1000000"; add 10000000 for the 10^7 run). Goal: within
#      10% of each other.
#   4. a realistic mix: Zipf-distributed tokens, with the cache's hit rate,
#      beside the single-token and uniform figures.
#   5. revocation latency: two replicas on one PostgreSQL; REVOCATIONS
#      (default 1000) revocations on A, each timed until B refuses the
#      token, under load on B. Goal: p99 <= 100 ms.
#
# Env: DURATION (10s a run), ROUNDS (3), WORKERS (32), TOKENS (1000000),
# SCALES, REVOCATIONS, SOAK_MINUTES (0: no memory soak; 10 for the goal).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s} ROUNDS=${ROUNDS:-3} WORKERS=${WORKERS:-32}
TOKENS=${TOKENS:-1000000} SCALES=${SCALES:-"1000 1000000"} REVOCATIONS=${REVOCATIONS:-1000}
SOAK_MINUTES=${SOAK_MINUTES:-0}
work=$(mktemp -d)
server_cpu=() load_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	server_cpu=(taskset -c 0) load_cpu=(taskset -c "1-$(($(nproc) - 1))")
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; bench_postgres_down "$work"; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load
. scripts/lib.sh
base=$(bench_postgres "$work")
db="gatehouse_scale"
psql "$base" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
url=$(echo "$base" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
for u in svc joe; do echo "$u-password" | "$work/gatehouse" htpasswd set "$u" --file "$work/users" --cost 4 >/dev/null; done

# config NAME CACHE_MIB writes a configuration for one Gatehouse.
config() {
	cat >"$work/$1.yaml" <<YAML
auth:
  port: 0
  backend_kwargs: {file_path: $work/users}
  service_users: [svc]
  cache_max_mib: $2
database:
  url: "$url"
throttle:
  scan_failures: 0
YAML
}
config gh 16
config nocache 0
"$work/gatehouse" migrate --config "$work/gh.yaml" >/dev/null

# seed N replaces the tokens with N live ones, seed1 … seedN, loaded with COPY.
seed() {
	echo "seeding $1 tokens" >&2
	psql "$url" -qc "TRUNCATE tokens"
	psql "$url" -qAtc "COPY (SELECT lpad(to_hex(g), 24, '0'), encode(sha256(('seed' || g)::bytea), 'hex'),
	  'user' || (g % 1000), now(), now() + interval '1 day' FROM generate_series(1, $1) g) TO STDOUT" |
		psql "$url" -qc "COPY tokens (id, token_hash, username, created_at, expires_at) FROM STDIN"
	psql "$url" -qc "VACUUM ANALYZE tokens" >/dev/null
}

# start NAME CONFIG starts a Gatehouse and sets the variable NAME to its URL
# and NAME_pid to its process id.
start() {
	"${server_cpu[@]}" "$work/gatehouse" serve --config "$work/$2.yaml" 2>"$work/$1.log" &
	local pid=$! url
	pids+=("$pid")
	url=$(serving_url "$work/$1.log") || exit 1
	printf -v "$1" '%s' "$url"
	printf -v "$1_pid" '%s' "$pid"
}

# reference NAME ARGS… starts a gatehouse-load server and sets NAME.
reference() {
	local name=$1
	shift
	"${server_cpu[@]}" "$work/gatehouse-load" "$@" >"$work/$name.addr" &
	pids+=($!)
	for _ in $(seq 1 50); do [ -s "$work/$name.addr" ] && break; sleep 0.1; done
	printf -v "$name" '%s' "http://$(cat "$work/$name.addr")"
}

seed "$TOKENS"
start gh gh
start nocache nocache
reference pgref pgref -db "$url"
reference bare bare
token() { curl -sf -u "$1" -X POST "$gh/auth/v1/tokens" | sed 's/.*"token":"\([0-9a-f]*\)".*/\1/'; }
svc=$(token svc:svc-password)
joe=$(token joe:joe-password)

# drive URL ARGS… runs one load and prints its JSON line.
drive() {
	"${load_cpu[@]}" "$work/gatehouse-load" -url "$1/auth/v1/introspect" -duration "$DURATION" -c "$WORKERS" \
		-H "X-Auth-Token: $svc" -H "Content-Type: application/x-www-form-urlencoded" "${@:2}"
}
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
metric() { curl -sf "$gh/metrics" | awk -v m="$1" '$1 == m {printf "%.0f", $2}'; }
hits() { curl -sf "$gh/metrics" | awk '/^gatehouse_validation_cache_requests_total/ {split($1, a, "\""); v[a[2]] = $2} END {printf "%.0f %.0f", v["hit"], v["miss"]}'; }

uniform=(-body "token={token}" -tokens "$TOKENS" -dist uniform)
zipf=(-body "token={token}" -tokens "$TOKENS" -dist zipf -zipf-s 1.1)
for w in "$gh" "$pgref" "$bare"; do drive "$w" -duration 2s "${uniform[@]}" >/dev/null; done
: >"$work/rounds.jsonl"
for r in $(seq 1 "$ROUNDS"); do
	single_bare=$(drive "$bare" -body "token=$joe")
	single_gh=$(drive "$gh" -body "token=$joe")
	miss_ref=$(drive "$pgref" "${uniform[@]}")
	read -r h0 m0 <<<"$(hits)"
	miss_gh=$(drive "$gh" "${uniform[@]}")
	read -r h1 m1 <<<"$(hits)"
	zipf_gh=$(drive "$gh" "${zipf[@]}")
	read -r h2 m2 <<<"$(hits)"
	echo "{\"round\": $r, \"single_bare\": $single_bare, \"single_gh\": $single_gh, \"miss_ref\": $miss_ref, \"miss_gh\": $miss_gh, \"zipf_gh\": $zipf_gh, \"uniform_hits\": [$((h1 - h0)), $((m1 - m0))], \"zipf_hits\": [$((h2 - h1)), $((m2 - m1))], \"rss_mib\": $(rss "$gh_pid"), \"heap_inuse\": $(metric go_memstats_heap_inuse_bytes), \"heap_sys\": $(metric go_memstats_heap_sys_bytes), \"cache_bytes\": $(metric gatehouse_validation_cache_bytes), \"cache_entries\": $(metric gatehouse_validation_cache_entries)}" >>"$work/rounds.jsonl"
done

# Memory soak: uniform cache-miss load, RSS every minute.
: >"$work/soak.jsonl"
for m in $(seq 1 "$SOAK_MINUTES"); do
	DURATION=60s drive "$gh" "${uniform[@]}" >/dev/null
	echo "{\"minute\": $m, \"rss_mib\": $(rss "$gh_pid")}" >>"$work/soak.jsonl"
done

# Scale: the store path (cache off) against pgref at each size.
: >"$work/scale.jsonl"
for n in $SCALES; do
	seed "$n"
	svc=$(token svc:svc-password) # seeding replaced every token
	for w in "$nocache" "$pgref"; do drive "$w" -duration 2s -body "token={token}" -tokens "$n" >/dev/null; done
	for r in $(seq 1 "$ROUNDS"); do
		echo "{\"tokens\": $n, \"round\": $r, \"ref\": $(drive "$pgref" -body "token={token}" -tokens "$n"), \"gh\": $(drive "$nocache" -body "token={token}" -tokens "$n")}" >>"$work/scale.jsonl"
	done
done
seed "$TOKENS"
svc=$(token svc:svc-password)

# Revocation latency between two replicas, under load on the second.
start gh2 gh
"${load_cpu[@]}" "$work/gatehouse-load" revoke-latency -a "$gh" -b "$gh2" -user joe -password joe-password \
	-caller "X-Auth-Token: $svc" -n "$REVOCATIONS" -load-workers 8 -tokens "$TOKENS" >"$work/revoke.json"

echo "# introspection at scale: $TOKENS tokens in PostgreSQL, $WORKERS workers, $DURATION a run, $ROUNDS rounds"
python3 scripts/bench-scale-report.py "$work"
