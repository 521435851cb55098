/* ltask.c: handler coroutines and the runtime calls handlers make
 * (heartbeat, sleep, log, ...), the Lua half of struct lw_task_host. */
#include "lhost.h"
#include "json.h"
#include "log.h"
#include "worker.h"
#include <stdlib.h>
#include <string.h>

struct lhtask {
    struct lw_lhost *h;
    struct lw_task *t;
    lua_State *co;
    int co_ref;
    bool running;               /* inside lua_resume */
    bool released;              /* release requested while running */
    struct lw_defer resume;     /* preempted: resume on the next turn */
    long long mem;              /* bytes allocated less bytes freed while it ran */
    bool refused;               /* the cap refused it a request (see hit_cap) */
    /* nested coroutines resumed through co_run, innermost last (see there) */
    lua_State *through[32];
    int depth;
    lua_State *preempted;       /* the one the count hook just yielded */
};

static _Thread_local struct lw_task *tl_current;

struct lw_task *lw_lhost_current(void) { return tl_current; }

static struct lhtask *lht_of(struct lw_task *t) { return t ? t->host : NULL; }

struct lw_lhost *lw_lhost_of(struct lw_task *t)
{
    struct lhtask *ht = lht_of(t);
    return ht ? ht->h : NULL;
}

lua_State *lw_lhost_thread(struct lw_task *t)
{
    struct lhtask *ht = lht_of(t);
    return ht && !ht->released ? ht->co : NULL;
}

/* ---- the memory cap ----
 *
 * Up to the limit every request is granted. Past it, a task's request is
 * still granted within a reserve of an eighth of the limit, and the state is
 * marked short of memory: at the next safe point (the count hook, or the end
 * of a resume) a full collection runs, and if the state is still over the
 * limit the task holding the most memory is charged. A request past the
 * reserve is refused; Lua then collects its garbage and asks again, and only
 * that second refusal charges. A charged task gets no more memory and is
 * stopped at its next step; it fails with MemoryLimit. Some refusals are
 * not retried: lauxlib's buffers (string.rep, table.concat, ...) raise
 * "not enough memory" as a plain error at once; a task that ends with that
 * error after a refusal fails with MemoryLimit too (hit_cap). */

static _Thread_local bool tl_short;     /* over the limit: collect at a safe point */
static _Thread_local struct {           /* a refusal Lua will retry after collecting */
    struct lw_task *t;
    void *ptr;
    size_t osize, nsize;
} tl_refused;

/* The running task of t's worker holding the most memory, by what each
 * allocated less what was freed while it ran (frees by the collector count
 * for the task it interrupted: an estimate, right for a handler that keeps
 * what it allocates). */
static struct lhtask *biggest(struct lw_task *t)
{
    struct lhtask *best = NULL;
    for (struct lw_task *x = lw_worker_first_task(t->w); x; x = x->next) {
        struct lhtask *ht = x->phase == LW_TASK_RUNNING ? lht_of(x) : NULL;
        if (ht && (!best || ht->mem > best->mem))
            best = ht;
    }
    return best;
}

/* Flag the biggest task; one that is not running is ended from the loop. */
static void charge(struct lw_task *t)
{
    struct lhtask *v = biggest(t);
    if (v && !v->t->memory_exceeded) {
        v->t->memory_exceeded = true;
        lw_defer_queue(v->h->loop, &v->resume);
    }
}

/* A safe point: collect if the state went over the limit, charge if that
 * was not garbage. L: the running thread; any: a task of the worker. */
static void relieve(lua_State *L, struct lw_lhost *h, struct lw_task *any)
{
    if (!tl_short || !h->mem)
        return;
    tl_short = false;
    lua_gc(L, LUA_GCCOLLECT, 0);
    if (h->mem->used > h->mem->limit && any)
        charge(any);
}

