# Shared by scripts/test.sh and scripts/bench.sh; source it, don't run it.

# setup runs one scripts/*-up.sh and exports every GATEHOUSE_*=value line it
# prints. A part that cannot start ends the run: tests must fail, not skip.
setup() {
	local out line
	out=$(mktemp)
	if ! "$@" >"$out"; then
		echo "$0: $* failed" >&2
		rm -f "$out"
		exit 1
	fi
	while IFS= read -r line; do
		case "$line" in GATEHOUSE_*=*) export "${line?}" ;; esac
	done <"$out"
	rm -f "$out"
}

# setup_parts prepares every real part the tests and benchmarks use. What
# the parts keep for the run (the LDAP test CA and certificates) goes into
# a directory of this run's own (mktemp -d), never a fixed path shared by
# every run, and is removed when the calling shell exits: setup_parts sets
# an EXIT trap for that, unless GATEHOUSE_LDAP_STATE names a directory the
# caller keeps.
setup_parts() {
	local part
	setup scripts/postgres-up.sh
	if [ -z "${GATEHOUSE_LDAP_STATE:-}" ]; then
		GATEHOUSE_LDAP_STATE=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-ldap.XXXXXX")
		export GATEHOUSE_LDAP_STATE
		PARTS_RUN_DIR=$GATEHOUSE_LDAP_STATE
		trap cleanup_parts EXIT
	fi
	for part in scripts/ldap-up.sh scripts/pam-up.sh scripts/kdc-up.sh scripts/chromium-up.sh scripts/hydra-up.sh scripts/oidc-op-up.sh; do
		if [ -x "$part" ]; then setup "$part"; fi
	done
}

# cleanup_parts removes the run's own directory that setup_parts made.
cleanup_parts() {
	if [ -n "${PARTS_RUN_DIR:-}" ]; then
		rm -rf "$PARTS_RUN_DIR"
	fi
}

# reliability_setup WORK: what make faults and make soak both need. Builds
# bin/gatehouse (unless GATEHOUSE_BIN names another build) and the checker
# into WORK, and starts a private PostgreSQL cluster in WORK/pg. Sets
# GATEHOUSE_BIN and PG_URL.
reliability_setup() {
	local work=$1
	if [ -z "${GATEHOUSE_BIN:-}" ]; then
		${MAKE:-make} --no-print-directory build >/dev/null
		GATEHOUSE_BIN=bin/gatehouse
	fi
	go build -o "$work/gatehouse-faults" ./cmd/gatehouse-faults
	PG_URL=$(scripts/pg-private.sh up "$work/pg" | sed -n 's/^PGPRIVATE_URL=//p')
	[ -n "$PG_URL" ] || { echo "$0: no private PostgreSQL cluster" >&2; return 1; }
}

# bench_postgres DIR prints the URL of the PostgreSQL server a benchmark
# uses: the machine's (scripts/postgres-up.sh), or, with PG_SHARED_BUFFERS
# set (e.g. 6GB, a quarter of the machine's memory, as PostgreSQL's own
# tuning guidance says), a private cluster in DIR/pg started with that
# shared_buffers, so a table of 10^7 tokens can live in the database's own
# cache as it would on a server sized for it. bench_postgres_down DIR stops it.
bench_postgres() {
	if [ -n "${PG_SHARED_BUFFERS:-}" ]; then
		PGPRIVATE_CONF="shared_buffers = $PG_SHARED_BUFFERS" scripts/pg-private.sh up "$1/pg" | tail -n1 | cut -d= -f2-
	else
		scripts/postgres-up.sh | tail -n1 | cut -d= -f2-
	fi
}
bench_postgres_down() {
	[ -z "${PG_SHARED_BUFFERS:-}" ] || scripts/pg-private.sh down "$1/pg" >/dev/null 2>&1 || true
}

# serving_url LOG waits (10 s at most) for the "serving" line a starting
# gatehouse writes to LOG and prints its URL; without one it prints LOG to
# stderr and fails.
serving_url() {
	local addr=""
	for _ in $(seq 1 100); do
		addr=$(grep -o '"msg":"serving","addr":"[^"]*"' "$1" | sed 's/.*"addr":"//; s/"//') || true
		[ -n "$addr" ] && break
		sleep 0.1
	done
	[ -n "$addr" ] || { cat "$1" >&2; return 1; }
	echo "http://$addr"
}
