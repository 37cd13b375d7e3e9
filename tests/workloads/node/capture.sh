#!/usr/bin/env bash
# Captures the traces of the Node.js workloads (see README.md beside this script).
#
#   tests/workloads/node/capture.sh OUT_DIR [SCENARIO...]     (default: every scenario)
#   tests/workloads/node/capture.sh --serve STATE_DIR SCENARIO [--with SERVICE]...
#       the same set-up, then the scenario's services keep running, exporting to OTLP_ENDPOINT,
#       until this script gets SIGTERM (serve.js: STATE_DIR/services.json names their URLs and pids;
#       `node serve.js drive ...` sends the load). For a live diagnosis (tests/tools/test_one_system.sh).
#
#   CHOKEPOINT_TEST_SERVICES=DIR   PostgreSQL and Redis already started by tests/tools/services.sh
#                                  (start DIR postgres redis); otherwise they are started here, in a
#                                  temporary directory, and stopped at the end
#   OTLP_ENDPOINT=http://HOST:PORT the services export OTLP there (OTLP_PROTOCOL http/json, the
#   OTLP_PROTOCOL=http/json|http/protobuf   default, or http/protobuf) instead of to the capture sink
#   CAPTURE_FORMATS="otlp zipkin"  which tracers to run each scenario with (default: both)
#   NODE_WORKLOADS_DIR=DIR         where npm ci installs the pinned packages (DIR/node_modules;
#                                  default: beside this script, ignored by git)
#   AMQP_URL=amqp://...            a RabbitMQ broker for the scenarios that publish (rabbitmq_publish);
#                                  otherwise one is started here (rabbitmq.sh), in a temporary directory
#
# Exit codes: 0 captured, 2 usage or a failed scenario, 77 node/npm or the npm packages missing, or
# rabbitmq-server missing for a scenario that needs it (the CTest reports it skipped, with the
# reason printed; without SCENARIO arguments the other scenarios are captured first).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)

die() { echo "capture.sh: $*" >&2; exit 2; }
skip() { echo "capture.sh: SKIP: $*" >&2; exit 77; }

SERVE=
if [ "${1:-}" = --serve ]; then
  SERVE=1; shift
  [ $# -ge 2 ] || die "usage: capture.sh --serve STATE_DIR SCENARIO [--with SERVICE]..."
  [ -n "${OTLP_ENDPOINT:-}" ] || die "--serve: OTLP_ENDPOINT is not set (the receiver the services export to)"
fi
[ $# -ge 1 ] || die "usage: capture.sh OUT_DIR [SCENARIO...] | --serve STATE_DIR SCENARIO [--with SERVICE]..."
OUT=$1; shift
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)

# Node.js 18.19 or newer (the OpenTelemetry SDK's floor) and npm.
command -v node >/dev/null || skip "node is not installed (Node.js >= 18.19 is needed)"
command -v npm >/dev/null || skip "npm is not installed"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>18||(a===18&&b>=19)?0:1)' ||
  skip "node $(node --version) is too old (>= 18.19 is needed)"

# The pinned packages (package-lock.json), installed by npm ci into NODE_WORKLOADS_DIR/node_modules
# once, and again when the lock file changes.
install_modules() {
  local dir=${NODE_WORKLOADS_DIR:-$HERE} stamp
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  stamp="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$dir/node_modules/.chokepoint-lock" 2>/dev/null)" != "$stamp" ]; then
    [ "$dir" = "$HERE" ] || cp "$HERE/package.json" "$HERE/package-lock.json" "$dir/"
    echo "capture.sh: installing the pinned npm packages (npm ci in $dir)" >&2
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$dir/npm-ci.log" 2>&1); then
      tail -5 "$dir/npm-ci.log" >&2
      skip "the npm packages could not be installed (npm ci failed: no registry access?)"
    fi
    echo "$stamp" > "$dir/node_modules/.chokepoint-lock"
  fi
  export NODE_PATH=$dir/node_modules
}
install_modules

