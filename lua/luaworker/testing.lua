-- luaworker.testing: run a handler in a unit test, against a scripted
-- stand-in for the service, on a fake clock (lw.sleep costs no real time).
--
--   local testing = require "luaworker.testing"
--   local r = testing.run(require("resize"), {          -- handlers (table or function) or a file path
--     type = "ResizeImage",                             -- SWF activity type (default: the only one)
--     input = { width = 1280 },                         -- a table (sent as JSON) or a string
--     cancel_at_heartbeat = 3,                          -- the service asks to cancel at heartbeat 3
--     throttle_heartbeats = { 2 },                      -- heartbeat 2 gets ThrottlingException
--   })
--   lu.assertEquals(r.outcome, "canceled")
--   lu.assertEquals(r.heartbeats[1].details, "10%")
--
-- The script takes everything luaworker.standin.run does (kind = "sfn",
-- cancel_after, fail_heartbeats, gone_at_heartbeat, heartbeat_timeout,
-- start_to_close, heartbeat_interval, worker = {...}), with fake_clock on
-- unless fake_clock = false.
--
-- The record: outcome ("completed" | "failed" | "canceled" | "timed_out" |
-- "gone"), result (the text sent), value (result decoded as JSON, if it is),
-- reason, details, timeout_type, heartbeats ({n, at, details, answer}, `at`
-- in fake seconds), logs ({level, msg, fields} for every lw.log call),
-- events, elapsed (fake seconds from start to outcome), duration (real
-- seconds), stats.
local lw = require "luaworker"
local standin = require "luaworker.standin"
local core = require "luaworker.core"

local M = {}

local function load_handlers(h)
  if type(h) ~= "string" then return h end
  local chunk, err = loadfile(h)
  if not chunk then error(err, 3) end
  return chunk()
end

--- Run one task of `handlers` following `script`; returns the record.
function M.run(handlers, script)
  script = script or {}
  local s = {}
  for k, v in pairs(script) do s[k] = v end
  if s.fake_clock == nil then s.fake_clock = true end
  if type(s.input) == "table" then s.input = assert(lw.json.encode(s.input)) end
  -- Capture the handler's log lines; keep the runtime's own quiet.
  local logs, saved = {}, {}
  for level, fn in pairs(lw.log) do
    saved[level] = fn
    lw.log[level] = function(msg, fields)
      logs[#logs + 1] = { level = level, msg = tostring(msg), fields = fields }
    end
  end
  core.log_configure(script.log_level or "off", "text")
  local ok, record = pcall(standin.run, load_handlers(handlers), s)
  for level, fn in pairs(saved) do lw.log[level] = fn end
  core.log_configure("info", "text")
  if not ok then error(record, 2) end
  record.logs = logs
  local last = record.events[#record.events]
  record.elapsed = last and last.at or 0
  if record.result then
    local v = lw.json.decode(record.result)
    record.value = v
  end
  return record
end

--- The details of every heartbeat the service saw, in order.
function M.details(record)
  local out = {}
  for i, hb in ipairs(record.heartbeats) do out[i] = hb.details end
  return out
end

return M
