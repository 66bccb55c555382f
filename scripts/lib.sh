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

# setup_parts prepares every real part the tests and benchmarks use.
setup_parts() {
	local part
	setup scripts/postgres-up.sh
	for part in scripts/ldap-up.sh scripts/pam-up.sh; do
		if [ -x "$part" ]; then setup "$part"; fi
	done
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
