#!/usr/bin/env bash
# Benchmark (not a test): wall time of `diagnose --postgres DSN --window 0` against a database with
# >= 5,000 distinct statements in pg_stat_statements and >= 200 tables. Target: under 2 s.
#   tests/bench/postgres_window0.sh [CHOKEPOINT_BIN] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/chokepoint}
runs=${2:-5}
TABLES=${TABLES:-200}
COLUMNS=${COLUMNS:-26}   # statements = TABLES x COLUMNS

work=$(mktemp -d /tmp/chokepoint-bench.XXXXXX)
trap '"$root/tests/tools/services.sh" stop "$work"; rm -rf "$work"' EXIT
"$root/tests/tools/services.sh" start "$work" postgres >/dev/null
# shellcheck disable=SC1091
. "$work/env"

{
  echo "SET client_min_messages = warning;"
  for t in $(seq 1 "$TABLES"); do
    cols=$(for c in $(seq 1 "$COLUMNS"); do printf ', c%d int' "$c"; done)
    echo "CREATE TABLE bench_t$t (id int PRIMARY KEY$cols);"
    echo "INSERT INTO bench_t$t SELECT i$(for c in $(seq 1 "$COLUMNS"); do printf ', i %% %d' $((c + 1)); done) FROM generate_series(1, 200) i;"
  done
  echo "ANALYZE;"
} > "$work/schema.sql"
psql -X -q -v ON_ERROR_STOP=1 "$PG_APP_DSN" -f "$work/schema.sql" 2>/dev/null
psql -X -q "$PG_SUPER_DSN" -c "SELECT pg_stat_statements_reset()" >/dev/null
# Distinct statements: each (table, column) pair is its own normalized query.
for t in $(seq 1 "$TABLES"); do
  for c in $(seq 1 "$COLUMNS"); do echo "SELECT id, c$c FROM bench_t$t WHERE c$c = $((t % 7));"; done
done > "$work/queries.sql"
psql -X -q "$PG_APP_DSN" -f "$work/queries.sql" >/dev/null

statements=$(psql -X -A -t "$PG_SUPER_DSN" -c "SELECT count(*) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'shop'")
tables=$(psql -X -A -t "$PG_APP_DSN" -c "SELECT count(*) FROM pg_stat_user_tables")
echo "database: $statements statements in pg_stat_statements, $tables tables"

times=()
for i in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  "$bin" diagnose --postgres "$PG_APP_DSN" --window 0 --format json --output "$work/report.json" 2>/dev/null || true
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
seen=$(python3 -c "import json;d=json.load(open('$work/report.json'));print([m['value'] for m in d['metrics'] if m['name']=='pg.statements'][0])")
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
echo "diagnose --window 0: statements judged $seen; wall ms over $runs runs: $sorted(median $median ms; target < 2000 ms)"
