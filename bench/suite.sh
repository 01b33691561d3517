#!/usr/bin/env bash
# The benchmark suite of issue 7: builds Cubit and measures, side by side in one run, on the
# same data:
#   1. REST /load on the Cube peer's data (../shared/peer, 10,000 orders): cached and
#      "cache": "no-cache", sequential p50/p99 and wrk at 1, 8 and 64 connections, against
#      cubit serve, against the real Cube, and DuckDB alone running the SQL Cubit generates;
#   2. the SQL API through pgx on the same server: the same query, cached and no-cache,
#      sequential and at 1, 8 and 64 connections;
#   3. a scale curve on the demo shop at each (whole) scale of SCALES (1 = 10⁵ orders): uncached
#      aggregates against DuckDB alone on a copy of the same file (the two take turns, request
#      by request, so that both meet the same machine), and the rollup-served query (rows
#      say "n/a (no rollup served)" while the REST API does not name a pre-aggregation in
#      usedPreAggregations); at scale 1 the rollup query also goes through wrk.
# It writes results.jsonl (one record per figure), results.json, results.md and the charts
# (PNG) into OUT.
#
#   bench/suite.sh                           about 6 minutes with the default SCALES, once the
#                                            10⁷-order file exists (its first generation takes
#                                            about 70 s and 0.5 GB under WORK)
#   SCALES="1 10" DURATION=5s bench/suite.sh quick run
#   IMG_DIR=docs/img bench/suite.sh          the recorded run: charts for docs/benchmarks.md
#
# Needs: Go, wrk (apt-get install wrk), curl; installs the Cube peer on first use (about 80 s
# and 400 MB in /tmp/cubepeer). Knobs: SCALES (default "1 10 100"), DURATION (wrk and pgx
# time per connection count, default 10s), CONNS (default "1 8 64"), WORK (binaries and
# generated shops, default /tmp/cubit-suite), OUT (default WORK/run-DATE), IMG_DIR (charts,
# default OUT), QUIET_WAIT (before each part, wait up to this long for the machine's cores
# to be under 15% busy, e.g. 120s; default 0s: just record how busy they are), ROLLUP_WAIT
# (how long a scale's server may take to answer from its rollup, default 120s), CUBIT_PORT,
# SQL_PORT, CUBEPEER_PORT.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="$ROOT/../shared/peer"
SCALES=${SCALES:-"1 10 100"}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-"1 8 64"}
WORK=${WORK:-/tmp/cubit-suite}
OUT=${OUT:-$WORK/run-$(date +%Y%m%d-%H%M%S)}
IMG_DIR=${IMG_DIR:-$OUT}
CUBIT_PORT=${CUBIT_PORT:-4101}
SQL_PORT=${SQL_PORT:-15471}
PEER_PORT=${CUBEPEER_PORT:-4000}
QUIET_WAIT=${QUIET_WAIT:-0s}
ROLLUP_WAIT=${ROLLUP_WAIT:-120s}
SECRET=cubepeer-secret # the peer's; Cubit uses the same, so one token serves both
export CGO_ENABLED=1

command -v wrk >/dev/null || { echo "suite: wrk is missing (apt-get install wrk)" >&2; exit 1; }
mkdir -p "$WORK" "$OUT" "$IMG_DIR"
OUT=$(cd "$OUT" && pwd)
IMG_DIR=$(cd "$IMG_DIR" && pwd)
RES="$OUT/results.jsonl"
: >"$RES"
cd "$ROOT"
echo "== build"
go build -o "$WORK/cubit" ./cmd/cubit
go build -o "$WORK/suite" ./bench/suite
S="$WORK/suite"
bash "$PEER/install.sh" >/dev/null
"$S" machine >"$OUT/machine.json"
TOKEN=$("$S" token -secret "$SECRET")

