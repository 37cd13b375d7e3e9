#!/usr/bin/env bash
# Benchmark (not a test): what a clean build costs. Configures a fresh build directory without
# ccache, builds one target (default: chokepoint, as `tests/tools/bootstrap.sh demo` does) and
# prints the CPU-seconds summed over .ninja_log (each edge's end - start), the user+sys CPU time of
# the build, its wall time and the ten slowest edges. Target for #24: chokepoint <= 280 CPU-s.
#   tests/bench/build_cost.sh [TARGET|all] [CMAKE_ARG...]
#   e.g. tests/bench/build_cost.sh chokepoint -DCMAKE_UNITY_BUILD=ON
# BUILD_COST_DIR (default: a new temporary directory, deleted afterwards unless KEEP=1), JOBS
# (default: every core) and BUILD_TYPE (default: RelWithDebInfo) are honoured.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:-chokepoint}
shift || true
dir=${BUILD_COST_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/chokepoint-build-cost.XXXXXX")}
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$dir"' EXIT; fi
export CCACHE_DISABLE=1

cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DCMAKE_CXX_COMPILER_LAUNCHER= -DCMAKE_C_COMPILER_LAUNCHER= "$@" >/dev/null
build=(cmake --build "$dir" -j "${JOBS:-$(nproc)}")
if [ "$target" != all ]; then build+=(--target "$target"); fi
times=$(mktemp)
/usr/bin/time -f '%e %U %S' -o "$times" "${build[@]}" >"$dir/build.log" 2>&1 || { tail -n 30 "$dir/build.log"; exit 1; }
read -r wall user sys <"$times"
rm -f "$times"
if grep -q "warning:" "$dir/build.log"; then
  echo "compiler warnings:"
  grep "warning:" "$dir/build.log" | head -n 20
fi

python3 - "$dir/.ninja_log" "$target" "$wall" "$user" "$sys" <<'EOF'
import sys
log, target, wall, user, sys_s = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
edges = {}
for line in open(log):
    if line.startswith("#"):
        continue
    start, end, _mtime, output, command_hash = line.split("\t")
    # An edge with several outputs is logged once per output: count it once.
    edges.setdefault((start, end, command_hash.strip()), output)
costs = sorted(((int(e) - int(s)) / 1000, out) for (s, e, _h), out in edges.items())
print(f"target {target}: {len(costs)} edges, {sum(c for c, _ in costs):.1f} CPU-s summed over .ninja_log, "
      f"{user + sys_s:.1f} s user+sys, {wall:.1f} s wall")
print("slowest:")
for cost, out in reversed(costs[-10:]):
    print(f"  {cost:7.1f} s  {out}")
EOF