# The scenarios (all by default) and those of them that need RabbitMQ (scenarios.js: needs).
SCENARIO_ARGS=("$@")
if [ $# -eq 0 ]; then
  # The live-only scenarios (live: true) are not captured by default.
  mapfile -t SCENARIO_ARGS < <(node -e 'const { SCENARIOS } = require(process.argv[1]);
    console.log(Object.keys(SCENARIOS).filter((n) => !SCENARIOS[n].live).join("\n"))' "$HERE/scenarios.js")
fi
mapfile -t NEED_RABBITMQ < <(node -e 'const { SCENARIOS } = require(process.argv[1]);
  for (const n of process.argv.slice(2)) if (SCENARIOS[n] && SCENARIOS[n].needs === "rabbitmq") console.log(n)' "$HERE/scenarios.js" "${SCENARIO_ARGS[@]}")
RABBITMQ_SKIPPED=
if [ ${#NEED_RABBITMQ[@]} -gt 0 ] && [ -z "${AMQP_URL:-}" ] && [ ! -x "${RABBITMQ_SBIN:-/usr/lib/rabbitmq/bin}/rabbitmq-server" ]; then
  why="rabbitmq-server is not installed (apt-get install rabbitmq-server), needed by ${NEED_RABBITMQ[*]}"
  [ $# -eq 0 ] || skip "$why"
  # Every scenario: the others are captured, then the exit status says what was left out.
  RABBITMQ_SKIPPED=$why
  keep=()
  for s in "${SCENARIO_ARGS[@]}"; do [[ " ${NEED_RABBITMQ[*]} " == *" $s "* ]] || keep+=("$s"); done
  SCENARIO_ARGS=("${keep[@]}")
  NEED_RABBITMQ=()
fi

# The datastores: the caller's (CHOKEPOINT_TEST_SERVICES) or our own.
OWN_SERVICES=
OWN_RABBITMQ=
CAPTURE_PID=
cleanup() {
  if [ -n "$CAPTURE_PID" ] && kill -TERM "$CAPTURE_PID" 2>/dev/null; then wait "$CAPTURE_PID" || true; fi
  if [ -n "$OWN_RABBITMQ" ]; then
    "$HERE/rabbitmq.sh" stop "$OWN_RABBITMQ" || true
    rm -rf "$OWN_RABBITMQ"
  fi
  if [ -n "$OWN_SERVICES" ]; then
    "$REPO/tests/tools/services.sh" stop "$OWN_SERVICES/services" || true
    rm -rf "$OWN_SERVICES"
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT
if [ -n "${CHOKEPOINT_TEST_SERVICES:-}" ]; then
  SERVICES=$CHOKEPOINT_TEST_SERVICES
  [ -f "$SERVICES/env" ] || die "$SERVICES/env not found (start the servers with tests/tools/services.sh start DIR postgres redis)"
else
  OWN_SERVICES=$(mktemp -d /tmp/chokepoint-node-workloads.XXXXXX)
  [ "$(id -u)" = 0 ] && chmod 755 "$OWN_SERVICES"
  SERVICES=$OWN_SERVICES/services
  echo "capture.sh: starting PostgreSQL and Redis under $SERVICES" >&2
  "$REPO/tests/tools/services.sh" start "$SERVICES" postgres redis >&2
fi
# shellcheck disable=SC1091
. "$SERVICES/env"
if [ -z "${PG_SUPER_DSN:-}" ] || [ -z "${REDIS_BIG_PORT:-}" ]; then
  die "$SERVICES/env lacks PostgreSQL or Redis (services.sh start DIR postgres redis)"
fi

# The workloads' own database (the shop schema plus workload.sql), so that nothing they do shows
# in the statistics of the database the other tests read; loaded once per server.
DB=node_workloads
psql_super=(psql -X -q -v ON_ERROR_STOP=1)
if [ "$("${psql_super[@]}" -tA "$PG_SUPER_DSN" -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")" = 0 ] ||
   [ "$(psql -X -tA "${PG_APP_DSN%/*}/$DB" -c "SELECT to_regclass('stores') IS NOT NULL" 2>/dev/null)" != t ]; then
  echo "capture.sh: loading the shop schema and workload.sql into database $DB" >&2
  PGOPTIONS="-c client_min_messages=warning" "${psql_super[@]}" "$PG_SUPER_DSN" -c "DROP DATABASE IF EXISTS $DB" \
    -c "CREATE DATABASE $DB OWNER app"
  psql -X -q -v ON_ERROR_STOP=1 -v orders="${SHOP_ORDERS:-1000000}" "${PG_APP_DSN%/*}/$DB" \
    -f "$REPO/tests/workloads/shop.sql" -f "$HERE/workload.sql" >&2
fi
# pg_stat_statements (and HypoPG) in it too, for a live diagnosis of the workloads' database
# (chokepoint --postgres, tests/tools/test_one_system.sh); created by the superuser, once.
"${psql_super[@]}" "$PG_SUPER_DSN dbname=$DB" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
  -c "CREATE EXTENSION IF NOT EXISTS hypopg" 2>&1 | grep -v 'already exists' >&2 || true
export PG_APP_DSN="${PG_APP_DSN%/*}/$DB"
# Redis: the unlimited server, a database of our own.
export REDIS_URL="redis://127.0.0.1:$REDIS_BIG_PORT/7"
node "$HERE/seed_cache.js"

# RabbitMQ: the caller's (AMQP_URL) or our own, only when a scenario publishes.
if [ ${#NEED_RABBITMQ[@]} -gt 0 ] && [ -z "${AMQP_URL:-}" ]; then
  OWN_RABBITMQ=$(mktemp -d /tmp/chokepoint-rabbitmq.XXXXXX)
  echo "capture.sh: starting RabbitMQ under $OWN_RABBITMQ" >&2
  "$HERE/rabbitmq.sh" start "$OWN_RABBITMQ" >&2 || die "RabbitMQ did not start (see $OWN_RABBITMQ/log)"
  # shellcheck disable=SC1091
  . "$OWN_RABBITMQ/env"
  export AMQP_URL
fi

# In the background, so that a TERM or INT reaches the trap (and the driver, which stops the
# services it started) at once.
if [ -n "$SERVE" ]; then
  node "$HERE/serve.js" start "$OUT" "${SCENARIO_ARGS[@]}" &
else
  node "$HERE/capture.js" "$OUT" "${SCENARIO_ARGS[@]}" &
fi
CAPTURE_PID=$!
wait "$CAPTURE_PID"
CAPTURE_PID=
[ -z "$RABBITMQ_SKIPPED" ] || skip "the other scenarios are captured; not those of RabbitMQ: $RABBITMQ_SKIPPED"
