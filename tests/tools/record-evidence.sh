#!/usr/bin/env bash
# Records the evidence fixtures that make the rules no other recorded input reaches fire, from real
# servers under real load (tests/tools/services.sh): run it again to refresh them.
#   tests/tools/record-evidence.sh CHOKEPOINT
# Writes tests/fixtures/postgres/index_hygiene.evidence.json (db.duplicate_index, db.unused_index,
# db.idle_in_transaction), tests/fixtures/postgres/cold_buffers.evidence.json (db.low_cache_hit),
# tests/fixtures/redis/crowded.evidence.json (cache.slow_commands, cache.clients_saturation) and
# tests/fixtures/redis/fragmented.evidence.json (cache.memory_fragmentation),
# tests/fixtures/http/slow_handshake.evidence.json (net.connect_overhead) and, as root with a memory
# cgroup controller, tests/fixtures/host/memory_limit.evidence.json (infra.memory_pressure,
# infra.network_drops). The unit test "every rule fires on one" (test_catalog.cpp) reads them.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CHOKEPOINT" >&2; exit 2; }
bin=$(realpath "$1")
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  tests/tools/services.sh stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
SHOP_ORDERS=20000 tests/tools/services.sh start "$dir" postgres shop redis http >/dev/null
# shellcheck disable=SC1091
. "$dir/env"
mkdir -p tests/fixtures/postgres tests/fixtures/redis

# PostgreSQL: a ledger written all the time, with an index its longer sibling covers and an index
# nothing reads; a session that sits idle inside its transaction through the window.
psql -X -q -v ON_ERROR_STOP=1 "$PG_APP_DSN" <<'SQL'
CREATE TABLE ledger (id bigserial PRIMARY KEY, account_id int NOT NULL, created_at timestamptz NOT NULL,
                     memo text);
CREATE INDEX ledger_account_idx ON ledger (account_id);
CREATE INDEX ledger_account_created_idx ON ledger (account_id, created_at);
CREATE INDEX ledger_memo_idx ON ledger (memo);
SQL
(while true; do
  psql -X -q "$PG_APP_DSN" -c "INSERT INTO ledger (account_id, created_at, memo)
    SELECT i % 100, now(), 'n' || i FROM generate_series(1, 200) i" >/dev/null 2>&1 || true
  sleep 0.2
done) &
pids+=($!)
(printf 'BEGIN;\nSELECT count(*) FROM ledger;\n\\! sleep 12\nCOMMIT;\n' |
  PGAPPNAME=report-export psql -X -q "$PG_APP_DSN" >/dev/null 2>&1) &
pids+=($!)
sleep 2
"$bin" diagnose --postgres "$PG_APP_DSN" --window 6 --fail-on never --format json \
  --save-evidence tests/fixtures/postgres/index_hygiene.evidence.json >/dev/null

# PostgreSQL: a table three times shared_buffers (128 MB) scanned over and over: its blocks come
# from the OS cache, not the buffers.
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
pids=()
psql -X -q -v ON_ERROR_STOP=1 "$PG_APP_DSN" <<'SQL'
CREATE TABLE archive AS SELECT i AS id, repeat(md5(i::text), 8) AS body FROM generate_series(1, 1200000) i;
SQL
(while true; do psql -X -q "$PG_APP_DSN" -c "SELECT count(*) FROM archive WHERE body LIKE '%zz%'" >/dev/null 2>&1; done) &
pids+=($!)
sleep 1
"$bin" diagnose --postgres "$PG_APP_DSN" --window 6 --fail-on never --format json \
  --save-evidence tests/fixtures/postgres/cold_buffers.evidence.json >/dev/null
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
pids=()

# Redis: 400k small values written then four in five deleted: the allocator keeps the pages, so the
# resident memory stays well above the data (mem_fragmentation_ratio).
redis-cli -u "$REDIS_BIG_URL" EVAL "for i=1,400000 do redis.call('SET','frag:'..i,string.rep('x',200)) end" 0 >/dev/null
redis-cli -u "$REDIS_BIG_URL" EVAL "for i=1,400000 do if i % 5 ~= 0 then redis.call('DEL','frag:'..i) end end" 0 >/dev/null
redis-cli -u "$REDIS_BIG_URL" CONFIG SET activedefrag no >/dev/null 2>&1 || true
"$bin" diagnose --redis "$REDIS_BIG_URL" --window 2 --fail-on never --format json \
  --save-evidence tests/fixtures/redis/fragmented.evidence.json >/dev/null
redis-cli -u "$REDIS_BIG_URL" FLUSHALL >/dev/null

# Redis: every command logged as slow (slowlog-log-slower-than 0) and clients close to maxclients.
redis-cli -u "$REDIS_BIG_URL" CONFIG SET slowlog-log-slower-than 0 >/dev/null
redis-cli -u "$REDIS_BIG_URL" CONFIG SET maxclients 12 >/dev/null
for i in $(seq 1 10); do
  redis-cli -u "$REDIS_BIG_URL" BLPOP "chokepoint:idle:$i" 30 >/dev/null 2>&1 &
  pids+=($!)
done
(while true; do redis-cli -u "$REDIS_BIG_URL" SET k v >/dev/null 2>&1 || true; sleep 0.1; done) &
pids+=($!)
sleep 1
"$bin" diagnose --redis "$REDIS_BIG_URL" --window 4 --fail-on never --format json \
  --save-evidence tests/fixtures/redis/crowded.evidence.json >/dev/null
# HTTP: a TLS dependency whose handshake takes 60 ms (a far-away endpoint) and answers at once.
mkdir -p tests/fixtures/http
CHOKEPOINT_CA_FILE=$HTTP_CA_FILE "$bin" diagnose --http "$HTTPS_SLOW_HANDSHAKE_BASE/fast" --window 3 \
  --fail-on never --format json --save-evidence tests/fixtures/http/slow_handshake.evidence.json >/dev/null

# Host: a process using most of its cgroup's 64 MiB, and a listener that never accepts while
# connections pour in (its queue overflows).
memory_root=/sys/fs/cgroup/memory
if [ "$(id -u)" = 0 ] && [ -w "$memory_root" ]; then
  cg=$memory_root/chokepoint-record-$$
  mkdir "$cg"
  echo $((64 << 20)) >"$cg/memory.limit_in_bytes"
  sh -c "echo \$\$ > $cg/cgroup.procs; exec python3 -c 'import time; b = b\"x\" * (52 << 20); time.sleep(20)'" &
  worker=$!
  pids+=("$worker")
  python3 - <<'PY' &
import socket, time
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
port = listener.getsockname()[1]
clients = []
end = time.time() + 6
while time.time() < end:
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", port))
    clients.append(c)
    time.sleep(0.01)
PY
  pids+=($!)
  sleep 1
  "$bin" diagnose --pid "$worker" --window 3 --fail-on never --format json \
    --save-evidence tests/fixtures/host/memory_limit.evidence.json >/dev/null
  kill "$worker" 2>/dev/null || true
  sleep 0.5
  rmdir "$cg" 2>/dev/null || true
else
  echo "host recording skipped: needs root and a writable $memory_root (cgroup v1 memory controller)" >&2
fi
echo "recorded the evidence under tests/fixtures/{postgres,redis,http,host}/"
