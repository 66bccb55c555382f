#!/usr/bin/env bash
# Runs every native Go fuzz target under pkg/ for a bounded time, one target
# per `go test -fuzz` invocation (go test fuzzes one target of one package at
# a time), prints a summary, and exits non-zero if any target failed.
#
#   scripts/fuzz.sh                    # every target, FUZZTIME each (default 30s)
#   FUZZTIME=20s scripts/fuzz.sh       # shorter
#   scripts/fuzz.sh FuzzParseBasic     # only the named targets
#
# A crasher is written by go test to <package>/testdata/fuzz/<Target>/<hash>;
# it then runs as a regular test case in `go test` until it is fixed. The
# summary prints its path and the command that re-runs it.
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-30s}
GO=${GO:-go}
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

# targets lists "package-dir target" for every func FuzzX(f *testing.F) in
# the _test.go files under pkg/.
targets() {
	grep -rHoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' pkg |
		sed -E 's|^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\(.*$|\1 \2|' | sort -u
}

wanted() {
	[ $# -eq 1 ] && return 0
	local t=$1
	shift
	for w in "$@"; do
		[ "$w" = "$t" ] && return 0
	done
	return 1
}

# rate prints "execs execs/sec" from go test's last progress line:
#   fuzz: elapsed: 20s, execs: 123456 (6172/sec), new interesting: 3 (total: 23)
rate() {
	local line execs secs
	line=$(grep -E '^fuzz: elapsed: [0-9]+s, execs: [0-9]+' "$1" | tail -n 1)
	[ -z "$line" ] && { echo "- -"; return; }
	execs=$(sed -E 's/.*execs: ([0-9]+).*/\1/' <<<"$line")
	secs=$(sed -E 's/^fuzz: elapsed: ([0-9]+)s.*/\1/' <<<"$line")
	if [ "$secs" -gt 0 ]; then echo "$execs $((execs / secs))"; else echo "$execs -"; fi
}

declare -a summary
failed=0
n=0
while read -r dir target; do
	[ -z "$target" ] && continue
	wanted "$target" "$@" || continue
	n=$((n + 1))
	log="$logdir/$target.log"
	echo "== $target (./$dir, $FUZZTIME)"
	if $GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "./$dir" >"$log" 2>&1; then
		status=ok
	else
		status=FAIL
		failed=$((failed + 1))
	fi
	read -r execs persec < <(rate "$log")
	interesting=$(grep -oE 'new interesting: [0-9]+ \(total: [0-9]+\)' "$log" | tail -n 1)
	summary+=("$(printf '%-18s %-22s %-4s execs %-10s %8s/sec  %s' "$target" "$dir" "$status" "$execs" "$persec" "$interesting")")
	if [ "$status" = FAIL ]; then
		tail -n 40 "$log"
		crasher=$(grep -oE 'testdata/fuzz/'"$target"'/[0-9a-f]+' "$log" | tail -n 1)
		if [ -n "$crasher" ]; then
			echo "!! $target: failing input written to $dir/$crasher"
			echo "!! re-run: go test -run '^${target}/$(basename "$crasher")\$' ./$dir"
			summary+=("   crasher: $dir/$crasher")
		fi
	fi
done < <(targets)

echo
echo "fuzz summary (FUZZTIME=$FUZZTIME each)"
for line in "${summary[@]}"; do
	echo "  $line"
done
if [ "$n" -eq 0 ]; then
	echo "fuzz.sh: no fuzz target matched: $*" >&2
	exit 2
fi
if [ "$failed" -gt 0 ]; then
	echo "fuzz.sh: $failed of $n targets failed" >&2
	exit 1
fi
echo "fuzz.sh: $n targets, no failures"
