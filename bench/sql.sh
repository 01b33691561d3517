#!/usr/bin/env bash
# Speed of the SQL API through pgx (bench/sqlrt), on the embedded demo shop (100,000 orders):
#   1. sequential round trips of SELECT status, MEASURE(count) FROM orders GROUP BY 1 against
#      cubit serve, vs SELECT status, count(*) FROM orders GROUP BY 1 sent to PostgreSQL over
#      the same rows (loaded into schema sqlbench), p50/p99 and the ratio, simple and extended;
#   2. 64 concurrent connections running a mix of queries for 30 s: errors, throughput, and
#      the server's RSS before and after.
#
#   bench/sql.sh     needs: Go, the CI PostgreSQL (.ci/run --setup) or PG_URL
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_URL=${PG_URL:-postgres://ci:ci@127.0.0.1:55432/cidb?sslmode=disable}
HTTP_PORT=${HTTP_PORT:-4011}
SQL_PORT=${SQL_PORT:-15442}
N=${N:-2000}
CONNS=${CONNS:-64}
DURATION=${DURATION:-30s}
export CGO_ENABLED=1
cd "$ROOT"
go build -o bin/cubit ./cmd/cubit
go build -o bin/sqlrt ./bench/sqlrt

bin/sqlrt load-pg -pg "$PG_URL"

CUBEJS_API_SECRET=sql-bench-secret CUBEJS_PG_SQL_PORT=$SQL_PORT CUBEJS_SQL_USER=bench CUBEJS_SQL_PASSWORD=bench \
  bin/cubit serve --listen 127.0.0.1:$HTTP_PORT --data-dir "$(mktemp -d)" --log-level warn >/tmp/cubit-sql-bench.out 2>&1 &
cubit_pid=$!
trap 'kill $cubit_pid 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null; do sleep 0.02; done
CUBIT_URL="postgresql://bench:bench@127.0.0.1:$SQL_PORT/cubit"

rss() { echo "$(( $(ps -o rss= -p "$1") / 1024 )) MB"; }
echo "cubit RSS at start: $(rss $cubit_pid)"
echo "== sequential round trips (n=$N each)"
bin/sqlrt rt -cubit "$CUBIT_URL" -pg "$PG_URL" -n "$N"
echo "cubit RSS before the load: $(rss $cubit_pid)"
echo "== $CONNS connections, mixed queries, $DURATION"
bin/sqlrt mix -cubit "$CUBIT_URL" -conns "$CONNS" -dur "$DURATION"
echo "cubit RSS after the load: $(rss $cubit_pid)"
sleep 5
echo "cubit RSS 5 s later: $(rss $cubit_pid)"
