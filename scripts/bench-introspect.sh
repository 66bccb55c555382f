#!/usr/bin/env bash
# Introspection under concurrent load over loopback, beside a bare chi
# handler measured the same way in the same run, with 1,000,000 tokens in
# PostgreSQL. Goals (issue 3): Gatehouse sustains >= 70% of the bare
# handler's requests per second, with p99 < 2 ms at half that rate.
#
# Env: DURATION (default 10s per run), WORKERS (default 32), TOKENS (default
# 1000000). Prints the figures; exits non-zero only when something breaks.
set -euo pipefail
cd "$(dirname "$0")/.."

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

"${server_cpu[@]}" "$work/gatehouse" serve --config "$work/gatehouse.yaml" 2>"$work/gatehouse.log" &
pids+=($!)
for _ in $(seq 1 100); do
	addr=$(grep -o '"msg":"serving","addr":"[^"]*"' "$work/gatehouse.log" | sed 's/.*"addr":"//; s/"//') || true
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || { cat "$work/gatehouse.log" >&2; exit 1; }
gh="http://$addr"

token() { curl -sf -u "$1" -X POST "$gh/auth/v1/tokens" | sed 's/.*"token":"\([0-9a-f]*\)".*/\1/'; }
svc=$(token svc:svc-password)
joe=$(token joe:joe-password)
stored=$(psql "$url" -Atc "SELECT count(*) FROM tokens")

"${server_cpu[@]}" "$work/gatehouse-load" bare >"$work/bare.addr" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/bare.addr" ] && break; sleep 0.1; done
bare="http://$(cat "$work/bare.addr")"

drive() { "${load_cpu[@]}" "$work/gatehouse-load" -url "$1/auth/v1/introspect" -duration "$DURATION" -c "$WORKERS" \
	-H "X-Auth-Token: $svc" -H "Content-Type: application/x-www-form-urlencoded" -body "token=$joe" "${@:2}"; }

# Warm both up, then measure.
drive "$bare" -duration 2s >/dev/null
drive "$gh" -duration 2s >/dev/null
bare_max=$(drive "$bare")
gh_max=$(drive "$gh")
rate=$(echo "$gh_max" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rps"]/2)')
gh_half=$(drive "$gh" -rate "$rate" -c "${HALF_WORKERS:-16}")
bare_half=$(drive "$bare" -rate "$rate" -c "${HALF_WORKERS:-16}")

echo "# introspection, $stored tokens in PostgreSQL, $WORKERS workers, $DURATION per run"
echo "bare max:       $bare_max"
echo "gatehouse max:  $gh_max"
echo "gatehouse half: $gh_half"
echo "bare half:      $bare_half"
python3 - "$bare_max" "$gh_max" "$gh_half" <<'PY'
import json, sys
bare, gh, half = (json.loads(a) for a in sys.argv[1:4])
ratio = gh["rps"] / bare["rps"]
print(f"gatehouse/bare throughput: {ratio:.0%} (goal >= 70%): {'met' if ratio >= 0.7 else 'MISSED'}")
print(f"p99 at half rate ({half['target_rate']:.0f} rps): {half['p99_ms']:.2f} ms (goal < 2 ms): {'met' if half['p99_ms'] < 2 else 'MISSED'}")
errs = bare["errors"] + gh["errors"] + half["errors"]
print(f"errors: {errs}")
sys.exit(1 if errs else 0)
PY
