-- spec/embed/lateness.lua: how late an application's periodic timer fires,
-- for the embedding programs (plain_loop.lua, luv_loop.lua).
--
--   local late = dofile("spec/embed/lateness.lua").new(now)   -- now(): monotonic seconds
--   late:mark()                   -- before and after each step / callback
--   late:tick(due)                -- when the tick scheduled at `due` runs
--   late:report()                 -- {ticks, late_max, late_mean, late_max_own, run_delay_max}
--
-- Each tick's lateness is measured twice: raw (now - due), and "own": minus
-- the time the kernel says this thread spent runnable but waiting for a CPU
-- after the tick was due (the run delay of /proc/self/schedstat). Own
-- lateness is what the worker and the loop cause (work in a step, a blocking
-- call, a missed wake-up); the rest is a machine too busy to run the
-- process. The run delay is only read at marks, so the part credited to a
-- tick is a lower bound: from the last mark at or before the tick was due,
-- less all the time from that mark to the due time.
local M = {}
M.__index = M

local function run_delay()
  local f = io.open("/proc/self/schedstat")
  if not f then return nil end
  local s = f:read("l")
  f:close()
  local ns = s and s:match("^%d+%s+(%d+)")
  return ns and tonumber(ns) / 1e9
end

local MARKS = 256

function M.new(now)
  local self = setmetatable({ now = now, ticks = 0, late_max = 0, late_sum = 0, late_max_own = 0,
                              run_delay_max = 0, has_run_delay = run_delay() ~= nil,
                              marks = {}, n = 0 }, M)
  self:mark()
  return self
end

--- Remember the time and the run delay so far (the last MARKS of them).
function M:mark(t, rd)
  self.n = self.n + 1
  self.marks[self.n % MARKS] = { t = t or self.now(), rd = rd or run_delay() }
end

-- The latest mark at or before time `due` (else the oldest kept).
function M:mark_before(due)
  local oldest
  for i = self.n, math.max(1, self.n - MARKS + 1), -1 do
    local m = self.marks[i % MARKS]
    if m.t <= due then return m end
    oldest = m
  end
  return oldest
end

--- The tick due at `due` runs now; returns its raw lateness.
function M:tick(due)
  local t, rd = self.now(), run_delay()
  local late = math.max(0, t - due)
  local waited = 0
  local m = self:mark_before(due)
  if rd and m and m.rd then
    -- delay since that mark, less all the time from the mark to `due`
    waited = math.max(0, (rd - m.rd) - math.max(0, due - m.t))
  end
  self:mark(t, rd)
  local own = math.max(0, late - waited)
  self.ticks = self.ticks + 1
  self.late_sum = self.late_sum + late
  if late > self.late_max then self.late_max = late end
  if own > self.late_max_own then self.late_max_own = own end
  if waited > self.run_delay_max then self.run_delay_max = waited end
  return late
end

function M:report()
  return {
    ticks = self.ticks, late_max = self.late_max, late_max_own = self.late_max_own,
    late_mean = self.ticks > 0 and self.late_sum / self.ticks or 0,
    run_delay_max = self.run_delay_max, has_run_delay = self.has_run_delay,
  }
end

return M
