#!/bin/sh
# SPDX-License-Identifier: MIT
# The supervisor under valgrind's memcheck through a workload that takes
# every path a request can: ES5 and ES2015+ scripts (the transform and its
# cache), several tenants, a timeout, a heap cap, a syntax error, a status
# and a metrics query, a malformed frame, a client that leaves early;
# then a stop. Passes when memcheck reports no error and no leak in the
# supervisor (its workers, exec'd, are not traced). Skips (77) without
# valgrind. Usage: sh tests/valgrind_supervisor.sh BUILD_DIR
set -eu
build=${1:-build}
command -v valgrind >/dev/null 2>&1 || { echo "valgrind is not installed"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sock="$dir/s.sock"
run="$build/supervisor/beddel-run"
. "$(dirname "$0")/wait_for_socket.sh"

valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
	--error-exitcode=9 --trace-children=no --log-file="$dir/vg.%p" \
	"$build/supervisor/beddel-supervisor" --socket "$sock" --workers 2 \
	2>"$dir/log" &
pid=$!
wait_for_socket "$sock" "$dir/log" 300

i=0
while [ "$i" -lt 20 ]; do
	"$run" --socket "$sock" --tenant "t$((i % 4))" -e "[1, 2].map(x => x * $i)" >/dev/null
	"$run" --socket "$sock" -e "1 + $i" >/dev/null
	i=$((i + 1))
done
"$run" --socket "$sock" --timeout 100 -e 'for (;;) {}' >/dev/null 2>&1 || true
"$run" --socket "$sock" -e 'var a = []; for (;;) a.push({})' >/dev/null 2>&1 || true
"$run" --socket "$sock" -e 'let x = ;' >/dev/null 2>&1 || true
"$run" --socket "$sock" --status >/dev/null
"$run" --socket "$sock" --metrics >/dev/null
# A malformed frame (three bytes that are not msgpack), and a client that
# leaves before its answer.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"\x00\x00\x00\x03abc")
s.recv(4096)
s.close()
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"\x00\x00\x00\x05\x81\xa4type")
s.close()
' "$sock"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
log="$dir/vg.$pid"
grep -E "ERROR SUMMARY|in use at exit" "$log"
if [ "$status" -ne 0 ] || ! grep -q "ERROR SUMMARY: 0 errors" "$log" ||
	! grep -q "in use at exit: 0 bytes" "$log"; then
	echo "memcheck found errors or leaks in the supervisor (exit $status):"
	cat "$log"
	exit 1
fi
echo "the supervisor: no memory errors, nothing left allocated"
