-- The authorization-code grant, each request a distinct code (client_secret_post).
-- args: codes file, client_id, client_secret, redirect_uri (already form-encoded).
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
  local code = codes[next_index] or "exhausted"
  next_index = next_index + 1
  local body = "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" ..
    redirect_uri .. "&client_id=" .. client_id .. "&client_secret=" .. client_secret
  return wrk.format("POST", "/oauth/token", nil, body)
end

common.install(200)
