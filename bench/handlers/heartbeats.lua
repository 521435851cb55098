-- bench: BENCH_HEARTBEATS heartbeats one after the other (default 500); run
-- with a tiny --heartbeat-interval so each one is a round trip (bench/run.py,
-- heartbeat path).
local lw = require "luaworker"
local count = tonumber(os.getenv("BENCH_HEARTBEATS")) or 500
return function(task)
  local args = task:json()
  for i = 1, count do
    lw.heartbeat(i)
  end
  return { ok = true, n = args.n }
end
