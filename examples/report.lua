-- examples/report.lua: a Step Functions activity handler (one function per
-- activity ARN). Step Functions heartbeats carry no details; a stopped
-- execution shows up as Cancelled (reason "timed_out") at the next heartbeat
-- or sleep.
--
-- Try it with no service at all:
--   build/luaworker invoke examples/report.lua --service sfn --input '{"rows":3}'
-- Against the local activity service: `make demo` runs it.
-- Against AWS:
--   build/luaworker run examples/report.lua --service sfn \
--     --activity-arn arn:aws:states:REGION:ACCOUNT:activity:report
local lw = require "luaworker"

return function(task)
  local args = task:json() or {}
  local rows = args.rows or 3
  local total = 0
  for i = 1, rows do
    lw.heartbeat()                -- lets a StopExecution reach us promptly
    lw.sleep(args.row_seconds or 0.2)
    total = total + i
  end
  if args.fail then
    -- the error name is what the state machine's Retry / Catch match
    lw.fail("Report.Invalid", "asked to fail after " .. rows .. " rows")
  end
  return { rows = rows, total = total }
end
