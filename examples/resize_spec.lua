-- examples/resize_spec.lua: a handler's own unit test, written with
-- luaworker.testing. Run it with:
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/lib/?.so;;" lua5.4 examples/resize_spec.lua
-- (`make test` runs it too). No service, no network, and the sleeps in the
-- handler cost no real time.
local lu = require "luaunit"
local testing = require "luaworker.testing"

local HANDLERS = "examples/resize.lua"

TestResize = {}

function TestResize:test_halves_the_size_and_reports_progress()
  local r = testing.run(HANDLERS, { input = { width = 1280, height = 720, steps = 4, step_seconds = 3 } })
  lu.assertEquals(r.outcome, "completed")
  lu.assertEquals(r.value, { width = 640, height = 360 })
  lu.assertEquals(r.heartbeats[1].details, "25%")
  lu.assertEquals(r.heartbeats[#r.heartbeats].details, "100%")
  lu.assertEquals(r.logs[1].msg, "resized")
end

function TestResize:test_bad_input_fails_with_a_reason()
  local r = testing.run(HANDLERS, { input = { height = 10 } })
  lu.assertEquals(r.outcome, "failed")
  lu.assertEquals(r.reason, "BadInput")
  lu.assertStrContains(r.details, "numeric width")
end

function TestResize:test_cancellation_mid_run()
  local r = testing.run(HANDLERS, { input = { width = 10, steps = 100, step_seconds = 1 }, cancel_at_heartbeat = 3 })
  lu.assertEquals(r.outcome, "canceled")
  lu.assertEquals(#r.heartbeats, 3)
end

function TestResize:test_survives_throttled_heartbeats()
  local r = testing.run(HANDLERS, { input = { width = 10, steps = 10, step_seconds = 1 },
                                    throttle_heartbeats = { 1, 2, 3 } })
  lu.assertEquals(r.outcome, "completed")
end

if arg and arg[0] and arg[0]:match("resize_spec%.lua$") then   -- run directly
  os.exit(lu.LuaUnit.run())
end
