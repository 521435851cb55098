-- luaworker: write AWS SWF and Step Functions activity workers in Lua.
--
-- The same facade serves handler scripts run by the `luaworker` command and
-- applications that `require "luaworker"`: both reach the same C core
-- (luaworker.core), so a worker behaves the same either way.
--
--   local lw = require "luaworker"
--   local w = lw.worker{ service = "swf", domain = "demo", task_list = "main",
--                        handlers = { Resize = function(task) ... end } }
--   w:run()                      -- or w:step(timeout) / w:pollfd() / w:timeout()
--
-- Inside a handler: lw.heartbeat(details), lw.sleep(s), lw.fail(reason,
-- details), lw.log.info(msg, fields), lw.http.request{...}, lw.json.
local core = require "luaworker.core"

local M = {}

M.VERSION = core.VERSION
M.json = core.json
M.Error = core.Error
M.Cancelled = "Cancelled"          -- the code of the error heartbeat/sleep raise on cancellation
--- Monotonic seconds, the clock of w:timeout(): for an application that
-- schedules its own timers next to a worker it drives with w:step().
M.monotonic = core.monotonic

--- Record progress; may yield while the request is in flight. Raises a
-- luaworker.Error with code "Cancelled" (and a reason) when the service asks
-- for cancellation or the task is gone.
M.heartbeat = core.heartbeat
--- Wait `seconds` without blocking other tasks; heartbeats go on meanwhile
-- and a cancellation is raised here.
M.sleep = core.sleep

--- The cancellation waiting to be raised in the running task, if any
-- ("cancel_requested", "task_gone", "timed_out", "shutdown", "deadline").
M.cancel_reason = core.cancel_reason

--- Build a luaworker.Error: lw.error{code = "X", message = "..."} or
-- lw.error("X", "message").
function M.error(code, message)
  if type(code) == "table" then return core.error(code) end
  return core.error { code = tostring(code), message = message }
end

--- Is e a luaworker.Error (optionally with this code)?
function M.is_error(e, code)
  return core.is_error(e) and (code == nil or e.code == code)
end

--- Is e the cancellation error?
function M.is_cancelled(e)
  return core.is_error(e) and e.code == "Cancelled"
end

