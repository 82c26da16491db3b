-- The refresh grant, each request a distinct refresh token (client_secret_post). Every
-- answer carries the next refresh token of its grant; it goes back into the pool, so a
-- token is never presented twice. args: tokens file, client_id, client_secret.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local pool, client_id, client_secret

function init(args)
  pool = common.lines(args[1])
  client_id, client_secret = args[2], args[3]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  local token = table.remove(pool)
  if token == nil then token = "exhausted" end
  local body = "grant_type=refresh_token&refresh_token=" .. token ..
    "&client_id=" .. client_id .. "&client_secret=" .. client_secret
  return wrk.format("POST", "/oauth/token", nil, body)
end

function on_response(status, headers, body)
  local next_token = body and string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
  if next_token then table.insert(pool, next_token) end
end

common.install(200)
