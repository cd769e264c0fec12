#!/bin/sh
# SPDX-License-Identifier: MIT
# Same set-up as examples/demo.sh, then the whole test suite.
set -eu
cd "$(dirname "$0")/.."
sh tests/setup.sh
meson test -C build --print-errorlogs
