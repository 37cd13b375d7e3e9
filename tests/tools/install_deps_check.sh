#!/usr/bin/env bash
# install-deps.sh, with apt-get, dpkg-query, id, systemctl, service and update-rc.d replaced by
# stubs that record what they are asked: installs only what is missing, servers installed now
# cannot start during the installation (policy-rc.d answers 101) and are disabled and stopped
# after, servers already there are left alone, and without root it names the command to run.
set -euo pipefail
script=$(cd "$(dirname "$0")" && pwd)/install-deps.sh
tmp=$(mktemp -d /tmp/chokepoint-install-deps.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
log=$tmp/calls.log
stub() { printf '#!/bin/sh\n%s\n' "$2" > "$tmp/bin/$1"; chmod +x "$tmp/bin/$1"; }
stub id 'if [ "$1" = -u ]; then echo "${FAKE_UID:-0}"; else exec /usr/bin/id "$@"; fi'
stub dpkg-query 'for p in $FAKE_MISSING; do [ "$p" = "$3" ] && exit 1; done; printf "install ok installed"'
stub apt-get 'if [ "$1" = install ]; then sh "$POLICY_RC_D" start; echo "policy-rc.d during install: $?" >> '"$log"'; fi; echo "apt-get $*" >> '"$log"
stub systemctl 'echo "systemctl $*" >> '"$log"
stub service 'echo "service $*" >> '"$log"
stub update-rc.d 'echo "update-rc.d $*" >> '"$log"
export PATH="$tmp/bin:$PATH" POLICY_RC_D="$tmp/policy-rc.d"
fail=0
check() { if eval "$2"; then echo "ok    $1"; else echo "FAIL  $1"; cat "$log" 2>/dev/null; fail=1; fi; }

: > "$log"
FAKE_MISSING="redis-server postgresql-15 help2man" "$script" > "$tmp/out" 2>&1
check "installs exactly what is missing" \
  'grep -qx "apt-get install -y -q --no-install-recommends help2man postgresql-15 redis-server" "$log"'
check "no server can start during the installation (policy-rc.d: 101)" 'grep -qx "policy-rc.d during install: 101" "$log"'
check "the policy is removed afterwards" '[ ! -e "$POLICY_RC_D" ]'
check "PostgreSQL and Redis installed now: disabled and stopped" \
  'grep -qx "systemctl disable --now postgresql" "$log" && grep -qx "systemctl disable --now redis-server" "$log"'
check "PgBouncer and Prometheus, already there, left alone" '! grep -q "pgbouncer\|prometheus" "$log"'
check "help2man is no server" '! grep -q "systemctl disable --now help2man" "$log"'

: > "$log"
echo '#!/bin/sh
exit 0' > "$POLICY_RC_D"
FAKE_MISSING="pgbouncer" "$script" > "$tmp/out" 2>&1
check "an existing policy-rc.d is used as it is and kept" '[ -e "$POLICY_RC_D" ] && grep -qx "policy-rc.d during install: 0" "$log"'
check "PgBouncer installed now: disabled" 'grep -qx "systemctl disable --now pgbouncer" "$log"'
rm -f "$POLICY_RC_D"

: > "$log"
FAKE_MISSING="prometheus-node-exporter prometheus-postgres-exporter prometheus-redis-exporter" "$script" > "$tmp/out" 2>&1
check "exporters installed now: disabled and stopped (nothing on 9100, 9187, 9121)" \
  'grep -qx "systemctl disable --now prometheus-node-exporter" "$log" &&
   grep -qx "systemctl disable --now prometheus-postgres-exporter" "$log" &&
   grep -qx "systemctl disable --now prometheus-redis-exporter" "$log"'
rm -f "$POLICY_RC_D"

: > "$log"
status=0
FAKE_UID=1000 FAKE_MISSING="redis-server libcli11-dev" "$script" > "$tmp/out" 2>&1 || status=$?
check "without root: exit 1, nothing installed" '[ $status = 1 ] && ! grep -q "apt-get install" "$log"'
check "without root: names the one command to run" \
  'grep -q "sudo apt-get update && sudo apt-get install --no-install-recommends libcli11-dev redis-server" "$tmp/out"'

: > "$log"
FAKE_MISSING="" "$script" > "$tmp/out" 2>&1
check "nothing missing: nothing done" 'grep -q "everything is installed" "$tmp/out" && [ ! -s "$log" ]'
exit $fail
