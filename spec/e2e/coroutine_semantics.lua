-- What coroutine.resume and coroutine.wrap return and raise, in a form to
-- compare: spec/e2e/test_budgets.py runs it with lua5.4 (Lua's own functions)
-- and in a handler (luaworker's, preempted every few instructions).
local out = {}
local function add(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = type(t[i]) == "table" and "table" or tostring(t[i]) end
  out[#out + 1] = table.concat(t, " ", 1, t.n)
end
local function busy(n) local x = 0 for i = 1, n do x = x + i end return x end
local co = coroutine.create(function(a, b)
  local c = coroutine.yield(a + b)
  busy(3000)
  local d, e = coroutine.yield(c * 2)
  busy(3000)
  return d, e, "end"
end)
add(coroutine.resume(co, 1, 2))
add(coroutine.resume(co, 10))
add(coroutine.status(co))
add(coroutine.resume(co, "x", nil))
add(coroutine.status(co))
add(coroutine.resume(co))
add(coroutine.resume(coroutine.create(function() busy(3000) error("boom") end)))
add(coroutine.resume(coroutine.create(function() error({ code = 7 }) end)))
local w = coroutine.wrap(function(...)
  coroutine.yield(select("#", ...), ...)
  busy(5000)
  return "done"
end)
add(w(1, nil, 3))
add(w())
add(pcall(w))
add(pcall(coroutine.wrap(function() busy(3000) error("wrapped boom") end)))
add(pcall(coroutine.wrap(function() error({}) end)))
add(pcall(coroutine.wrap(function() error("no position", 0) end)))
add(pcall(coroutine.wrap(function() error() end)))
local self_co
self_co = coroutine.create(function() return coroutine.resume(self_co) end)
add(coroutine.resume(self_co))
add(pcall(coroutine.resume, 42))
add(pcall(coroutine.wrap, 42))
local acc = {}
for v in coroutine.wrap(function()
  for i = 1, 3 do busy(2000) coroutine.yield(i) end
end) do acc[#acc + 1] = v end
add(table.concat(acc, ","))
add(coroutine.wrap(function() return coroutine.isyieldable(), coroutine.running() ~= nil end)())
local deep = coroutine.wrap(function()
  local inner = coroutine.wrap(function()
    for i = 1, 3 do busy(4000) coroutine.yield(i) end
    return nil
  end)
  while true do
    local v = inner()
    if v == nil then return "deep done" end
    coroutine.yield(v * 10)
  end
end)
add(deep(), deep(), deep(), deep())
local closed = {}
local cc = coroutine.wrap(function()
  local x <close> = setmetatable({}, { __close = function() closed[#closed + 1] = "closed" end })
  busy(2000)
  error("with tbc")
end)
add(pcall(cc))
add(table.concat(closed, ","))
return table.concat(out, "\n")