void *lw_memcap_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct lw_memcap *m = ud;
    struct lw_task *t = tl_current;
    size_t old = ptr ? osize : 0;
    if (nsize > old && t && m->limit) {
        if (t->memory_exceeded)
            return NULL;                /* charged: no more */
        size_t after = m->used - old + nsize;
        if (after > m->limit + m->limit / 8) {
            bool retry = tl_refused.t == t && tl_refused.ptr == ptr
                         && tl_refused.osize == osize && tl_refused.nsize == nsize;
            if (lht_of(t))
                lht_of(t)->refused = true;
            tl_refused.t = t;
            tl_refused.ptr = ptr;
            tl_refused.osize = osize;
            tl_refused.nsize = nsize;
            if (retry) {
                tl_refused.t = NULL;
                charge(t);
                t->memory_exceeded = true;
            }
            return NULL;
        }
        if (after > m->limit)
            tl_short = true;
    }
    void *p = m->inner(m->inner_ud, ptr, osize, nsize);
    if (p && nsize > old)
        tl_refused.t = NULL;
    if (p || nsize == 0) {
        m->used = m->used - old + nsize;
        if (m->used > m->peak)
            m->peak = m->used;
        struct lhtask *ht = lht_of(t);
        if (ht)
            ht->mem += (long long)nsize - (long long)old;
    }
    return p;
}

/* ---- resuming ---- */

static void release_now(struct lhtask *ht)
{
    struct lw_lhost *h = ht->h;
    lw_defer_cancel(h->loop, &ht->resume);
    /* Unanchor only: a finished thread's results stay readable until the
     * next collection, and an abandoned one is collected with its frames. */
    luaL_unref(h->L, LUA_REGISTRYINDEX, ht->co_ref);
    h->threads--;
    if (ht->t)
        ht->t->host = NULL;
    free(ht);
}

/* Whether the task ended for want of memory: charged, or refused a request
 * and then failed with Lua's memory error message (what lauxlib raises
 * without the collect-and-retry that would have charged it). */
static bool hit_cap(struct lhtask *ht, const char *reason)
{
    return ht->t->memory_exceeded
        || (ht->refused && reason && strcmp(reason, "not enough memory") == 0);
}

static void end_with_results(struct lhtask *ht, int nres)
{
    struct lw_task *t = ht->t;
    lua_State *co = ht->co;
    int base = lua_gettop(co) - nres;
    const char *kind = nres >= 1 ? lua_tostring(co, base + 1) : NULL;
    struct lw_task_end end = { .kind = LW_END_FAILED };
    if (nres >= 2 && lua_type(co, base + 2) == LUA_TSTRING)
        end.result = end.reason = lua_tolstring(co, base + 2, &end.result_len);
    end.reason_len = end.result_len;
    if (nres >= 3 && lua_type(co, base + 3) == LUA_TSTRING)
        end.details = lua_tolstring(co, base + 3, &end.details_len);
    if (kind && strcmp(kind, "completed") == 0) {
        end.kind = LW_END_COMPLETED;
    } else if (kind && strcmp(kind, "cancelled") == 0) {
        end.kind = LW_END_CANCELLED;
    } else if (!kind || strcmp(kind, "failed") != 0) {
        end.reason = "LuaWorkerError";
        end.details = "the task runner returned nothing usable";
        end.details_len = strlen(end.details);
    }
    char msg[160];
    if (hit_cap(ht, end.kind == LW_END_FAILED ? end.reason : NULL)) {
        snprintf(msg, sizeof msg, "the handler went over the worker's Lua memory limit of %zu bytes",
                 ht->h->mem ? ht->h->mem->limit : (size_t)0);
        end = (struct lw_task_end){ .kind = LW_END_MEMORY, .details = msg, .details_len = strlen(msg) };
    }
    lw_task_finished(t, &end);      /* copies what it keeps, then releases us */
}

static void end_with_error(struct lhtask *ht, int status)
{
    struct lw_task *t = ht->t;
    lua_State *co = ht->co;
    struct lw_task_end end = { .kind = LW_END_FAILED, .reason = "LuaError" };
    if (status == LUA_ERRMEM || hit_cap(ht, lua_tostring(co, -1))) {
        end.kind = LW_END_MEMORY;
        end.details = "the handler went over the worker's Lua memory limit";
    } else {
        const char *msg = lua_tostring(co, -1);
        luaL_traceback(co, co, msg ? msg : "(error object is not a string)", 0);
        end.details = lua_tolstring(co, -1, &end.details_len);
    }
    if (end.details && !end.details_len)
        end.details_len = strlen(end.details);
    end.reason_len = strlen(end.reason);
    lw_task_finished(t, &end);
}

