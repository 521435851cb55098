/* ljson.c: lw.json, the Lua <-> JSON codec backed by jansson (see json.h).
 *
 * Why not lua-cjson: on Lua 5.4 it decodes every number as a float and
 * prints integers >= 1e14 in exponent form, silently changing payloads.
 *
 * Memory safety when Lua raises. Converting between a jansson tree and Lua
 * calls Lua API functions that may longjmp (allocation, stack growth). A
 * longjmp must not leak the jansson tree, and must never pass through
 * jansson's own code. So every conversion that owns jansson memory runs its
 * Lua part inside lua_pcall of a small C function, with the jansson
 * pointers kept in a struct on the C stack of the caller:
 *   - decode: jansson parses first (no Lua involved); lw_json_push_take then
 *     pushes the tree in a protected call, and the caller releases the tree
 *     whatever the outcome, re-raising a caught error afterwards;
 *   - encode: the tree is built top-down, and each new jansson value is
 *     attached to its parent (or to enc.root) before any further Lua call,
 *     so everything allocated so far is reachable from enc.root; jansson's
 *     dumper then writes to malloc'd memory (enc.out) and the result is
 *     pushed last. After the protected call the caller releases enc.root
 *     and enc.out, then re-raises if the call failed.
 * Sanitized (U+FFFD-replaced) strings are built in Lua memory (luaL_Buffer),
 * so no malloc'd buffer is alive across a Lua call. Only memory errors can
 * take the raise path: bad data is reported with nil, message. A re-raised
 * memory error reaches the outer pcall as a runtime error carrying the
 * same "not enough memory" message.
 */
#include "json.h"
#include "lbind.h"
#include "text.h"
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Registry keys of the two marker metatables. */
static const char array_mt_key = 'a';
static const char object_mt_key = 'o';

/* ------------------------------------------------------------ JSON -> Lua */

/* Push the marker metatable stored under key, creating it on first use.
 * [-0, +1, m] */
static void push_marker_mt(lua_State *L, const char *key, const char *kind)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);                   /* mt */
    lua_pushstring(L, kind);                    /* mt, kind */
    lua_setfield(L, -2, "__jsontype");          /* mt */
    lua_pushfstring(L, "luaworker.json.%s", kind);
    lua_setfield(L, -2, "__name");              /* mt */
    lua_pushvalue(L, -1);                       /* mt, mt */
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);     /* mt */
}

/* Push v; the array metatable is at absolute index mt. [-0, +1, m] */
static void push_value(lua_State *L, const json_t *v, int mt, int depth)
{
    if ((json_is_object(v) || json_is_array(v)) && depth >= LW_JSON_MAX_DEPTH)
        luaL_error(L, "JSON value nested deeper than %d levels", LW_JSON_MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        luaL_checkstack(L, 3, "JSON object nesting");
        size_t n = json_object_size(v);
        lua_createtable(L, 0, n > INT_MAX ? INT_MAX : (int)n);     /* t */
        json_t *o = (json_t *)v;        /* jansson's iterators are not const */
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
            lua_pushlstring(L, json_object_iter_key(it), json_object_iter_key_len(it)); /* t, k */
            push_value(L, json_object_iter_value(it), mt, depth + 1);                 /* t, k, v */
            lua_rawset(L, -3);                                                         /* t */
        }
        break;
    }
    case JSON_ARRAY: {
        luaL_checkstack(L, 2, "JSON array nesting");
        size_t n = json_array_size(v);
        lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);     /* t */
        for (size_t i = 0; i < n; i++) {
            push_value(L, json_array_get(v, i), mt, depth + 1);    /* t, v */
            lua_rawseti(L, -2, (lua_Integer)i + 1);                /* t */
        }
        lua_pushvalue(L, mt);                                      /* t, mt */
        lua_setmetatable(L, -2);                                   /* t */
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        break;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        lua_pushboolean(L, json_is_true(v));
        break;
    case JSON_NULL:
    default:
        lua_pushlightuserdata(L, NULL);
        break;
    }
}

void lw_json_push(lua_State *L, const json_t *v)
{
    if (!v) {
        lua_pushnil(L);
        return;
    }
    luaL_checkstack(L, 3, "JSON value");
    push_marker_mt(L, &array_mt_key, "array");     /* mt */
    int mt = lua_gettop(L);
    push_value(L, v, mt, 0);                        /* mt, value */
    lua_remove(L, mt);                              /* value */
}

