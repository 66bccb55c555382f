#!/usr/bin/env bash
# Runs every test against real parts. A part that cannot start fails the run:
# GATEHOUSE_REQUIRE_INTEGRATION=1 turns every integration skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

pg=$(scripts/postgres-up.sh | tail -n1)
export "${pg?}"
export GATEHOUSE_REQUIRE_INTEGRATION=1

# StackStorm's own JavaScript client, for the end-to-end check.
npm ci --prefix scripts/st2client --no-audit --no-fund --loglevel=error >/dev/null

go test -race -tags "${TAGS:-}" -count=1 -timeout 20m ./...
