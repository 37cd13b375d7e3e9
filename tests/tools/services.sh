#!/usr/bin/env bash
# Starts and stops the throwaway servers the demo and the integration tests use, on loopback,
# under one directory. Nothing outside that directory is touched.
#
#   services.sh start DIR SERVICE...   SERVICE: postgres (PostgreSQL 15 + pg_stat_statements + HypoPG),
#                                       shop (the demo schema, after postgres),
#                                       pgbouncer (in front of the shop, after shop)
#   services.sh stop DIR
#
# DIR/env is a shell file with the addresses (sourced by scripts, parsed by the C++ tests).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
APP_PASSWORD='app-Secr3t-pw'   # throwaway, for the tests' password-auth paths

die() { echo "services.sh: $*" >&2; exit 1; }

# Servers refuse to run as root; run them as the packaged "postgres" user when we are root.
as_service_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  die "no free port found"
}

env_set() { echo "$1=$2" >> "$DIR/env"; }

start_postgres() {
  local data="$DIR/pg/data" sock="$DIR/pg/sock" port
  port=$(free_port)
  mkdir -p "$DIR/pg" "$sock"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$DIR/pg"
  as_service_user "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$DIR/pg/initdb.log" 2>&1 || { cat "$DIR/pg/initdb.log" >&2; die "initdb failed"; }
  cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.max = 10000
pg_stat_statements.track = top
track_io_timing = on
max_connections = 60
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
CONF
  as_service_user "$PG_BIN/pg_ctl" -D "$data" -l "$DIR/pg/server.log" -w -t 60 start >/dev/null ||
    { cat "$DIR/pg/server.log" >&2; die "PostgreSQL did not start"; }
  local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres)
  "${psql[@]}" -d postgres <<SQL
CREATE ROLE app LOGIN PASSWORD '$APP_PASSWORD';
GRANT pg_monitor TO app;
CREATE DATABASE shop OWNER app;
SQL
  "${psql[@]}" -d shop -c "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg;"
  env_set PG_PORT "$port"
  env_set PG_SOCKET "$sock"
  env_set PG_SUPER_DSN "'host=$sock port=$port user=postgres dbname=shop'"
  env_set PG_APP_DSN "'postgresql://app:$APP_PASSWORD@127.0.0.1:$port/shop'"
  env_set PG_APP_PASSWORD "'$APP_PASSWORD'"
}

# The shop schema of tests/workloads/shop.sql, loaded by its owner "app" (EXPLAIN needs SELECT
# rights on the tables). SHOP_ORDERS rows in orders (default 1,000,000).
load_shop() {
  # shellcheck disable=SC1091
  . "$DIR/env"
  psql -X -q -v ON_ERROR_STOP=1 -v orders="${SHOP_ORDERS:-1000000}" "$PG_APP_DSN" \
    -f "$(dirname "$0")/../workloads/shop.sql" >"$DIR/pg/shop.log" 2>&1 || { cat "$DIR/pg/shop.log" >&2; die "loading the shop schema failed"; }
  # A database without pg_stat_statements, for the "extension missing" path.
  psql -X -q -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE plain OWNER app"
  env_set PG_PLAIN_DSN "'postgresql://app:$APP_PASSWORD@127.0.0.1:$PG_PORT/plain'"
}

# PgBouncer in front of the shop: "shop" is a pool of 2 server connections (the saturated-pool
# scenario), "shop_pooled" a pool of 20 (the healthy pooled workload). "app" may use the admin
# console; "nobody" may log in but has no admin rights.
start_pgbouncer() {
  # shellcheck disable=SC1091
  . "$DIR/env"
  local port dir="$DIR/pgbouncer"
  port=$(free_port)
  mkdir -p "$dir"
  cat > "$dir/userlist.txt" <<USERS
"app" "$APP_PASSWORD"
"nobody" "nobody-pw"
USERS
  cat > "$dir/pgbouncer.ini" <<INI
[databases]
shop = host=127.0.0.1 port=$PG_PORT dbname=shop pool_size=2
shop_pooled = host=127.0.0.1 port=$PG_PORT dbname=shop pool_size=20

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $dir
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = app
pool_mode = transaction
default_pool_size = 5
max_client_conn = 500
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
  as_service_user pgbouncer -d "$dir/pgbouncer.ini" || { cat "$dir/pgbouncer.log" >&2; die "PgBouncer did not start"; }
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  env_set PGB_PORT "$port"
  env_set PGB_ADMIN_DSN "'postgresql://app:$APP_PASSWORD@127.0.0.1:$port/pgbouncer'"
  env_set PGB_NOADMIN_DSN "'postgresql://nobody:nobody-pw@127.0.0.1:$port/pgbouncer'"
  env_set PGB_SHOP_DSN "'postgresql://app:$APP_PASSWORD@127.0.0.1:$port/shop'"
  env_set PGB_POOLED_DSN "'postgresql://app:$APP_PASSWORD@127.0.0.1:$port/shop_pooled'"
}

stop_pgbouncer() {
  local pidfile="$DIR/pgbouncer/pgbouncer.pid"
  [ -f "$pidfile" ] || return 0
  kill "$(cat "$pidfile")" 2>/dev/null || true
  for _ in $(seq 1 50); do [ -f "$pidfile" ] || break; sleep 0.1; done
}

stop_postgres() {
  [ -d "$DIR/pg/data" ] || return 0
  as_service_user "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
}

cmd=${1:-}; DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: services.sh start|stop DIR [SERVICE...]"
shift 2
case "$cmd" in
  start)
    # A directory left by an interrupted run: stop what it holds and start clean.
    if [ -d "$DIR" ]; then "$0" stop "$DIR" || true; rm -rf "$DIR"; fi
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    [ "$(id -u)" = 0 ] && chmod 755 "$DIR"
    : > "$DIR/env"
    for s in "$@"; do
      case "$s" in
        postgres) start_postgres ;;
        shop) load_shop ;;
        pgbouncer) start_pgbouncer ;;
        *) die "unknown service $s" ;;
      esac
    done
    ;;
  stop)
    [ -d "$DIR" ] || exit 0
    DIR=$(cd "$DIR" && pwd)
    stop_pgbouncer
    stop_postgres
    ;;
  *) die "unknown command $cmd" ;;
esac
