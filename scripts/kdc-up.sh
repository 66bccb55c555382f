#!/usr/bin/env bash
# Prepares an MIT Kerberos KDC (Debian's krb5-kdc) for Gatehouse's Kerberos
# tests. Everything lives in a private directory: its own krb5.conf and
# kdc.conf (KRB5_CONFIG / KRB5_KDC_PROFILE point at them), never
# /etc/krb5.conf.
#
#   scripts/kdc-up.sh
#       checks once that a private realm can be made, that krb5kdc serves it
#       on a loopback port and that kinit gets a ticket from it, stops it,
#       and prints the settings the tests read:
#         GATEHOUSE_TEST_KDC_UP     this script, which the tests run with
#                                   --realm-dir to make their own realms
#   scripts/kdc-up.sh --realm-dir DIR --port PORT
#       makes the realm GATEHOUSE.TEST in DIR (database with a stash,
#       principals, the service keytab) for a KDC on 127.0.0.1:PORT, and
#       prints its settings; it does not start krb5kdc (the tests run it
#       themselves, so that stopping it disturbs no one else):
#         GATEHOUSE_TEST_KDC_REALM    GATEHOUSE.TEST
#         GATEHOUSE_TEST_KDC_ADDR     127.0.0.1:PORT
#         GATEHOUSE_TEST_KDC_CONFIG   DIR/krb5.conf  (KRB5_CONFIG)
#         GATEHOUSE_TEST_KDC_PROFILE  DIR/kdc.conf   (KRB5_KDC_PROFILE)
#         GATEHOUSE_TEST_KDC_KEYTAB   DIR/http.keytab, HTTP/localhost's keys
#         GATEHOUSE_TEST_KDC_KRB5KDC  the krb5kdc binary
#   scripts/kdc-up.sh --serve DIR [--port PORT]
#       makes the realm in DIR and runs krb5kdc in the foreground, for a
#       developer trying the README (default port 8888).
#
# Principals: alice (password alice-password), bob (bob-password), both
# requiring pre-authentication; HTTP/localhost (random key, exported to
# http.keytab) is Gatehouse's; HTTP/127.0.0.1 (random key, not exported) is
# "another service".
#
# On a machine without the KDC it installs Debian's krb5-kdc,
# krb5-admin-server and krb5-user (as root, or through sudo).
set -euo pipefail

REALM=GATEHOUSE.TEST
MASTER_PW="gatehouse-kdc-master"

say() { echo "kdc-up: $*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else die "need root to run: $*"
	fi
}

find_bin() {
	local p
	for p in "$(command -v "$1" 2>/dev/null || true)" "/usr/sbin/$1" "/usr/bin/$1"; do
		if [ -n "$p" ] && [ -x "$p" ]; then echo "$p"; return 0; fi
	done
	return 1
}

install_packages() {
	command -v apt-get >/dev/null 2>&1 || die "the MIT KDC is not installed and apt-get is not available; install krb5-kdc, krb5-admin-server and krb5-user"
	say "installing krb5-kdc, krb5-admin-server and krb5-user"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq krb5-kdc krb5-admin-server krb5-user >/dev/null
	# The packages may start a system KDC for their own realm; we use ours.
	as_root sh -c 'service krb5-kdc stop; service krb5-admin-server stop' >/dev/null 2>&1 || true
}

ensure_tools() {
	if ! find_bin krb5kdc >/dev/null || ! find_bin kadmin.local >/dev/null || ! find_bin kinit >/dev/null; then
		install_packages
	fi
	KRB5KDC=$(find_bin krb5kdc) || die "no krb5kdc"
	KADMIN=$(find_bin kadmin.local) || die "no kadmin.local"
	KDB5_UTIL=$(find_bin kdb5_util) || die "no kdb5_util"
	KINIT=$(find_bin kinit) || die "no kinit"
}

# make_realm DIR PORT writes the configuration, creates the database and
# the principals, and exports the service keytab.
make_realm() {
	local dir=$1 port=$2
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	cat >"$dir/krb5.conf" <<EOF
[libdefaults]
	default_realm = $REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
	ticket_lifetime = 10h
	forwardable = true

[realms]
	$REALM = {
		kdc = 127.0.0.1:$port
		admin_server = 127.0.0.1:$port
	}

[domain_realm]
	localhost = $REALM
	127.0.0.1 = $REALM
EOF
	cat >"$dir/kdc.conf" <<EOF
[kdcdefaults]
	kdc_ports = $port
	kdc_tcp_ports = $port

[realms]
	$REALM = {
		database_name = $dir/principal
		key_stash_file = $dir/stash
		acl_file = $dir/kadm5.acl
		kdc_ports = $port
		kdc_tcp_ports = $port
		max_life = 10h
		max_renewable_life = 1d
		default_principal_flags = +preauth
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}

[logging]
	kdc = FILE:$dir/kdc.log
	admin_server = FILE:$dir/kadmin.log
	default = FILE:$dir/krb5.log
EOF
	: >"$dir/kadm5.acl"
	export KRB5_CONFIG="$dir/krb5.conf" KRB5_KDC_PROFILE="$dir/kdc.conf"
	"$KDB5_UTIL" -r "$REALM" -P "$MASTER_PW" create -s >/dev/null 2>"$dir/kdb5_util.log" ||
		die "kdb5_util create failed: $(cat "$dir/kdb5_util.log")"
	kadmin "addprinc -pw alice-password alice"
	kadmin "addprinc -pw bob-password bob"
	kadmin "addprinc -randkey HTTP/localhost"
	kadmin "addprinc -randkey HTTP/127.0.0.1"
	kadmin "ktadd -k $dir/http.keytab HTTP/localhost"
	chmod 600 "$dir/http.keytab"
	REALM_DIR=$dir
}

