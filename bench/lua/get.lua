-- GET a path with an optional Bearer token; args: path, expected status, [token].
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

function init(args)
  wrk.method = "GET"
  wrk.path = args[1]
  if args[3] and #args[3] > 0 then
    wrk.headers["Authorization"] = "Bearer " .. args[3]
  end
  request_once = wrk.format()
end

function request()
  return request_once
end

common.install(tonumber(os.getenv("BENCH_EXPECT") or "200"))
