-- wrk script: replays prepared requests and reports one JSON line.
--
-- wrk ... -s bench/replay.lua URL -- <requests file> <budget> <token or ->
--   requests file: one request per line, METHOD<TAB>PATH<TAB>BODY (BODY may be empty).
--   Connection k of thread t walks the file in order, starting where the last one left off, so
--   a file of unique requests is never repeated before it wraps around.
--   budget > 0: stop after exactly that many responses (use -t1); connections that would
--   send more requests are parked with a long delay() instead, so the server never sees an
--   extra request. wrk's main thread sleeps for the whole -d duration whatever the worker
--   threads do, so reaching the budget prints BENCH_BUDGET_DONE and bench/loadgen.py, which
--   watches for it, sends wrk the SIGINT that ends that sleep (a SIGINT raised from inside
--   wrk may land on the worker thread and leave the main thread asleep). budget 0: run for -d.

local requests = {}
local budget = 0
local issued = 0
local responses = 0
local index = 0
statuses = {}

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  local path, token = args[1], args[3]
  budget = tonumber(args[2]) or 0
  local headers = { ["Content-Type"] = "application/json" }
  if token and token ~= "-" then
    headers["Authorization"] = "Token " .. token
  end
  for line in io.lines(path) do
    local method, target, body = line:match("^(%u+)\t([^\t]*)\t?(.*)$")
    if method then
      if body == "" then
        body = nil
      end
      table.insert(requests, wrk.format(method, target, headers, body))
    end
  end
  -- Threads start at different offsets so they do not replay the same requests.
  index = (thread_index or 0) * 7919 % #requests
end

function delay()
  if budget > 0 then
    issued = issued + 1
    if issued > budget then
      return 3600000
    end
  end
  return 0
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  responses = responses + 1
  if budget > 0 and responses == budget then
    wrk.thread:stop()
    io.stdout:write("BENCH_BUDGET_DONE\n")
    io.stdout:flush()
  end
end

function done(summary, latency, _)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "statuses": {%s}, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"latency_us": {"mean": %.1f, "p50": %d, "p95": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max
  ))
end
