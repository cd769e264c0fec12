#!/bin/sh
# SPDX-License-Identifier: MIT
# The benchmark suite as a test of behaviour, never of timings: every case
# of bench/cases/ gives its expected value in each Beddel mode and the
# report says so; a case whose value is wrong fails the run.
# Usage: bench_suite.sh BENCH_SUITE CHECK_REPORT_PY FIXTURE_CASES_DIR
set -eu
bench=$1
check=$2
fixture=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

modes=baseline,pipe,socket,oneshot
"$bench" --quick --no-peers --modes "$modes" --out "$dir/all" >"$dir/all.log" 2>&1 || {
	cat "$dir/all.log"
	echo "bench_suite.sh: the suite failed"
	exit 1
}
python3 "$check" "$dir/all/report.json" 40
for f in report.md latency.dat tenants.dat; do
	[ -s "$dir/all/$f" ] || { echo "bench_suite.sh: no $f"; exit 1; }
done

# A wrong expected value is a failure, named, not a time.
if "$bench" --quick --no-peers --modes "$modes" --cases "$fixture" \
	--out "$dir/wrong" >"$dir/wrong.log" 2>&1; then
	cat "$dir/wrong.log"
	echo "bench_suite.sh: a wrong value passed"
	exit 1
fi
grep -q "wrong-value in baseline: returned 2, expected 3" "$dir/wrong.log" || {
	cat "$dir/wrong.log"
	echo "bench_suite.sh: the wrong value is not named"
	exit 1
}
grep -q "| wrong-value | socket | FAIL: returned 2, expected 3" \
	"$dir/wrong/report.md" || {
	echo "bench_suite.sh: the report does not show the failure"
	exit 1
}
# A script that throws fails in every mode, and each mode stays in step:
# the cases after it get their own values (two failures per mode).
for mode in baseline pipe socket oneshot; do
	grep -q "throws in $mode: " "$dir/wrong.log" || {
		cat "$dir/wrong.log"
		echo "bench_suite.sh: the throwing case did not fail in $mode"
		exit 1
	}
	n=$(grep -c " in $mode: " "$dir/wrong.log")
	[ "$n" -eq 2 ] || {
		cat "$dir/wrong.log"
		echo "bench_suite.sh: $n failures in $mode, not 2"
		exit 1
	}
done
echo "bench_suite.sh: ok"
