-- luaworker.standin: run one task in the real runtime against an in-process
-- stand-in for SWF or Step Functions, following a script of what the service
-- does. `luaworker invoke` and luaworker.testing are built on it.
--
--   local record = standin.run(handlers, {
--     kind = "swf",                 -- or "sfn"
--     type = "Resize",              -- SWF activity type (default: the only handler)
--     input = '{"w":1}',
--     cancel_at_heartbeat = 3,      -- the service asks for cancellation at the 3rd heartbeat
--     cancel_after = 2.5,           -- ... or at the first heartbeat 2.5 s after the start
--     throttle_heartbeats = {2, 4}, -- these heartbeats get ThrottlingException
--     fail_heartbeats = {5},        -- these get InternalFailure (HTTP 500)
--     gone_at_heartbeat = 6,        -- the service no longer knows the task from the 6th on
--     heartbeat_timeout = 5,        -- time the task out after 5 s without a heartbeat
--     start_to_close = 60,          -- time the task out 60 s after it started
--     fake_clock = true,            -- sleeps cost no real time
--     heartbeat_interval = 1,       -- the worker's heartbeat interval
--     on_event = function(ev) end,  -- every heartbeat / timeout / outcome as it happens
--     worker = {...},               -- extra worker options
--   })
--
-- The record: outcome ("completed" | "failed" | "canceled" | "timed_out" |
-- "gone"), result, reason, details, timeout_type, heartbeats (list of
-- {n, at, details, answer}), events (all of them, in order), duration,
-- stats (the worker's counters at the end).
local lw = require "luaworker"
local core = require "luaworker.core"

local M = {}

local function set_of(list)
  local s = {}
  for _, v in ipairs(list or {}) do s[v] = true end
  return s
end

--- The service table the C stand-in (lservice.c) drives, plus its record.
function M.service(script, clock)
  local kind = script.kind or "swf"
  local record = { heartbeats = {}, events = {}, outcome = nil }
  local throttle, fail = set_of(script.throttle_heartbeats), set_of(script.fail_heartbeats)
  local started = clock()
  local cancelled = false
  local function event(ev)
    ev.at = clock() - started
    record.events[#record.events + 1] = ev
    if script.on_event then script.on_event(ev) end
  end
  local svc = {
    kind = kind,
    latency = script.latency,
    heartbeat_timeout = script.heartbeat_timeout,
    start_to_close = script.start_to_close,
  }
  function svc.heartbeat(token, details)
    local n = #record.heartbeats + 1
    local hb = { n = n, details = details }
    record.heartbeats[n] = hb
    local answer = "ok"
    if script.gone_at_heartbeat and n >= script.gone_at_heartbeat then
      answer = "gone"
    elseif throttle[n] then
      answer = "throttle"
    elseif fail[n] then
      answer = "error"
    elseif cancelled or (script.cancel_at_heartbeat and n >= script.cancel_at_heartbeat)
        or (script.cancel_after and clock() - started >= script.cancel_after) then
      cancelled = true
      -- Step Functions has no cancel flag: stopping the execution makes the
      -- next heartbeat fail with TaskTimedOut.
      answer = kind == "swf" and "cancel" or "timed_out"
    end
    hb.answer = answer
    event { event = "heartbeat", n = n, details = details, answer = answer }
    return answer
  end
  function svc.respond(token, outcome, a, b)
    record.outcome = outcome
    if outcome == "completed" then record.result = a
    elseif outcome == "failed" then record.reason, record.details = a, b
    else record.details = b end
    event { event = "outcome", outcome = outcome, result = record.result, reason = record.reason,
            details = record.details }
    return "ok"
  end
  function svc.timed_out(token, timeout_type)
    if record.outcome then return end
    record.outcome, record.timeout_type = "timed_out", timeout_type
    local last = record.heartbeats[#record.heartbeats]
    record.details = last and last.details
    event { event = "timed_out", timeout_type = timeout_type, details = record.details }
  end
  return svc, record
end

local function only_name(spec)
  local names = lw.handlers(spec).names
  if #names == 1 then return names[1] end
end

--- Run one task to its end; returns the record (see above).
function M.run(handlers, script)
  script = script or {}
  local opts = {}
  for k, v in pairs(script.worker or {}) do opts[k] = v end
  -- The fake clock is the worker loop's own virtual time; before the worker
  -- exists, wall time (it only anchors "at" values).
  local w
  local t0 = core.monotonic()
  local clock = function() return w and w:now() or 0 end
  if not script.fake_clock then clock = function() return core.monotonic() - t0 end end
  local svc, record = M.service(script, clock)
  local kind = svc.kind
  opts.service = svc
  opts.handlers = handlers
  opts.max_concurrent = 1
  opts.virtual_time = script.fake_clock and true or nil
  opts.heartbeat_interval = script.heartbeat_interval or opts.heartbeat_interval or 1
  opts.shutdown_grace = opts.shutdown_grace or 0
  w = lw.worker(opts)
  local task = { token = script.token or ("standin-" .. core.pid() .. "-" .. math.random(1 << 30)),
                 input = script.input }
  if kind == "swf" then
    local name = script.type or only_name(handlers) or "*"
    task.activity_id = script.activity_id or "standin-1"
    task.type = { name = name, version = script.version or "1" }
    task.workflow = { workflow_id = "standin-workflow", run_id = "standin-run" }
  else
    task.activity_arn = script.activity_arn
      or ("arn:aws:states:us-east-1:000000000000:activity:" .. (script.type or only_name(handlers) or "activity"))
  end
  local start = core.monotonic()
  w:submit(task)
  while true do
    local s = w:stats()
    if s.tasks == 0 then break end
    w:step(script.fake_clock and 3600 or 0.05)   -- virtual time jumps instead of waiting
  end
  record.duration = core.monotonic() - start
  if not record.outcome then record.outcome = "gone" end
  record.stats = w:stats()
  w:stop()
  while w:step(0) do end
  w:close()
  return record
end

return M
