#!/usr/bin/env bash
# Finds Debian's chromium for the web page's browser tests (pkg/ui) and
# prints the setting they read:
#
#   GATEHOUSE_TEST_CHROMIUM=/usr/bin/chromium
#
# Installs the package when it is missing and apt-get can (root). Starts it
# headless once, so a chromium that cannot run fails here, plainly. Exits
# non-zero when there is none: the tests must fail, not skip.
set -euo pipefail

say() { echo "chromium-up: $*" >&2; }

bin=$(command -v chromium || true)
if [ -z "$bin" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	say "installing chromium"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	bin=$(command -v chromium || true)
fi
if [ -z "$bin" ]; then
	say "no chromium: apt-get install chromium"
	exit 1
fi
profile=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-chromium.XXXXXX")
trap 'rm -rf "$profile"' EXIT
if ! timeout 60 "$bin" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$profile" --dump-dom 'data:text/html,<p>ok</p>' 2>/dev/null | grep -q '<p>ok</p>'; then
	say "$bin does not start headless"
	exit 1
fi
echo "GATEHOUSE_TEST_CHROMIUM=$bin"
