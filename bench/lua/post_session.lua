-- POST a session log with a new client_id each time (scenario 1), or replay the first
-- REPLAY_POOL ids scenario 1 created (scenario 2, REPLAY=1). Thread t, request i uses
-- client_id t-i encoded as a UUID, so both scenarios agree on the ids without sharing state.
local template = os.getenv("BODY_TEMPLATE")
local token = os.getenv("TOKEN")
local replay = os.getenv("REPLAY") == "1"
local pool = tonumber(os.getenv("REPLAY_POOL") or "100")
local run = tonumber(os.getenv("RUN_ID") or "1")
local threads = {}
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tonumber(id)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function request()
  local n = counter
  if replay then n = counter % pool end
  counter = counter + 1
  local cid = string.format("%08x-%04x-4000-8000-%012x", run, thread_id, n)
  local body = string.gsub(template, "__CLIENT_ID__", cid)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "errors": %d, "p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
