-- wrk -s bench/suite/wrk.lua: POST /cubejs-api/v1/load with the body in $SUITE_BODY and the
-- token in $SUITE_TOKEN; prints one JSON line of figures for `suite wrk` to read. Errors
-- count HTTP errors (wrk counts status 400 and up), "Continue wait" answers, socket errors and timeouts.
wrk.method = "POST"
wrk.path = "/cubejs-api/v1/load"
wrk.body = os.getenv("SUITE_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("SUITE_TOKEN")

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) waits = 0 end
function response(status, headers, body)
  if string.find(body, "Continue wait", 1, true) then waits = waits + 1 end
end

function done(summary, latency, requests)
  local waited = 0
  for _, t in ipairs(threads) do waited = waited + t:get("waits") end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.6f,"p50_ms":%.4f,"p99_ms":%.4f,"mean_ms":%.4f,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000,
    e.connect + e.read + e.write + e.timeout + e.status + waited))
end
