-- spec/embed/luv_loop.lua: an application on a libuv loop (Debian's lua-luv,
-- `require "luv"`) that runs an SWF worker without threads:
--   * a uv poll on w:pollfd() calls w:step(0) when the worker has fd work;
--   * a uv timer armed from w:timeout() calls w:step(0) when its timers are due;
--   * SIGTERM (a uv signal handle) calls w:stop(): step-driven workers leave
--     signals to the application (only w:run() installs handlers).
-- The application's own uv timer fires every PERIOD seconds on an absolute
-- schedule and measures how late each tick is.
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

local poll = uv.new_poll(w:pollfd())
local wtimer = uv.new_timer()
local app = uv.new_timer()
local sig = uv.new_signal()
local steps, wakes = 0, { fd = 0, timer = 0 }

local function shut()
  for _, h in ipairs { poll, wtimer, app, sig } do
    if not h:is_closing() then h:close() end
  end
end

-- Run what is ready, then re-arm the uv timer from the worker's next timer.
local function drive(why)
  wakes[why] = wakes[why] + 1
  steps = steps + 1
  if not w:step(0) then
    shut()                      -- the worker has stopped: nothing keeps the uv loop alive
    return
  end
  local t = w:timeout()
  wtimer:stop()
  if t then
    uv.update_time()            -- the loop's cached time may be stale after the step
    wtimer:start(math.ceil(t * 1000), 0, function() drive("timer") end)
  end
end

poll:start("r", function(err) assert(not err, err); drive("fd") end)

sig:start("sigterm", function()
  w:stop()
  drive("fd")                   -- stopping queues work: act on it and re-arm
end)

-- The application's own timer, re-armed for the next absolute tick.
local start = now()
local next_tick = start + period
local ticks, late_max, late_sum, early = 0, 0, 0, 0
local max_running, max_polls = 0, 0

local function arm_app()
  uv.update_time()
  app:start(math.max(0, math.ceil((next_tick - now()) * 1000)), 0, function()
    local t = now()
    if t < next_tick then       -- uv timers count whole milliseconds: up to 1 ms early
      early = early + 1
      return arm_app()
    end
    while t >= next_tick do
      local late = t - next_tick
      ticks = ticks + 1
      late_sum = late_sum + late
      if late > late_max then late_max = late end
      next_tick = next_tick + period
    end
    local s = w:stats()
    if s.running > max_running then max_running = s.running end
    if s.polls_open > max_polls then max_polls = s.polls_open end
    arm_app()
  end)
end
arm_app()

drive("timer")                  -- the first step starts the worker (opens its polls)
uv.run()

local stats = w:stats()
local state = w:state()
w:close()
io.stdout:write(lw.json.encode {
  loop = "luv", period = period, ticks = ticks, duration = now() - start,
  late_max = late_max, late_mean = ticks > 0 and late_sum / ticks or 0, early = early,
  max_running = max_running, max_polls_open = max_polls, steps = steps,
  wakes_fd = wakes.fd, wakes_timer = wakes.timer, state = state, stats = stats,
}, "\n")
