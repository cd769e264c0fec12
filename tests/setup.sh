#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what Beddel needs from Debian's packages (only what is missing)
# and builds it in build/. Used by examples/demo.sh and tests/run.sh.
set -eu
cd "$(dirname "$0")/.."

packages="gcc libc6-dev meson ninja-build pkg-config duktape-dev \
libseccomp-dev libcap-dev libmsgpack-dev libevent-dev libjansson-dev libyaml-dev libssl-dev check python3-prometheus-client"
# npm installs the transpiler from worker/transpiler's lock file; a machine
# that has Node.js and npm already keeps its own.
command -v npm >/dev/null 2>&1 || packages="$packages npm"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "setup: installing$missing"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
fi

# The transpiler that transform workers embed (worker/transpiler): exactly
# the versions of the lock file, with no install scripts run.
lock=worker/transpiler/package-lock.json
stamp=worker/transpiler/node_modules/.beddel-installed-lock.json
if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp" 2>/dev/null; then
	echo "setup: installing the transpiler from $lock"
	if ! out=$(npm ci --prefix worker/transpiler --ignore-scripts \
		--no-audit --no-fund 2>&1); then
		echo "$out"
		exit 1
	fi
	cp "$lock" "$stamp"
fi

# Quiet when all is well; the whole output when something fails.
if [ ! -f build/build.ninja ]; then
	if ! out=$(meson setup build 2>&1); then
		echo "$out"
		exit 1
	fi
fi
if ! out=$(meson compile -C build 2>&1); then
	echo "$out"
	exit 1
fi
echo "setup: built in build/"