static void on_preempted(struct lw_defer *d, void *ud);

static void resume_once(struct lhtask *ht, int nargs)
{
    struct lw_task *prev = tl_current;
    struct lw_task *t = ht->t;
    int nres = 0;
    tl_current = t;
    ht->running = true;
    int st = lua_resume(ht->co, ht->h->from ? ht->h->from : ht->h->L, nargs, &nres);
    ht->running = false;
    tl_current = prev;
    if (ht->released) {             /* released by something it called: finish now */
        release_now(ht);
        return;
    }
    if (st == LUA_YIELD) {
        lua_pop(ht->co, nres);
        if (t->memory_exceeded) {   /* caught "not enough memory" and went on */
            end_with_results(ht, 0);
            return;
        }
        if (t->wait == LW_WAIT_NONE)   /* preempted by the count hook */
            lw_defer_queue(ht->h->loop, &ht->resume);
        return;
    }
    if (st == LUA_OK)
        end_with_results(ht, nres);
    else
        end_with_error(ht, st);
}

static void resume(struct lhtask *ht, int nargs)
{
    struct lw_lhost *h = ht->h;
    struct lw_worker *w = ht->t->w;
    resume_once(ht, nargs);                 /* may free ht */
    relieve(h->from ? h->from : h->L, h, lw_worker_first_task(w));
}

void lw_lhost_resume(struct lw_task *t, int nargs)
{
    struct lhtask *ht = lht_of(t);
    if (ht && !ht->released && !ht->running)
        resume(ht, nargs);
}

static void on_preempted(struct lw_defer *d, void *ud)
{
    struct lhtask *ht = ud;
    if (ht->t->phase != LW_TASK_RUNNING)
        return;
    if (ht->t->memory_exceeded)
        end_with_results(ht, 0);    /* charged for the memory cap while suspended */
    else if (ht->t->wait == LW_WAIT_NONE)
        resume(ht, 0);
}

/* Count hook: a pending cancellation is raised here, and a handler busy in
 * pure Lua yields to the loop so others (and the heartbeats) go on: from its
 * own coroutine directly, from a nested coroutine through co_run. Code behind
 * a C boundary (a table.sort comparator) cannot yield; it only gets the
 * cancellation. */
static void hook(lua_State *L, lua_Debug *ar)
{
    struct lw_task *t = tl_current;
    struct lhtask *ht = lht_of(t);
    if (!t || !ht)
        return;
    bool own = L == ht->co && lua_isyieldable(L);
    /* a nested coroutine that co_run resumed: it yields to co_run, which
     * passes the preemption on up to the loop */
    bool through = !own && ht->depth > 0 && ht->through[ht->depth - 1] == L
                   && lua_isyieldable(L);
    relieve(L, ht->h, t);
    if (t->memory_exceeded) {
        if (own) {
            lua_yield(L, 0);
            return;
        }
        lua_pushliteral(L, "not enough memory");
        lua_error(L);
    }
    if (!own && !through)
        lw_task_check_deadline(t);  /* holding the loop: its timer cannot fire */
    struct lw_error e;
    if (lw_task_take_cancel(t, &e)) {
        lw_push_error(L, &e);
        lua_error(L);
    }
    if (through)
        ht->preempted = L;
    if (own || through)
        lua_yield(L, 0);
}

/* ---- the task host ---- */

static void setfield_str(lua_State *L, const char *k, const char *v, size_t n)
{
    if (!v)
        return;
    lua_pushlstring(L, v, n == (size_t)-1 ? strlen(v) : n);
    lua_setfield(L, -2, k);
}

