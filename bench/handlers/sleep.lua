-- bench: heartbeat, then sleep BENCH_SLEEP seconds (default 30) while the
-- runtime heartbeats every --heartbeat-interval (bench/run.py, memory).
local lw = require "luaworker"
local secs = tonumber(os.getenv("BENCH_SLEEP")) or 30
return function(task)
  local args = task:json()
  lw.heartbeat("working")
  lw.sleep(secs)
  return { ok = true, n = args.n }
end
