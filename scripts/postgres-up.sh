#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 and prints the URL
# the tests use, as the last line: GATEHOUSE_TEST_POSTGRES_URL=…
#
# On our machines one already runs with trust auth (database "test"). On a
# fresh Debian/Ubuntu machine this installs the distribution's server, starts
# it, and creates a role and database for the tests. Exits non-zero when no
# server can be had: tests must fail, not skip.
set -euo pipefail

HOST=127.0.0.1
PORT=${PGPORT:-5432}

say() { echo "postgres-up: $*" >&2; }

reachable() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; }

can_login() { psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }

install_server() {
	say "installing PostgreSQL from the distribution's packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq postgresql postgresql-client >/dev/null
}

start_server() {
	local ver
	ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
	if [ -z "$ver" ]; then
		say "no cluster found under /etc/postgresql"
		return 1
	fi
	say "starting cluster $ver/main"
	pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
	for _ in $(seq 1 30); do reachable && return 0; sleep 1; done
	return 1
}

if ! command -v pg_isready >/dev/null 2>&1 || ! reachable; then
	command -v pg_ctlcluster >/dev/null 2>&1 || install_server
	reachable || start_server || { say "PostgreSQL did not come up on $HOST:$PORT"; exit 1; }
fi

# Our machines: trust auth for postgres, database test.
url="postgres://postgres@$HOST:$PORT/test?sslmode=disable"
if ! can_login "$url"; then
	# A fresh install: password auth on TCP. Create a test role through the
	# local socket as the postgres OS user.
	say "creating role and database gatehouse_test"
	runas() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
	runas "psql -qc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='gatehouse') THEN CREATE ROLE gatehouse LOGIN CREATEDB PASSWORD 'gatehouse'; END IF; END \\\$\\\$;\""
	runas "psql -Atqc \"SELECT 1 FROM pg_database WHERE datname='gatehouse_test'\" | grep -q 1 || createdb -O gatehouse gatehouse_test"
	url="postgres://gatehouse:gatehouse@$HOST:$PORT/gatehouse_test?sslmode=disable"
	can_login "$url" || { say "cannot log in to $url"; exit 1; }
fi
echo "GATEHOUSE_TEST_POSTGRES_URL=$url"
