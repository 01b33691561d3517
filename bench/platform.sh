#!/usr/bin/env bash
# Cost of platform deployments in one `cubit serve`: memory per idle deployment (RSS before
# and after 100 always-on deployments of the demo environment, and after one /load on each),
# the wall time to create and start the 100, and wrk throughput of one deployment next to
# the default deployment (/cubejs-api/v1) on the same cached query, in the same run.
#
#   bench/platform.sh        needs: Go, curl, jq, openssl; wrk (apt-get install wrk) for the
#                            throughput part, which is skipped without it
#
# DEPLOYMENTS (default 100), DURATION (default 10s) and CONNECTIONS (default 8) change the
# run; CUBIT_BIN=path skips the build and runs that binary.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOYMENTS=${DEPLOYMENTS:-100}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-8}
ADMIN=bench-admin-token
SECRET=bench-api-secret
QUERY='{"measures":["orders.count"],"dimensions":["orders.status"]}'
export CGO_ENABLED=1

for tool in curl jq openssl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done
cd "$ROOT"
BIN=${CUBIT_BIN:-}
if [[ -z $BIN ]]; then
  go build -o bin/cubit ./cmd/cubit
  BIN=bin/cubit
fi

WORK=$(mktemp -d /tmp/cubit-bench-platform.XXXXXX)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(freeport)
SQL_PORT=$(freeport)
ORIGIN="http://127.0.0.1:$PORT"

# A default-deployment token: HS256 over CUBEJS_API_SECRET, as Cube's clients mint it.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
jwt_head=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
jwt_body=$(printf '{"iat":%d,"exp":%d}' "$now" $((now + 86400)) | b64url)
jwt_sig=$(printf '%s.%s' "$jwt_head" "$jwt_body" | openssl dgst -sha256 -hmac "$SECRET" -binary | b64url)
JWT="$jwt_head.$jwt_body.$jwt_sig"

admin() { # method path [body]
  curl -sf -X "$1" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$ORIGIN/api/v1$2"
}
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
wait_running() { # project
  local deadline=$(( $(date +%s) + 300 ))
  until [[ $(admin GET "/projects/$1/branches/main/status" | jq -r .state) == RUNNING ]]; do
    (( $(date +%s) < deadline )) || { echo "bench: $1/main not RUNNING after 300 s" >&2; exit 1; }
    sleep 0.02
  done
}
load() { # base token -> HTTP status
  curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/json' -d "{\"query\":$QUERY}" "$1/load"
}

echo "machine: $(nproc) vCPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM"
echo "command: bench/platform.sh (DEPLOYMENTS=$DEPLOYMENTS DURATION=$DURATION CONNECTIONS=$CONNECTIONS)"

start=$(date +%s%N)
CUBIT_ADMIN_TOKEN=$ADMIN CUBEJS_API_SECRET=$SECRET "$BIN" serve --data-dir "$WORK/data" \
  --listen "127.0.0.1:$PORT" --sql-listen "127.0.0.1:$SQL_PORT" --log-level warn \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
pid=$!
until curl -sf "$ORIGIN/readyz" >/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$WORK/serve.err" >&2; exit 1; }
  sleep 0.02
done
wait_running demo
echo "start to ready with the demo project RUNNING: $(ms "$start") ms"
[[ $(load "$ORIGIN/cubejs-api/v1" "$JWT") == 200 ]] || { echo "bench: default /load failed" >&2; exit 1; }
sleep 1
rss0=$(rss_mb)
echo "RSS, default deployment and the demo project: $rss0 MB"

start=$(date +%s%N)
for i in $(seq 1 "$DEPLOYMENTS"); do
  admin POST /projects "{\"name\":\"p$i\",\"environment\":\"demo\",\"deployment\":{\"mode\":\"always_on\"}}" >/dev/null
done
created_ms=$(ms "$start")
for i in $(seq 1 "$DEPLOYMENTS"); do wait_running "p$i"; done
started_ms=$(ms "$start")
echo "created $DEPLOYMENTS projects in $created_ms ms; all RUNNING after $started_ms ms"
sleep 1
rss1=$(rss_mb)
echo "RSS with $DEPLOYMENTS more deployments RUNNING, idle: $rss1 MB"

declare -a bases tokens
for i in $(seq 1 "$DEPLOYMENTS"); do
  c=$(admin GET "/projects/p$i/branches/main/credentials")
  bases[i]=$(jq -r .rest.base_url <<<"$c")
  tokens[i]=$(jq -r .rest.token <<<"$c")
done
start=$(date +%s%N)
for i in $(seq 1 "$DEPLOYMENTS"); do
  status=$(load "${bases[i]}" "${tokens[i]}")
  [[ $status == 200 ]] || { echo "bench: /load on p$i: status $status" >&2; exit 1; }
done
first_ms=$(ms "$start")
sleep 1
rss2=$(rss_mb)
echo "one /load on each (first query, compiles and runs in DuckDB): $first_ms ms in all; RSS after: $rss2 MB"

per_idle=$(awk -v a="$rss0" -v b="$rss1" -v n="$DEPLOYMENTS" 'BEGIN {printf "%.2f", (b - a) / n}')
per_used=$(awk -v a="$rss0" -v b="$rss2" -v n="$DEPLOYMENTS" 'BEGIN {printf "%.2f", (b - a) / n}')

def_rps="-"; dep_rps="-"; def_p99="-"; dep_p99="-"
if command -v wrk >/dev/null; then
  q=$(jq -rn --arg q "$QUERY" '$q | @uri')
  run_wrk() { # base token -> "req/s p99"
    local out
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $2" "$1/load?query=$q")
    if grep -q 'Non-2xx' <<<"$out"; then echo "bench: wrk saw errors: $out" >&2; exit 1; fi
    echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")"
  }
  load "${bases[1]}" "${tokens[1]}" >/dev/null
  read -r def_rps def_p99 < <(run_wrk "$ORIGIN/cubejs-api/v1" "$JWT")
  read -r dep_rps dep_p99 < <(run_wrk "${bases[1]}" "${tokens[1]}")
  echo "wrk $CONNECTIONS connections $DURATION, cached GET /load: default $def_rps req/s (p99 $def_p99), p1 $dep_rps req/s (p99 $dep_p99)"
else
  echo "wrk not installed: throughput skipped (apt-get install wrk)"
fi
rss3=$(rss_mb)

echo
echo "| what | figure |"
echo "|---|---|"
echo "| RSS, default deployment and demo project | $rss0 MB |"
echo "| RSS with $DEPLOYMENTS more deployments RUNNING, idle | $rss1 MB |"
echo "| RSS after one /load on each | $rss2 MB |"
echo "| RSS per idle deployment, before / after a first query | $per_idle / $per_used MB |"
echo "| create $DEPLOYMENTS always-on projects / until all RUNNING | $created_ms / $started_ms ms |"
echo "| first /load on each of the $DEPLOYMENTS, sequential | $first_ms ms |"
if [[ $def_rps != - ]]; then
  ratio=$(awk -v a="$dep_rps" -v b="$def_rps" 'BEGIN {printf "%.2f", a / b}')
  echo "| wrk $CONNECTIONS conn $DURATION cached, default deployment | $def_rps req/s, p99 $def_p99 |"
  echo "| wrk $CONNECTIONS conn $DURATION cached, deployment p1 | $dep_rps req/s, p99 $dep_p99 (ratio $ratio) |"
  echo "| RSS after wrk | $rss3 MB |"
fi
