#!/usr/bin/env bash
# Peak memory of cubit serve while /export streams 10k, 1M and 10M rows of an ungrouped
# query, from PostgreSQL and from DuckDB (issue 7, "Streaming and memory"). Each size runs on
# a fresh server, whose peak RSS (VmHWM) is read after the export; the idle figure is read
# before it.
#
#   bench/export-memory.sh      needs: Go, curl, the CI PostgreSQL (.ci/run --setup) or PG_URL
#   SIZES="10000 1000000" bench/export-memory.sh     fewer sizes
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_URL=${PG_URL:-postgres://ci:ci@127.0.0.1:55432/cidb?sslmode=disable}
SIZES=${SIZES:-"10000 1000000 10000000"}
PORT=${PORT:-4021}
WORK=$(mktemp -d)
export CGO_ENABLED=1
cd "$ROOT"
go build -o bin/cubit ./cmd/cubit
go build -o bin/exportmem ./bench/exportmem
max=0
for n in $SIZES; do [ "$n" -gt "$max" ] && max=$n; done
bin/exportmem -pg "$PG_URL" -rows "$max"
bin/exportmem -duckdb "$WORK/events.duckdb" -rows "$max"

mkdir -p "$WORK/pg/cubes" "$WORK/duck/cubes"
cube() { # $1: sql_table
  cat <<YAML
cubes:
  - name: events
    sql_table: $1
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
        public: true
      - name: bucket
        sql: bucket
        type: number
      - name: label
        sql: label
        type: string
YAML
}
cube exportmem.events >"$WORK/pg/cubes/events.yml"
cube events >"$WORK/duck/cubes/events.yml"

pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$WORK"' EXIT
kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
serve() { # $1: source (pg | duck)
  local env=(CUBEJS_API_SECRET=export-mem-secret CUBEJS_SCHEMA_PATH="$WORK/$1" PORT=$PORT)
  if [ "$1" = pg ]; then
    env+=(CUBEJS_DB_TYPE=postgres CUBEJS_DB_URL="$PG_URL")
  else
    env+=(CUBEJS_DB_TYPE=duckdb CUBEJS_DB_DUCKDB_DATABASE_PATH="$WORK/events.duckdb")
  fi
  env "${env[@]}" bin/cubit serve --no-platform --sql-listen 127.0.0.1:0 --log-level warn >"$WORK/serve.log" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.05; done
}
TOKEN=$(CUBEJS_API_SECRET=export-mem-secret bin/cubit token)

printf '| source | rows | idle RSS | peak RSS during the export | bytes sent | time |\n|---|---|---|---|---|---|\n'
for src in pg duck; do
  for n in $SIZES; do
    serve "$src"
    idle=$(kb "$pid" VmRSS)
    body=$(printf '{"query": {"dimensions": ["events.id", "events.bucket", "events.label"], "ungrouped": true, "filters": [{"member": "events.id", "operator": "lte", "values": ["%s"]}]}, "format": "csv"}' "$n")
    start=$(date +%s%N)
    bytes=$(curl -sf -X POST "http://127.0.0.1:$PORT/cubejs-api/v1/export" -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' -d "$body" | wc -c)
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    peak=$(kb "$pid" VmHWM)
    printf '| %s | %s | %d MB | %d MB | %s | %d ms |\n' "$src" "$n" $((idle / 1024)) $((peak / 1024)) "$bytes" "$ms"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  done
done
