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
