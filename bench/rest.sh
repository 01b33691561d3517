#!/usr/bin/env bash
# Side-by-side speed of the REST API: cubit serve and the real Cube (the peer in
# ../shared/peer) on the same model and data, in one run, plus DuckDB alone on the SQL Cubit
# generates. Prints sequential latency (cached and no-cache), wrk throughput at 8
# connections, and RSS idle and after load.
#
#   bench/rest.sh            needs: Go, Node, wrk (apt-get install wrk); installs the peer
#                            (about 80 s and 400 MB in /tmp/cubepeer) on first use
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="$ROOT/../shared/peer"
CUBIT_PORT=${CUBIT_PORT:-4001}
PEER_PORT=${CUBEPEER_PORT:-4000}
DURATION=${DURATION:-10s}
QUERY='{"measures":["orders.count","orders.total_amount"],"dimensions":["orders.status"]}'
export CGO_ENABLED=1

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
cd "$ROOT"
go build -o bin/cubit ./cmd/cubit
go build -o bin/duckdbalone ./bench/duckdbalone
bash "$PEER/install.sh" >/dev/null
cp /tmp/cubepeer/data/shop.duckdb /tmp/cubit-bench-shop.duckdb
cp /tmp/cubepeer/data/shop.duckdb /tmp/cubit-bench-alone.duckdb # DuckDB locks a file per process

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; bash "$PEER/stop.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT

bash "$PEER/start.sh" >/dev/null
peer_pid=$(cat /tmp/cubepeer/cube.pid)
start=$(date +%s%N)
CUBEJS_API_SECRET=cubepeer-secret CUBEJS_DB_TYPE=duckdb CUBEJS_DB_DUCKDB_DATABASE_PATH=/tmp/cubit-bench-shop.duckdb \
  CUBEJS_SCHEMA_PATH="$PEER/model" PORT=$CUBIT_PORT bin/cubit serve --no-platform --log-level warn >/tmp/cubit-bench.out 2>&1 &
cubit_pid=$!
pids+=("$cubit_pid")
until curl -sf "http://127.0.0.1:$CUBIT_PORT/readyz" >/dev/null; do sleep 0.02; done
echo "cubit start to ready: $(( ($(date +%s%N) - start) / 1000000 )) ms"

rss() { echo "$(( $(ps -o rss= -p "$1") / 1024 )) MB"; }
echo "RSS idle: cubit $(rss "$cubit_pid"), cube $(rss "$peer_pid")"

echo; echo "== sequential, one keep-alive connection (node $PEER/bench.js)"
for target in "cubit $CUBIT_PORT" "cube $PEER_PORT"; do
  set -- $target
  echo "$1 cached:   $(node "$PEER/bench.js" -n 500 -p "$2" --query "$QUERY")"
  echo "$1 no-cache: $(node "$PEER/bench.js" -n 300 -p "$2" --nocache --query "$QUERY")"
done
echo "duckdb alone: $(bin/duckdbalone -db /tmp/cubit-bench-alone.duckdb -model "$PEER/model" -query "$QUERY" -n 300)"

echo; echo "== wrk, 8 connections, $DURATION"
export CUBEPEER_TOKEN
CUBEPEER_TOKEN=$(node "$PEER/token.js")
for target in "cubit $CUBIT_PORT" "cube $PEER_PORT"; do
  set -- $target
  for mode in cached no-cache; do
    body="{\"query\":$QUERY}"
    [[ $mode == no-cache ]] && body="{\"query\":$QUERY,\"cache\":\"no-cache\"}"
    out=$(CUBEPEER_BODY="$body" wrk -t2 -c8 -d"$DURATION" -s "$PEER/wrk-load.lua" "http://127.0.0.1:$2")
    echo "$1 $mode: $(grep Requests/sec <<<"$out" | awk '{print $2}') req/s, $(grep non2xx <<<"$out")"
  done
done
echo; echo "RSS after load: cubit $(rss "$cubit_pid"), cube $(rss "$peer_pid")"