/* [-0, +1, m] the table a handler gets */
static void push_task_table(struct lw_lhost *h, lua_State *co, struct lw_task *t, const char *kind)
{
    const struct lw_task_info *i = &t->info;
    lua_createtable(co, 0, 10);                         /* task */
    setfield_str(co, "service", kind, (size_t)-1);
    setfield_str(co, "token", i->token, i->token_len);
    setfield_str(co, "token_hash", i->token_hash, (size_t)-1);
    setfield_str(co, "input", i->input, i->input_len);
    setfield_str(co, "activity_id", i->activity_id, (size_t)-1);
    setfield_str(co, "activity_arn", i->activity_arn, (size_t)-1);
    if (i->type_name) {
        lua_createtable(co, 0, 2);                      /* task, type */
        setfield_str(co, "name", i->type_name, (size_t)-1);
        setfield_str(co, "version", i->type_version, (size_t)-1);
        lua_setfield(co, -2, "type");
    }
    if (i->workflow_id || i->run_id) {
        lua_createtable(co, 0, 2);                      /* task, workflow */
        setfield_str(co, "workflow_id", i->workflow_id, (size_t)-1);
        setfield_str(co, "run_id", i->run_id, (size_t)-1);
        lua_setfield(co, -2, "workflow");
    }
    if (i->started_event_id) {
        lua_pushinteger(co, i->started_event_id);
        lua_setfield(co, -2, "started_event_id");
    }
    if (h->task_mt_ref != LUA_NOREF) {
        lua_rawgeti(co, LUA_REGISTRYINDEX, h->task_mt_ref);
        lua_setmetatable(co, -2);
    }
}

static double number_field(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    return v;
}

/* Per activity type settings: types[name] or types["*"]. */
static void configure(struct lw_lhost *h, struct lw_task *t)
{
    lua_State *L = h->L;
    if (h->types_ref == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->types_ref);        /* types */
    lua_pushstring(L, t->info.type_name ? t->info.type_name : "*");
    lua_rawget(L, -2);                                      /* types, entry */
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_getfield(L, -1, "*");
    }
    if (lua_istable(L, -1))
        lw_task_configure(t, number_field(L, -1, "heartbeat_interval"), number_field(L, -1, "timeout"));
    lua_pop(L, 2);
}

static void h_start(void *ud, struct lw_task *t)
{
    struct lw_lhost *h = ud;
    lua_State *L = h->L;
    struct lhtask *ht = calloc(1, sizeof *ht);
    if (!ht) {
        struct lw_task_end end = { .kind = LW_END_FAILED, .reason = "OutOfMemory", .reason_len = 11 };
        lw_task_finished(t, &end);
        return;
    }
    ht->h = h;
    ht->t = t;
    t->host = ht;
    lw_defer_init(&ht->resume, on_preempted, ht);
    configure(h, t);
    ht->co = lua_newthread(L);                              /* co */
    ht->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);            /* (anchored) */
    h->threads++;
    if (h->preempt > 0)
        lua_sethook(ht->co, hook, LUA_MASKCOUNT, h->preempt);
    lua_rawgeti(ht->co, LUA_REGISTRYINDEX, h->runner_ref);  /* runner */
    push_task_table(h, ht->co, t, lw_worker_service(t->w)->kind); /* runner, task */
    resume(ht, 1);
}

static void h_wake(void *ud, struct lw_task *t, const struct lw_error *err)
{
    struct lhtask *ht = lht_of(t);
    if (!ht || ht->released || ht->running)
        return;
    if (err) {
        lua_pushboolean(ht->co, 0);
        lw_push_error(ht->co, err);
        resume(ht, 2);
    } else {
        lua_pushboolean(ht->co, 1);
        resume(ht, 1);
    }
}

static void h_release(void *ud, struct lw_task *t)
{
    struct lhtask *ht = lht_of(t);
    if (!ht)
        return;
    if (ht->running) {
        ht->released = true;        /* resume() finishes it when lua_resume returns */
        t->host = NULL;
        ht->t = NULL;
        return;
    }
    release_now(ht);
}

void lw_lhost_ops(struct lw_lhost *h, struct lw_task_host *ops)
{
    ops->ud = h;
    ops->start = h_start;
    ops->wake = h_wake;
    ops->release = h_release;
}

