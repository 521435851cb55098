-- spec/embed/luv_loop.lua: an application on a libuv loop (Debian's lua-luv,
-- `require "luv"`) that runs an SWF worker without threads:
--   * a uv poll on w:pollfd() calls w:step(0) when the worker has fd work;
--   * a uv timer armed from w:timeout() calls w:step(0) when its timers are due;
--   * SIGTERM (a uv signal handle) calls w:stop(): step-driven workers leave
--     signals to the application (only w:run() installs handlers).
-- The application's own uv timer fires every PERIOD seconds on an absolute
-- schedule and measures how late each tick is (spec/embed/lateness.lua).
--
--   AWS_ENDPOINT_URL_SWF=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
--   AWS_REGION=us-east-1 LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lib/?.so;;' \
--     lua5.4 spec/embed/luv_loop.lua [PERIOD]
--
-- Runs until SIGTERM and the worker's shutdown, then prints one JSON report
-- on stdout. spec/e2e/test_embed.py runs it against the local activity service.
local uv = require "luv"
local lw = require "luaworker"

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local period = tonumber(arg[1]) or 0.1

local w = lw.worker {
  service = "swf", domain = "demo", task_list = "embed",
  handlers = dofile(here .. "/handlers.lua"),
  max_concurrent = 8, heartbeat_interval = 0.2, shutdown_grace = 5,
}

local function now() return uv.hrtime() / 1e9 end
local start = now()
local late = dofile(here .. "/lateness.lua").new(now)

local poll = uv.new_poll(w:pollfd())
local wtimer = uv.new_timer()
local app = uv.new_timer()
local sig = uv.new_signal()
local steps, wakes = 0, { fd = 0, timer = 0 }
local step_max, step_cpu = 0, 0

local function shut()
  for _, h in ipairs { poll, wtimer, app, sig } do
    if not h:is_closing() then h:close() end
  end
end

-- Run what is ready, then re-arm the uv timer from the worker's next timer.
local function drive(why)
  wakes[why] = wakes[why] + 1
  steps = steps + 1
  late:mark()
  local t0, c0 = now(), os.clock()
  local alive = w:step(0)
  -- The longest step and the CPU time it used: little CPU in a long step
  -- means the process waited (for a CPU, as a rule), not that the worker was busy.
  local took = now() - t0
  if took > step_max then step_max, step_cpu = took, os.clock() - c0 end
  if not alive then
    shut()                      -- the worker has stopped: nothing keeps the uv loop alive
    return
  end
  local t = w:timeout()
  wtimer:stop()
  if t then
    uv.update_time()            -- the loop's cached time may be stale after the step
    wtimer:start(math.ceil(t * 1000), 0, function() drive("timer") end)
  end
  late:mark()
end

poll:start("r", function(err) assert(not err, err); drive("fd") end)

sig:start("sigterm", function()
  w:stop()
  drive("fd")                   -- stopping queues work: act on it and re-arm
end)

-- The application's own timer, re-armed for the next absolute tick.
local next_tick = start + period
local early = 0
local max_running, max_polls = 0, 0

local function arm_app()
  uv.update_time()
  app:start(math.max(0, math.ceil((next_tick - now()) * 1000)), 0, function()
    late:mark()
    local t = now()
    if t < next_tick then       -- uv timers count whole milliseconds: up to 1 ms early
      early = early + 1
      return arm_app()
    end
    while t >= next_tick do
      late:tick(next_tick)
      next_tick = next_tick + period
    end
    local s = w:stats()
    if s.running > max_running then max_running = s.running end
    if s.polls_open > max_polls then max_polls = s.polls_open end
    arm_app()
    late:mark()
  end)
end
arm_app()

drive("timer")                  -- the first step starts the worker (opens its polls)
uv.run()

local report = late:report()
report.loop, report.period, report.duration, report.early = "luv", period, now() - start, early
report.max_running, report.max_polls_open, report.steps = max_running, max_polls, steps
report.wakes_fd, report.wakes_timer = wakes.fd, wakes.timer
report.step_max, report.step_max_cpu = step_max, step_cpu
report.state, report.stats = w:state(), w:stats()
w:close()
io.stdout:write(lw.json.encode(report), "\n")
