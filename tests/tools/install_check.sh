#!/usr/bin/env bash
# `cmake --install BUILD_DIR --prefix TMP` installs the binary, the man page, the contract and the
# report schema; the man page is the --help of the program and of each command. Also when only the
# binary was built (the man page is generated at install time then).
#   tests/tools/install_check.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d /tmp/chokepoint-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
if ! command -v help2man >/dev/null; then
  echo "install_check: skipped: help2man is not installed (tests/tools/install-deps.sh installs it)"
  exit 77
fi
cmake --install "$build" --prefix "$prefix" >/dev/null
fail=0
check() { if eval "$2"; then echo "ok    $1"; else echo "FAIL  $1"; fail=1; fi; }
man=$prefix/share/man/man1/chokepoint.1
check "bin/chokepoint runs" '"$prefix/bin/chokepoint" --version | grep -q "^chokepoint [0-9]"'
check "share/chokepoint/CONTRACT.md" '[ -s "$prefix/share/chokepoint/CONTRACT.md" ]'
check "share/chokepoint/report.schema.json parses" 'python3 -m json.tool "$prefix/share/chokepoint/report.schema.json" >/dev/null'
check "man page installed" '[ -s "$man" ]'
check "man page: title and name" 'grep -q "^\.TH CHOKEPOINT \"1\"" "$man" && grep -q "find where a backend" "$man"'
check "man page: exit codes" 'grep -q "internal error" "$man"'
check "man page: every command's options" \
  'grep -q "^\.SH \"COMMAND DIAGNOSE\"" "$man" && grep -q "^\.SH \"COMMAND COMPARE\"" "$man" && grep -q "^\.SH \"COMMAND RULES\"" "$man" && grep -q -- "--baseline FILE" "$man"'
check "man page: no build path in it" '! grep -q "$build" "$man"'
if command -v groff >/dev/null; then
  check "man page renders without warnings" '[ -z "$(groff -man -Tutf8 -ww "$man" 2>&1 >/dev/null)" ]'
fi

# After a build of the binary only (tests/tools/bootstrap.sh demo) there is no man page in the build
# directory: `cmake --install` generates it then. The build's page is set aside meanwhile (a build
# would make it again if it went missing).
page=$build/chokepoint.1
if [ -f "$page" ]; then
  mv "$page" "$page.aside"
  trap 'mv "$page.aside" "$page"; rm -rf "$prefix"' EXIT
  rm -rf "$prefix" && mkdir "$prefix"
  log=$(cmake --install "$build" --prefix "$prefix")
  mv "$page.aside" "$page"
  trap 'rm -rf "$prefix"' EXIT
  check "binary only built: man page generated at install time" \
    'grep -q "Generating the man page" <<<"$log" && grep -q "^\.SH \"COMMAND DIAGNOSE\"" "$man"'
  check "binary only built: no build path in the man page" '! grep -q "$build" "$man"'
fi
exit $fail