void lw_lhost_unref(struct lw_lhost *h)
{
    luaL_unref(h->L, LUA_REGISTRYINDEX, h->runner_ref);
    luaL_unref(h->L, LUA_REGISTRYINDEX, h->types_ref);
    luaL_unref(h->L, LUA_REGISTRYINDEX, h->task_mt_ref);
    h->runner_ref = h->types_ref = h->task_mt_ref = LUA_NOREF;
}

/* ---- yielding runtime calls ---- */

static int wait_k(lua_State *L, int status, lua_KContext ctx)
{
    int base = (int)ctx;
    int top = lua_gettop(L);
    if (top <= base)
        return 0;
    if (!lua_toboolean(L, base + 1)) {          /* false, error */
        lua_settop(L, base + 2);
        return lua_error(L);
    }
    return top - base - 1;                      /* the values after `true` */
}

int lw_lhost_yield(lua_State *L)
{
    return lua_yieldk(L, 0, (lua_KContext)lua_gettop(L), wait_k);
}

static struct lw_task *task_or_error(lua_State *L, const char *what)
{
    struct lw_task *t = tl_current;
    if (!t || !lht_of(t))
        luaL_error(L, "%s can only be called while a task handler runs", what);
    return t;
}

struct lw_task *lw_lhost_check_wait(lua_State *L, const char *what)
{
    struct lw_task *t = task_or_error(L, what);
    struct lw_error e;
    if (lw_task_take_cancel(t, &e))
        lw_raise_error(L, &e);
    if (L != lht_of(t)->co || !lua_isyieldable(L))
        luaL_error(L, "%s cannot wait here: call it from the handler's own coroutine "
                   "(not a nested coroutine, a metamethod or a C callback such as a "
                   "table.sort comparator)", what);
    return t;
}

/* lw.heartbeat([details]): details a string, number or table (as JSON). */
static int l_heartbeat(lua_State *L)
{
    struct lw_task *t = task_or_error(L, "luaworker.heartbeat");
    const char *d = NULL;
    size_t len = 0;
    char *owned = NULL;
    int ty = lua_type(L, 1);
    if (ty == LUA_TSTRING || ty == LUA_TNUMBER) {
        d = lua_tolstring(L, 1, &len);
    } else if (ty == LUA_TTABLE) {
        char msg[256];
        json_t *j = lw_json_from_lua(L, 1, msg, sizeof msg);
        if (!j)
            return luaL_argerror(L, 1, msg);
        owned = lw_json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);   /* as json.encode does */
        json_decref(j);
        if (!owned)
            return luaL_error(L, "out of memory");
        d = owned;
        len = strlen(owned);
    } else if (ty != LUA_TNONE && ty != LUA_TNIL) {
        return luaL_typeerror(L, 1, "string, number, table or nil");
    }
    struct lw_error e;
    if (lw_task_take_cancel(t, &e)) {
        free(owned);
        return lw_raise_error(L, &e);
    }
    bool own = L == lht_of(t)->co && lua_isyieldable(L);
    int r = lw_task_heartbeat(t, d, len, own, &e);
    free(owned);
    if (r < 0)
        return lw_raise_error(L, &e);
    if (r == 1)
        return lw_lhost_yield(L);
    return 0;
}

/* lw.sleep(seconds): yields; the runtime heartbeats meanwhile. */
static int l_sleep(lua_State *L)
{
    double secs = luaL_checknumber(L, 1);
    luaL_argcheck(L, secs == secs && secs >= 0, 1, "seconds must be a number >= 0");
    struct lw_task *t = lw_lhost_check_wait(L, "luaworker.sleep");
    lw_task_sleep(t, secs);
    return lw_lhost_yield(L);
}

static int l_current_task(lua_State *L)
{
    lua_pushboolean(L, tl_current != NULL);
    return 1;
}

/* The cancellation pending for the running task (not raised), or nil. */
static int l_cancel_reason(lua_State *L)
{
    struct lw_task *t = tl_current;
    if (!t || t->cancel == LW_CANCEL_NONE)
        return 0;
    lua_pushstring(L, lw_cancel_reason_name(t->cancel));
    return 1;
}

