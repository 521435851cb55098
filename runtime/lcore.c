/* lcore.c: luaopen_luaworker_core, the entry point of the C core.
 *
 * require "luaworker.core" returns a table of the bindings; the Lua facade
 * (lua/luaworker/init.lua) builds the public API on top of it. The luaworker
 * command preloads this same function, so both run one code path. */
#include "lbind.h"

LW_EXPORT int luaopen_luaworker_core(lua_State *L)
{
    lua_newtable(L);                    /* core */
    lw_open_json(L);                    /* core, json */
    lua_setfield(L, -2, "json");        /* core */
    return 1;
}
