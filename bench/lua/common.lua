-- Shared by every scenario: count answers whose status is not the expected one, and
-- report one JSON line from done() that bench/run.py reads.
local M = {}
local threads = {}
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]]

-- Microseconds on the monotonic clock (LuaJIT's os.clock is CPU time).
function M.now_us()
  local now = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, now)
  return tonumber(now.tv_sec) * 1000000 + tonumber(now.tv_nsec) / 1000
end

-- A scenario whose supply runs out stops early: wrk still reports the whole duration,
-- so the time it actually ran is kept here (first request to the stop).
function M.start()
  if not started_us then started_us = M.now_us() end
end

function M.stop()
  ran_us = M.now_us() - started_us
  wrk.thread:stop()
end

function M.install(expected)
  function setup(thread)
    table.insert(threads, thread)
  end
  function response(status, headers, body)
    if status ~= expected then
      unexpected = (unexpected or 0) + 1
      if not first_bad then first_bad = status end
    end
    if on_response then on_response(status, headers, body) end
  end
  function done(summary, latency, requests)
    local bad, first, duration = 0, 0, summary.duration
    for _, t in ipairs(threads) do
      bad = bad + (t:get("unexpected") or 0)
      first = t:get("first_bad") or first
      local ran = t:get("ran_us")
      if ran and ran < duration then duration = ran end
    end
    io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
      '"unexpected": %d, "first_unexpected_status": %d, "socket_errors": %d}\n',
      summary.requests, duration, latency:percentile(50), latency:percentile(99),
      bad, first, summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.timeout))
  end
end

function M.lines(path)
  local list = {}
  for line in io.lines(path) do
    if #line > 0 then table.insert(list, line) end
  end
  return list
end

return M
