-- luaworker as a rock: `luarocks make --local` in a checkout builds the C
-- core and the command with the Makefile and installs them, the Lua facade
-- and the man page into the user's rocks tree (for Lua 5.4: see
-- .luarocks/default-lua-version.lua). Then `eval $(luarocks path)` and
-- `lua5.4 -e 'require "luaworker"'`.
rockspec_format = "3.0"
package = "luaworker"
version = "0.1.0-1"

-- There is no published release archive: build from a checkout with
-- `luarocks make`, which uses the sources in the current directory.
source = {
   url = "git+file://.",
}

description = {
   summary = "AWS SWF and Step Functions activity workers in Lua",
   detailed = [[
A C runtime that long-polls Amazon SWF (PollForActivityTask) or AWS Step
Functions (GetActivityTask), runs each task's Lua 5.4 handler in its own
coroutine, heartbeats for it, delivers cancellation into it, signs with SigV4
and reports the outcome, all on one event loop. Use it as a command
(`luaworker run|invoke`) or as a module in an existing application:
require("luaworker").worker{...} with w:run(), or w:step(timeout),
w:pollfd() and w:timeout() from the application's own loop.
]],
   labels = { "aws", "swf", "stepfunctions", "worker", "coroutines" },
}

dependencies = {
   "lua >= 5.4, < 5.5",
}

-- Debian bookworm: libcurl4-openssl-dev, libssl-dev, libjansson-dev (the
-- Makefile finds their flags with pkg-config). libcurl's headers live in a
-- multiarch directory luarocks does not search, so CURL is checked by its
-- library only.
external_dependencies = {
   CURL = { library = "curl" },
   OPENSSL = { header = "openssl/evp.h", library = "crypto" },
   JANSSON = { header = "jansson.h", library = "jansson" },
}

build = {
   type = "make",
   build_target = "build-all",
   build_variables = {
      LUA_INCDIR = "$(LUA_INCDIR)",
   },
   install_target = "install-files",
   install_variables = {
      PREFIX = "$(PREFIX)",
      BINDIR = "$(BINDIR)",
      LIBDIR = "$(LIBDIR)",
      LUADIR = "$(LUADIR)",
      MANDIR = "$(PREFIX)/doc",
   },
}
