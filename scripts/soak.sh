#!/usr/bin/env bash
# make soak: a long run of a real `gatehouse serve` on PostgreSQL with a mix
# of introspections (valid, unknown and expired tokens, API keys), forward-auth
# checks with credentials in the query string, and a trickle of logins. Every
# answer is checked. Prints requests per second, errors, wrong answers,
# p50/p99 latency, and the server's RSS, Go heap, goroutines and open fds at
# the start (after warm-up) and the end; exits non-zero when there is an error
# or a wrong answer, or when a resource is not flat (docs/RELIABILITY.md).
#
# Uses a PRIVATE PostgreSQL cluster (scripts/pg-private.sh) and loopback only.
#
# Env: SOAK_DURATION (measured time, default 10m; a warm-up of a tenth of it,
# 10-60 s, comes first), SOAK_WORKERS (default 8), SOAK_LOGIN_RATE (default
# 2/s), GATEHOUSE_BIN (default bin/gatehouse, built here), KEEP=1 keeps the
# scratch directory. Extra arguments go to the checker.
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK_DURATION=${SOAK_DURATION:-10m}
SOAK_WORKERS=${SOAK_WORKERS:-8}
SOAK_LOGIN_RATE=${SOAK_LOGIN_RATE:-2}

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-soak.XXXXXX")
status=0
cleanup() {
	scripts/pg-private.sh down "$work/pg" >/dev/null 2>&1 || true
	if [ "${KEEP:-}" = 1 ] || [ "$status" != 0 ]; then
		echo "soak: logs and configs kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

. scripts/lib.sh
reliability_setup "$work"
url=$PG_URL

echo "# $(go version | cut -d' ' -f3), $("$GATEHOUSE_BIN" version 2>/dev/null | head -n1)"
# The checker bounds itself (set-up + warm-up + duration); the timeout is a
# last resort at twice the duration plus ten minutes.
case "$SOAK_DURATION" in
[0-9]*h) secs=$(( ${SOAK_DURATION%h} * 3600 )) ;;
[0-9]*m) secs=$(( ${SOAK_DURATION%m} * 60 )) ;;
[0-9]*s) secs=${SOAK_DURATION%s} ;;
*) secs=3600 ;;
esac
[[ "$secs" =~ ^[0-9]+$ ]] || secs=3600
timeout --signal=TERM --kill-after=30 "${SOAK_TIMEOUT:-$(( secs * 2 + 600 ))}" \
	"$work/gatehouse-faults" soak -gatehouse "$GATEHOUSE_BIN" -work "$work" -pg-url "$url" \
	-duration "$SOAK_DURATION" -workers "$SOAK_WORKERS" -login-rate "$SOAK_LOGIN_RATE" "$@" || status=$?
exit "$status"
