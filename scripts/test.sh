#!/usr/bin/env bash
# Runs every test against real parts. A part that cannot start fails the run:
# GATEHOUSE_REQUIRE_INTEGRATION=1 turns every integration skip into a failure.
#
# Each scripts/*-up.sh prepares one real part and prints, one per line,
# GATEHOUSE_*=value settings for the tests; they are exported here.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

export GATEHOUSE_REQUIRE_INTEGRATION=1
setup_parts

# StackStorm's own JavaScript client, for the end-to-end check.
npm ci --prefix scripts/st2client --no-audit --no-fund --loglevel=error >/dev/null

# Timing bars are measured on a quiet machine: the enumeration tests time
# logins against each other, so they run alone, after everything else and
# without the race detector's slowdown.
timing='^(TestEnumerationResistance.*|TestRefusalsLookAlike)$'
go test -race -tags "${TAGS:-}" -count=1 -timeout 20m -skip "$timing" ./...
go test -tags "${TAGS:-}" -count=1 -run "$timing" -v ./pkg/httpapi/ ./pkg/backend/ldap/ | grep -E '^(=== RUN|--- |\s+(throttle|ldap)_test|ok|FAIL|PASS)'