kadmin() {
	"$KADMIN" -r "$REALM" -q "$1" >>"$REALM_LOG" 2>&1 || die "kadmin.local -q '$1' failed: $(cat "$REALM_LOG")"
}

print_settings() {
	local dir=$1 port=$2
	echo "GATEHOUSE_TEST_KDC_REALM=$REALM"
	echo "GATEHOUSE_TEST_KDC_ADDR=127.0.0.1:$port"
	echo "GATEHOUSE_TEST_KDC_CONFIG=$dir/krb5.conf"
	echo "GATEHOUSE_TEST_KDC_PROFILE=$dir/kdc.conf"
	echo "GATEHOUSE_TEST_KDC_KEYTAB=$dir/http.keytab"
	echo "GATEHOUSE_TEST_KDC_KRB5KDC=$KRB5KDC"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# check makes a realm in a temporary directory, runs krb5kdc, gets a ticket
# for alice with kinit, and stops it again.
check() {
	local port i
	CHECK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-kdc.XXXXXX")
	CHECK_PID=
	trap 'if [ -n "$CHECK_PID" ]; then kill "$CHECK_PID" 2>/dev/null || true; wait "$CHECK_PID" 2>/dev/null || true; fi; rm -rf "$CHECK_TMP"' EXIT
	local tmp=$CHECK_TMP
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		if port_free "$port"; then break; fi
	done
	REALM_LOG="$tmp/kadmin.out"
	make_realm "$tmp/realm" "$port"
	"$KRB5KDC" -n -r "$REALM" -P "$tmp/kdc.pid" >"$tmp/krb5kdc.out" 2>&1 &
	CHECK_PID=$!
	for i in $(seq 1 100); do
		if ! port_free "$port"; then break; fi
		kill -0 "$CHECK_PID" 2>/dev/null || die "krb5kdc exited: $(cat "$tmp/krb5kdc.out" "$tmp/realm/kdc.log" 2>/dev/null)"
		sleep 0.1
	done
	[ "$i" -lt 100 ] || die "krb5kdc does not listen on 127.0.0.1:$port"
	echo alice-password | KRB5CCNAME="FILE:$tmp/cc" "$KINIT" alice >/dev/null 2>"$tmp/kinit.err" ||
		die "kinit alice failed: $(cat "$tmp/kinit.err")"
	say "KDC for $REALM answered kinit on 127.0.0.1:$port"
	echo "GATEHOUSE_TEST_KDC_UP=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
}

main() {
	ensure_tools
	case "${1:-}" in
	"") check ;;
	--realm-dir)
		local dir=${2:?--realm-dir DIR} port=
		[ "${3:-}" = --port ] && port=${4:-}
		[ -n "$port" ] || die "--realm-dir DIR --port PORT"
		mkdir -p "$dir"
		REALM_LOG="$dir/kadmin.out"
		make_realm "$dir" "$port"
		print_settings "$REALM_DIR" "$port"
		;;
	--serve)
		local dir=${2:?--serve DIR} port=8888
		[ "${3:-}" = --port ] && port=${4:-8888}
		mkdir -p "$dir"
		REALM_LOG="$dir/kadmin.out"
		[ -f "$dir/principal" ] || make_realm "$dir" "$port"
		REALM_DIR=$(cd "$dir" && pwd)
		print_settings "$REALM_DIR" "$port" >&2
		say "serving $REALM on 127.0.0.1:$port; export KRB5_CONFIG=$REALM_DIR/krb5.conf"
		export KRB5_CONFIG="$REALM_DIR/krb5.conf" KRB5_KDC_PROFILE="$REALM_DIR/kdc.conf"
		exec "$KRB5KDC" -n -r "$REALM"
		;;
	*) die "usage: $0 [--realm-dir DIR --port PORT | --serve DIR [--port PORT]]" ;;
	esac
}

main "$@"
