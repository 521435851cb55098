/* lbind.h: shared declarations of the Lua binding files (runtime/l*.c).
 *
 * Only l*.c files include lua.h. Each binding file contributes one opener
 * that pushes its table or fills fields of the core table; lcore.c's
 * luaopen_luaworker_core calls them all. */
#ifndef LW_LBIND_H
#define LW_LBIND_H
#include <lua.h>
#include <lauxlib.h>

#define LW_EXPORT __attribute__((visibility("default")))

#include <stdbool.h>
struct lw_error;

/* ljson.c: push the json table {encode, decode, null, array, object}. [-0, +1, m] */
int lw_open_json(lua_State *L);

/* lerror.c: luaworker.Error. */
#define LW_ERROR_MT "luaworker.Error"
void lw_push_error_mt(lua_State *L);                        /* [-0, +1, m] */
void lw_push_error(lua_State *L, const struct lw_error *e); /* [-0, +1, m] */
int lw_raise_error(lua_State *L, const struct lw_error *e); /* raises */
bool lw_is_error(lua_State *L, int idx);                    /* [-0, +0, -] */
void lw_open_error(lua_State *L);       /* fields Error, error, is_error of the table on top */
#endif
