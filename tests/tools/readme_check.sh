#!/usr/bin/env bash
# The README's first ten minutes, as written, in a clean copy of the repository (tracked files
# only), without a second full build:
#   1. README's first code block is exactly the two commands; .ci/run runs the second one;
#   2. each command's plan (BOOTSTRAP_DRY_RUN=1): install, configure, build (the demo: the binary
#      only, all cores), then the demo or ctest;
#   3. install-deps.sh runs as written; the demo runs as written (a cheap selection of its
#      scenarios, short window, against the servers the suite started): its summary table, exit
#      codes and verdicts, reports in a temp dir, sample-reports/ untouched, the next command.
# CI runs the second command itself (.ci/run in a clean clone), which is the test of the build.
#   tests/tools/readme_check.sh SERVICES_DIR CHOKEPOINT_BIN
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
services=$1
bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
fail=0
check() { if eval "$2"; then echo "ok    $1"; else echo "FAIL  $1"; fail=1; fi; }

clone=$(mktemp -d /tmp/chokepoint-readme.XXXXXX)
trap 'rm -rf "$clone"' EXIT
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z | tar --null -T - -cf - 2>/dev/null) | tar -xf - -C "$clone"
else
  cp -a "$src/." "$clone/"
  rm -rf "$clone/build"
fi
cd "$clone"

# 1. The two commands.
commands=$(awk '/^```sh$/ && !seen {inblock=1; seen=1; next} inblock && /^```$/ {exit} inblock' README.md |
           sed 's/[[:space:]]*#.*$//')
expected=$'tests/tools/bootstrap.sh demo\ntests/tools/bootstrap.sh test'
check "README's first block is exactly: bootstrap.sh demo, bootstrap.sh test" '[ "$commands" = "$expected" ]'
check ".ci/run runs the README's second command" \
  '[ "$(BOOTSTRAP_DRY_RUN=1 bash .ci/run)" = "$(BOOTSTRAP_DRY_RUN=1 tests/tools/bootstrap.sh test)" ]'
check "no sudo in the README's commands" '! grep -q sudo <<<"$commands"'

# 2. Their plans.
demo_plan=$(BOOTSTRAP_DRY_RUN=1 JOBS=7 tests/tools/bootstrap.sh demo)
test_plan=$(BOOTSTRAP_DRY_RUN=1 JOBS=7 tests/tools/bootstrap.sh test)
echo "$demo_plan"
check "demo: installs what is missing first" '[ "$(head -n1 <<<"$demo_plan")" = tests/tools/install-deps.sh ]'
check "demo: builds the binary only, with all cores" 'grep -qx "cmake --build build --target chokepoint -j 7" <<<"$demo_plan"'
check "demo: then runs the demo" '[ "$(tail -n1 <<<"$demo_plan")" = "sample-reports/demo.sh build/chokepoint" ]'
check "test: builds everything, then ctest" \
  'grep -qx "cmake --build build -j 7" <<<"$test_plan" && grep -q "^ctest --test-dir build" <<<"$test_plan"'
check "samples: regenerating sample-reports/ is its own command" \
  'BOOTSTRAP_DRY_RUN=1 tests/tools/bootstrap.sh samples | grep -qx "sample-reports/demo.sh --write-samples build/chokepoint"'
check "JOBS defaults to every core" \
  'BOOTSTRAP_DRY_RUN=1 tests/tools/bootstrap.sh demo | grep -qx "cmake --build build --target chokepoint -j $(nproc)"'

# 3. As written: install-deps (everything is there: it says so, or names what is missing without root).
deps=0
tests/tools/install-deps.sh >install.log 2>&1 || deps=$?
cat install.log
check "install-deps.sh runs (or, without root, names the one command to run)" \
  '[ $deps = 0 ] || { [ "$(id -u)" != 0 ] && grep -q "apt-get install" install.log; }'

mkdir -p build && ln -s "$bin" build/chokepoint
before=$(cd sample-reports && find . -type f -exec md5sum {} + | sort)
status=0
CHOKEPOINT_TEST_SERVICES=$services WINDOW=2 sample-reports/demo.sh build/chokepoint \
  missing_index healthy slow_dependency traces_n_plus_one traces_slow_dependency traces_code_hotspot \
  >demo.out 2>demo.err || status=$?
cat demo.err demo.out
row() { awk -v s="$1" '$1 == s' demo.out; }
check "the demo exits 0" '[ $status = 0 ]'
check "summary table header" 'grep -q "^SCENARIO  *VERDICT  *EXIT  *WHY" demo.out'
check "missing_index: database, exit 1 (critical finding fails --fail-on high)" \
  'row missing_index | grep -Eq "^missing_index +database [0-9]+ % +1 +gate: .*db.missing_index"'
check "healthy: none, exit 0" 'row healthy | grep -Eq "^healthy +none +0 "'
check "slow_dependency: network" 'row slow_dependency | grep -Eq "^slow_dependency +network "'
check "traces_n_plus_one: database" 'row traces_n_plus_one | grep -Eq "^traces_n_plus_one +database "'
check "traces_slow_dependency: network" 'row traces_slow_dependency | grep -Eq "^traces_slow_dependency +network "'
check "traces_code_hotspot: code" 'row traces_code_hotspot | grep -Eq "^traces_code_hotspot +code "'
reports=$(sed -n 's/.*Full reports ([^)]*) are in \(.*\)$/\1/p' demo.out)
check "reports in a temporary directory outside the repository" \
  '[ -n "$reports" ] && [ -s "$reports/missing_index.txt" ] && [ -s "$reports/missing_index.json" ] && [ "${reports#"$clone"}" = "$reports" ]'
check "sample-reports/ untouched" '[ "$before" = "$(cd sample-reports && find . -type f -exec md5sum {} + | sort)" ]'
check "ends with the next command to try" 'grep -A8 "^Next:" demo.out | grep -q "tests/tools/bootstrap.sh test"'
check "at most ~40 lines of output for six scenarios" '[ "$(wc -l < demo.out)" -le 40 ]'
[ -n "$reports" ] && rm -rf "$reports"
exit $fail
