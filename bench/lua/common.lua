-- Shared by every scenario: count answers whose status is not the expected one, and
-- report one JSON line from done() that bench/run.py reads.
local M = {}
local threads = {}

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
    local bad, first = 0, 0
    for _, t in ipairs(threads) do
      bad = bad + (t:get("unexpected") or 0)
      first = t:get("first_bad") or first
    end
    io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
      '"unexpected": %d, "first_unexpected_status": %d, "socket_errors": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
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