/* lua_pcall target of lw_json_push_take: (lightuserdata json_t*) -> value */
static int push_protected(lua_State *L)
{
    lw_json_push(L, lua_touserdata(L, 1));
    return 1;
}

void lw_json_push_take(lua_State *L, json_t *v)
{
    if (!lua_checkstack(L, 2)) {        /* does not raise; luaL_checkstack would leak v */
        json_decref(v);
        luaL_error(L, "stack overflow (pushing a JSON value)");
    }
    lua_pushcfunction(L, push_protected);   /* f */
    lua_pushlightuserdata(L, v);            /* f, v */
    int status = lua_pcall(L, 1, 1, 0);     /* value | error */
    json_decref(v);
    if (status != LUA_OK)
        lua_error(L);
}

int lw_json_decode(lua_State *L, const char *s, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *v = lw_json_loadb(s, len, &je);
    if (!v) {
        snprintf(err, errlen, "invalid JSON at line %d, column %d (byte %d): %s",
                 je.line, je.column, je.position, je.text);
        return -1;
    }
    lw_json_push_take(L, v);
    return 0;
}

/* ------------------------------------------------------------ Lua -> JSON */

struct enc {
    json_t *root;                   /* tree built so far; the caller releases it */
    char *out;                      /* dumped text; the caller frees it */
    size_t dump_flags;
    int dump;                       /* encode: dump and push the text */
    unsigned flags;                 /* LW_JSON_* */
    const void *mt_array, *mt_object;
    int depth;                      /* tables being converted */
    int failed;
    char what[192];                 /* the problem, without its path */
    char path[200];                 /* filled from the end while unwinding */
    size_t path_start;
    int path_cut;
};

static int fail(struct enc *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct enc *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->what, sizeof e->what, fmt, ap);
    va_end(ap);
    e->failed = 1;
    return -1;
}

static void path_prepend(struct enc *e, const char *seg, size_t n)
{
    if (e->path_cut)
        return;
    if (n + 1 > e->path_start) {    /* keep the innermost part of a deep path */
        e->path_cut = 1;
        return;
    }
    e->path_start -= n;
    memcpy(e->path + e->path_start, seg, n);
}

/* Quote s for a message: printable ASCII kept, the rest as \xNN, cut after
 * 32 bytes. Never used for values, only for keys. */
static void quote_key(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n && o + 8 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 32) {
            o += (size_t)snprintf(out + o, outlen - o, "...");
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
    }
    out[o++] = '"';
    out[o] = '\0';
}

__attribute__((noinline)) static void path_key(struct enc *e, const char *k, size_t n)
{
    char seg[200];
    int ident = n > 0 && n <= 64 && !(k[0] >= '0' && k[0] <= '9');
    for (size_t i = 0; i < n && ident; i++)
        ident = (k[i] == '_' || (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z')
                 || (k[i] >= '0' && k[i] <= '9'));
    if (ident) {
        seg[0] = '.';
        memcpy(seg + 1, k, n);
        path_prepend(e, seg, n + 1);
    } else {
        char q[190];
        quote_key(k, n, q, sizeof q);
        int m = snprintf(seg, sizeof seg, "[%s]", q);
        path_prepend(e, seg, (size_t)m);
    }
}

__attribute__((noinline)) static void path_index(struct enc *e, lua_Integer i)
{
    char seg[32];
    int m = snprintf(seg, sizeof seg, "[%lld]", (long long)i);
    path_prepend(e, seg, (size_t)m);
}

/* Push a copy of s with each byte that does not start a valid sequence
 * replaced by U+FFFD. Built in Lua memory. [-0, +1, m] */
static void push_utf8_replaced(lua_State *L, const char *s, size_t n)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    while (n) {
        size_t ok = lw_utf8_first_invalid(s, n);
        luaL_addlstring(&b, s, ok);
        if (ok == n)
            break;
        luaL_addstring(&b, "\xEF\xBF\xBD");
        s += ok + 1;
        n -= ok + 1;
    }
    luaL_pushresult(&b);
}

/* Make s (at stack index idx, length n) valid UTF-8: returns s itself, or
 * pushes a replaced copy and returns it (*pushed = 1), or fails naming
 * `what` ("string" or "key"). [-0, +(0|1), m] */
