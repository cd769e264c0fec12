#!/bin/sh
# SPDX-License-Identifier: MIT
# Sets Beddel up, starts a supervisor on a private socket with its built-in
# defaults, runs every example in examples/ through it, prints each result
# with its latency and whether it matches the expected one, and stops the
# supervisor.
set -eu
cd "$(dirname "$0")/.."
sh tests/setup.sh
. tests/wait_for_socket.sh

dir=$(mktemp -d)
sock="$dir/beddel.sock"
build/supervisor/beddel-supervisor --socket "$sock" 2>"$dir/supervisor.log" &
pid=$!
stop() {
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || true
	rm -rf "$dir"
}
trap stop EXIT

# The socket appears once the supervisor listens; requests that come
# before its workers are warm (a few milliseconds) wait in its queue.
wait_for_socket "$sock" "$dir/supervisor.log" 100

failed=0
printf '%-22s %-42s %s\n' example result "latency (supervisor-side)"
for script in examples/*.js; do
	name=$(basename "$script" .js)
	result=$(build/supervisor/beddel-run --socket "$sock" --stats "$script" 2>"$dir/stats") || true
	total=$(sed -n 's/.*total_us=\([0-9]*\).*/\1/p' "$dir/stats")
	exec_us=$(sed -n 's/.*exec_us=\([0-9]*\).*/\1/p' "$dir/stats")
	if [ "$result" = "$(cat "examples/$name.expected")" ]; then
		mark=""
	else
		mark="  (expected $(cat "examples/$name.expected"))"
		failed=1
	fi
	printf '%-22s %-42s %s us total, %s us in the engine%s\n' \
		"$name" "$result" "${total:-?}" "${exec_us:-?}" "$mark"
done
kill -TERM "$pid"
wait "$pid" || failed=1
trap - EXIT
echo
echo "supervisor log:"
cat "$dir/supervisor.log"
rm -rf "$dir"
exit "$failed"
