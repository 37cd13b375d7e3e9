#!/usr/bin/env bash
# CTest workloads.capture: runs capture.sh for two scenarios into a temporary directory and checks
# the captures structurally (check_capture.js). Exit 77 (skipped, reason printed) when node, npm or
# the npm packages are missing.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
scenarios=(orm_n_plus_one callee_cpu_bound)
SHOP_ORDERS=${SHOP_ORDERS:-100000} "$HERE/capture.sh" "$out" "${scenarios[@]}"
rc=$?
[ "$rc" = 77 ] && exit 77
[ "$rc" = 0 ] || { echo "test_capture: capture.sh failed (exit $rc)" >&2; exit 1; }
node "$HERE/check_capture.js" "$out" "${scenarios[@]}"
