-- examples/resize.lua: an SWF activity handler that reports progress.
--
-- Try it with no service at all:
--   build/luaworker invoke examples/resize.lua --input '{"width":1280,"height":720}'
--   build/luaworker invoke examples/resize.lua --input '{"width":1280}' --cancel-at-heartbeat 3
-- Against the local activity service: `make demo` runs it.
-- Against AWS (credentials from the usual chain, region from AWS_REGION):
--   build/luaworker run examples/resize.lua --service swf --domain DOMAIN --task-list LIST
local lw = require "luaworker"

return {
  ResizeImage = {
    heartbeat_interval = 2,       -- per activity type: at most one heartbeat request per 2 s
    timeout = 600,                -- give up (Cancelled, reason "deadline") after 10 minutes
    handler = function(task)
      local args = task:json() or {}
      if type(args.width) ~= "number" then
        lw.fail("BadInput", "input needs a numeric width, got " .. tostring(args.width))
      end
      local steps = args.steps or 5
      for i = 1, steps do
        lw.heartbeat(("%d%%"):format(i * 100 // steps))   -- may raise Cancelled
        lw.sleep(args.step_seconds or 0.2)                  -- cancellation also arrives here
      end
      lw.log.info("resized", { width = args.width // 2 })
      return { width = args.width // 2, height = (args.height or 0) // 2 }
    end,
  },
}
