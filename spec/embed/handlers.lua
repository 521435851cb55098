-- spec/embed/handlers.lua: the handlers both embedding programs run
-- (plain_loop.lua, luv_loop.lua). They heartbeat and sleep (Work), spin the
-- CPU in pure Lua (Crunch: the worker preempts it, so step() still returns
-- promptly and the application's timers stay on time), heartbeat until the
-- service asks them to stop (Wait) or fail (Fail).
local lw = require "luaworker"

return {
  Work = function(task)
    local a = task:json()
    for i = 1, a.steps do
      lw.heartbeat(("step %d of %d"):format(i, a.steps))   -- coalesced to one request per interval
      lw.sleep(a.pause)
    end
    return { steps = a.steps, id = task.activity_id }
  end,
  Crunch = function(task)
    local a = task:json()
    lw.heartbeat("crunching")
    local t0, n = lw.monotonic(), 0
    while lw.monotonic() - t0 < a.seconds do n = n + 1 end   -- never yields by itself
    return { loops = n }
  end,
  Wait = function(task)
    for i = 1, 1000 do
      lw.heartbeat(("waiting %d"):format(i))                  -- raises Cancelled when asked
      lw.sleep(0.05)
    end
    return "nobody cancelled me"
  end,
  Fail = function(task)
    lw.sleep(0.05)
    lw.fail("Embed.Failed", "failed on purpose")
  end,
}
