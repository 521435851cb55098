/* jsontext.h: JSON text with lw.json's rules, without Lua (jsontext.c).
 *
 * Numbers: reals are written in the shortest form that reads back to the
 * same double (jansson writes %.17g: 0.1 -> 0.10000000000000001), always
 * with '.' or an exponent, whatever the C locale's decimal point; integer
 * literals beyond int64, which jansson refuses, are read as reals while
 * every other integer of the document stays an integer.
 *
 * Ownership: lw_json_loadb returns a new reference (json_decref it);
 * lw_json_dumps returns malloc'd text (free it). Thread-safe; no Lua. */
#ifndef LW_JSONTEXT_H
#define LW_JSONTEXT_H
#include <stddef.h>
#include <jansson.h>

/* jansson's json_loadb with lw.json's rules (JSON_DECODE_ANY,
 * JSON_ALLOW_NUL, integers beyond int64 decoded as reals). New reference,
 * or NULL with jansson's error in *err. */
json_t *lw_json_loadb(const char *s, size_t len, json_error_t *err);

/* json_dumps(v, flags) with reals in shortest round-trip form. Caller frees
 * the result; NULL when jansson fails (out of memory). */
char *lw_json_dumps(const json_t *v, size_t flags);
#endif
