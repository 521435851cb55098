/* main.c: the luaworker command.
 *
 * Every Lua state of the command (the main one, and one per --threads
 * thread) comes from new_state: its own capped allocator (the cap is set by
 * --memory-limit), the standard libraries, luaworker.core and the facade's
 * Lua modules preloaded from the binary. Then require("luaworker.cli").main
 * runs in a protected call: the command runs the same facade an application
 * gets from require "luaworker". */
#include "lhost.h"
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

LW_EXPORT int luaopen_luaworker_core(lua_State *L);

struct lw_embedded {
    const char *name;
    const char *src;
    size_t len;
};
extern const struct lw_embedded lw_embedded_lua[];

static void *plain_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

static int load_embedded(lua_State *L)
{
    const struct lw_embedded *e = lua_touserdata(L, lua_upvalueindex(1));
    char chunkname[128];
    snprintf(chunkname, sizeof chunkname, "=%s", e->name);
    if (luaL_loadbuffer(L, e->src, e->len, chunkname) != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, e->name);
    lua_call(L, 1, 1);
    return 1;
}

static int open_state(lua_State *L)
{
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);     /* preload */
    lua_pushcfunction(L, luaopen_luaworker_core);
    lua_setfield(L, -2, "luaworker.core");
    for (const struct lw_embedded *e = lw_embedded_lua; e->name; e++) {
        lua_pushlightuserdata(L, (void *)e);
        lua_pushcclosure(L, load_embedded, 1);
        lua_setfield(L, -2, e->name);
    }
    return 0;
}

/* A state ready to require the facade; NULL when out of memory. */
static lua_State *new_state(void)
{
    struct lw_memcap *cap = calloc(1, sizeof *cap);
    if (!cap)
        return NULL;
    cap->inner = plain_alloc;
    lua_State *L = lua_newstate(lw_memcap_alloc, cap);
    if (!L) {
        free(cap);
        return NULL;
    }
    lua_pushcfunction(L, open_state);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        fprintf(stderr, "luaworker: %s\n", lua_tostring(L, -1));
        lua_close(L);
        free(cap);
        return NULL;
    }
    return L;
}

static void close_state(lua_State *L)
{
    void *cap;
    lua_getallocf(L, &cap);
    lua_close(L);
    free(cap);
}

static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    /* arg, as the lua interpreter sets it: arg[0] the command */
    lua_createtable(L, argc, 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");
    lua_getglobal(L, "require");
    lua_pushliteral(L, "luaworker.cli");
    lua_call(L, 1, 1);                          /* cli */
    lua_getfield(L, -1, "main");                /* cli, main */
    lua_createtable(L, argc, 0);                /* cli, main, args */
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_call(L, 1, 1);                          /* cli, status */
    return 1;
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg)
        msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* The backoff jitter (random()) must differ between processes, or a fleet
 * restarted together retries in step. The command owns the process, so it
 * seeds; an application using the module seeds as it sees fit. */
static void seed_jitter(void)
{
    unsigned seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (unsigned)ts.tv_nsec ^ (unsigned)ts.tv_sec ^ ((unsigned)getpid() << 16);
    }
    srandom(seed);
}

int main(int argc, char **argv)
{
    seed_jitter();
    lw_threads_set_factory(new_state, close_state);
    lua_State *L = new_state();
    if (!L) {
        fprintf(stderr, "luaworker: cannot create a Lua state\n");
        return 1;
    }
    lua_pushcfunction(L, traceback);
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = 1;
    if (lua_pcall(L, 2, 1, 1) != LUA_OK)
        fprintf(stderr, "luaworker: %s\n", lua_tostring(L, -1));
    else
        status = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 1;
    fflush(stdout);
    close_state(L);
    return status;
}
