#!/usr/bin/env bash
# Runs the benchmarks that docs/BENCHMARKS.md reports, each beside its
# baseline in the same run (raw bcrypt for logins, a bare chi handler for
# validation), so a noisy machine moves both together.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib.sh
setup_parts

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
go test -tags "${TAGS:-}" -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-2s}" -count "${COUNT:-1}" \
	./pkg/httpapi/ ./pkg/backend/... ./pkg/store/sqlite/ ./pkg/store/postgres/
