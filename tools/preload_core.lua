-- LUA_INIT_5_4=@tools/preload_core.lua with LUAWORKER_CORE=path/to/core.so:
-- `require "luaworker.core"` loads that build of the C module (a sanitizer
-- build under make check-asan) whatever package.cpath says.
local path = assert(os.getenv("LUAWORKER_CORE"), "LUAWORKER_CORE is not set")
package.preload["luaworker.core"] = assert(package.loadlib(path, "luaopen_luaworker_core"))
