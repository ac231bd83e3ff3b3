-- GET with an optional bearer token and If-None-Match; prints one JSON result line.
local token = os.getenv("TOKEN")
local etag = os.getenv("ETAG")

function init(args)
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
  if etag and etag ~= "" then
    wrk.headers["If-None-Match"] = etag
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "errors": %d, "p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