/* ---- logging ---- */

static int l_log(lua_State *L)
{
    static const char *const levels[] = { "debug", "info", "warn", "error", NULL };
    int level = luaL_checkoption(L, 1, NULL, levels);
    size_t mlen;
    const char *msg = luaL_checklstring(L, 2, &mlen);
    if (!lw_log_enabled((enum lw_log_level)level))
        return 0;
    struct lw_log_field f[40];
    size_t n = 0;
    struct lw_task *t = tl_current;
    if (t) {
        if (t->info.type_name)
            f[n++] = LW_STR("activity_type", t->info.type_name);
        if (t->info.activity_id)
            f[n++] = LW_STR("activity_id", t->info.activity_id);
        f[n++] = LW_STR("token", t->info.token_hash);
    }
    if (lua_istable(L, 3)) {
        lua_settop(L, 3);
        lua_pushnil(L);                                     /* ..., key */
        while (n < sizeof f / sizeof f[0] && lua_next(L, 3)) { /* ..., key, value */
            if (lua_type(L, -2) != LUA_TSTRING) {
                lua_pop(L, 1);
                continue;
            }
            const char *k = lua_tostring(L, -2);            /* anchored: a key of the table */
            switch (lua_type(L, -1)) {
            case LUA_TNUMBER:
                f[n++] = lua_isinteger(L, -1) ? LW_INT(k, lua_tointeger(L, -1))
                                              : LW_NUM(k, lua_tonumber(L, -1));
                lua_pop(L, 1);
                break;
            case LUA_TBOOLEAN:
                f[n++] = LW_BOOL(k, lua_toboolean(L, -1));
                lua_pop(L, 1);
                break;
            default: {
                size_t vl;
                luaL_checkstack(L, 2, "too many log fields");
                const char *v = luaL_tolstring(L, -1, &vl); /* ..., key, value, str */
                lua_remove(L, -2);                          /* ..., key, str */
                lua_insert(L, -2);                          /* ..., str, key: str stays anchored */
                f[n++] = LW_STRN(k, v, vl);
                break;
            }
            }
        }
        if (n == sizeof f / sizeof f[0])
            lua_pop(L, 1);                                  /* the key lua_next left */
    }
    lw_log2((enum lw_log_level)level, msg, f, n, NULL, 0);
    return 0;
}

static int l_log_configure(lua_State *L)
{
    int level = lw_log_parse_level(luaL_optstring(L, 1, "info"));
    int format = lw_log_parse_format(luaL_optstring(L, 2, "text"));
    luaL_argcheck(L, level >= 0, 1, "log level must be debug, info, warn, error or off");
    luaL_argcheck(L, format >= 0, 2, "log format must be text or json");
    lw_log_configure((enum lw_log_level)level, (enum lw_log_format)format, 2);
    return 0;
}

void lw_lhost_report(lua_State *L, const char *msg)
{
    const char *e = lua_tostring(L, -1);
    struct lw_log_field f[] = { LW_STR("error", e ? e : "(not a string)") };
    lw_log(LW_LOG_ERROR, msg, f, 1);
    lua_pop(L, 1);
}

/* ---- coroutine.resume and coroutine.wrap ----
 *
 * Lua's own resume is a C call: the coroutine running it cannot yield, so
 * the count hook could not preempt a handler busy inside a coroutine it
 * created (an iterator made with coroutine.wrap, say). These replacements
 * (installed by the facade) record the coroutine they resume; the hook
 * yields such a one back to them, and they yield their own coroutine in
 * turn, up to the handler's, which yields to the loop; resumed, each
 * resumes the one below where it was. A coroutine resumed by other means, or
 * code behind a C boundary, is not preempted. Results and errors are those
 * of Lua 5.4's lcorolib. */

static int co_continue(lua_State *L, int status, lua_KContext wrap);

/* coroutine.wrap: close a coroutine that died and put the caller's position
 * before a string error, as lcorolib's auxwrap does. Error object on top. */