cubit_pid=""
peer_started=""
stop_cubit() {
  if [[ -n $cubit_pid ]]; then
    kill "$cubit_pid" 2>/dev/null || true
    wait "$cubit_pid" 2>/dev/null || true
    cubit_pid=""
  fi
}
cleanup() {
  stop_cubit
  [[ -n $peer_started ]] && bash "$PEER/stop.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# start_cubit LOG [ENV=VALUE...]: cubit serve on CUBIT_PORT and SQL_PORT, until /readyz.
start_cubit() {
  local log=$1
  shift
  env "$@" CUBEJS_API_SECRET=$SECRET CUBEJS_PG_SQL_PORT=$SQL_PORT CUBEJS_SQL_USER=bench CUBEJS_SQL_PASSWORD=bench \
    PORT=$CUBIT_PORT "$WORK/cubit" serve --no-platform --log-level warn >"$log" 2>&1 &
  cubit_pid=$!
  for _ in $(seq 1 1500); do
    curl -sf "http://127.0.0.1:$CUBIT_PORT/readyz" >/dev/null && return 0
    kill -0 "$cubit_pid" 2>/dev/null || break
    sleep 0.02
  done
  echo "suite: cubit serve did not become ready; see $log" >&2
  tail -5 "$log" >&2
  exit 1
}
CUBIT="http://127.0.0.1:$CUBIT_PORT"
CUBE="http://127.0.0.1:$PEER_PORT"

# ---------------------------------------------------------------- 1. REST on the peer's data
Q='{"measures":["orders.count","orders.total_amount"],"dimensions":["orders.status"]}'
QF='{"measures":["orders.count","orders.total_amount"],"dimensions":["orders.status"],"filters":[{"member":"orders.id","operator":"notEquals","values":["-1"]}]}'
# DuckDB locks a file per process: cubit serve and DuckDB alone each get a copy.
cp /tmp/cubepeer/data/shop.duckdb "$WORK/peer-serve.duckdb"
cp /tmp/cubepeer/data/shop.duckdb "$WORK/peer-alone.duckdb"
"$S" load -label rest -wait "$QUIET_WAIT" -out "$RES"
start_cubit "$OUT/cubit-peer.log" CUBEJS_DB_TYPE=duckdb CUBEJS_DB_DUCKDB_DATABASE_PATH="$WORK/peer-serve.duckdb" \
  CUBEJS_SCHEMA_PATH="$PEER/model"
if [[ -f /tmp/cubepeer/cube.pid ]] && kill -0 "$(cat /tmp/cubepeer/cube.pid)" 2>/dev/null; then
  echo "suite: the Cube peer is running already (pid $(cat /tmp/cubepeer/cube.pid)): measuring it, leaving it running"
else
  CUBEPEER_PORT=$PEER_PORT bash "$PEER/start.sh" >/dev/null
  peer_started=1
fi

echo "== REST /load: $Q"
peer_pid=$(cat /tmp/cubepeer/cube.pid)
for t in "cubit $CUBIT $cubit_pid" "cube $CUBE $peer_pid"; do
  set -- $t
  for mode in cached no-cache; do
    n=1000
    [[ $mode == no-cache ]] && n=300
    "$S" seq -url "$2" -token "$TOKEN" -query "$Q" -mode $mode -target "$1" -label by-status -n $n -out "$RES"
    "$S" wrk -url "$2" -token "$TOKEN" -query "$Q" -mode $mode -target "$1" -label by-status -conns "$CONNS" \
      -duration "$DURATION" -lua "$ROOT/bench/suite/wrk.lua" -pids "$3" -out "$RES"
  done
done
# Cubit and DuckDB alone taking turns, request by request, on copies of the same file.
"$S" pair -url "$CUBIT" -token "$TOKEN" -query "$Q" -db "$WORK/peer-alone.duckdb" -label by-status -n 300 -warmup 20 -out "$RES"
"$S" sql -url "$CUBIT" -token "$TOKEN" -query "$Q" -save "$OUT/by-status.sql.json" >/dev/null
"$S" sql -url "$CUBIT" -token "$TOKEN" -query "$QF" -save "$OUT/by-status-filter.sql.json" >/dev/null
[[ -n $peer_started ]] && { bash "$PEER/stop.sh" >/dev/null; peer_started=""; }

# ---------------------------------------------------------------- 2. SQL API, same server
echo "== SQL API through pgx"
DSN="postgresql://bench:bench@127.0.0.1:$SQL_PORT/cubit"
SQL='SELECT status, MEASURE(count), MEASURE(total_amount) FROM orders GROUP BY 1'
SQLNC='SELECT status, MEASURE(count), MEASURE(total_amount) FROM orders WHERE id <> $1 GROUP BY 1'
"$S" pgx -dsn "$DSN" -exec extended -mode cached -sql "$SQL" -label by-status -n 2000 -conns "$CONNS" -duration "$DURATION" -pids "$cubit_pid" -out "$RES"
"$S" pgx -dsn "$DSN" -exec extended -mode no-cache -sql "$SQLNC" -label by-status-filter -n 300 -conns "$CONNS" -duration "$DURATION" -pids "$cubit_pid" -out "$RES"
"$S" pgx -dsn "$DSN" -exec simple -mode cached -sql "$SQL" -label by-status -n 2000 -conns "" -out "$RES"
"$S" pgx -dsn "$DSN" -exec simple -mode no-cache -sql "$SQLNC" -label by-status-filter -n 300 -conns "" -out "$RES"
stop_cubit

# DuckDB alone on the SQL API's uncached query (its SQL through the REST API's compiler).
"$S" load -label "duckdb-alone" -wait "$QUIET_WAIT" -out "$RES"
"$S" alone -db "$WORK/peer-alone.duckdb" -sqlfile "$OUT/by-status-filter.sql.json" -section sql -label by-status-filter -n 300 -warmup 50 -out "$RES"

# ---------------------------------------------------------------- 3. the scale curve
QS='{"measures":["orders.total_revenue","orders.total_discount"],"dimensions":["orders.status"]}'
QM='{"measures":["orders.total_revenue","orders.total_discount"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"month"}]}'
QR='{"measures":["orders.count"],"dimensions":["orders.status"],"timeDimensions":[{"dimension":"orders.created_at","dateRange":["2024-01-01","2024-12-31"]}]}'
for s in $SCALES; do
  echo "== scale $s ($((s * 100000)) orders)"
  shop="$WORK/shop-$s.duckdb"
  "$S" gen -scale "$s" -db "$shop" -out "$RES"
  "$S" load -label "scale $s" -wait "$QUIET_WAIT" -out "$RES"
  n=$((2000 / (s < 10 ? 10 : s))) # runs measured: 200 up to 10⁶ orders, 20 at 10⁷
  (( n < 15 )) && n=15
  w=$((n / 10 < 3 ? 3 : n / 10)) # warm-up runs
  cp "$shop" "$WORK/serve.duckdb"
  rm -f "$WORK/serve.duckdb.wal"
  start_cubit "$OUT/cubit-scale-$s.log" CUBEJS_DB_TYPE=duckdb CUBEJS_DB_DUCKDB_DATABASE_PATH="$WORK/serve.duckdb"
  # The rollup first: cubit serve builds it in the background after it starts, and that
  # build must not run beside the uncached measurements.
  "$S" seq -url "$CUBIT" -token "$TOKEN" -query "$QR" -mode rollup -section scale -scale "$s" -label rollup-by-status \
    -n 300 -rollup-wait "$ROLLUP_WAIT" -out "$RES"
  if [[ $s == 1 ]]; then
    "$S" wrk -url "$CUBIT" -token "$TOKEN" -query "$QR" -mode rollup -section scale -scale "$s" -label rollup-by-status \
      -conns "$CONNS" -duration "$DURATION" -lua "$ROOT/bench/suite/wrk.lua" -pids "$cubit_pid" -out "$RES"
  fi
  for q in "revenue-by-status $QS" "revenue-by-month $QM"; do
    label=${q%% *}
    body=${q#* }
    "$S" pair -url "$CUBIT" -token "$TOKEN" -query "$body" -db "$shop" -section scale -scale "$s" -label "$label" \
      -n $n -warmup $w -out "$RES"
    "$S" sql -url "$CUBIT" -token "$TOKEN" -query "$body" -save "$OUT/$label-$s.sql.json" >/dev/null
  done
  stop_cubit
  rm -f "$WORK/serve.duckdb" "$WORK/serve.duckdb.wal"
done

# ---------------------------------------------------------------- results
echo "== results in $OUT"
"$S" report -in "$RES" -machine "$OUT/machine.json" -command "SCALES=\"$SCALES\" DURATION=$DURATION CONNS=\"$CONNS\" QUIET_WAIT=$QUIET_WAIT bench/suite.sh" \
  -json "$OUT/results.json" -md "$OUT/results.md"
go run ./bench/charts -in "$OUT/results.json" -out "$IMG_DIR"
