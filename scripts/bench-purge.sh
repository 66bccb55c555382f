#!/usr/bin/env bash
# The expired-token purge at scale (issue 18, goal 3): with LIVE live tokens
# and EXPIRED expired ones in PostgreSQL (seeded with COPY), a real
# `gatehouse serve` is asked about a random live token per request at a
# fixed RATE (open loop, so the figure is latency at a given load, not
# queueing), in back-to-back WINDOW-long windows: those before its first
# purge (which runs one minute after start), then WINDOWS while the purge
# deletes the backlog in batches. Goal: the p99 during the purge at most
# 1.10x the p99 before it. Also printed: how fast the backlog drains
# (PostgreSQL's own count of deleted rows) and what that means for EXPIRED.
#
# Env: LIVE (1000000), EXPIRED (10000000), RATE (2000 req/s), WINDOW (10s),
# WINDOWS (6), WORKERS (64, the open loop's connections), GATEHOUSE_BIN (a
# build to measure; default: built here), KEEP_SEED (1: keep the seeded
# database, 5 GiB at 10^7, for the next run), PG_SHARED_BUFFERS (see
# bench_postgres in scripts/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

LIVE=${LIVE:-1000000} EXPIRED=${EXPIRED:-10000000} RATE=${RATE:-2000}
WINDOW=${WINDOW:-10s} WINDOWS=${WINDOWS:-6} WORKERS=${WORKERS:-64}
work=$(mktemp -d)
server_cpu=() load_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	server_cpu=(taskset -c 0) load_cpu=(taskset -c "1-$(($(nproc) - 1))")
fi
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	wait 2>/dev/null || true
	[ -z "${url:-}" ] || psql "$base" -qc "DROP DATABASE IF EXISTS gatehouse_purge" >/dev/null 2>&1 || true
	bench_postgres_down "$work"
	rm -rf "$work"
}
trap cleanup EXIT

bin=${GATEHOUSE_BIN:-$work/gatehouse}
[ -n "${GATEHOUSE_BIN:-}" ] || go build -o "$bin" ./cmd/gatehouse
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load
. scripts/lib.sh
base=$(bench_postgres "$work")
db="gatehouse_purge" seed_db="gatehouse_purge_seed"
url_of() { echo "$base" | sed -E "s#/[^/?]+(\?|$)#/$1\1#"; }
url=$(url_of "$db") seed_url=$(url_of "$seed_db")
echo "svc-password" | "$bin" htpasswd set svc --file "$work/users" --cost 4 >/dev/null
# config URL prints a configuration for a Gatehouse on the database at URL.
config() {
	cat <<YAML
auth:
  port: 0
  backend_kwargs: {file_path: $work/users}
  service_users: [svc]
database:
  url: "$1"
throttle:
  scan_failures: 0
YAML
}
config "$url" >"$work/gh.yaml"

# The tokens are seeded once into $seed_db and each run purges a copy of
# it (a file copy takes seconds; seeding 10^7 rows takes minutes).
# KEEP_SEED=1 keeps $seed_db for the next run; it is used again only when
# it holds the same LIVE and EXPIRED.
copy_tokens() {
	psql "$seed_url" -qAtc "COPY ($1) TO STDOUT" |
		psql "$seed_url" -qc "COPY tokens (id, token_hash, username, created_at, expires_at) FROM STDIN"
}
t0=$(date +%s)
if [ "$(psql "$base" -qAtc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$seed_db'")" != "$LIVE $EXPIRED" ]; then
	echo "seeding $LIVE live and $EXPIRED expired tokens with COPY" >&2
	psql "$base" -qc "DROP DATABASE IF EXISTS $seed_db" -qc "CREATE DATABASE $seed_db" >/dev/null
	config "$seed_url" >"$work/seed.yaml"
	"$bin" migrate --config "$work/seed.yaml" >/dev/null
	copy_tokens "SELECT lpad(to_hex(g), 24, '0'), encode(sha256(('seed' || g)::bytea), 'hex'), 'user' || (g % 1000),
	  now(), now() + interval '1 day' FROM generate_series(1, $LIVE) g"
	copy_tokens "SELECT 'e' || lpad(to_hex(g), 23, '0'), encode(sha256(('expired' || g)::bytea), 'hex'), 'user' || (g % 1000),
	  now() - interval '2 days', now() - interval '1 day' + g * interval '1 ms' FROM generate_series(1, $EXPIRED) g"
	psql "$seed_url" -qc "VACUUM ANALYZE tokens" >/dev/null
	psql "$base" -qc "COMMENT ON DATABASE $seed_db IS '$LIVE $EXPIRED'" >/dev/null
