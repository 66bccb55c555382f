#!/usr/bin/env bash
# Prepares OpenLDAP's slapd for Gatehouse's LDAP tests and prints, one per
# line, the GATEHOUSE_* settings the tests read (scripts/test.sh exports
# them):
#
#   GATEHOUSE_TEST_LDAP_SLAPD     the slapd binary
#   GATEHOUSE_TEST_LDAP_CERTS     ca.pem, server.pem, server-key.pem (for
#                                 127.0.0.1 and localhost) and wrong-ca.pem
#   GATEHOUSE_TEST_LDAP_SCHEMA    OpenLDAP's schema directory
#   GATEHOUSE_TEST_LDAP_MODULES   where back_mdb.so lives ("" if built in)
#   GATEHOUSE_TEST_LDAP_LDIF      scripts/testdata/ldap (config template, LDIF)
#   GATEHOUSE_TEST_LDAP_STATE     the state directory below, for removing it
#
# The Go tests start their own private slapd instances from these
# (pkg/backend/ldap/ldaptest), so that stopping or freezing one never
# disturbs another. This script checks once that such an instance starts
# and answers over LDAPS, and exits non-zero if not: tests must fail, not
# skip.
#
#   scripts/ldap-up.sh            prepare, check, print the settings
#   scripts/ldap-up.sh --serve    also start a long-running slapd for a
#                                 developer on 127.0.0.1:3389 (ldap://) and
#                                 :3636 (ldaps://); ports from
#                                 GATEHOUSE_LDAP_PORT / GATEHOUSE_LDAPS_PORT
#   GATEHOUSE_LDAP_STATE=DIR scripts/ldap-up.sh --stop
#                                 stop that slapd (DIR as --serve printed it)
#
# State (certificates, the served instance) lives in $GATEHOUSE_LDAP_STATE
# when it is set (scripts/lib.sh's setup_parts sets it to a directory of its
# run's own and removes it at the end); otherwise in a new directory made by
# mktemp -d under ${TMPDIR:-/tmp}, never one shared by every run.
#
# On a machine without slapd, it installs Debian's slapd and ldap-utils (as
# root, or through sudo). The package starts a system slapd on port 389;
# this script stops it again, as the tests never use it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LDIF_DIR="$ROOT/scripts/testdata/ldap"
STATE=${GATEHOUSE_LDAP_STATE:-}
SERVE_PORT=${GATEHOUSE_LDAP_PORT:-3389}
SERVE_TLS_PORT=${GATEHOUSE_LDAPS_PORT:-3636}
BASE_DN="dc=example,dc=org"
SERVICE_DN="cn=gatehouse,ou=services,$BASE_DN"
SERVICE_PW="gatehouse-service-password"

say() { echo "ldap-up: $*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else die "need root to run: $*"
	fi
}

find_slapd() {
	local p
	for p in "$(command -v slapd 2>/dev/null || true)" /usr/sbin/slapd /usr/local/sbin/slapd /usr/libexec/slapd; do
		if [ -n "$p" ] && [ -x "$p" ]; then echo "$p"; return 0; fi
	done
	return 1
}

install_packages() {
	command -v apt-get >/dev/null 2>&1 || die "slapd is not installed and apt-get is not available; install OpenLDAP's slapd and ldap-utils"
	say "installing slapd and ldap-utils"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null
	# The package starts a system slapd on port 389; we use our own.
	as_root sh -c 'service slapd stop || invoke-rc.d slapd stop || true' >/dev/null 2>&1 || true
}

find_schema() {
	local d
	for d in /etc/ldap/schema /etc/openldap/schema /usr/local/etc/openldap/schema /usr/share/openldap/schema; do
		if [ -f "$d/core.schema" ] && [ -f "$d/nis.schema" ]; then echo "$d"; return 0; fi
	done
	return 1
}

# Prints the directory holding back_mdb.so, or nothing if there is none
# (back_mdb built into slapd).
find_modules() {
	local d
	for d in /usr/lib/ldap /usr/lib64/openldap /usr/lib/openldap /usr/libexec/openldap /usr/local/libexec/openldap; do
		if [ -e "$d/back_mdb.so" ] || [ -e "$d/back_mdb.la" ]; then echo "$d"; return 0; fi
	done
}

