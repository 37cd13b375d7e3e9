#!/usr/bin/env bash
# Starts and stops the throwaway servers the demo and the integration tests use, on loopback,
# under one directory. Nothing outside that directory is touched.
#
#   services.sh start DIR SERVICE...   SERVICE: postgres (PostgreSQL 15 + pg_stat_statements + HypoPG),
#                                       shop (the demo schema, after postgres; also the
#                                             scaling-advice tables in database "levers"),
#                                       pgbouncer (in front of the shop, after shop),
#                                       redis (two Redis servers), http (HTTP + HTTPS test servers)
#   services.sh stop DIR                (also stops what tests/tools/prometheus.sh started in DIR)
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

# shellcheck source=tests/tools/free_port.sh
. "$(dirname "${BASH_SOURCE[0]}")/free_port.sh"

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
  load_levers
}

# The scaling-advice scenarios' tables (tests/workloads/levers.sql) in their own database "levers",
# built once: LEVERS_EVENTS rows in the time-ordered event log (default 300,000).
load_levers() {
  psql -X -q -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE levers OWNER app"
  psql -X -q -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d levers -c "CREATE EXTENSION pg_stat_statements"
  env_set PG_LEVERS_DSN "'postgresql://app:$APP_PASSWORD@127.0.0.1:$PG_PORT/levers'"
  psql -X -q -v ON_ERROR_STOP=1 -v events="${LEVERS_EVENTS:-300000}" "postgresql://app:$APP_PASSWORD@127.0.0.1:$PG_PORT/levers" \
    -f "$(dirname "$0")/../workloads/levers.sql" >"$DIR/pg/levers.log" 2>&1 || { cat "$DIR/pg/levers.log" >&2; die "loading the levers schema failed"; }
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

# Two Redis servers: "small" (2 MB maxmemory, allkeys-lru, a password and an ACL user: the
# cold-cache and eviction scenarios) and "big" (no limit, no password: the healthy cache and the
# slow-log scenario).
REDIS_PASSWORD='redis-Secr3t-pw'
start_redis() {
  local small big dir="$DIR/redis"
  small=$(free_port)
  big=$(free_port)
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$small" --daemonize yes --dir "$dir" --pidfile "$dir/small.pid" \
    --logfile "$dir/small.log" --save "" --appendonly no --maxmemory 2mb --maxmemory-policy allkeys-lru \
    --requirepass "$REDIS_PASSWORD" --slowlog-log-slower-than 10000 >/dev/null
  redis-server --bind 127.0.0.1 --port "$big" --daemonize yes --dir "$dir" --pidfile "$dir/big.pid" \
    --logfile "$dir/big.log" --save "" --appendonly no --slowlog-log-slower-than 10000 >/dev/null
  for port in "$small" "$big"; do
    for _ in $(seq 1 50); do redis-cli -p "$port" -a "$REDIS_PASSWORD" --no-auth-warning PING >/dev/null 2>&1 && break; sleep 0.1; done
  done
  redis-cli -p "$small" -a "$REDIS_PASSWORD" --no-auth-warning ACL SETUSER app on '>app-redis-pw' '~*' '&*' '+@all' >/dev/null
  env_set REDIS_SMALL_PORT "$small"
  env_set REDIS_BIG_PORT "$big"
  env_set REDIS_PASSWORD "'$REDIS_PASSWORD'"
  env_set REDIS_SMALL_URL "'redis://:$REDIS_PASSWORD@127.0.0.1:$small/0'"
  env_set REDIS_ACL_URL "'redis://app:app-redis-pw@127.0.0.1:$small/0'"
  env_set REDIS_BIG_URL "'redis://127.0.0.1:$big/0'"
}

stop_redis() {
  for pidfile in "$DIR/redis/small.pid" "$DIR/redis/big.pid"; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
}

# HTTP dependencies for the HTTP probe: tests/tools/http_server.py on loopback, plain and TLS
# (a self-signed certificate made here), plus a port nothing listens on.
start_http() {
  local port tls_port slow_port dir="$DIR/http"
  port=$(free_port)
  tls_port=$(free_port)
  slow_port=$(free_port)
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 ||
    die "openssl could not make a test certificate"
  python3 "$(dirname "$0")/http_server.py" --port "$port" --tls-port "$tls_port" --cert "$dir/cert.pem" \
    --key "$dir/key.pem" --slow-tls-port "$slow_port" >"$dir/server.log" 2>&1 &
  echo $! > "$dir/server.pid"
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  env_set HTTP_BASE "http://127.0.0.1:$port"
  env_set HTTPS_BASE "https://127.0.0.1:$tls_port"
  env_set HTTPS_SLOW_HANDSHAKE_BASE "https://127.0.0.1:$slow_port"  # the TLS handshake takes 60 ms
  env_set HTTP_CA_FILE "$dir/cert.pem"
  env_set HTTP_REFUSED "http://127.0.0.1:$(free_port)/"
}

stop_http() {
  [ -f "$DIR/http/server.pid" ] && kill "$(cat "$DIR/http/server.pid")" 2>/dev/null || true
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
        redis) start_redis ;;
        http) start_http ;;
        *) die "unknown service $s" ;;
      esac
    done
    ;;
  stop)
    [ -d "$DIR" ] || exit 0
    DIR=$(cd "$DIR" && pwd)
    # What tests/tools/prometheus.sh started on these servers goes first.
    if [ -d "$DIR/prom" ]; then "$(dirname "$0")/prometheus.sh" stop "$DIR" || true; fi
    stop_http
    stop_redis
    stop_pgbouncer
    stop_postgres
    ;;
  *) die "unknown command $cmd" ;;
esac