fi
seeded=$(($(date +%s) - t0))
psql "$base" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db TEMPLATE $seed_db STRATEGY FILE_COPY" >/dev/null
[ "${KEEP_SEED:-}" = 1 ] || psql "$base" -qc "DROP DATABASE $seed_db" >/dev/null
table_mib=$(psql "$url" -qAtc "SELECT pg_total_relation_size('tokens') / 1048576")

"${server_cpu[@]}" "$bin" serve --config "$work/gh.yaml" 2>"$work/gh.log" &
pid=$!
started=$(date +%s)
gh=$(serving_url "$work/gh.log")
svc=$(curl -sf -u svc:svc-password -X POST "$gh/auth/v1/tokens" | sed 's/.*"token":"\([0-9a-f]*\)".*/\1/')

drive() {
	"${load_cpu[@]}" "$work/gatehouse-load" -url "$gh/auth/v1/introspect" -c "$WORKERS" \
		-H "X-Auth-Token: $svc" -H "Content-Type: application/x-www-form-urlencoded" \
		-body "token={token}" -tokens "$LIVE" -dist uniform "$@"
}
deleted() { psql "$url" -qAtc "SELECT n_tup_del FROM pg_stat_user_tables WHERE relname = 'tokens'"; }

drive -duration 2s >/dev/null
# Back-to-back windows at RATE, with no idle gap (a window after a pause
# ran slow with no purge at all): each is "before" when nothing was deleted
# by its end, "during" when the purge had begun by its start; the first is
# a warm-up and the one the purge began in is left out.
: >"$work/windows.jsonl"
before=0 during=0 w=0
while [ "$during" -lt "$WINDOWS" ]; do
	w=$((w + 1))
	[ $(($(date +%s) - started)) -lt 180 ] || { echo "bench-purge: no purge within 3 minutes" >&2; exit 1; }
	d0=$(deleted) s0=$(date +%s.%N)
	load=$(drive -rate "$RATE" -duration "$WINDOW")
	d1=$(deleted) s1=$(date +%s.%N)
	phase="purge began"
	if [ "$w" = 1 ]; then
		phase="warm-up"
	elif [ "$d1" = 0 ]; then
		phase=before before=$((before + 1))
	elif [ "$d0" != 0 ]; then
		phase=during during=$((during + 1))
	fi
	echo "{\"phase\": \"$phase\", \"window\": $w, \"load\": $load, \"deleted\": $((d1 - d0)), \"seconds\": $(awk "BEGIN {print $s1 - $s0}")}" >>"$work/windows.jsonl"
done
[ "$before" -ge 2 ] || { echo "bench-purge: $before windows before the purge; use shorter windows" >&2; exit 1; }
if grep -q '"msg":"purged expired tokens"' "$work/gh.log"; then
	echo "bench-purge: the purge ended before the last 'during' window; seed more EXPIRED" >&2
	exit 1
fi

echo "# expired-token purge: $LIVE live + $EXPIRED expired tokens (${table_mib} MiB with indexes; seeding took ${seeded} s), uniform random live token per introspection at $RATE req/s, $WINDOW windows"
python3 - "$work/windows.jsonl" "$EXPIRED" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
expired = int(sys.argv[2])
print("\n| phase | window | req/s | p50 ms | p99 ms | max ms | errors | rows deleted/s |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    l = r["load"]
    rate = f'{r["deleted"] / r["seconds"]:,.0f}' if r["phase"] != "before" else "—"
    print(f'| {r["phase"]} | {r["window"]} | {l["rps"]:,.0f} | {l["p50_ms"]:.2f} | {l["p99_ms"]:.2f} | {l["max_ms"]:.1f} | {l["errors"]} | {rate} |')
med = lambda phase, k: statistics.median(r["load"][k] for r in rows if r["phase"] == phase)
before, during = med("before", "p99_ms"), med("during", "p99_ms")
dur = [r for r in rows if r["phase"] == "during"]
per_s = sum(r["deleted"] for r in dur) / sum(r["seconds"] for r in dur)
errors = sum(r["load"]["errors"] for r in rows)
ratio = during / before
print(f"\np99 before the purge (median of windows): {before:.2f} ms; during: {during:.2f} ms; during/before {ratio:.2f}x (goal <= 1.10x): {'met' if ratio <= 1.10 else 'MISSED'}")
print(f"errors: {errors}")
print(f"purge rate {per_s:,.0f} rows/s: {expired:,} expired tokens drain in about {expired / per_s / 60:.0f} minutes")
PY