__attribute__((noinline))
static const char *utf8_ok(struct enc *e, lua_State *L, const char *s, size_t *n,
                           const char *what, int *pushed)
{
    size_t bad = lw_utf8_first_invalid(s, *n);
    *pushed = 0;
    if (bad == *n)
        return s;
    if (!(e->flags & LW_JSON_REPLACE_INVALID_UTF8)) {
        fail(e, "invalid UTF-8 in %s (byte %zu of %zu; use {invalid_utf8 = \"replace\"} to "
             "replace bad bytes)", what, bad + 1, *n);
        return NULL;
    }
    push_utf8_replaced(L, s, *n);
    *pushed = 1;
    return lua_tolstring(L, -1, n);
}

/* Describe the key at idx for an error message. */
static void describe_key(lua_State *L, int idx, char *out, size_t outlen)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        quote_key(s, n, out, outlen);
        break;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            snprintf(out, outlen, "%lld", (long long)lua_tointeger(L, idx));
        else
            snprintf(out, outlen, "%.17g", (double)lua_tonumber(L, idx));
        break;
    case LUA_TBOOLEAN:
        snprintf(out, outlen, "%s", lua_toboolean(L, idx) ? "true" : "false");
        break;
    default:
        snprintf(out, outlen, "of type %s", luaL_typename(L, idx));
        break;
    }
}

enum { MARK_NONE, MARK_ARRAY, MARK_OBJECT };

/* The table's json mark: our metatables, or a "__jsontype" field in any
 * metatable. [-0, +0, m] */
static int table_mark(struct enc *e, lua_State *L, int t)
{
    if (!lua_getmetatable(L, t))
        return MARK_NONE;                           /* mt */
    const void *p = lua_topointer(L, -1);
    int mark = MARK_NONE;
    if (p == e->mt_array) {
        mark = MARK_ARRAY;
    } else if (p == e->mt_object) {
        mark = MARK_OBJECT;
    } else {
        lua_pushliteral(L, "__jsontype");           /* mt, "__jsontype" */
        if (lua_rawget(L, -2) == LUA_TSTRING) {     /* mt, kind */
            const char *k = lua_tostring(L, -1);
            mark = strcmp(k, "array") == 0 ? MARK_ARRAY
                 : strcmp(k, "object") == 0 ? MARK_OBJECT : MARK_NONE;
        }
        lua_pop(L, 1);                              /* mt */
    }
    lua_pop(L, 1);
    return mark;
}

/* Decide how the table at t encodes: *as_array and, for arrays, *n. Fails
 * (naming the offending key) for mixed, sparse or unusable keys.
 * [-0, +0, -] */
__attribute__((noinline))       /* keeps its buffers off the recursion's frames */
static int classify(struct enc *e, lua_State *L, int t, int mark, int *as_array, lua_Integer *n)
{
    int top = lua_gettop(L);
    lua_Integer count = 0, max = 0;
    int have_str = 0, have_int = 0;
    char str_key[80] = "", int_key[32] = "", desc[80];
    lua_pushnil(L);                                 /* nil */
    while (lua_next(L, t)) {                        /* k, v */
        int kt = lua_type(L, -2);
        if (kt == LUA_TNUMBER && lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1
            && mark != MARK_OBJECT) {
            lua_Integer k = lua_tointeger(L, -2);
            if (!have_int)
                snprintf(int_key, sizeof int_key, "%lld", (long long)k);
            have_int = 1;
            count++;
            if (k > max)
                max = k;
        } else if (kt == LUA_TSTRING && mark != MARK_ARRAY) {
            if (!have_str)
                describe_key(L, -2, str_key, sizeof str_key);
            have_str = 1;
        } else if (kt == LUA_TNUMBER && mark == MARK_OBJECT) {
            have_str = 1;                           /* converted with tostring */
        } else {
            describe_key(L, -2, desc, sizeof desc);
            lua_settop(L, top);
            if (mark == MARK_ARRAY)
                return fail(e, "cannot encode array-marked table with key %s", desc);
            return fail(e, "cannot encode table key %s (keys must be strings, or 1..n for an array)",
                        desc);
        }
        lua_pop(L, 1);                              /* k */
    }
    assert(lua_gettop(L) == top);
    if (have_str && have_int)
        return fail(e, "cannot encode table with both string key %s and integer key %s",
                    str_key, int_key);
    if (have_int && max != count)
        return fail(e, "cannot encode sparse array (key %lld with only %lld elements)",
                    (long long)max, (long long)count);
    *as_array = have_int || mark == MARK_ARRAY;
    *n = count;
    return 0;
}

