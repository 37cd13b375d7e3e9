#!/usr/bin/env bash
# Installs what chokepoint needs to build, test and demo on Debian 12; only what is missing.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config
  # libraries (all Debian 12 packages; nothing is vendored or downloaded)
  libcli11-dev libpqxx-dev libpq-dev nlohmann-json3-dev libfmt-dev doctest-dev libpg-query-dev
  libtomlplusplus-dev libsimdjson-dev libhiredis-dev libcurl4-openssl-dev
  # servers and load generators for the demo and the integration tests
  postgresql-15 postgresql-contrib postgresql-15-hypopg postgresql-client-15 pgbouncer redis-server redis-tools openssl prometheus
  # tools the test scripts use
  python3 procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package starts a cluster on 5432; chokepoint's scripts start their own throwaway
# servers and never use it.