--- Fail the task on purpose. SWF: reason/details of RespondActivityTaskFailed;
-- Step Functions: error/cause of SendTaskFailure (the error is what a state
-- machine's Retry and Catch match). details may be a string or a table (JSON).
function M.fail(reason, details)
  if type(reason) ~= "string" or reason == "" then
    error("luaworker.fail: reason must be a non-empty string", 2)
  end
  if type(details) == "table" then
    local s, err = core.json.encode(details)
    details = s or ("(details cannot be encoded as JSON: " .. err .. ")")
  elseif details ~= nil then
    details = tostring(details)
  end
  error(core.error { code = reason, message = details or reason, details = details, fail = true }, 2)
end

--- Logging with the running task's fields attached: lw.log.info("msg", {k = v}).
M.log = {}
for _, level in ipairs { "debug", "info", "warn", "error" } do
  M.log[level] = function(msg, fields) core.log(level, tostring(msg), fields) end
end

--- Methods of the task table a handler receives.
local Task = {}
Task.__index = Task
Task.__name = "luaworker.Task"

--- The input decoded as JSON (numbers keep their integer/float kind exactly).
function Task:json()
  if self.input == nil or self.input == "" then return nil end
  local v, err = core.json.decode(self.input)
  if v == nil and err then
    error(core.error { code = "InvalidInput", message = "the task input is not valid JSON: " .. err }, 2)
  end
  return v
end

-- Never show the token, even when a handler prints the task.
function Task:__tostring()
  local what = self.type and self.type.name or self.activity_arn or "task"
  return ("luaworker.Task(%s %s token=%s)"):format(what, self.activity_id or "", self.token_hash or "?")
end

M.Task = Task

-- ---- handlers ----------------------------------------------------------

local function first_line(s)
  s = tostring(s)
  return s:match("^[^\n]*") or s
end

-- The message handler of the handler call: keep luaworker.Errors, give
-- everything else a traceback.
local function on_error(e)
  if core.is_error(e) then
    if e.code ~= "Cancelled" and not e.fail and e.traceback == nil then
      e.traceback = debug.traceback(nil, 2)
    end
    return e
  end
  local msg
  if type(e) == "string" then
    msg = e
  else
    local ok, s = pcall(tostring, e)
    msg = ok and s or ("(error object of type " .. type(e) .. ")")
  end
  return { plain = true, message = msg, traceback = debug.traceback(msg, 2) }
end

-- What a task's coroutine returns to the C host: kind, then per kind
-- completed: result (JSON text or a string as is, or nil)
-- failed: reason, details
-- cancelled: (the host knows the reason)
local function outcome(ok, res)
  if not ok and type(res) ~= "table" then
    -- the message handler did not run: a memory error ("not enough memory")
    return "failed", first_line(res), tostring(res)
  end
  if ok then
    if res == nil then return "completed", nil end
    if type(res) == "string" then return "completed", res end
    local s, err = core.json.encode(res)
    if not s then
      return "failed", "InvalidResult", "the handler's result cannot be encoded as JSON: " .. err
    end
    return "completed", s
  end
  if res.plain then
    return "failed", first_line(res.message), res.traceback
  end
  if res.code == "Cancelled" then return "cancelled" end
  if res.fail then return "failed", res.code, res.details end
  local details = tostring(res)
  if res.traceback then details = details .. "\n" .. res.traceback end
  return "failed", res.code, details
end

-- A handler entry: a function, or { handler = f, heartbeat_interval = s,
-- timeout = s }.
local function entry_of(name, v)
  if type(v) == "function" then return { handler = v } end
  if type(v) == "table" and type(v.handler) == "function" then return v end
  error(("handler %q must be a function or a table with a handler function"):format(tostring(name)), 0)
end

--- Normalise what a handler file (or worker{handlers=}) gives into
-- { entries = {name -> entry}, names = {...}, settings = {...} }.
-- A function handles every task (Step Functions, or an SWF catch-all); in a
-- table, keys are SWF activity type names (or, for Step Functions, the
-- activity name or ARN), "*" is the catch-all, and the key `luaworker` holds
-- worker settings.
function M.handlers(spec)
  local out = { entries = {}, names = {}, settings = {} }
  if type(spec) == "function" then
    out.entries["*"] = { handler = spec }
    return out
  end
  if type(spec) ~= "table" then
    error("handlers must be a function or a table of handlers, not " .. type(spec), 0)
  end
  for k, v in pairs(spec) do
    if k == "luaworker" then
      if type(v) ~= "table" then error("the luaworker settings must be a table", 0) end
      out.settings = v
    else
      if type(k) ~= "string" then error("handler names must be strings", 0) end
      out.entries[k] = entry_of(k, v)
      out.names[#out.names + 1] = k
    end
  end
  table.sort(out.names)
  if #out.names == 0 and not out.entries["*"] then
    error("no handlers: the table has no handler functions", 0)
  end
  return out
end

local function resolve(h, task)
  local e = h.entries
  if task.type then
    return e[task.type.name] or e["*"]
  end
  -- Step Functions: by ARN, by the activity name, the catch-all, or the only one.
  local arn = task.activity_arn or ""
  local name = arn:match("[^:]+$")
  return e[arn] or (name and e[name]) or e["*"] or (#h.names == 1 and e[h.names[1]]) or nil
end

local function make_runner(h)
  return function(task)
    local entry = resolve(h, task)
    if not entry then
      local what = task.type and task.type.name or task.activity_arn or "?"
      return "failed", "UnknownActivityType",
        ("no handler for %s (handlers: %s)"):format(what, table.concat(h.names, ", "))
    end
    return outcome(xpcall(entry.handler, on_error, task))
  end
end

-- Per activity type settings for the C host: types[name] = {heartbeat_interval, timeout}.
local function types_of(h, service)
  local types = {}
  for name, e in pairs(h.entries) do
    if e.heartbeat_interval or e.timeout then
      types[service == "sfn" and "*" or name] = { heartbeat_interval = e.heartbeat_interval, timeout = e.timeout }
    end
  end
  return types
end

-- ---- workers -------------------------------------------------------------

local numeric = {
  max_concurrent = 1, pollers = 1, heartbeat_interval = 0, shutdown_grace = 0,
  cancel_grace = 0, response_patience = 0, preempt_instructions = 0, memory_limit = 0,
  max_auth_failures = 1, poll_backoff_max = 0,
}

--- Create a worker. opts: service ("swf" | "sfn"), domain + task_list (SWF)
-- or activity_arn (SFN), handlers, and optionally region, endpoint, profile,
-- identity, max_concurrent, pollers, heartbeat_interval, shutdown_grace,
-- cancel_grace, preempt_instructions, memory_limit (MiB, as --memory-limit
-- and a handler file's luaworker table give it), ca_bundle.
function M.worker(opts)
  if type(opts) ~= "table" then error("luaworker.worker: options must be a table", 2) end
  local h = M.handlers(opts.handlers)
  local o = {}
  for k, v in pairs(h.settings) do o[k] = v end
  for k, v in pairs(opts) do if k ~= "handlers" then o[k] = v end end
  local svc = o.service
  if type(svc) ~= "table" then
    if svc ~= "swf" and svc ~= "sfn" then
      error("luaworker.worker: service must be \"swf\" or \"sfn\"", 2)
    end
    if svc == "swf" and (type(o.domain) ~= "string" or type(o.task_list) ~= "string") then
      error("luaworker.worker: SWF needs domain and task_list", 2)
    end
    if svc == "sfn" and type(o.activity_arn) ~= "string" then
      error("luaworker.worker: Step Functions needs activity_arn", 2)
    end
  end
  for k, min in pairs(numeric) do
    local v = o[k]
    if v ~= nil and (type(v) ~= "number" or v < min or v ~= v) then
      error(("luaworker.worker: %s must be a number >= %d"):format(k, min), 2)
    end
  end
  if o.identity == nil then
    local host = io.open("/proc/sys/kernel/hostname")
    local name = host and host:read("l") or "localhost"
    if host then host:close() end
    o.identity = ("%s:%d"):format(name, core.pid())
  end
  if o.ca_bundle == nil then o.ca_bundle = os.getenv("AWS_CA_BUNDLE") end
  o.runner = make_runner(h)
  o.types = types_of(h, type(svc) == "table" and svc.kind or svc)
  o.task_mt = Task
  if o.preempt_instructions == nil then o.preempt_instructions = 100000 end
  if o.memory_limit then o.memory_limit = o.memory_limit * 1024 * 1024 end   -- the core takes bytes
  return core.worker_new(o)
end

-- os.exit inside a handler would end the process and every task in flight
-- with it, past the shutdown that reports them: there it raises an error
-- that fails the task (code "OsExit"). Anywhere else it exits as usual.
do
  local exit = os.exit
  os.exit = function(code, close)
    if core.in_task() then
      error(core.error { code = "OsExit", message = ("os.exit(%s) was called in a handler; "
        .. "luaworker fails the task instead of ending the process and every task in "
        .. "flight (stop a worker with SIGTERM)"):format(code == nil and "" or tostring(code)) }, 2)
    end
    return exit(code, close)
  end
end

-- coroutine.resume and coroutine.wrap as Lua's own, except that the count
-- hook can preempt a handler busy inside a coroutine it resumed with them
-- (see runtime/ltask.c).
if core.co_resume then
  coroutine.resume, coroutine.wrap = core.co_resume, core.co_wrap
  core.co_resume, core.co_wrap = nil, nil   -- one name each, in error messages too
end

-- lw.http (async HTTP from handlers) loads on first use: see luaworker.http.
setmetatable(M, {
  __index = function(t, k)
    if k == "http" then
      local http = require "luaworker.http"
      rawset(t, "http", http)
      return http
    end
  end,
})

return M
