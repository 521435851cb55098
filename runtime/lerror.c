/* lerror.c: luaworker.Error, the table operational failures are raised as.
 *
 * { code = "Cancelled", message = "...", retryable = false, status = 400,
 *   request_id = "...", reason = "cancel_requested" } with a metatable whose
 * __tostring gives "code: message". Handlers branch on e.code. */
#include "lbind.h"
#include "error.h"
#include <string.h>

static int l_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "code");                 /* e, code */
    lua_getfield(L, 1, "message");              /* e, code, message */
    const char *code = lua_tostring(L, -2);
    const char *msg = lua_tostring(L, -1);
    if (msg && *msg)
        lua_pushfstring(L, "%s: %s", code ? code : "Error", msg);
    else
        lua_pushstring(L, code ? code : "Error");
    return 1;
}

/* [-0, +1, m] */
void lw_push_error_mt(lua_State *L)
{
    if (luaL_newmetatable(L, LW_ERROR_MT)) {    /* mt */
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "luaworker.Error");
        lua_setfield(L, -2, "__name");
    }
}

/* [-0, +1, m] */
void lw_push_error(lua_State *L, const struct lw_error *e)
{
    lua_createtable(L, 0, 7);                   /* err */
    lua_pushstring(L, e->code[0] ? e->code : "Error");
    lua_setfield(L, -2, "code");
    lua_pushstring(L, e->message);
    lua_setfield(L, -2, "message");
    lua_pushboolean(L, e->retryable);
    lua_setfield(L, -2, "retryable");
    if (e->status) {
        lua_pushinteger(L, e->status);
        lua_setfield(L, -2, "status");
    }
    if (e->request_id[0]) {
        lua_pushstring(L, e->request_id);
        lua_setfield(L, -2, "request_id");
    }
    if (e->reason[0]) {
        lua_pushstring(L, e->reason);
        lua_setfield(L, -2, "reason");
    }
    lw_push_error_mt(L);                        /* err, mt */
    lua_setmetatable(L, -2);                    /* err */
}

int lw_raise_error(lua_State *L, const struct lw_error *e)
{
    lw_push_error(L, e);
    return lua_error(L);
}

bool lw_is_error(lua_State *L, int idx)
{
    if (!lua_istable(L, idx) || !lua_getmetatable(L, idx))
        return false;                           /* mt */
    luaL_getmetatable(L, LW_ERROR_MT);          /* mt, errmt */
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

/* core.error(t): make t a luaworker.Error (code and message strings). */
static int l_error(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "code");
    if (lua_type(L, -1) != LUA_TSTRING)
        return luaL_argerror(L, 1, "an error needs a string code");
    lua_pop(L, 1);
    lua_settop(L, 1);
    lw_push_error_mt(L);
    lua_setmetatable(L, 1);
    return 1;
}

static int l_is_error(lua_State *L)
{
    lua_pushboolean(L, lw_is_error(L, 1));
    return 1;
}

void lw_open_error(lua_State *L)
{
    /* core */
    lw_push_error_mt(L);
    lua_setfield(L, -2, "Error");
    lua_pushcfunction(L, l_error);
    lua_setfield(L, -2, "error");
    lua_pushcfunction(L, l_is_error);
    lua_setfield(L, -2, "is_error");
}
