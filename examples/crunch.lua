-- examples/crunch.lua: an SWF activity handler that computes in pure Lua and
-- heartbeats only between chunks of work. The runtime heartbeats for a
-- handler waiting in lw.sleep or lw.http, never for one busy computing, so a
-- chunk longer than the activity's heartbeat timeout gets the task timed out
-- by the service: what a stuck computation looks like.
--
-- Try it with no service at all:
--   build/luaworker invoke examples/crunch.lua --input '{"chunks":3,"chunk_seconds":0.2}' --heartbeat-timeout 1
--     -> completed (each chunk is well within the timeout)
--   build/luaworker invoke examples/crunch.lua --input '{"chunks":3,"chunk_seconds":2}' --heartbeat-timeout 1
--     -> timed out (HEARTBEAT), exit status 4
-- Against AWS: build/luaworker run examples/crunch.lua --service swf --domain DOMAIN --task-list LIST
local lw = require "luaworker"

-- CPU-bound work for about `seconds` of processor time: a running checksum.
local function crunch(seconds, sum)
  local stop = os.clock() + seconds
  local i = 0
  while os.clock() < stop do
    for _ = 1, 1000 do
      i = i + 1
      sum = (sum * 31 + i) % 4294967296
    end
  end
  return sum, i
end

return {
  Crunch = function(task)
    local args = task:json() or {}
    local chunks, seconds = args.chunks or 3, args.chunk_seconds or 0.2
    local sum, rounds = 7, 0
    for c = 1, chunks do
      lw.heartbeat(("chunk %d of %d"):format(c, chunks))
      local n
      sum, n = crunch(seconds, sum)
      rounds = rounds + n
    end
    return { checksum = sum, rounds = rounds }
  end,
}
