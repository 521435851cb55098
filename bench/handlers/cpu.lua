-- bench: a CPU-bound handler, BENCH_CPU_ITERS loop iterations of arithmetic
-- (default 1000000), no heartbeat (bench/run.py, multi-core scaling).
local iters = tonumber(os.getenv("BENCH_CPU_ITERS")) or 1000000
return function(task)
  local args = task:json()
  local x = 0
  for i = 1, iters do
    x = (x + i * 7) % 1000003
  end
  return { ok = true, n = args.n, x = x }
end
