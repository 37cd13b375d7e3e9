#!/usr/bin/env bash
# The README's two commands: install what is missing, build, then run the demo or every test.
#   tests/tools/bootstrap.sh demo    install, build, run the demo (sample-reports/demo.sh)
#   tests/tools/bootstrap.sh test    install, build, run every test (ctest)
# BUILD_DIR (default: build) and CMAKE_ARGS (e.g. -DCHOKEPOINT_SANITIZE=ON) are honoured.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-}
case "$mode" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac

tests/tools/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j2

if [ "$mode" = demo ]; then
  exec sample-reports/demo.sh "$BUILD_DIR/chokepoint"
fi
exec ctest --test-dir "$BUILD_DIR" --output-on-failure -j1
