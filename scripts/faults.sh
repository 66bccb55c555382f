#!/usr/bin/env bash
# make faults: breaks Gatehouse's parts under load and checks it degrades as
# promised (docs/RELIABILITY.md): PostgreSQL stopped and frozen, LDAP stopped
# and frozen, SIGTERM and kill -9 under load. Prints a table of figures per
# scenario and exits non-zero when a bar is missed.
#
# Uses a PRIVATE PostgreSQL cluster (scripts/pg-private.sh), never the shared
# server on 5432, and only loopback addresses. Bounded: the checker stops by
# itself, and the whole run is cut at FAULTS_TIMEOUT (default 15 minutes).
#
# Env: FAULTS (scenarios, comma-separated; default all: pg-stop, pg-freeze,
# ldap, sigterm, kill9), GATEHOUSE_BIN (test another build, e.g. one with a
# proposed patch; default: bin/gatehouse, built here), KEEP=1 keeps the
# scratch directory (logs, configs). Extra arguments go to the checker.
set -euo pipefail
cd "$(dirname "$0")/.."

FAULTS=${FAULTS:-pg-stop,pg-freeze,ldap,sigterm,kill9}
FAULTS_TIMEOUT=${FAULTS_TIMEOUT:-900}

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-faults.XXXXXX")
status=0
cleanup() {
	# The checker stops what it starts; this is for a checker that died.
	if [ -f "$work/ldap/serve/pid" ]; then
		kill -CONT "$(cat "$work/ldap/serve/pid")" 2>/dev/null || true
		GATEHOUSE_LDAP_STATE="$work/ldap" scripts/ldap-up.sh --stop >/dev/null 2>&1 || true
	fi
	scripts/pg-private.sh down "$work/pg" >/dev/null 2>&1 || true
	if [ "${KEEP:-}" = 1 ] || [ "$status" != 0 ]; then
		echo "faults: logs and configs kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

. scripts/lib.sh
reliability_setup "$work"
url=$PG_URL

echo "# make faults — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(go version | cut -d' ' -f3), $("$GATEHOUSE_BIN" version 2>/dev/null | head -n1)"
timeout --signal=TERM --kill-after=30 "$FAULTS_TIMEOUT" \
	"$work/gatehouse-faults" faults -gatehouse "$GATEHOUSE_BIN" -work "$work" \
	-pg-script scripts/pg-private.sh -pg-dir "$work/pg" -pg-url "$url" \
	-ldap-script scripts/ldap-up.sh -only "$FAULTS" "$@" || status=$?
exit "$status"
