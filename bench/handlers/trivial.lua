-- bench: heartbeat once, return a small JSON result (bench/run.py, CPU per task).
local lw = require "luaworker"
return function(task)
  local args = task:json()
  lw.heartbeat()
  return { ok = true, n = args.n }
end
