-- Run one luaunit spec file and print "N passed, N failed".
-- Usage: lua5.4 spec/tools/run_lua.lua spec/foo_spec.lua
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = "build/lib/?.so;" .. package.cpath
local lu = require "luaunit"
assert(arg[1], "usage: run_lua.lua SPEC")
dofile(arg[1])
local runner = lu.LuaUnit.new()
runner:setOutputType("text")
runner:runSuite("-v")
local r = runner.result
local failed = r.failureCount + r.errorCount
local passed = r.runCount - failed - (r.skippedCount or 0)
failed = failed + (r.skippedCount or 0)
print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and r.runCount > 0 and 0 or 1)
