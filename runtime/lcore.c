/* lcore.c: luaopen_luaworker_core, the entry point of the C core.
 *
 * require "luaworker.core" returns a table of the bindings; the Lua facade
 * (lua/luaworker/init.lua) builds the public API on top of it. The luaworker
 * command preloads this same function, so both run one code path. */
#include "lhost.h"
#include <time.h>
#include <unistd.h>

static int l_pid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

/* Monotonic seconds (for measuring intervals). */
static int l_monotonic(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

LW_EXPORT int luaopen_luaworker_core(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "pid", l_pid }, { "monotonic", l_monotonic }, { NULL, NULL },
    };
    lua_newtable(L);                    /* core */
    luaL_setfuncs(L, fns, 0);
    lw_open_json(L);                    /* core, json */
    lua_setfield(L, -2, "json");        /* core */
    lw_open_error(L);
    lw_open_task(L);
    lw_open_worker(L);
    lw_open_threads(L);
    lw_open_http(L);
    return 1;
}