static int enc_attach(struct enc *e, lua_State *L, int idx, json_t *parent,
                      const char *key, size_t klen);

static int fill_array(struct enc *e, lua_State *L, int t, json_t *arr, lua_Integer n)
{
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, t, i);                               /* v */
        int r = enc_attach(e, L, lua_gettop(L), arr, NULL, 0);
        lua_pop(L, 1);
        if (r < 0) {
            path_index(e, i);
            return -1;
        }
    }
    return 0;
}

__attribute__((noinline)) static void fail_duplicate(struct enc *e, const char *k, size_t n)
{
    char q[80];
    quote_key(k, n, q, sizeof q);
    fail(e, "cannot encode table: two keys both become %s", q);
}

static int fill_object(struct enc *e, lua_State *L, int t, json_t *obj)
{
    int top = lua_gettop(L);
    lua_pushnil(L);                                         /* nil */
    while (lua_next(L, t)) {                                /* k, v */
        int kidx = top + 1, vidx = top + 2, pushed = 0;
        size_t klen;
        const char *k;
        if (lua_type(L, kidx) == LUA_TSTRING) {
            k = lua_tolstring(L, kidx, &klen);
        } else {                                            /* number key of an object-marked table */
            lua_pushvalue(L, kidx);                         /* k, v, k */
            k = lua_tolstring(L, -1, &klen);                /* k, v, "k" */
        }
        const char *kk = utf8_ok(e, L, k, &klen, "key", &pushed);   /* k, v, ["k"], [clean] */
        int r = -1, in_value = 0;
        if (kk && json_object_getn(obj, kk, klen)) {
            fail_duplicate(e, kk, klen);
        } else if (kk) {
            r = enc_attach(e, L, vidx, obj, kk, klen);
            in_value = 1;
        }
        if (r < 0) {
            if (in_value)
                path_key(e, kk, klen);
            lua_settop(L, top);
            return -1;
        }
        lua_settop(L, kidx);                                /* k */
    }
    return 0;
}

/* Attach a new jansson value to parent: appended to an array (key NULL),
 * set in an object, or made e->root (parent NULL). Steals v. */
static int attach(struct enc *e, json_t *parent, const char *key, size_t klen, json_t *v)
{
    int r;
    if (!v)
        return fail(e, "out of memory");
    if (!parent) {
        e->root = v;
        return 0;
    }
    if (key)
        r = json_object_setn_new_nocheck(parent, key, klen, v);
    else
        r = json_array_append_new(parent, v);
    return r < 0 ? fail(e, "out of memory") : 0;
}

static int enc_attach(struct enc *e, lua_State *L, int idx, json_t *parent,
                      const char *key, size_t klen)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return attach(e, parent, key, klen, json_null());
    case LUA_TBOOLEAN:
        return attach(e, parent, key, klen, json_boolean(lua_toboolean(L, idx)));
    case LUA_TNUMBER: {
        if (lua_isinteger(L, idx))
            return attach(e, parent, key, klen, json_integer((json_int_t)lua_tointeger(L, idx)));
        double d = (double)lua_tonumber(L, idx);
        if (isnan(d))
            return fail(e, "cannot encode NaN");
        if (isinf(d))
            return fail(e, "cannot encode %s", d > 0 ? "inf" : "-inf");
        return attach(e, parent, key, klen, json_real(d));
    }
    case LUA_TSTRING: {
        size_t n;
        int pushed;
        const char *s = lua_tolstring(L, idx, &n);
        s = utf8_ok(e, L, s, &n, "string", &pushed);
        if (!s)
            return -1;
        int r = attach(e, parent, key, klen, json_stringn_nocheck(s, n));
        if (pushed)
            lua_pop(L, 1);
        return r;
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL)
            return attach(e, parent, key, klen, json_null());
        return fail(e, "cannot encode light userdata (only json.null)");
    case LUA_TTABLE:
        break;
    default:
        return fail(e, "cannot encode %s", luaL_typename(L, idx));
    }
    /* The tables being converted (the ancestors of this one) are exactly
     * the tables below idx on this frame's stack: keys that are tables are
     * refused before descending, and finished siblings are popped. */
    for (int i = 1; i < idx; i++)
        if (lua_type(L, i) == LUA_TTABLE && lua_rawequal(L, i, idx))
            return fail(e, "cannot encode a reference cycle (table contains itself)");
    if (e->depth >= LW_JSON_MAX_DEPTH)
        return fail(e, "cannot encode tables nested deeper than %d levels", LW_JSON_MAX_DEPTH);
    if (!lua_checkstack(L, 4))
        return fail(e, "Lua stack exhausted");
    int as_array;
    lua_Integer n;
    if (classify(e, L, idx, table_mark(e, L, idx), &as_array, &n) < 0)
        return -1;
    json_t *v = as_array ? json_array() : json_object();
    if (attach(e, parent, key, klen, v) < 0)
        return -1;
    e->depth++;
    int r = as_array ? fill_array(e, L, idx, v, n) : fill_object(e, L, idx, v);
    e->depth--;
    return r;
}

