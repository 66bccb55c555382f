#!/usr/bin/env bash
# Introspection under concurrent load over loopback, beside a bare chi
# handler measured the same way in the same run, with 1,000,000 tokens in
# PostgreSQL. Goals (issue 3): Gatehouse sustains >= 70% of the bare
# handler's requests per second, with p99 < 2 ms at half that rate.
#
# Env: DURATION (default 10s per run), WORKERS (default 32), TOKENS (default
# 1000000), OLD_REV (a git revision: its build runs beside this one in the
# same interleaved rounds, so a change is compared with what came before).
# Prints the figures; exits non-zero only when something breaks.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DURATION=${DURATION:-10s}
WORKERS=${WORKERS:-32}
TOKENS=${TOKENS:-1000000}
work=$(mktemp -d)
# With two or more cores, the servers get core 0 and the load generator the
# rest, so that the generator's own work does not land in the servers' tail
# latency. Both servers are measured under the same pinning.
server_cpu=() load_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	server_cpu=(taskset -c 0) load_cpu=(taskset -c "1-$(($(nproc) - 1))")
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load
if [ -n "${OLD_REV:-}" ]; then
	git worktree add -q --detach "$work/old" "$OLD_REV"
	(cd "$work/old" && go build -o "$work/gatehouse-old" ./cmd/gatehouse)
	git worktree remove --force "$work/old"
fi

