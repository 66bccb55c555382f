#!/usr/bin/env bash
# A private, throw-away PostgreSQL cluster for the fault and soak tests, so
# that stopping or freezing "the database" never touches the machine's shared
# server on 5432 (other tests and developers use it).
#
#   scripts/pg-private.sh up DIR      initdb into DIR/data (trust auth, loopback
#                                     only, a free port), start it, and print
#                                     PGPRIVATE_*=… lines (the last one is the URL)
#   scripts/pg-private.sh stop DIR [MODE]   pg_ctl stop -m MODE (default immediate)
#   scripts/pg-private.sh start DIR   start it again on the same port, and wait
#   scripts/pg-private.sh down DIR    stop it (immediate) and remove DIR
#
# PGPRIVATE_CONF: extra postgresql.conf lines for `up` (the benchmarks'
# PG_SHARED_BUFFERS). Uses the distribution's binaries
# (/usr/lib/postgresql/<newest>/bin), and installs the postgresql package
# when there are none. initdb and the server refuse to run as root, so as
# root they run as the postgres OS user and DIR is chowned to it.
set -euo pipefail

say() { echo "pg-private: $*" >&2; }
die() { say "$*"; exit 1; }

pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1) || true
	if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
		[ "$(id -u)" = 0 ] || die "no PostgreSQL server binaries under /usr/lib/postgresql, and not root to install them"
		say "installing PostgreSQL from the distribution's packages"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq postgresql postgresql-client >/dev/null
		d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
	fi
	echo "$d"
}

# as_pg runs a command as the cluster's owner: postgres when we are root.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u postgres -- "$@"
		else
			su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
		fi
	else
		"$@"
	fi
}

. "$(cd "$(dirname "$0")" && pwd)/port-lib.sh"


cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 up|stop|start|down DIR"

case "$cmd" in
up)
	bin=$(pg_bindir)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ ! -e "$dir/data" ] || die "$dir/data exists already"
	mkdir -p "$dir/data" "$dir/sock"
	if [ "$(id -u)" = 0 ]; then
		chown -R postgres:postgres "$dir"
		chmod 0755 "$dir"
		# The postgres user must be able to reach DIR: let it through the
		# parents it cannot enter (mktemp makes them 0700).
		p=$dir
		while [ "$p" != / ]; do
			p=$(dirname "$p")
			as_pg test -x "$p" || chmod o+x "$p"
		done
	fi
	as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	echo "$bin" >"$dir/bindir"
	started=
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		cat >>"$dir/data/postgresql.conf" <<CONF
# pg-private.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
max_connections = 200
logging_collector = off
${PGPRIVATE_CONF:-}
CONF
		if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
			started=1
			break
		fi
		say "start on port $port failed; trying another"
		tail -n5 "$dir/server.log" >&2 || true
	done
	[ -n "$started" ] || die "the private cluster did not start"
	echo "$port" >"$dir/port"
	url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	say "private cluster in $dir on 127.0.0.1:$port"
	echo "PGPRIVATE_DIR=$dir"
	echo "PGPRIVATE_BIN=$bin"
	echo "PGPRIVATE_PORT=$port"
	echo "PGPRIVATE_URL=$url"
	;;
stop)
	bin=$(cat "$dir/bindir")
	as_pg "$bin/pg_ctl" -D "$dir/data" -m "${3:-immediate}" -w -t 60 stop >/dev/null
	;;
start)
	bin=$(cat "$dir/bindir")
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
	;;
down)
	if [ -f "$dir/bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
		bin=$(cat "$dir/bindir")
		# A frozen cluster cannot stop: thaw it first.
		pm=$(head -n1 "$dir/data/postmaster.pid" 2>/dev/null || true)
		if [ -n "$pm" ]; then
			kill -CONT "$pm" 2>/dev/null || true
			for s in /proc/[0-9]*/status; do
				if grep -q "^PPid:[[:space:]]*$pm\$" "$s" 2>/dev/null; then
					p=${s#/proc/}; kill -CONT "${p%/status}" 2>/dev/null || true
				fi
			done
		fi
		as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	die "unknown command $cmd"
	;;
esac
