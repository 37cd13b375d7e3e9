#!/usr/bin/env bash
# A throwaway RabbitMQ broker for the rabbitmq_publish scenario: Debian's rabbitmq-server, on
# loopback ports chosen at random, everything (data, logs, Erlang cookie, epmd) under one directory.
# Nothing of the system's broker (/etc/rabbitmq, /var/lib/rabbitmq, port 5672) is used or touched.
#
#   rabbitmq.sh start DIR    starts it; writes DIR/env with AMQP_URL (exit 77 when rabbitmq-server
#                            is not installed: apt-get install rabbitmq-server)
#   rabbitmq.sh stop DIR     stops it (and the epmd it started)
set -euo pipefail

SBIN=${RABBITMQ_SBIN:-/usr/lib/rabbitmq/bin}
die() { echo "rabbitmq.sh: $*" >&2; exit 1; }

# shellcheck source=tests/tools/free_port.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/free_port.sh"

# The broker's environment, from DIR/ports (rabbitmq-env reads the RABBITMQ_* variables; the
# system's /etc/rabbitmq/rabbitmq-env.conf is replaced by an empty one).
broker_env() {
  local dir=$1
  # shellcheck disable=SC1091  # written by start
  . "$dir/ports"
  export HOME=$dir                               # the Erlang cookie: $HOME/.erlang.cookie
  export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD_PORT
  export RABBITMQ_NODENAME=chokepoint@localhost RABBITMQ_USE_LONGNAME=false
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP_PORT RABBITMQ_DIST_PORT=$DIST_PORT
  export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins RABBITMQ_ENABLED_PLUGINS=
  export RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log RABBITMQ_PID_FILE=$dir/rabbitmq.pid
  export RABBITMQ_PLUGINS_EXPAND_DIR=$dir/plugins-expand RABBITMQ_FEATURE_FLAGS_FILE=$dir/feature_flags
  export RABBITMQ_LOGS=$dir/log/broker.log RABBITMQ_QUORUM_DIR=$dir/quorum RABBITMQ_STREAM_DIR=$dir/stream
  # Erlang distribution on loopback too (it listens on RABBITMQ_DIST_PORT).
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

start() {
  local dir=$1
  [ -x "$SBIN/rabbitmq-server" ] || { echo "rabbitmq.sh: rabbitmq-server is not installed (apt-get install rabbitmq-server)" >&2; exit 77; }
  mkdir -p "$dir/log" "$dir/mnesia"
  dir=$(cd "$dir" && pwd)
  local port
  port=$(free_port)
  { echo "AMQP_PORT=$port"; echo "DIST_PORT=$(free_port)"; echo "EPMD_PORT=$(free_port)"; } > "$dir/ports"
  : > "$dir/rabbitmq-env.conf"
  echo '[].' > "$dir/enabled_plugins"
  echo '[].' > "$dir/advanced.config"
  cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$port
loopback_users = none
log.console = false
log.file.level = warning
disk_free_limit.absolute = 50MB
CONF
  (
    broker_env "$dir"
    # In its own session, so that the caller's signals do not reach it; stopped by "stop".
    setsid "$SBIN/rabbitmq-server" >"$dir/log/server.out" 2>&1 < /dev/null &
    echo $! > "$dir/launcher.pid"
    # Until the broker accepts AMQP connections (60 s at most).
    for _ in $(seq 1 120); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$AMQP_PORT") 2>/dev/null; then
        echo "AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT" > "$dir/env"
        exit 0
      fi
      kill -0 "$(cat "$dir/launcher.pid")" 2>/dev/null || { tail -20 "$dir/log/server.out" >&2; die "rabbitmq-server exited before it listened"; }
      sleep 0.5
    done
    tail -20 "$dir/log/server.out" >&2
    die "rabbitmq-server did not listen on 127.0.0.1:$AMQP_PORT within 60 s"
  )
}

stop() {
  local dir=$1 pid epmd
  [ -f "$dir/ports" ] || return 0
  # SIGTERM: the broker shuts down in order (no CLI node needed).
  if [ -f "$dir/rabbitmq.pid" ] && pid=$(cat "$dir/rabbitmq.pid") && kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [ -f "$dir/launcher.pid" ]; then
    pid=$(cat "$dir/launcher.pid")
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # The epmd the broker started, on our port.
  epmd=$(command -v epmd || find /usr/lib/erlang -path '*/bin/epmd' -type f 2>/dev/null | head -1)
  if [ -n "$epmd" ]; then
    (broker_env "$dir"; "$epmd" -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true)
  fi
  rm -f "$dir/env" "$dir/launcher.pid"
}

case "${1:-}" in
  start) [ $# = 2 ] || die "usage: rabbitmq.sh start DIR"; start "$2" ;;
  stop) [ $# = 2 ] || die "usage: rabbitmq.sh stop DIR"; stop "$2" ;;
  *) die "usage: rabbitmq.sh start|stop DIR" ;;
esac
