#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the peers the benchmark compares Beddel with (isolated-vm, pinned
# by bench/peers/package-lock.json) for the Node.js in /usr/bin, building its
# native addon from source. Run from the repository root:
#   sh bench/peers/setup.sh
# A failed install is not an error: the benchmark still runs and reports the
# peer as not installed, with the reason this script leaves in
# bench/peers/node_modules/.install-error. So it exits 0 either way.
set -u
cd "$(dirname "$0")/../.." || exit 1

dir=bench/peers
lock=$dir/package-lock.json
stamp=$dir/node_modules/.beddel-installed-lock.json
error_file=$dir/node_modules/.install-error

give_up() {
	echo "peers: isolated-vm not installed: $1"
	mkdir -p "$dir/node_modules"
	printf '%s\n' "$1" >"$error_file"
	exit 0
}

# The same lock installed before: nothing to do.
if [ -f "$stamp" ] && cmp -s "$lock" "$stamp"; then
	exit 0
fi

command -v node >/dev/null 2>&1 || give_up "node is not installed"
command -v npm >/dev/null 2>&1 || give_up "npm is not installed"

# node-gyp compiles the addon with these; Debian 12 names them so.
missing=""
for p in g++ make python3; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
			give_up "needs$missing, and neither root nor sudo"
		sudo="sudo"
	fi
	echo "peers: installing$missing"
	$sudo apt-get update -qq ||
		give_up "apt-get update failed while installing$missing"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null ||
		give_up "apt-get install$missing failed"
fi

# The addon is built against the headers of the installed Node.js. Without
# them node-gyp would fetch headers from elsewhere; better to stop here.
nodedir=/usr
if [ ! -f "$nodedir/include/node/node.h" ] ||
	[ ! -f "$nodedir/include/node/common.gypi" ]; then
	give_up "no Node.js headers in $nodedir/include/node"
fi

# isolated-vm's install script tries prebuild-install first, which would
# download a prebuilt binary; build_from_source makes it decline, and
# node-gyp then compiles against $nodedir. npm 11 warns that it does not
# know build-from-source, but passes the variable on to the script, which
# reads it from its environment itself.
echo "peers: installing isolated-vm from $lock (a native build, minutes)"
start=$(date +%s)
out=$(npm_config_build_from_source=true npm_config_nodedir=$nodedir \
	npm ci --prefix "$dir" --no-audit --no-fund 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "$out"
	give_up "npm ci exited $rc; its last lines:
$(printf '%s\n' "$out" | tail -n 15)"
fi

# A build can succeed and still not load (another Node.js ABI, say).
out=$(cd "$dir" && node -e 'require("isolated-vm")' 2>&1) ||
	give_up "built, but require('isolated-vm') failed: $out"

cp "$lock" "$stamp"
echo "peers: isolated-vm installed in $(($(date +%s) - start)) s"
