-- wrk script: POST the benchmark order-sign request with a fresh, single-use JWT per request.
-- Environment (set by bench/load.sh):
--   BENCH_BODY    request body file (bench/data/order-sign-60.json)
--   BENCH_TOKENS  pre-minted tokens, one per line (bench/tools/mint_tokens); each is used once:
--                 thread k of n sends tokens k, k+n, k+2n, ...
--   BENCH_PATH    request path (default /cds-services/knee-oa-order-sign)
--   BENCH_REPORT  file the done() summary is appended to (key=value lines)
--   BENCH_REUSE_TOKENS=1  cycle through the tokens (only for baselines that do not check them)
--   BENCH_RATE    offered requests/s over all threads: paced, open-loop sending (below)
-- If a thread runs out of tokens it sends a request without Authorization (a 401, counted as an
-- error) and reports how many it sent that way: mint more tokens rather than reuse one.
-- With BENCH_BODY unset the script is a plain GET benchmark (the nginx baseline), so the
-- baseline gets the same done() percentiles.
--
-- Paced (BENCH_RATE set): each thread offers BENCH_RATE/threads requests/s on a fixed schedule
-- instead of sending as fast as answers come back. A connection that becomes free takes the next
-- slot of its thread's schedule and waits for it (wrk's delay(), whole milliseconds), or sends at
-- once if the slot has passed, so a slow answer does not lower the offered rate as long as a
-- connection is free. wrk times each request from when it was sent; a slot sent more than 1 ms
-- late (no free connection: the service is not keeping up) is counted in late_sends.

local threads = {}
local thread_count = 0

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } cds_timespec;
  int clock_gettime(int clk_id, cds_timespec *tp);
]]
local ts = ffi.new("cds_timespec")
local function now_ms()  -- CLOCK_MONOTONIC
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

function setup(thread)
  thread_count = thread_count + 1
  thread:set("id", thread_count)
  table.insert(threads, thread)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- wrk looks for delay() when it loads the script, so it is defined only when pacing.
pace_rate = tonumber(os.getenv("BENCH_RATE") or "")
if pace_rate ~= nil and pace_rate <= 0 then pace_rate = nil end
if pace_rate ~= nil then
  function delay()
    local now = now_ms()
    local slot = next_slot
    next_slot = next_slot + interval_ms
    if slot < now - 1 then late_sends = late_sends + 1 end
    return slot > now and math.floor(slot - now) or 0
  end
end

function init(args)
  if pace_rate ~= nil then
    local n = tonumber(os.getenv("BENCH_THREADS") or "1")
    interval_ms = 1000 * n / pace_rate
    next_slot = now_ms() + interval_ms * (id - 1) / n  -- threads' schedules interleave
    late_sends = 0
  end
  local body_file = os.getenv("BENCH_BODY")
  path = os.getenv("BENCH_PATH") or "/cds-services/knee-oa-order-sign"
  if body_file == nil or body_file == "" then
    plain_get = true
    fixed_request = wrk.format("GET", path)
    return
  end
  body = slurp(body_file)
  tokens = {}
  local i = 0
  local stride = tonumber(os.getenv("BENCH_THREADS") or "1")  -- must equal wrk -t
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if (i % stride) == (id - 1) then tokens[#tokens + 1] = line end
    i = i + 1
  end
  next_token = 1
  exhausted = 0
  reuse_tokens = os.getenv("BENCH_REUSE_TOKENS") == "1"
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  if plain_get then return fixed_request end
  local t = tokens[next_token]
  if t == nil and reuse_tokens and #tokens > 0 then  -- baselines that ignore the token
    next_token = 1
    t = tokens[1]
  end
  if t ~= nil then
    next_token = next_token + 1
    headers["Authorization"] = "Bearer " .. t
  else
    exhausted = exhausted + 1
    headers["Authorization"] = nil
  end
  return wrk.format("POST", path, headers, body)
end

-- Only with BENCH_DEBUG=1: a response() callback makes wrk hand every body to Lua, which
-- costs client CPU that the measurement should not pay.
if os.getenv("BENCH_DEBUG") == "1" then
  function response(status, hdrs, resp_body)
    if status < 200 or status > 299 then
      shown = (shown or 0) + 1
      if shown <= 3 then io.stderr:write("wrk: HTTP " .. status .. ": " .. string.sub(resp_body or "", 1, 300) .. "\n") end
    end
  end
end

function done(summary, latency, requests)
  local exhausted_total, used, late = 0, 0, 0
  for _, t in ipairs(threads) do
    exhausted_total = exhausted_total + (tonumber(t:get("exhausted")) or 0)
    late = late + (tonumber(t:get("late_sends")) or 0)
    used = used + ((tonumber(t:get("next_token")) or 1) - 1)
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  local lines = {
    string.format("requests=%d", summary.requests),
    string.format("duration_s=%.3f", secs),
    string.format("rps=%.1f", summary.requests / secs),
    string.format("bytes=%d", summary.bytes),
    string.format("p50_ms=%.3f", latency:percentile(50) / 1000),
    string.format("p90_ms=%.3f", latency:percentile(90) / 1000),
    string.format("p99_ms=%.3f", latency:percentile(99) / 1000),
    string.format("p999_ms=%.3f", latency:percentile(99.9) / 1000),
    string.format("max_ms=%.3f", latency.max / 1000),
    string.format("non2xx=%d", e.status),
    string.format("socket_errors=%d", e.connect + e.read + e.write + e.timeout),
    string.format("timeouts=%d", e.timeout),
    string.format("tokens_used=%d", used),
    string.format("tokens_exhausted=%d", exhausted_total),
    string.format("late_sends=%d", late),
  }
  io.write("p99.9: " .. string.format("%.3f ms", latency:percentile(99.9) / 1000) .. "\n")
  local report = os.getenv("BENCH_REPORT")
  if report ~= nil and report ~= "" then
    local f = assert(io.open(report, "w"))
    f:write(table.concat(lines, "\n") .. "\n")
    f:close()
  else
    io.write(table.concat(lines, "\n") .. "\n")
  end
end