static void enc_init(struct enc *e, lua_State *L, unsigned flags)
{
    e->root = NULL;
    e->out = NULL;
    e->dump = 0;
    e->dump_flags = 0;
    e->flags = flags;
    e->depth = 0;
    e->failed = 0;
    e->what[0] = '\0';
    e->path_start = sizeof e->path - 1;
    e->path[e->path_start] = '\0';
    e->path_cut = 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key);
    e->mt_array = lua_topointer(L, -1);                 /* NULL when not created yet */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &object_mt_key);
    e->mt_object = lua_topointer(L, -1);
    lua_pop(L, 2);
}

static void enc_message(const struct enc *e, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s at $%s%s", e->what, e->path_cut ? "..." : "",
             e->path + e->path_start);
}

/* lua_pcall target: (value, lightuserdata enc) -> text | nil */
static int enc_protected(lua_State *L)
{
    struct enc *e = lua_touserdata(L, 2);
    if (enc_attach(e, L, 1, NULL, NULL, 0) < 0 || !e->dump)
        return 0;
    e->out = lw_json_dumps(e->root, e->dump_flags);
    if (!e->out) {
        fail(e, "out of memory");
        return 0;
    }
    lua_pushstring(L, e->out);
    return 1;
}

/* Run enc_protected on the value at idx; 1 result left on the stack
 * (text or nil). Raises after releasing e's memory if the call failed. */
static void enc_run(lua_State *L, int idx, struct enc *e)
{
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, enc_protected);        /* f */
    lua_pushvalue(L, idx);                      /* f, value */
    lua_pushlightuserdata(L, e);                /* f, value, e */
    int status = lua_pcall(L, 2, 1, 0);         /* result | error */
    free(e->out);
    e->out = NULL;
    if (status != LUA_OK) {
        json_decref(e->root);
        e->root = NULL;
        lua_error(L);
    }
}

json_t *lw_json_from_lua_flags(lua_State *L, int idx, unsigned flags, char *err, size_t errlen)
{
    struct enc e;
    if (!lua_checkstack(L, 4)) {        /* does not raise */
        snprintf(err, errlen, "Lua stack exhausted");
        return NULL;
    }
    idx = lua_absindex(L, idx);
    enc_init(&e, L, flags);
    enc_run(L, idx, &e);                        /* nil */
    lua_pop(L, 1);
    if (e.failed) {
        enc_message(&e, err, errlen);
        json_decref(e.root);
        return NULL;
    }
    return e.root;
}

json_t *lw_json_from_lua(lua_State *L, int idx, char *err, size_t errlen)
{
    return lw_json_from_lua_flags(L, idx, 0, err, errlen);
}

/* ------------------------------------------------------------ Lua functions */

/* json.encode(value [, opts]) -> text | nil, message
 * opts: pretty (boolean), sort_keys (boolean, default true),
 *       invalid_utf8 ("error" (default) or "replace"). */
