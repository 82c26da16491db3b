-- The authorization-code grant, each request a distinct code (client_secret_post).
-- args: codes file, client_id, client_secret, redirect_uri (already form-encoded).
-- When the codes run out before the duration does, the run stops there and reports the
-- time it actually ran; the answers still in flight are not counted.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local codes, client_id, client_secret, redirect_uri
local next_index = 1

function init(args)
  codes = common.lines(args[1])
  client_id, client_secret, redirect_uri = args[2], args[3], args[4]
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  common.start()
  local code = codes[next_index]
  if code == nil then
    common.stop()
    -- Something must be returned; a request that can only succeed, never a used code.
    return wrk.format("GET", "/bench/floor")
  end
  next_index = next_index + 1
  local body = "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" ..
    redirect_uri .. "&client_id=" .. client_id .. "&client_secret=" .. client_secret
  return wrk.format("POST", "/oauth/token", nil, body)
end

common.install(200)
