#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what Beddel needs from Debian's packages (only what is missing)
# and builds it in build/. Used by examples/demo.sh and tests/run.sh.
set -eu
cd "$(dirname "$0")/.."

packages="gcc libc6-dev meson ninja-build pkg-config duktape-dev \
libseccomp-dev libcap-dev libmsgpack-dev libevent-dev libjansson-dev check"

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

[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
echo "setup: built in build/"
