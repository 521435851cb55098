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

/* ljson.c: push the json table {encode, decode, null, array, object}. [-0, +1, m] */
int lw_open_json(lua_State *L);
#endif
