-- Specs of luaworker.testing (and, through it, the real runtime on the
-- in-process stand-in): cancellation at heartbeat N, throttled heartbeats,
-- the fake clock, outcomes and captured logs.
local lu = require "luaunit"
local lw = require "luaworker"
local testing = require "luaworker.testing"
local core = require "luaworker.core"

local handlers = {
  Progress = function(task)
    local args = task:json()
    for i = 1, args.steps do
      lw.heartbeat(("step %d"):format(i))
      lw.sleep(args.pause)
    end
    lw.log.info("done", { steps = args.steps })
    return { steps = args.steps }
  end,
  Cleanup = function(task)
    local ok, err = pcall(function()
      for i = 1, 100 do lw.heartbeat("working " .. i); lw.sleep(10) end
    end)
    if not ok then
      lw.heartbeat("cleaned: " .. tostring(err.reason))
      error(err)
    end
  end,
  Fails = function() lw.fail("Nope", { why = "because" }) end,
  Errors = function() local t = nil; return t.x end,
  Silent = function() while true do lw.sleep(1) end end,
}

TestTesting = {}

function TestTesting:test_completed_with_result_and_logs()
  local r = testing.run(handlers, { type = "Progress", input = { steps = 3, pause = 5 } })
  lu.assertEquals(r.outcome, "completed")
  lu.assertEquals(r.value, { steps = 3 })
  lu.assertEquals(r.logs[1].msg, "done")
  lu.assertEquals(r.logs[1].fields.steps, 3)
  lu.assertEquals(r.heartbeats[1].details, "step 1")
end

function TestTesting:test_fake_clock_costs_no_real_time()
  local t0 = core.monotonic()
  local r = testing.run(handlers, { type = "Progress", input = { steps = 2, pause = 3600 } })
  lu.assertEquals(r.outcome, "completed")
  lu.assertTrue(core.monotonic() - t0 < 0.5, "a 2 h sleep took real time")
  lu.assertTrue(r.elapsed >= 7200, "fake time should have advanced 2 h, not " .. r.elapsed)
  -- the runtime heartbeated for the sleeping handler, on the fake clock
  lu.assertTrue(#r.heartbeats >= 7200 / 10 - 2, "heartbeats while sleeping: " .. #r.heartbeats)
end

function TestTesting:test_cancel_at_heartbeat_n_runs_cleanup()
  local r = testing.run(handlers, { type = "Cleanup", cancel_at_heartbeat = 3, heartbeat_interval = 1 })
  lu.assertEquals(r.outcome, "canceled")
  lu.assertEquals(r.details, "cleaned: cancel_requested")
  lu.assertEquals(r.heartbeats[3].answer, "cancel")
  lu.assertEquals(r.heartbeats[3].details, "working 1")      -- the runtime heartbeats while it sleeps
end

function TestTesting:test_throttled_heartbeats_do_not_fail_the_task()
  local r = testing.run(handlers, {
    type = "Progress", input = { steps = 6, pause = 2 }, throttle_heartbeats = { 2, 3 },
    heartbeat_interval = 1,
  })
  lu.assertEquals(r.outcome, "completed")
  lu.assertEquals(r.heartbeats[2].answer, "throttle")
  lu.assertEquals(r.heartbeats[3].answer, "throttle")
  lu.assertEquals(r.heartbeats[4].answer, "ok")
  lu.assertEquals(r.stats.heartbeat_errors, 2)
end

function TestTesting:test_gone_task_stops_the_handler_without_outcome()
  local r = testing.run(handlers, { type = "Silent", gone_at_heartbeat = 2, heartbeat_interval = 5 })
  lu.assertEquals(r.outcome, "gone")
  lu.assertEquals(r.stats.gone, 1)
end

function TestTesting:test_sfn_stop_is_timed_out_cancellation()
  local r = testing.run(handlers.Cleanup, { kind = "sfn", cancel_at_heartbeat = 2, heartbeat_interval = 1 })
  lu.assertEquals(r.outcome, "gone")                  -- a stopped execution takes no outcome
  lu.assertEquals(r.heartbeats[2].answer, "timed_out")
  lu.assertEquals(r.heartbeats[3], nil)               -- heartbeats to a dead token are not sent
end

function TestTesting:test_heartbeat_timeout()
  local r = testing.run(handlers, {
    type = "Progress", input = { steps = 2, pause = 100 }, heartbeat_timeout = 20, heartbeat_interval = 60,
  })
  lu.assertEquals(r.outcome, "timed_out")
  lu.assertEquals(r.timeout_type, "HEARTBEAT")
  lu.assertEquals(r.details, "step 1")
end

function TestTesting:test_failures()
  local r = testing.run(handlers, { type = "Fails" })
  lu.assertEquals(r.outcome, "failed")
  lu.assertEquals(r.reason, "Nope")
  lu.assertEquals(lw.json.decode(r.details), { why = "because" })
  r = testing.run(handlers, { type = "Errors" })
  lu.assertEquals(r.outcome, "failed")
  lu.assertStrContains(r.reason, "attempt to index a nil value")
  lu.assertStrContains(r.details, "stack traceback")
  r = testing.run(handlers, { type = "Missing" })
  lu.assertEquals(r.reason, "UnknownActivityType")
end

function TestTesting:test_details_helper()
  local r = testing.run(handlers, { type = "Progress", input = { steps = 3, pause = 20 }, heartbeat_interval = 1 })
  lu.assertEquals(testing.details(r)[1], "step 1")
  lu.assertEquals(testing.details(r)[#r.heartbeats], "step 3")
end
