-- luaworker.http: asynchronous HTTP for handlers (lw.http), on the worker's
-- own event loop: the handler's coroutine waits, the others run, the runtime
-- heartbeats meanwhile, and a cancellation aborts the request and is raised.
--
--   local status, body, headers = lw.http.request{ url = ..., method = "POST",
--     headers = {...}, body = "...", timeout = 10, connect_timeout = 5,
--     max_body = 16 * 1024 * 1024,
--     aws = { service = "dynamodb", region = "eu-west-1" } }   -- SigV4-signed
--   local status, body = lw.http.get(url [, opts])
--   local status, body = lw.http.post(url, body [, opts])
--
-- Every HTTP status is returned (check it); transport failures raise a
-- luaworker.Error whose code is HttpTimeout, ConnectTimeout,
-- ConnectionRefused, HostNotFound, TlsError, ConnectionClosed, NetworkError
-- or BodyTooLarge. TLS is always verified (AWS_CA_BUNDLE for a private CA).
local core = require "luaworker.core"

local M = {}

M.request = core.http_request

local function with(opts, fields)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  for k, v in pairs(fields) do o[k] = v end
  return o
end

function M.get(url, opts)
  return core.http_request(with(opts, { method = "GET", url = url }))
end

function M.post(url, body, opts)
  return core.http_request(with(opts, { method = "POST", url = url, body = body }))
end

return M