base=$(scripts/postgres-up.sh | tail -n1 | cut -d= -f2-)
db="gatehouse_bench"
psql "$base" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
url=$(echo "$base" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")

echo "svc-password" | "$work/gatehouse" htpasswd set svc --file "$work/users" --cost 4 >/dev/null
echo "joe-password" | "$work/gatehouse" htpasswd set joe --file "$work/users" --cost 4 >/dev/null
cat >"$work/gatehouse.yaml" <<YAML
auth:
  port: 0
  backend_kwargs: {file_path: $work/users}
  service_users: [svc]
database:
  url: "$url"
YAML

"$work/gatehouse" migrate --config "$work/gatehouse.yaml" >/dev/null
echo "seeding $TOKENS tokens" >&2
psql "$url" -qc "INSERT INTO tokens (id, token_hash, username, created_at, expires_at)
  SELECT lpad(to_hex(g), 24, '0'), encode(sha256(('seed' || g)::text::bytea), 'hex'), 'user' || (g % 1000), now(), now() + interval '1 day'
  FROM generate_series(1, $TOKENS) g" -qc "ANALYZE tokens" >/dev/null

# serve BINARY NAME starts a Gatehouse build and sets the variable NAME
# to its URL.
serve() {
	"${server_cpu[@]}" "$1" serve --config "$work/gatehouse.yaml" >/dev/null 2>"$work/$2.log" &
	pids+=($!)
	local url
	url=$(serving_url "$work/$2.log") || exit 1
	printf -v "$2" '%s' "$url"
}
serve "$work/gatehouse" gh
old=""
if [ -n "${OLD_REV:-}" ]; then
	serve "$work/gatehouse-old" old
fi

token() { curl -sf -u "$1" -X POST "$gh/auth/v1/tokens" | sed 's/.*"token":"\([0-9a-f]*\)".*/\1/'; }
svc=$(token svc:svc-password)
joe=$(token joe:joe-password)
stored=$(psql "$url" -Atc "SELECT count(*) FROM tokens")

# The bare handler runs with Gatehouse's garbage collector setting (GOGC=400,
# cmd/gatehouse/serve.go), so the comparison is of the work, not the tuning.
GOGC=${GOGC:-400} "${server_cpu[@]}" "$work/gatehouse-load" bare >"$work/bare.addr" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/bare.addr" ] && break; sleep 0.1; done
bare="http://$(cat "$work/bare.addr")"

drive() { "${load_cpu[@]}" "$work/gatehouse-load" -url "$1/auth/v1/introspect" -duration "$DURATION" -c "$WORKERS" \
	-H "X-Auth-Token: $svc" -H "Content-Type: application/x-www-form-urlencoded" -body "token=$joe" "${@:2}"; }

# Warm both up, then measure in ROUNDS interleaved rounds (bare, then
# Gatehouse, each round): this machine's speed drifts by tens of percent
# within a minute, and interleaving puts both under the same drift. The
# figures reported are the medians over the rounds.
ROUNDS=${ROUNDS:-3}
drive "$bare" -duration 2s >/dev/null
drive "$gh" -duration 2s >/dev/null
: >"$work/max.jsonl"
for r in $(seq 1 "$ROUNDS"); do
	extra=""
	[ -n "$old" ] && extra=", \"old\": $(drive "$old")"
	echo "{\"round\": $r, \"bare\": $(drive "$bare"), \"gatehouse\": $(drive "$gh")$extra}" >>"$work/max.jsonl"
done
rate=$(python3 -c 'import json,sys,statistics; print(statistics.median(json.loads(l)["gatehouse"]["rps"] for l in open(sys.argv[1]))/2)' "$work/max.jsonl")
: >"$work/half.jsonl"
for r in $(seq 1 "$ROUNDS"); do
	echo "{\"round\": $r, \"bare\": $(drive "$bare" -rate "$rate" -c "${HALF_WORKERS:-16}"), \"gatehouse\": $(drive "$gh" -rate "$rate" -c "${HALF_WORKERS:-16}")}" >>"$work/half.jsonl"
done

echo "# introspection, $stored tokens in PostgreSQL, $WORKERS workers, $DURATION per run, $ROUNDS rounds"
python3 - "$work/max.jsonl" "$work/half.jsonl" <<'PY'
import json, statistics, sys
maxr = [json.loads(l) for l in open(sys.argv[1])]
half = [json.loads(l) for l in open(sys.argv[2])]
for name, rows in (("max", maxr), ("half rate", half)):
    for r in rows:
        for who in ("bare", "gatehouse"):
            x = r[who]
            print(f"round {r['round']} {name:9} {who:9}: {x['rps']:9.0f} rps  p50 {x['p50_ms']:.2f} ms  p99 {x['p99_ms']:.2f} ms  errors {x['errors']}")
ratio = statistics.median(r["gatehouse"]["rps"] / r["bare"]["rps"] for r in maxr)
p99 = statistics.median(r["gatehouse"]["p99_ms"] for r in half)
bare_p99 = statistics.median(r["bare"]["p99_ms"] for r in half)
rate = half[0]["gatehouse"]["target_rate"]
print(f"gatehouse/bare throughput, median of rounds: {ratio:.0%} (goal >= 70%): {'met' if ratio >= 0.7 else 'MISSED'}")
if all("old" in r for r in maxr):
    for r in maxr:
        print(f"round {r['round']} max       old      : {r['old']['rps']:9.0f} rps  p50 {r['old']['p50_ms']:.2f} ms  p99 {r['old']['p99_ms']:.2f} ms  errors {r['old']['errors']}")
    old_ratio = statistics.median(r["old"]["rps"] / r["bare"]["rps"] for r in maxr)
    change = statistics.median(r["gatehouse"]["rps"] / r["old"]["rps"] for r in maxr)
    print(f"old build/bare: {old_ratio:.0%}; this build/old build, median of rounds: {change:.2f}x (a regression over 5% is a defect): {'ok' if change >= 0.95 else 'REGRESSED'}")
print(f"p99 at half rate ({rate:.0f} rps), median of rounds: {p99:.2f} ms, bare {bare_p99:.2f} ms (goal < 2 ms): {'met' if p99 < 2 else 'MISSED'}")
errs = sum(r[w]["errors"] for r in maxr + half for w in ("bare", "gatehouse"))
print(f"errors: {errs}")
sys.exit(1 if errs else 0)
PY
