#!/usr/bin/env bash
# The README's two commands: install what is missing, build, then run the demo or every test.
#   tests/tools/bootstrap.sh demo      install, build the binary only, run the demo (reports in a temp dir)
#   tests/tools/bootstrap.sh test      install, build everything, run every test (ctest)
#   tests/tools/bootstrap.sh samples   regenerate sample-reports/ (the committed example reports)
# As root on Debian 12 it installs what is missing; otherwise tests/tools/install-deps.sh says what
# to install. BUILD_DIR (default: build), JOBS (default: every core) and CMAKE_ARGS (e.g.
# -DCHOKEPOINT_SANITIZE=ON) are honoured. BOOTSTRAP_DRY_RUN=1 prints the steps instead of running them.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-}
case "$mode" in demo | test | samples) ;; *) echo "usage: $0 demo|test|samples" >&2; exit 2 ;; esac
shift

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
step() {
  if [ "${BOOTSTRAP_DRY_RUN:-0}" = 1 ]; then echo "$*"; else "$@"; fi
}

step tests/tools/install-deps.sh
# shellcheck disable=SC2086
# A unity build: a clean build at about a third of the CPU time (CMakeLists.txt, cmake/build_speed.cmake).
step cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=ON ${CMAKE_ARGS:-}
case "$mode" in
  demo)
    step cmake --build "$BUILD_DIR" --target chokepoint -j "$JOBS"
    step sample-reports/demo.sh "$BUILD_DIR/chokepoint" "$@" ;;
  samples)
    step cmake --build "$BUILD_DIR" --target chokepoint -j "$JOBS"
    step sample-reports/demo.sh --write-samples "$BUILD_DIR/chokepoint" "$@" ;;
  test)
    step cmake --build "$BUILD_DIR" -j "$JOBS"
    step ctest --test-dir "$BUILD_DIR" --output-on-failure -j1 ;;
esac