static int wrap_error(lua_State *L, lua_State *co)
{
    int stat = lua_status(co);
    if (stat != LUA_OK && stat != LUA_YIELD) {
#if LUA_VERSION_RELEASE_NUM >= 50406
        stat = lua_closethread(co, L);
#else
        stat = lua_resetthread(co);
#endif
        lua_xmove(co, L, 1);                    /* ..., err, err' */
    }
    if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);                       /* ..., err, where */
        lua_insert(L, -2);
        lua_concat(L, 2);                       /* ..., where..err */
    }
    return lua_error(L);
}

/* Resume co with the narg values on top of L; return what coroutine.resume
 * (wrap = 0) or a wrap function (wrap = 1) returns. */
static int co_run(lua_State *L, lua_State *co, int narg, lua_KContext wrap)
{
    for (;;) {
        struct lhtask *ht = lht_of(tl_current);
        if (!lua_checkstack(co, narg)) {
            lua_pushliteral(L, "too many arguments to resume");
            goto fail;
        }
        lua_xmove(L, co, narg);
        bool track = ht && ht->depth < (int)(sizeof ht->through / sizeof ht->through[0]);
        if (track)
            ht->through[ht->depth++] = co;
        int nres;
        int st = lua_resume(co, L, narg, &nres);
        if (track)
            ht->depth--;        /* ht lives on: it is freed only after the handler's resume */
        if (st == LUA_YIELD && nres == 0 && ht && ht->preempted == co) {
            ht->preempted = NULL;
            bool mine = L == ht->co;
            if (!ht->released && lua_isyieldable(L)
                && (mine || (ht->depth > 0 && ht->through[ht->depth - 1] == L))) {
                if (!mine)
                    ht->preempted = L;
                return lua_yieldk(L, 0, wrap, co_continue);
            }
            narg = 0;           /* cannot pass it on: go on at once */
            continue;
        }
        if (st == LUA_OK || st == LUA_YIELD) {
            if (!lua_checkstack(L, nres + 1)) {
                lua_pop(co, nres);
                lua_pushliteral(L, "too many results to resume");
                goto fail;
            }
            lua_xmove(co, L, nres);             /* ..., results */
            if (wrap)
                return nres;
            lua_pushboolean(L, 1);
            lua_insert(L, -(nres + 1));         /* ..., true, results */
            return nres + 1;
        }
        lua_xmove(co, L, 1);                    /* ..., err */
    fail:
        if (wrap)
            return wrap_error(L, co);
        lua_pushboolean(L, 0);
        lua_insert(L, -2);                      /* ..., false, err */
        return 2;
    }
}

/* Resumed after passing a preemption on: resume the coroutine below again. */
static int co_continue(lua_State *L, int status, lua_KContext wrap)
{
    lua_State *co;
    if (wrap) {
        lua_settop(L, 0);
        co = lua_tothread(L, lua_upvalueindex(1));
    } else {
        lua_settop(L, 1);                       /* co */
        co = lua_tothread(L, 1);
    }
    return co_run(L, co, 0, wrap);
}

static int l_co_resume(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTHREAD);
    return co_run(L, lua_tothread(L, 1), lua_gettop(L) - 1, 0);
}

static int l_co_wrapped(lua_State *L)
{
    return co_run(L, lua_tothread(L, lua_upvalueindex(1)), lua_gettop(L), 1);
}

static int l_co_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);           /* f, co */
    lua_pushvalue(L, 1);                        /* f, co, f */
    lua_xmove(L, co, 1);                        /* f, co */
    lua_pushcclosure(L, l_co_wrapped, 1);       /* f, wrapped */
    return 1;
}

void lw_open_task(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "co_resume", l_co_resume },
        { "co_wrap", l_co_wrap },
        { "heartbeat", l_heartbeat },
        { "sleep", l_sleep },
        { "in_task", l_current_task },
        { "cancel_reason", l_cancel_reason },
        { "log", l_log },
        { "log_configure", l_log_configure },
        { NULL, NULL },
    };
    luaL_setfuncs(L, fns, 0);
}
