/* json.h: JSON <-> Lua conversion for the bindings (implemented in ljson.c).
 *
 * The Lua table `lw.json` (lw_open_json, declared in lbind.h) and every other
 * binding that moves JSON between jansson and Lua go through these functions,
 * so a payload converts the same way everywhere:
 *
 *   JSON object  <-> table with string keys (an empty object decodes to an
 *                    unmarked empty table, which encodes back as {})
 *   JSON array   <-> sequence 1..n carrying the json array metatable, so it
 *                    encodes back as an array even when empty
 *   integer      <-> Lua integer, exactly (int64); an integer literal outside
 *                    int64 decodes as the nearest float (precision is lost;
 *                    no other number in the document changes type)
 *   real         <-> Lua float; encoded in the shortest form that reads back
 *                    to the same double, always with '.' or an exponent
 *                    (1.0 -> "1.0", 0.1 -> "0.1", 1e300 -> "1e300")
 *   string       <-> string (UTF-8; "\u0000" kept)
 *   true/false   <-> boolean
 *   null         <-> json.null = lightuserdata(NULL), the same value as
 *                    cjson.null
 *
 * Ownership: lw_json_push borrows; lw_json_push_take and lw_json_decode
 * consume; lw_json_from_lua and lw_json_loadb return a new reference the
 * caller releases with json_decref; lw_json_dumps returns malloc'd text the
 * caller frees. Nothing here keeps a pointer after it returns.
 *
 * Errors: bad data (invalid JSON, values JSON cannot hold) is reported with
 * a return value and a message; the functions marked `m` may still raise a
 * Lua error when Lua runs out of memory (or, for lw_json_push, when a
 * hand-built jansson value is nested deeper than LW_JSON_MAX_DEPTH), and none
 * of them leaks jansson memory when that happens, except lw_json_push whose
 * caller keeps ownership of v. Not for use from libcurl callbacks (they must
 * not run Lua). */
#ifndef LW_JSON_H
#define LW_JSON_H
#include <stddef.h>
#include <jansson.h>
#include <lua.h>
#include "jsontext.h"      /* lw_json_loadb, lw_json_dumps */

/* Deepest nesting of arrays/objects converted either way: jansson's parser
 * limit, so everything lw.json encodes it can also decode. */
#define LW_JSON_MAX_DEPTH 2048

/* Flags for lw_json_from_lua_flags. */
enum {
    LW_JSON_REPLACE_INVALID_UTF8 = 1, /* bad bytes in strings/keys become U+FFFD instead of an error */
};

/* Push v as a Lua value (NULL pushes nil). Borrows v. [-0, +1, m] */
void lw_json_push(lua_State *L, const json_t *v);

/* Push v and release the caller's reference to it, also when pushing
 * raises (the conversion runs in a protected call). [-0, +1, m] */
void lw_json_push_take(lua_State *L, json_t *v);

/* Decode JSON text (any top-level value) like json.decode and push the
 * result: 0 and one value pushed, or -1 with a message in err (line, column
 * and byte offset from jansson) and nothing pushed. [-0, +(0|1), m] */
int lw_json_decode(lua_State *L, const char *s, size_t len, char *err, size_t errlen);

/* Convert the Lua value at idx to a new jansson value (rules as for
 * json.encode). NULL with a message in err, naming the problem and its path
 * ("cannot encode function at $.a[2].b"; indices are Lua indices), when the
 * value cannot be represented. Never raises for bad values; may raise on
 * memory errors, without leaking. [-0, +0, m] */
json_t *lw_json_from_lua(lua_State *L, int idx, char *err, size_t errlen);
json_t *lw_json_from_lua_flags(lua_State *L, int idx, unsigned flags, char *err, size_t errlen);

#endif
