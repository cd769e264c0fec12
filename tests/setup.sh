#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what Beddel needs from Debian's packages (only what is missing)
# and builds it in build/. Used by examples/demo.sh and tests/run.sh.
set -eu
cd "$(dirname "$0")/.."

packages="gcc libc6-dev meson ninja-build pkg-config duktape-dev \
libseccomp-dev libcap-dev libmsgpack-dev libevent-dev libjansson-dev libyaml-dev check python3-prometheus-client"

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
