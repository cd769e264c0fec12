#!/bin/sh
# SPDX-License-Identifier: MIT
# The monitor's cost in the supervisor, in instructions per request, which
# valgrind's callgrind counts the same on a busy machine as on a quiet one:
# a supervisor with the monitor and one with --no-monitor each serve N and
# 2N one-shot requests of '1 + 1' (beddel-run, one connection each); the
# difference between the two runs of one supervisor is N requests' worth,
# start-up and shutdown cancel out. Only the supervisor is counted: its
# workers run unmeasured, as they do the same work either way.
# Usage: sh bench/monitor_instructions.sh [N]   (default 400; needs valgrind)
set -eu
cd "$(dirname "$0")/.."
n=${1:-400}
command -v valgrind >/dev/null 2>&1 || { echo "valgrind is not installed"; exit 77; }
. tests/wait_for_socket.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# Total instructions of a supervisor (extra options $2) serving $1 requests.
count() {
	valgrind --tool=callgrind --callgrind-out-file="$dir/out" \
		--trace-children=no build/supervisor/beddel-supervisor \
		--socket "$dir/s.sock" --workers 2 --transform-workers-max 0 \
		$2 2>"$dir/log" &
	pid=$!
	wait_for_socket "$dir/s.sock" "$dir/log" 300
	i=0
	while [ "$i" -lt "$1" ]; do
		build/supervisor/beddel-run --socket "$dir/s.sock" -e '1 + 1' >/dev/null
		i=$((i + 1))
	done
	kill -TERM "$pid"
	wait "$pid"
	callgrind_annotate "$dir/out" | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
}

on1=$(count "$n" "")
on2=$(count $((2 * n)) "")
off1=$(count "$n" "--no-monitor")
off2=$(count $((2 * n)) "--no-monitor")
echo "command: sh bench/monitor_instructions.sh $n"
awk -v n="$n" -v a1="$on1" -v a2="$on2" -v d1="$off1" -v d2="$off2" 'BEGIN {
	on = (a2 - a1) / n; off = (d2 - d1) / n
	printf "supervisor instructions per request: monitor %.0f, --no-monitor %.0f\n", on, off
	printf "the monitor: %.0f instructions per request, %.2f %% of the supervisor'"'"'s\n", on - off, (on - off) * 100 / off
}'