# cert_ok FILE: exists and valid for at least another day.
cert_ok() { [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1; }

make_ca() { # make_ca NAME SUBJECT
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$CERTS/$1-key.pem" -out "$CERTS/$1.pem" -days 30 -subj "$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

make_certs() {
	if cert_ok "$CERTS/ca.pem" && cert_ok "$CERTS/server.pem" && cert_ok "$CERTS/wrong-ca.pem" &&
		openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/server.pem" >/dev/null 2>&1; then
		return 0
	fi
	say "generating a test CA, a server certificate for 127.0.0.1/localhost and a wrong CA in $CERTS"
	rm -rf "$CERTS"
	mkdir -p "$CERTS"
	make_ca ca "/CN=Gatehouse test CA"
	make_ca wrong-ca "/CN=Gatehouse wrong CA"
	local ext="$CERTS/server.ext"
	cat >"$ext" <<-EOF
		basicConstraints=critical,CA:FALSE
		keyUsage=critical,digitalSignature,keyEncipherment
		extendedKeyUsage=serverAuth
		subjectAltName=IP:127.0.0.1,DNS:localhost
	EOF
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$CERTS/server-key.pem" -out "$CERTS/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
	openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca-key.pem" \
		-CAcreateserial -out "$CERTS/server.pem" -days 30 -extfile "$ext" 2>/dev/null
	rm -f "$CERTS/server.csr" "$CERTS/server.ext" "$CERTS/ca.srl"
	chmod 600 "$CERTS"/*-key.pem
	openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/server.pem" >/dev/null || die "generated certificate does not verify"
}

# render DIR: writes DIR/slapd.conf from the template and loads the LDIF.
render() {
	local dir=$1 modules=""
	rm -rf "$dir"
	mkdir -p "$dir/data"
	if [ -n "$MODULES_DIR" ]; then
		modules="modulepath $MODULES_DIR
moduleload back_mdb"
	fi
	local tmpl
	tmpl=$(cat "$LDIF_DIR/slapd.conf.tmpl")
	tmpl=${tmpl//@SCHEMA_DIR@/$SCHEMA_DIR}
	tmpl=${tmpl//@MODULES@/$modules}
	tmpl=${tmpl//@STATE_DIR@/$dir}
	tmpl=${tmpl//@CERTS_DIR@/$CERTS}
	printf '%s\n' "$tmpl" >"$dir/slapd.conf"
	cat "$LDIF_DIR"/*.ldif | "$SLAPD" -T add -q -f "$dir/slapd.conf" >"$dir/slapadd.log" 2>&1 ||
		{ cat "$dir/slapadd.log" >&2; die "slapadd failed"; }
}

# start DIR PORT TLSPORT: starts slapd in the background, logging to DIR/slapd.log.
start() {
	local dir=$1
	"$SLAPD" -d stats -h "ldap://127.0.0.1:$2/ ldaps://127.0.0.1:$3/" -f "$dir/slapd.conf" >"$dir/slapd.log" 2>&1 &
	echo $! >"$dir/pid"
}

stop() {
	local dir=$1 pid
	[ -f "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	if kill "$pid" 2>/dev/null; then
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/pid"
}

# check DIR TLSPORT: waits until the service account can search over LDAPS.
check() {
	local dir=$1 port=$2
	for _ in $(seq 1 100); do
		if LDAPTLS_CACERT="$CERTS/ca.pem" LDAPTLS_REQCERT=demand ldapsearch -LLL -o nettimeout=2 \
			-H "ldaps://127.0.0.1:$port" -D "$SERVICE_DN" -w "$SERVICE_PW" -b "$BASE_DN" '(uid=alice)' dn \
			2>/dev/null | grep -q '^dn: uid=alice'; then
			return 0
		fi
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/slapd.log" >&2 || true
	return 1
}

. "$ROOT/scripts/port-lib.sh"

mode=check
case "${1:-}" in
"") ;;
--serve) mode=serve ;;
--stop) mode=stop ;;
*) die "usage: $0 [--serve|--stop]" ;;
esac

if [ "$mode" = stop ]; then
	[ -n "$STATE" ] || die "set GATEHOUSE_LDAP_STATE to the directory --serve printed"
	stop "$STATE/serve"
	say "stopped"
	exit 0
fi
if [ -z "$STATE" ]; then
	STATE=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-ldap.XXXXXX")
fi
mkdir -p "$STATE"
CERTS="$STATE/certs"

SLAPD=$(find_slapd || true)
if [ -z "$SLAPD" ] || ! command -v ldapsearch >/dev/null 2>&1; then
	install_packages
	SLAPD=$(find_slapd) || die "slapd not found after installing"
fi
command -v openssl >/dev/null 2>&1 || die "openssl is needed to make test certificates"
SCHEMA_DIR=$(find_schema) || die "OpenLDAP schema directory (core.schema, nis.schema) not found"
MODULES_DIR=$(find_modules || true)

make_certs

if [ "$mode" = serve ]; then
	stop "$STATE/serve"
	render "$STATE/serve"
	start "$STATE/serve" "$SERVE_PORT" "$SERVE_TLS_PORT"
	check "$STATE/serve" "$SERVE_TLS_PORT" || { stop "$STATE/serve"; die "slapd did not come up (log above)"; }
	say "slapd serves ldap://127.0.0.1:$SERVE_PORT and ldaps://127.0.0.1:$SERVE_TLS_PORT (log: $STATE/serve/slapd.log; stop: GATEHOUSE_LDAP_STATE=$STATE $0 --stop)"
	say "service account $SERVICE_DN / $SERVICE_PW; users alice, bob, ... with password <user>-password"
	echo "GATEHOUSE_TEST_LDAP_URL=ldap://127.0.0.1:$SERVE_PORT"
	echo "GATEHOUSE_TEST_LDAPS_URL=ldaps://127.0.0.1:$SERVE_TLS_PORT"
else
	# A throwaway instance proves that slapd starts from these files here
	# (AppArmor profiles, for one, can forbid slapd to read them).
	dir=$(mktemp -d "$STATE/check.XXXXXX")
	trap 'stop "$dir"; rm -rf "$dir"' EXIT
	render "$dir"
	port=$(free_port)
	tls_port=$(free_port)
	while [ "$tls_port" = "$port" ]; do tls_port=$(free_port); done
	start "$dir" "$port" "$tls_port"
	check "$dir" "$tls_port" || die "slapd did not start or answer over LDAPS (log above)"
fi

echo "GATEHOUSE_TEST_LDAP_SLAPD=$SLAPD"
echo "GATEHOUSE_TEST_LDAP_CERTS=$CERTS"
echo "GATEHOUSE_TEST_LDAP_SCHEMA=$SCHEMA_DIR"
echo "GATEHOUSE_TEST_LDAP_MODULES=$MODULES_DIR"
echo "GATEHOUSE_TEST_LDAP_LDIF=$LDIF_DIR"
echo "GATEHOUSE_TEST_LDAP_STATE=$STATE"