static int l_encode(lua_State *L)
{
    int pretty = 0, sort = 1;
    unsigned flags = 0;
    luaL_checkany(L, 1);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_pushnil(L);                                     /* v, opts, nil */
        while (lua_next(L, 2)) {                            /* v, opts, k, x */
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
            if (strcmp(k, "pretty") == 0 || strcmp(k, "sort_keys") == 0) {
                if (!lua_isboolean(L, -1))
                    luaL_argerror(L, 2, lua_pushfstring(L, "option '%s' must be a boolean", k));
                if (k[0] == 'p')
                    pretty = lua_toboolean(L, -1);
                else
                    sort = lua_toboolean(L, -1);
            } else if (strcmp(k, "invalid_utf8") == 0) {
                const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
                if (strcmp(m, "replace") == 0)
                    flags |= LW_JSON_REPLACE_INVALID_UTF8;
                else if (strcmp(m, "error") != 0)
                    luaL_argerror(L, 2, "invalid_utf8 must be \"error\" or \"replace\"");
            } else {
                luaL_argerror(L, 2, lua_pushfstring(L, "unknown option '%s'",
                                                    luaL_tolstring(L, -2, NULL)));
            }
            lua_pop(L, 1);                                  /* v, opts, k */
        }
    }
    lua_settop(L, 1);                                       /* v */
    struct enc e;
    enc_init(&e, L, flags);
    e.dump = 1;
    e.dump_flags = JSON_ENCODE_ANY | (pretty ? JSON_INDENT(2) : JSON_COMPACT)
                 | (sort ? JSON_SORT_KEYS : 0);
    enc_run(L, 1, &e);                                      /* v, text|nil */
    json_decref(e.root);
    if (e.failed) {
        char msg[512];
        enc_message(&e, msg, sizeof msg);
        lua_pushstring(L, msg);                             /* v, nil, msg */
        return 2;
    }
    return 1;
}

/* json.decode(text) -> value | nil, message */
static int l_decode(lua_State *L)
{
    size_t len;
    luaL_checktype(L, 1, LUA_TSTRING);
    const char *s = lua_tolstring(L, 1, &len);
    char err[256];
    if (lw_json_decode(L, s, len, err, sizeof err) < 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

/* json.array([t]) / json.object([t]) -> t, marked. A table with a foreign
 * metatable is refused: set __jsontype = "array"|"object" in that metatable
 * instead. [-0, +1, m] */
static int mark_table(lua_State *L, const char *key)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);                                       /* t */
    push_marker_mt(L, &array_mt_key, "array");              /* t, amt */
    push_marker_mt(L, &object_mt_key, "object");            /* t, amt, omt */
    if (lua_getmetatable(L, 1)) {                           /* t, amt, omt, mt */
        if (!lua_rawequal(L, -1, 2) && !lua_rawequal(L, -1, 3))
            return luaL_argerror(L, 1, "table already has a metatable (set __jsontype in it)");
        lua_pop(L, 1);                                      /* t, amt, omt */
    }
    lua_pushvalue(L, key == &array_mt_key ? 2 : 3);         /* t, amt, omt, mt */
    lua_setmetatable(L, 1);                                 /* t, amt, omt */
    lua_settop(L, 1);                                       /* t */
    return 1;
}

static int l_array(lua_State *L)
{
    return mark_table(L, &array_mt_key);
}

static int l_object(lua_State *L)
{
    return mark_table(L, &object_mt_key);
}

/* json.is_array(v) -> whether v would encode as a JSON array */
static int l_is_array(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE) {
        lua_pushboolean(L, 0);
        return 1;
    }
    struct enc e;
    enc_init(&e, L, 0);
    int as_array = 0;
    lua_Integer n;
    if (classify(&e, L, 1, table_mark(&e, L, 1), &as_array, &n) < 0)
        as_array = 0;
    lua_pushboolean(L, as_array);
    return 1;
}

int lw_open_json(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"encode", l_encode}, {"decode", l_decode}, {"array", l_array},
        {"object", l_object}, {"is_array", l_is_array}, {NULL, NULL},
    };
    luaL_newlib(L, fns);                                    /* json */
    lua_pushlightuserdata(L, NULL);                         /* json, null */
    lua_setfield(L, -2, "null");                            /* json */
    push_marker_mt(L, &array_mt_key, "array");              /* json, amt */
    push_marker_mt(L, &object_mt_key, "object");            /* json, amt, omt */
    lua_pop(L, 2);                                          /* json */
    return 1;
}
