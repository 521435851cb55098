/* lthreads.c: core.threads_start(n, args) for `luaworker run --threads N`:
 * n more OS threads, each with its own Lua state, loop, curl multi handle and
 * worker, running require("luaworker.cli").main(args) as the command's main
 * thread does. They share only what is process-wide: the credentials
 * providers (lworker.c) and the log.
 *
 * A new state comes from the factory the command registers (main.c: the
 * capped allocator, the standard libraries, the preloaded facade); a host
 * application that required the module has none, so there threads_start
 * raises a clear error. core.thread_index() is 0 in the main thread and
 * 1..n in the others, so the CLI does not start threads from threads. */
#include "lhost.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static lua_State *(*state_factory)(void);
static void (*state_closer)(lua_State *L);
static _Thread_local int thread_index;

void lw_threads_set_factory(lua_State *(*factory)(void), void (*closer)(lua_State *L))
{
    state_factory = factory;
    state_closer = closer;
}

struct thr {
    pthread_t tid;
    int index;
    int argc;
    char **argv;
    int status;
    bool started;
};

struct group {
    int n;
    struct thr *t;
};

static void *run_thread(void *arg)
{
    struct thr *t = arg;
    thread_index = t->index;
    t->status = 1;
    lua_State *L = state_factory();
    if (!L)
        return NULL;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "luaworker.cli");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lw_lhost_report(L, "a worker thread could not load the CLI");
        state_closer(L);
        return NULL;
    }
    lua_getfield(L, -1, "main");
    lua_createtable(L, t->argc, 0);
    for (int i = 0; i < t->argc; i++) {
        lua_pushstring(L, t->argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        lw_lhost_report(L, "a worker thread failed");
    else
        t->status = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 1;
    state_closer(L);
    return NULL;
}

static struct group *check_group(lua_State *L)
{
    return luaL_checkudata(L, 1, "luaworker.Threads");
}

/* threads:join() -> the worst exit status of the threads (0 if all 0). */
static int l_join(lua_State *L)
{
    struct group *g = check_group(L);
    int worst = 0;
    for (int i = 0; i < g->n; i++) {
        if (!g->t[i].started)
            continue;
        pthread_join(g->t[i].tid, NULL);
        g->t[i].started = false;
        if (g->t[i].status > worst)
            worst = g->t[i].status;
    }
    lua_pushinteger(L, worst);
    return 1;
}

static int l_gc(lua_State *L)
{
    struct group *g = check_group(L);
    if (!g->t)
        return 0;
    l_join(L);
    for (int i = 0; i < g->n; i++) {
        for (int j = 0; j < g->t[i].argc; j++)
            free(g->t[i].argv[j]);
        free(g->t[i].argv);
    }
    free(g->t);
    g->t = NULL;
    return 0;
}

/* core.threads_start(n, args): start n worker threads running cli.main(args). */
static int l_threads_start(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_argcheck(L, n >= 1 && n <= 256, 1, "between 1 and 256 threads");
    if (!state_factory)
        return luaL_error(L, "worker threads need the luaworker command; an application that "
                             "requires the module can run one worker per thread itself");
    int argc = (int)luaL_len(L, 2);
    struct group *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->n = 0;
    g->t = calloc((size_t)n, sizeof *g->t);
    luaL_setmetatable(L, "luaworker.Threads");
    if (!g->t)
        return luaL_error(L, "out of memory");
    for (int i = 0; i < n; i++) {
        struct thr *t = &g->t[i];
        t->index = i + 1;
        t->argc = argc;
        t->argv = calloc((size_t)argc + 1, sizeof *t->argv);
        g->n = i + 1;
        if (!t->argv)
            return luaL_error(L, "out of memory");
        for (int j = 0; j < argc; j++) {
            lua_rawgeti(L, 2, j + 1);
            const char *s = lua_tostring(L, -1);
            t->argv[j] = strdup(s ? s : "");
            lua_pop(L, 1);
            if (!t->argv[j])
                return luaL_error(L, "out of memory");
        }
        if (pthread_create(&t->tid, NULL, run_thread, t) != 0)
            return luaL_error(L, "cannot start worker thread %d", i + 1);
        t->started = true;
    }
    return 1;
}

static int l_thread_index(lua_State *L)
{
    lua_pushinteger(L, thread_index);
    return 1;
}

void lw_open_threads(lua_State *L)
{
    if (luaL_newmetatable(L, "luaworker.Threads")) {        /* core, mt */
        lua_newtable(L);
        lua_pushcfunction(L, l_join);
        lua_setfield(L, -2, "join");
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, l_threads_start);
    lua_setfield(L, -2, "threads_start");
    lua_pushcfunction(L, l_thread_index);
    lua_setfield(L, -2, "thread_index");
}
