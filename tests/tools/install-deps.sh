#!/usr/bin/env bash
# Installs what chokepoint needs to build, test and demo on Debian 12: only what is missing.
#
# As root it runs apt-get itself. Without root it prints the one command to run (with sudo, or as
# root) and exits 1; nothing else needs root.
#
# The server packages the tests and the demo use (PostgreSQL, PgBouncer, Redis, Prometheus and its
# node, postgres and redis exporters) are installed for their binaries only: chokepoint's scripts start throwaway servers on
# random loopback ports. Those this script installs are not started during the installation
# (policy-rc.d) and are left disabled, so nothing of ours listens on 5432, 6379, 6432, 9090, 9100, 9121 or 9187.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config help2man
  # libraries (all Debian 12 packages; nothing is vendored or downloaded)
  libcli11-dev libpqxx-dev libpq-dev nlohmann-json3-dev libfmt-dev doctest-dev libpg-query-dev
  libtomlplusplus-dev libsimdjson-dev libhiredis-dev libcurl4-openssl-dev zlib1g-dev
  # servers and load generators for the demo and the integration tests
  postgresql-15 postgresql-contrib postgresql-15-hypopg postgresql-client-15 pgbouncer redis-server redis-tools openssl prometheus
  # exporters Prometheus scrapes in the --prometheus tests (tests/tools/prometheus.sh)
  prometheus-node-exporter prometheus-postgres-exporter prometheus-redis-exporter
  # tools the test scripts use (xmllint: JUnit schema; python3-yaml: the CI examples parse;
  # chromium: the HTML report is checked in a real browser)
  python3 python3-yaml libxml2-utils procps git chromium
)
# Packages whose installation starts a server on its standard port, and that server's service.
declare -A SERVICES=([postgresql-15]=postgresql [redis-server]=redis-server [pgbouncer]=pgbouncer [prometheus]=prometheus
  [prometheus-node-exporter]=prometheus-node-exporter [prometheus-postgres-exporter]=prometheus-postgres-exporter
  [prometheus-redis-exporter]=prometheus-redis-exporter)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root, or install them yourself:" >&2
  echo "  sudo apt-get update && sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

# Servers installed now must not start: invoke-rc.d asks policy-rc.d, and 101 means "not allowed".
policy=${POLICY_RC_D:-/usr/sbin/policy-rc.d}  # overridable for tests/tools/install_deps_check.sh
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { [ "$own_policy" = 1 ] && rm -f "$policy"; return 0; }
trap cleanup EXIT

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null

# Those just installed are left disabled (and stopped, should anything have started them).
for p in "${missing[@]}"; do
  svc=${SERVICES[$p]:-}
  [ -n "$svc" ] || continue
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
  if [ -e "/etc/init.d/$svc" ]; then
    service "$svc" stop >/dev/null 2>&1 || true
    update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
done
echo "install-deps: done (servers installed for their binaries only: not running, not enabled)"
