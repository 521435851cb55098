-- luaworker.cli: the `luaworker` command (run, invoke, --help, --version).
-- main(args) returns the exit status; runtime/main.c calls it.
local lw = require "luaworker"
local core = require "luaworker.core"

local M = {}

local USAGE = [[
usage: luaworker run HANDLERS.lua [options]
       luaworker invoke HANDLERS.lua [--type NAME] --input JSON|@FILE [options]
       luaworker --help | --version

run: poll SWF or Step Functions for activity tasks and run them with the
handlers HANDLERS.lua returns (a function, or a table of handlers keyed by
SWF activity type name).

  --service swf|sfn          which service (or from the handler file)
  --domain D --task-list L   SWF domain and task list
  --activity-arn ARN         Step Functions activity
  --region R                 AWS region (else AWS_REGION, AWS_DEFAULT_REGION,
                             the profile's region)
  --endpoint URL             service endpoint (else AWS_ENDPOINT_URL_SWF /
                             AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL, config)
  --profile NAME             AWS profile for credentials and settings
  --identity ID              who polls (default host:pid)
  --max-concurrent N         tasks running at once (default 100)
  --pollers N                long polls open at once (default min(N, 10))
  --heartbeat-interval S     least seconds between heartbeat requests (default 10)
  --shutdown-grace S         on SIGTERM/SIGINT, let tasks finish this long (default 30)
  --cancel-grace S           after a cancellation, abandon a handler that goes on
                             this long (default 5)
  --preempt-instructions N   yield a busy handler every N Lua instructions
                             (default 100000; 0 = never)
  --memory-limit MIB         cap each Lua state's memory (default: none)
  --threads N                N independent worker loops in one process, each with
                             its own Lua state and connections, sharing the
                             credentials (default 1); --max-concurrent and
                             --pollers apply to each
  --log-format text|json     logfmt lines (default) or JSON lines, on stderr
  --log-level L              debug, info (default), warn, error
  --help, --version

Each option can also come from the environment (LUAWORKER_SERVICE,
LUAWORKER_DOMAIN, LUAWORKER_TASK_LIST, LUAWORKER_ACTIVITY_ARN, ... the option
in upper case with "-" as "_") or from the handler file's `luaworker` table;
the command line wins, then the environment, then the file.

invoke: run one task in the real runtime against an in-process stand-in
service, print each heartbeat and the outcome. No AWS needed.

  --type NAME                SWF activity type (default: the only handler)
  --service swf|sfn          which service to stand in for (default swf)
  --input JSON | @FILE       the task input
  --cancel-after S           the service requests cancellation S seconds in
  --cancel-at-heartbeat N    ... or at the Nth heartbeat
  --heartbeat-timeout S      time the task out after S seconds without a heartbeat
  --heartbeat-interval S     (default 1 for invoke)
  --json                     JSON lines instead of text

Exit status: run: 0 after a clean stop, 1 on a fatal error (for example
credentials the service rejects) or a forced stop (second signal), 2 on bad
usage or configuration. invoke: 0 completed, 1 failed, 3 canceled, 4 timed
out or gone, 2 bad usage.
]]

-- name -> kind ("string" | "number" | "int" | "flag"), for run and invoke.
local RUN_OPTS = {
  service = "string", domain = "string", ["task-list"] = "string", ["activity-arn"] = "string",
  region = "string", endpoint = "string", profile = "string", identity = "string",
  ["max-concurrent"] = "int", pollers = "int", ["heartbeat-interval"] = "number",
  ["shutdown-grace"] = "number", ["cancel-grace"] = "number", ["preempt-instructions"] = "int",
  ["memory-limit"] = "number", ["log-format"] = "string", ["log-level"] = "string",
  threads = "int",
}
local INVOKE_OPTS = {
  type = "string", service = "string", input = "string", ["cancel-after"] = "number",
  ["cancel-at-heartbeat"] = "int", ["heartbeat-timeout"] = "number",
  ["heartbeat-interval"] = "number", json = "flag", ["log-format"] = "string",
  ["log-level"] = "string", ["memory-limit"] = "number", ["preempt-instructions"] = "int",
}

local Usage = {}   -- an error that means exit status 2

local function usage_error(fmt, ...)
  error(setmetatable({ message = fmt:format(...) }, Usage), 0)
end

local function convert(name, kind, v, from)
  if kind == "string" or kind == "flag" then return v end
  local n = tonumber(v)
  if not n or n ~= n or n < 0 or (kind == "int" and n ~= math.floor(n)) then
    usage_error("%s %s must be a %s >= 0, not %q", from, name, kind == "int" and "whole number" or "number",
      tostring(v))
  end
  return kind == "int" and math.tointeger(n) or n
end

local function parse(args, first, spec)
  local opts, positional = {}, {}
  local i = first
  while i <= #args do
    local a = args[i]
    if a == "--" then
      for j = i + 1, #args do positional[#positional + 1] = args[j] end
      break
    elseif a:sub(1, 2) == "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local kind = spec[name]
      if not kind then usage_error("unknown option --%s (see luaworker --help)", name) end
      if kind == "flag" then
        if value then usage_error("--%s takes no value", name) end
        value = true
      elseif not value then
        i = i + 1
        value = args[i]
        if value == nil then usage_error("--%s needs a value", name) end
      end
      opts[name] = convert("--" .. name, kind, value, "option")
    else
      positional[#positional + 1] = a
    end
    i = i + 1
  end
  return opts, positional
end

-- The environment's LUAWORKER_* values for options not given on the line.
local function from_env(opts, spec)
  for name, kind in pairs(spec) do
    if opts[name] == nil and kind ~= "flag" then
      local env = "LUAWORKER_" .. name:upper():gsub("%-", "_")
      local v = os.getenv(env)
      if v and v ~= "" then opts[name] = convert(env, kind, v, "environment variable") end
    end
  end
end

-- Load HANDLERS.lua: a clear one-line error for every way it can be wrong.
local function load_handlers(path)
  if not path then usage_error("no handler file given (see luaworker --help)") end
  local f = io.open(path, "rb")
  if not f then usage_error("cannot open handler file %s", path) end
  f:close()
  local dir = path:match("^(.*)/[^/]*$") or "."
  package.path = dir .. "/?.lua;" .. dir .. "/?/init.lua;" .. package.path
  local chunk, err = loadfile(path)
  if not chunk then usage_error("%s", err) end
  local ok, spec = pcall(chunk)
  if not ok then usage_error("%s failed while loading: %s", path, tostring(spec)) end
  if type(spec) ~= "function" and type(spec) ~= "table" then
    usage_error("%s must return a function or a table of handlers, not %s", path, type(spec))
  end
  local ok2, h = pcall(lw.handlers, spec)
  if not ok2 then usage_error("%s: %s", path, tostring(h)) end
  return spec, h
end

local function configure_logging(opts)
  local ok, err = pcall(core.log_configure, opts["log-level"] or "info", opts["log-format"] or "text")
  if not ok then usage_error("%s", tostring(err):gsub("^.-: ", "")) end
end

-- ---- run ----

local SETTING = {  -- option -> worker option
  service = "service", domain = "domain", ["task-list"] = "task_list",
  ["activity-arn"] = "activity_arn", region = "region", endpoint = "endpoint",
  profile = "profile", identity = "identity", ["max-concurrent"] = "max_concurrent",
  pollers = "pollers", ["heartbeat-interval"] = "heartbeat_interval",
  ["shutdown-grace"] = "shutdown_grace", ["cancel-grace"] = "cancel_grace",
  ["preempt-instructions"] = "preempt_instructions",
}

local function run(args)
  local opts, pos = parse(args, 2, RUN_OPTS)
  if #pos > 1 then usage_error("one handler file, not %d", #pos) end
  from_env(opts, RUN_OPTS)
  local spec, h = load_handlers(pos[1])
  local wopts = { handlers = spec }
  for k, v in pairs(h.settings) do wopts[k] = v end
  for opt, key in pairs(SETTING) do
    if opts[opt] ~= nil then wopts[key] = opts[opt] end
  end
  if opts["memory-limit"] then wopts.memory_limit = opts["memory-limit"] end
  opts["log-format"] = opts["log-format"] or h.settings.log_format
  opts["log-level"] = opts["log-level"] or h.settings.log_level
  configure_logging(opts)
  local svc = wopts.service
  if svc == nil then usage_error("which service? use --service swf or --service sfn") end
  if svc ~= "swf" and svc ~= "sfn" then usage_error("--service must be swf or sfn, not %q", tostring(svc)) end
  if svc == "swf" and not (wopts.domain and wopts.task_list) then
    usage_error("SWF needs --domain and --task-list")
  end
  if svc == "sfn" and not wopts.activity_arn then usage_error("Step Functions needs --activity-arn") end
  local threads = opts.threads or 1
  if threads < 1 or threads > 256 then usage_error("--threads must be between 1 and 256") end
  local ok, w = pcall(lw.worker, wopts)
  if not ok then
    io.stderr:write("luaworker: cannot start: ", tostring(w), "\n")
    return w and type(w) == "table" and w.code == "CredentialsConfigError" and 2 or 1
  end
  local group
  if threads > 1 and core.thread_index() == 0 then
    group = core.threads_start(threads - 1, args)    -- each runs this same main with its own state
  end
  lw.log.info("worker started", { service = svc, domain = wopts.domain, task_list = wopts.task_list,
    activity_arn = wopts.activity_arn, version = lw.VERSION, thread = core.thread_index() })
  local clean, err = w:run()
  local stats = w:stats()
  w:close()
  local status = 0
  if clean == nil then
    io.stderr:write("luaworker: stopped: ", tostring(err), "\n")
    status = 1
  elseif not clean or stats.lost > 0 then
    status = 1
  end
  if group then status = math.max(status, group:join()) end
  return status
end

-- ---- invoke ----

local function read_input(v)
  if v == nil then return nil end
  if v:sub(1, 1) == "@" then
    local f, err = io.open(v:sub(2), "rb")
    if not f then usage_error("cannot read --input file: %s", err) end
    local s = f:read("a")
    f:close()
    return s
  end
  return v
end

local function invoke(args)
  local opts, pos = parse(args, 2, INVOKE_OPTS)
  if #pos > 1 then usage_error("one handler file, not %d", #pos) end
  if opts["cancel-after"] and opts["cancel-at-heartbeat"] then
    usage_error("use --cancel-after or --cancel-at-heartbeat, not both")
  end
  local spec, h = load_handlers(pos[1])
  opts["log-level"] = opts["log-level"] or "warn"    -- invoke prints its own story
  configure_logging(opts)
  local kind = opts.service or h.settings.service or "swf"
  if kind ~= "swf" and kind ~= "sfn" then usage_error("--service must be swf or sfn") end
  local name = opts.type
  if not name then
    if #h.names == 1 then name = h.names[1]
    elseif #h.names > 1 then usage_error("several handlers (%s): choose one with --type", table.concat(h.names, ", "))
    end
  elseif not h.entries[name] and not h.entries["*"] then
    usage_error("no handler for type %q (handlers: %s)", name, table.concat(h.names, ", "))
  end
  local input = read_input(opts.input)
  local as_json = opts.json
  local function emit(ev)
    if as_json then
      local ok, s = pcall(lw.json.encode, ev)
      io.stdout:write(ok and s or '{"event":"unencodable"}', "\n")
    elseif ev.event == "heartbeat" then
      local answer = ev.answer ~= "ok" and (" -> " .. ev.answer) or ""
      io.stdout:write(("[%7.3fs] heartbeat %d: %s%s\n"):format(ev.at, ev.n, ev.details or "", answer))
    elseif ev.event == "timed_out" then
      io.stdout:write(("[%7.3fs] the service timed the task out (%s)\n"):format(ev.at, ev.timeout_type))
    end
    io.stdout:flush()
  end
  local wopts = {}
  if opts["memory-limit"] then wopts.memory_limit = opts["memory-limit"] end
  if opts["preempt-instructions"] then wopts.preempt_instructions = opts["preempt-instructions"] end
  local record = require("luaworker.standin").run(spec, {
    kind = kind, type = name, input = input,
    cancel_after = opts["cancel-after"], cancel_at_heartbeat = opts["cancel-at-heartbeat"],
    heartbeat_timeout = opts["heartbeat-timeout"], heartbeat_interval = opts["heartbeat-interval"] or 1,
    on_event = emit, worker = wopts,
  })
  local o = record.outcome
  if not as_json then
    if o == "completed" then
      io.stdout:write("completed", record.result and (": " .. record.result) or "", "\n")
    elseif o == "failed" then
      io.stdout:write("failed: ", record.reason or "", "\n")
      if record.details and record.details ~= "" then io.stdout:write(record.details, "\n") end
    elseif o == "canceled" then
      io.stdout:write("canceled", record.details and (": " .. record.details) or "", "\n")
    elseif o == "timed_out" then
      io.stdout:write("timed out (", record.timeout_type or "?", ")",
        record.details and (", last details: " .. record.details) or "", "\n")
    else
      io.stdout:write("gone: the task ended without an outcome the service recorded\n")
    end
  elseif o == "timed_out" or o == "gone" then
    emit { event = "outcome", outcome = o, timeout_type = record.timeout_type, at = record.duration }
  end
  return ({ completed = 0, failed = 1, canceled = 3, timed_out = 4, gone = 4 })[o] or 1
end

function M.main(args)
  local cmd = args[1]
  local ok, status = pcall(function()
    if cmd == nil or cmd == "--help" or cmd == "-h" or cmd == "help" then
      io.stdout:write(USAGE)
      return cmd == nil and 2 or 0
    elseif cmd == "--version" or cmd == "version" then
      io.stdout:write("luaworker ", lw.VERSION, " (", _VERSION, ")\n")
      return 0
    elseif cmd == "run" or cmd == "invoke" then
      for i = 2, #args do if args[i] == "--help" then io.stdout:write(USAGE) return 0 end end
      return (cmd == "run" and run or invoke)(args)
    end
    usage_error("unknown command %q (see luaworker --help)", cmd)
  end)
  if ok then return status end
  if getmetatable(status) == Usage then
    io.stderr:write("luaworker: ", status.message, "\n")
    return 2
  end
  io.stderr:write("luaworker: ", tostring(status), "\n")
  return 1
end

return M
