#!/bin/sh
# SPDX-License-Identifier: MIT
# Beddel's whole benchmark in one command, from the repository root:
#   sh bench/run.sh [bench_suite options...]
# Installs what is missing (the build's packages, the Node.js peers of
# bench/peers/, gnuplot), builds, runs build/bench/bench_suite with the
# options given, and draws its plots. The reports land in
# $BEDDEL_BENCH_OUT (default build/bench-report): report.md,
# report.json, latency.svg, tenants.svg and their data files. The exit
# status is bench_suite's: 1 when any case gave a wrong value or failed.
set -eu
cd "$(dirname "$0")/.."

sh tests/setup.sh
sh bench/peers/setup.sh

if ! command -v gnuplot >/dev/null 2>&1; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "bench: installing gnuplot-nox for the plots"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends gnuplot-nox >/dev/null
fi

out=${BEDDEL_BENCH_OUT:-build/bench-report}
rc=0
# No plot of an earlier run may pass for this one's.
rm -f "$out/latency.svg" "$out/tenants.svg"
build/bench/bench_suite --out "$out" "$@" || rc=$?
if [ -f "$out/latency.dat" ]; then
	gnuplot -e "dir='$out'" bench/plot.gp
	for plot in "$out/latency.svg" "$out/tenants.svg"; do
		if [ -f "$plot" ]; then
			echo "plot: $plot"
		fi
	done
fi
exit "$rc"
