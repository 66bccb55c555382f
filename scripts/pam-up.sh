#!/usr/bin/env bash
# Prepares real libpam for the pam backend's tests and prints, one per line,
# the settings they read:
#
#   GATEHOUSE_TEST_PAM=1                        tests may create host accounts
#   GATEHOUSE_TEST_PAM_MODULE_DIR=/lib/…/security  where the modules are
#
# The tests write their own PAM service files (pam_start_confdir) and create
# throw-away accounts gh-pam-* with useradd, so this must run as root. On a
# Debian/Ubuntu machine it installs what is missing: libpam0g-dev (headers,
# for `go build -tags pam`), libpam-modules (pam_unix, pam_permit),
# libpam-pwdfile (pam_pwdfile) and passwd (useradd, chpasswd, chage).
# Exits non-zero when anything is still missing: tests must fail, not skip.
set -euo pipefail

say() { echo "pam-up: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	say "must run as root: the PAM tests create host accounts and check them through pam_unix"
	exit 1
fi

MODULES=(pam_unix.so pam_permit.so pam_deny.so pam_pwdfile.so)

# module_dir prints the first directory holding every module in MODULES.
module_dir() {
	local d m
	for d in /lib/x86_64-linux-gnu/security /usr/lib/x86_64-linux-gnu/security \
		/lib/*-linux-gnu*/security /usr/lib/*-linux-gnu*/security \
		/usr/lib64/security /lib64/security /usr/lib/security /lib/security; do
		[ -d "$d" ] || continue
		for m in "${MODULES[@]}"; do
			[ -f "$d/$m" ] || continue 2
		done
		echo "$d"
		return 0
	done
	return 1
}

missing=()
[ -f /usr/include/security/pam_appl.h ] || missing+=(libpam0g-dev)
if ! module_dir >/dev/null; then missing+=(libpam-modules libpam-pwdfile); fi
for tool in useradd userdel chpasswd chage passwd; do
	command -v "$tool" >/dev/null 2>&1 || { missing+=(passwd); break; }
done

if [ ${#missing[@]} -gt 0 ]; then
	if ! command -v apt-get >/dev/null 2>&1; then
		say "missing ${missing[*]} and no apt-get to install them"
		exit 1
	fi
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
		apt-get update -qq >&2
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
	fi
fi

if [ ! -f /usr/include/security/pam_appl.h ]; then
	say "libpam headers missing (/usr/include/security/pam_appl.h)"
	exit 1
fi
# The tests use private service directories, which need Linux-PAM 1.4+.
if ! grep -q pam_start_confdir /usr/include/security/pam_appl.h; then
	say "this libpam has no pam_start_confdir (Linux-PAM 1.4 or later needed)"
	exit 1
fi
if ! dir=$(module_dir); then
	say "PAM modules ${MODULES[*]} not found in the usual directories"
	exit 1
fi
for tool in useradd userdel chpasswd chage passwd; do
	command -v "$tool" >/dev/null 2>&1 || { say "$tool not found"; exit 1; }
done

say "modules in $dir"
echo "GATEHOUSE_TEST_PAM=1"
echo "GATEHOUSE_TEST_PAM_MODULE_DIR=$dir"
