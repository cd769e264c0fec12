#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks every benchmark case in bench/cases/*/ against its NAME.expected,
# in Beddel and in Node.js, so that the benchmark compares engines that all
# computed the same answer. Run from anywhere after a build:
#   sh bench/cases/check.sh
# Three checks per case:
#   beddel   build/supervisor/beddel-run [--profile P] FILE
#   vm       node: require('vm').runInNewContext(SRC), as the peer driver
#   eval     node -e with the source as its first extra argument, the form
#            a per-execution Node.js process uses
# Prints one line per failure and a summary; exits 1 if anything failed.
set -u
cd "$(dirname "$0")/../.." || exit 1

run=build/supervisor/beddel-run
if [ ! -x "$run" ]; then
	echo "check: $run is missing; build first (meson compile -C build)"
	exit 1
fi
if ! command -v node >/dev/null 2>&1; then
	echo "check: node is missing"
	exit 1
fi

# Workers run with TZ=UTC; Node gets the same, in case a case slips.
TZ=UTC
export TZ

# The source travels as an argument after "--", so that node never reads
# it as one of its own options; under -e the first argument after "--" is
# process.argv[1].
vm_code='process.stdout.write(JSON.stringify(
	require("vm").runInNewContext(process.argv[1])))'
eval_code='process.stdout.write(JSON.stringify((0, eval)(process.argv[1])))'

fails=0
count=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT

fail() {
	echo "FAIL $1 ($2): expected $3"
	echo "     got $4"
	[ -s "$err" ] && sed 's/^/     stderr: /' "$err" | head -n 5
	fails=$((fails + 1))
}

for js in bench/cases/*/*.js; do
	name=${js%.js}
	case_name=${name##*/}
	suite=${name%/*}
	suite=${suite##*/}
	count=$((count + 1))

	if [ ! -f "$name.expected" ]; then
		echo "FAIL $case_name: $name.expected is missing"
		fails=$((fails + 1))
		continue
	fi
	if [ "$(wc -l <"$name.expected")" -ne 1 ]; then
		echo "FAIL $case_name: $name.expected must be exactly one line"
		fails=$((fails + 1))
		continue
	fi
	expected=$(cat "$name.expected")
	src=$(cat "$js")

	# Only the profiles suite names a profile, on its first line; the
	# benchmark reads it from there, so its form is checked here.
	first=$(head -n 1 "$js")
	profile=""
	case $first in
	"// profile: "*) profile=${first#"// profile: "} ;;
	esac
	if [ "$suite" = profiles ] && [ -z "$profile" ]; then
		echo "FAIL $case_name: first line must be // profile: NAME"
		fails=$((fails + 1))
		continue
	fi
	if [ "$suite" != profiles ] && [ -n "$profile" ]; then
		echo "FAIL $case_name: only the profiles suite names a profile"
		fails=$((fails + 1))
		continue
	fi

	if [ -n "$profile" ]; then
		got=$("$run" --profile "$profile" "$js" 2>"$err")
	else
		got=$("$run" "$js" 2>"$err")
	fi
	[ "$got" = "$expected" ] || fail "$case_name" beddel "$expected" "$got"

	got=$(node -e "$vm_code" -- "$src" 2>"$err")
	[ "$got" = "$expected" ] || fail "$case_name" vm "$expected" "$got"

	got=$(node -e "$eval_code" -- "$src" 2>"$err")
	[ "$got" = "$expected" ] || fail "$case_name" eval "$expected" "$got"
done

# File names are the cases' names in the benchmark's report: unique.
dups=$(ls bench/cases/*/*.js | sed 's|.*/||' | sort | uniq -d)
if [ -n "$dups" ]; then
	echo "FAIL duplicate case names: $dups"
	fails=$((fails + 1))
fi

for suite in bench/cases/*/; do
	n=$(ls "$suite"*.js 2>/dev/null | wc -l)
	echo "check: ${suite#bench/cases/} $n cases"
done
if [ "$fails" -ne 0 ]; then
	echo "check: $fails failures in $count cases"
	exit 1
fi
echo "check: all $count cases match in beddel-run, node vm and node -e"
