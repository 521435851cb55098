-- spec/embed/plain_loop.lua: an application with its own hand-written timer
-- loop (no library besides luaworker) that runs an SWF worker through
-- w:step(). Its own timer fires every PERIOD seconds on an absolute
-- schedule; it measures how late each tick is while tasks flow
-- (spec/embed/lateness.lua).
--
--   AWS_ENDPOINT_URL_SWF=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
--   AWS_REGION=us-east-1 LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lib/?.so;;' \
--     lua5.4 spec/embed/plain_loop.lua OUTCOMES [PERIOD]
--
-- After OUTCOMES tasks have an outcome (completed, failed or cancelled) it
-- stops the worker, keeps looping until the worker has stopped, and prints
-- one JSON report on stdout. spec/e2e/test_embed.py runs it against the
-- local activity service.
local lw = require "luaworker"

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local want = assert(tonumber(arg[1]), "usage: plain_loop.lua OUTCOMES [PERIOD]")
local period = tonumber(arg[2]) or 0.1

local w = lw.worker {
  service = "swf", domain = "demo", task_list = "embed",
  handlers = dofile(here .. "/handlers.lua"),
  max_concurrent = 8, heartbeat_interval = 0.2, shutdown_grace = 5,
}

local now = lw.monotonic
local start = now()
local next_tick = start + period
local late = dofile(here .. "/lateness.lua").new(now)
local max_running, max_polls, steps = 0, 0, 0
local stopping = false
local overrun_max, overrun_cpu = 0, 0

-- The application's timer: runs every tick that is due, counting lateness
-- against the absolute schedule (a late tick does not shift later ones).
local function on_tick(due)
  late:tick(due)
  local s = w:stats()
  if s.running > max_running then max_running = s.running end
  if s.polls_open > max_polls then max_polls = s.polls_open end
  if not stopping and s.completed + s.failed + s.cancelled >= want then
    stopping = true
    w:stop()            -- open polls return, then the worker stops; step() keeps driving it
  end
end

local alive = true
while alive do
  local t = now()
  while t >= next_tick do
    on_tick(next_tick)
    next_tick = next_tick + period
  end
  -- Wait for whichever comes first: the worker's next timer or ours.
  local wait = math.max(0, next_tick - now())
  local wt = w:timeout()
  if wt and wt < wait then wait = wt end
  late:mark()
  local t0, c0 = now(), os.clock()
  alive = w:step(wait)
  late:mark()
  -- How much longer than asked the step took, and the CPU time it used:
  -- little CPU in a long step means the process waited (for a CPU, as a
  -- rule), not that the worker was busy.
  local over = now() - t0 - wait
  if over > overrun_max then overrun_max, overrun_cpu = over, os.clock() - c0 end
  steps = steps + 1
end

local report = late:report()
report.loop, report.period, report.duration = "plain", period, now() - start
report.max_running, report.max_polls_open, report.steps = max_running, max_polls, steps
report.step_overrun_max, report.step_overrun_cpu = overrun_max, overrun_cpu
report.stats = w:stats()
w:close()
io.stdout:write(lw.json.encode(report), "\n")
