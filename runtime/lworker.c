/* lworker.c: the worker object behind require("luaworker").worker{...} and
 * the luaworker command: it owns a loop, an HTTP client, the service client
 * and the C worker, and drives them from run() or from a host application's
 * own loop (step, pollfd, timeout).
 *
 * Credentials providers are shared per profile by all workers of the process
 * (threads included), so one refresh serves them all. */
#include "lhost.h"
#include "aws.h"
#include "creds.h"
#include "endpoint.h"
#include "http.h"
#include "log.h"
#include "sigv4.h"
#include "svcaws.h"
#include "version.h"
#include "worker.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define WORKER_MT "luaworker.Worker"

static const char memcap_key = 0;   /* registry: the state's memory cap */

struct lworker {
    struct lw_loop *loop;
    struct lw_http *http;
    struct lw_creds *creds;
    struct lw_aws *aws;
    struct lw_service *svc;
    struct lw_worker *w;
    struct lw_lhost host;
    bool started;
    int svc_ref;                /* a Lua service table (local stand-in), or LUA_NOREF */
};

/* ---- shared credentials providers ---- */

struct shared_creds {
    char *profile;
    struct lw_creds *c;
    int refs;
    struct shared_creds *next;
};
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct shared_creds *shared_list;

static struct lw_creds *creds_acquire(const char *profile, struct lw_error *err)
{
    const char *key = profile ? profile : "";
    pthread_mutex_lock(&shared_mu);
    struct shared_creds *s;
    for (s = shared_list; s; s = s->next)
        if (strcmp(s->profile, key) == 0)
            break;
    if (!s) {
        struct lw_creds_config cfg = { .profile = profile };
        struct lw_creds *c = lw_creds_new(&cfg, err);
        if (c && (s = calloc(1, sizeof *s)) && (s->profile = strdup(key))) {
            s->c = c;
            s->next = shared_list;
            shared_list = s;
        } else {
            if (s)
                free(s);
            lw_creds_free(c);
            s = NULL;
            if (!err->code[0])
                lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
        }
    }
    if (s)
        s->refs++;
    pthread_mutex_unlock(&shared_mu);
    return s ? s->c : NULL;
}

static void creds_release(struct lw_creds *c, struct lw_loop *loop)
{
    if (!c)
        return;
    lw_creds_cancel(c, loop);
    pthread_mutex_lock(&shared_mu);
    for (struct shared_creds **pp = &shared_list; *pp; pp = &(*pp)->next) {
        struct shared_creds *s = *pp;
        if (s->c != c)
            continue;
        if (--s->refs == 0) {
            *pp = s->next;
            lw_creds_free(s->c);
            free(s->profile);
            free(s);
        }
        break;
    }
    pthread_mutex_unlock(&shared_mu);
}

/* ---- signals: SIGINT/SIGTERM stop every worker in run() ---- */

#define MAX_SIG_WORKERS 256
static struct lw_worker *_Atomic sig_workers[MAX_SIG_WORKERS];
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static int sig_users;
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_SIG_WORKERS; i++) {
        struct lw_worker *w = atomic_load(&sig_workers[i]);
        if (w)
            lw_worker_request_stop(w);
    }
}

static int sig_register(struct lw_worker *w)
{
    pthread_mutex_lock(&sig_mu);
    int slot = -1;
    for (int i = 0; i < MAX_SIG_WORKERS && slot < 0; i++)
        if (!atomic_load(&sig_workers[i]))
            slot = i;
    if (slot >= 0) {
        atomic_store(&sig_workers[slot], w);
        if (sig_users++ == 0) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_signal;
            sigemptyset(&sa.sa_mask);
            sa.sa_flags = SA_RESTART;
            sigaction(SIGINT, &sa, &old_int);
            sigaction(SIGTERM, &sa, &old_term);
        }
    }
    pthread_mutex_unlock(&sig_mu);
    return slot;
}

static void sig_unregister(int slot)
{
    if (slot < 0)
        return;
    pthread_mutex_lock(&sig_mu);
    atomic_store(&sig_workers[slot], NULL);
    if (--sig_users == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    pthread_mutex_unlock(&sig_mu);
}

/* ---- building a worker from the facade's options ---- */

static const char *opt_str(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);          /* the string stays alive: the options table holds it */
    return v;
}

static double opt_num(lua_State *L, int idx, const char *k, double dflt)
{
    lua_getfield(L, idx, k);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

static int opt_ref(lua_State *L, int idx, const char *k, int type)
{
    lua_getfield(L, idx, k);
    if (lua_type(L, -1) != type) {
        lua_pop(L, 1);
        return LUA_NOREF;
    }
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* At lua_close the finalizers run before anything is freed, newest first:
 * this one before package's unloads this module, whose lw_memcap_alloc
 * would then be gone. Hand the state back to the allocator it had. */
static int memcap_gc(lua_State *L)
{
    struct lw_memcap *m = lua_touserdata(L, 1);
    lua_setallocf(L, m->inner, m->inner_ud);
    return 0;
}

static void lworker_free(struct lworker *lw)
{
    lw_worker_free(lw->w);
    lw->w = NULL;
    lw_service_free(lw->svc);
    lw->svc = NULL;
    lw_aws_free(lw->aws);
    lw->aws = NULL;
    creds_release(lw->creds, lw->loop);
    lw->creds = NULL;
    lw_http_free(lw->http);
    lw->http = NULL;
    lw_sigv4_cache_free(lw->host.sigcache);
    lw->host.sigcache = NULL;
    lw_loop_free(lw->loop);
    lw->loop = NULL;
}

static int fail_new(lua_State *L, struct lworker *lw, const struct lw_error *e)
{
    lworker_free(lw);
    return lw_raise_error(L, e);
}

/* The AWS service: region and endpoint (the SDKs' order), credentials, the
 * call client, the adapter. */
static int open_aws(lua_State *L, struct lworker *lw, bool swf, struct lw_error *err)
{
    struct lw_endpoint_env env;
    lw_endpoint_env_get(&env);
    const char *explicit_profile = opt_str(L, 1, "profile");
    const char *profile = lw_endpoint_profile(explicit_profile, &env);
    struct lw_ini *config = NULL;
    struct lw_region region;
    struct lw_endpoint ep;
    if (lw_endpoint_load_config(&env, &config, err) < 0)
        return -1;
    int rc = lw_region_resolve(opt_str(L, 1, "region"), &env, config, profile, &region, err);
    if (rc == 0)
        rc = lw_endpoint_resolve(swf ? LW_SERVICE_SWF : LW_SERVICE_SFN, opt_str(L, 1, "endpoint"),
                                 region.name, &env, config, profile, &ep, err);
    lw_ini_free(config);
    if (rc < 0)
        return -1;
    lw->creds = creds_acquire(explicit_profile, err);
    if (!lw->creds)
        return -1;
    if (lw_creds_resolve(lw->creds, lw->loop, lw->http, err) < 0)
        return -1;
    struct lw_aws_config ac = {
        .endpoint = ep.url, .region = ep.signing_region, .signing_name = ep.signing_name,
        .target_prefix = swf ? "SimpleWorkflowService" : "AWSStepFunctions", .creds = lw->creds,
    };
    lw->aws = lw_aws_new(lw->loop, lw->http, &ac, err);
    if (!lw->aws)
        return -1;
    snprintf(lw->host.region, sizeof lw->host.region, "%s", region.name);
    struct lw_log_field f[] = { LW_STR("endpoint", ep.url), LW_STR("endpoint_from", ep.source),
                                LW_STR("region", region.name), LW_STR("region_from", region.source),
                                LW_STR("profile", profile) };
    lw_log(LW_LOG_DEBUG, "service endpoint", f, 5);
    lw->svc = lw_svcaws_new(swf ? &lw_swf_profile : &lw_sfn_profile, lw->aws,
                            opt_str(L, 1, "domain"), opt_str(L, 1, "task_list"),
                            opt_str(L, 1, "activity_arn"), opt_str(L, 1, "identity"), err);
    return lw->svc ? 0 : -1;
}

static int l_worker_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    struct lworker *lw = lua_newuserdatauv(L, sizeof *lw, 0);   /* opts, ud */
    memset(lw, 0, sizeof *lw);
    lw->svc_ref = LUA_NOREF;
    lw->host.runner_ref = lw->host.types_ref = lw->host.task_mt_ref = LUA_NOREF;
    luaL_setmetatable(L, WORKER_MT);
    struct lw_error err;
    lw_error_clear(&err);
    if (!(lw->loop = lw_loop_new()))
        return luaL_error(L, "cannot create an event loop: %s", strerror(errno));
    lw->http = lw_http_new(lw->loop, &err);
    if (!lw->http)
        return fail_new(L, lw, &err);
    const char *ca = opt_str(L, 1, "ca_bundle");
    if (ca && lw_http_set_ca_bundle(lw->http, ca, &err) < 0)
        return fail_new(L, lw, &err);

    lua_getfield(L, 1, "service");                              /* opts, ud, service */
    if (lua_istable(L, -1)) {
        lw->svc = lw_lservice_new(L, lua_gettop(L), lw->loop, &err);
        lw->svc_ref = luaL_ref(L, LUA_REGISTRYINDEX);           /* opts, ud */
        if (!lw->svc)
            return fail_new(L, lw, &err);
    } else {
        const char *s = lua_tostring(L, -1);
        lua_pop(L, 1);
        if (!s || (strcmp(s, "swf") != 0 && strcmp(s, "sfn") != 0))
            return luaL_error(L, "service must be \"swf\", \"sfn\" or a service table");
        if (open_aws(L, lw, strcmp(s, "swf") == 0, &err) < 0)
            return fail_new(L, lw, &err);
    }

    struct lw_lhost *h = &lw->host;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    h->L = lua_tothread(L, -1);
    lua_pop(L, 1);
    h->loop = lw->loop;
    h->http = lw->http;
    h->creds = lw->creds;
    if (!(h->sigcache = lw_sigv4_cache_new()))
        return luaL_error(L, "out of memory");
    h->runner_ref = opt_ref(L, 1, "runner", LUA_TFUNCTION);
    h->types_ref = opt_ref(L, 1, "types", LUA_TTABLE);
    h->task_mt_ref = opt_ref(L, 1, "task_mt", LUA_TTABLE);
    h->preempt = (int)opt_num(L, 1, "preempt_instructions", 0);
    if (h->runner_ref == LUA_NOREF)
        return luaL_error(L, "worker options need a runner function");
    double mem = opt_num(L, 1, "memory_limit", 0);
    if (mem > 0) {
        void *aud;
        lua_Alloc cur = lua_getallocf(L, &aud);
        if (cur == lw_memcap_alloc) {
            h->mem = aud;               /* the state is capped already (the command) */
            h->mem->limit = (size_t)mem;
        } else {
            /* Anchored in the registry: it lives as long as the state uses it. */
            struct lw_memcap *m = lua_newuserdatauv(L, sizeof *m, 0);     /* ..., cap */
            m->inner = cur;
            m->inner_ud = aud;
            m->used = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024;
            m->peak = m->used;
            m->limit = (size_t)mem;
            if (luaL_newmetatable(L, "luaworker.MemoryCap")) {             /* ..., cap, mt */
                lua_pushcfunction(L, memcap_gc);
                lua_setfield(L, -2, "__gc");
            }
            lua_setmetatable(L, -2);                                        /* ..., cap */
            lua_rawsetp(L, LUA_REGISTRYINDEX, &memcap_key);
            lua_setallocf(L, lw_memcap_alloc, m);
            h->mem = m;
        }
    }

    lua_getfield(L, 1, "virtual_time");
    lw_loop_set_virtual(lw->loop, lua_toboolean(L, -1));
    lua_pop(L, 1);
    struct lw_worker_config cfg = {
        .no_poll = lw->svc_ref != LUA_NOREF,
        .max_concurrent = (int)opt_num(L, 1, "max_concurrent", 100),
        .pollers = (int)opt_num(L, 1, "pollers", 0),
        .heartbeat_interval = opt_num(L, 1, "heartbeat_interval", 10),
        .shutdown_grace = opt_num(L, 1, "shutdown_grace", 30),
        .cancel_grace = opt_num(L, 1, "cancel_grace", 5),
        .response_patience = opt_num(L, 1, "response_patience", 30),
        .max_auth_failures = (int)opt_num(L, 1, "max_auth_failures", 3),
        .poll_backoff_max = opt_num(L, 1, "poll_backoff_max", 30),
    };
    struct lw_task_host ops;
    lw_lhost_ops(h, &ops);
    lw->w = lw_worker_new(lw->loop, lw->svc, &ops, &cfg, &err);
    if (!lw->w)
        return fail_new(L, lw, &err);
    return 1;
}

static struct lworker *check(lua_State *L)
{
    struct lworker *lw = luaL_checkudata(L, 1, WORKER_MT);
    if (!lw->w)
        luaL_error(L, "the worker is closed");
    return lw;
}

static void start(struct lworker *lw, lua_State *L)
{
    lw->host.from = L;
    if (!lw->started) {
        lw->started = true;
        lw_worker_start(lw->w);
    }
}

/* [-0, +2] nil, error (fatal) or true */
static int finish_run(lua_State *L, struct lworker *lw)
{
    const struct lw_error *fatal = lw_worker_fatal(lw->w);
    if (fatal) {
        lua_pushnil(L);
        lw_push_error(L, fatal);
        return 2;
    }
    lua_pushboolean(L, !lw_worker_aborted(lw->w));
    return 1;
}

/* w:run(): until stopped (w:stop(), SIGINT/SIGTERM). true after a clean
 * stop, false after an abort (second signal), nil + error when fatal. */
static int l_run(lua_State *L)
{
    struct lworker *lw = check(L);
    bool signals = !lua_isboolean(L, 2) || lua_toboolean(L, 2);
    start(lw, L);
    int slot = signals ? sig_register(lw->w) : -1;
    while (lw_worker_state(lw->w) != LW_WORKER_STOPPED)
        if (lw_loop_run_once(lw->loop, -1) < 0 && errno != EINTR)
            break;
    sig_unregister(slot);
    return finish_run(L, lw);
}

/* w:step([timeout]): run what is ready, waiting at most timeout seconds
 * (default 0). true while the worker runs. */
static int l_step(lua_State *L)
{
    struct lworker *lw = check(L);
    double timeout = luaL_optnumber(L, 2, 0);
    start(lw, L);
    if (lw_worker_state(lw->w) != LW_WORKER_STOPPED)
        lw_loop_run_once(lw->loop, timeout < 0 ? 0 : timeout);
    lua_pushboolean(L, lw_worker_state(lw->w) != LW_WORKER_STOPPED);
    return 1;
}

static char *field_dup(lua_State *L, int idx, const char *k, size_t *len)
{
    lua_getfield(L, idx, k);
    char *v = NULL;
    size_t n = 0;
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (s && (v = malloc(n + 1))) {
        memcpy(v, s, n);
        v[n] = '\0';
    }
    lua_pop(L, 1);
    if (len)
        *len = v ? n : 0;
    return v;
}

/* w:submit{token=, input=, activity_id=, type={name=, version=},
 * workflow={workflow_id=, run_id=}, activity_arn=}: run one task without
 * polling (local invoke, the testing kit). */
static int l_submit(lua_State *L)
{
    struct lworker *lw = check(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    struct lw_task_info *info = calloc(1, sizeof *info);
    if (!info)
        return luaL_error(L, "out of memory");
    info->token = field_dup(L, 2, "token", &info->token_len);
    info->input = field_dup(L, 2, "input", &info->input_len);
    info->activity_id = field_dup(L, 2, "activity_id", NULL);
    info->activity_arn = field_dup(L, 2, "activity_arn", NULL);
    if (lua_getfield(L, 2, "type") == LUA_TTABLE) {
        info->type_name = field_dup(L, -1, "name", NULL);
        info->type_version = field_dup(L, -1, "version", NULL);
    }
    if (lua_getfield(L, 2, "workflow") == LUA_TTABLE) {
        info->workflow_id = field_dup(L, -1, "workflow_id", NULL);
        info->run_id = field_dup(L, -1, "run_id", NULL);
    }
    lua_pop(L, 2);
    if (!info->token) {
        lw_task_info_destroy(info);
        return luaL_argerror(L, 2, "a task needs a token");
    }
    start(lw, L);
    if (lw->svc_ref != LUA_NOREF)
        lw_lservice_task_started(lw->svc, info);
    lw_worker_submit(lw->w, info);
    return 0;
}

static int l_stop(lua_State *L)
{
    lw_worker_request_stop(check(L)->w);
    return 0;
}

static int l_pollfd(lua_State *L)
{
    lua_pushinteger(L, lw_loop_fd(check(L)->loop));
    return 1;
}

/* Seconds until the worker needs step() again without fd activity; nil if
 * only fd activity can wake it. */
static int l_timeout(lua_State *L)
{
    double t = lw_loop_next_timeout(check(L)->loop);
    if (t < 0)
        return 0;
    lua_pushnumber(L, t);
    return 1;
}

/* The worker loop's clock (virtual under the fake clock), in seconds. */
static int l_now(lua_State *L)
{
    lua_pushnumber(L, lw_loop_now(check(L)->loop));
    return 1;
}

static int l_state(lua_State *L)
{
    static const char *const names[] = { "running", "draining", "stopping", "stopped" };
    lua_pushstring(L, names[lw_worker_state(check(L)->w)]);
    return 1;
}

static void setint(lua_State *L, const char *k, long v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static int l_stats(lua_State *L)
{
    struct lworker *lw = check(L);
    struct lw_worker_stats s;
    lw_worker_stats(lw->w, &s);
    lua_createtable(L, 0, 20);
    setint(L, "running", s.running);
    setint(L, "tasks", s.tasks);
    setint(L, "polls_open", s.polls_open);
    setint(L, "polls", s.polls);
    setint(L, "empty_polls", s.empty_polls);
    setint(L, "poll_errors", s.poll_errors);
    setint(L, "started", s.started);
    setint(L, "completed", s.completed);
    setint(L, "failed", s.failed);
    setint(L, "cancelled", s.canceled);
    setint(L, "gone", s.gone);
    setint(L, "lost", s.lost);
    setint(L, "unconfirmed", s.unconfirmed);
    setint(L, "heartbeats_sent", s.heartbeats_sent);
    setint(L, "heartbeats_coalesced", s.heartbeats_coalesced);
    setint(L, "heartbeat_errors", s.heartbeat_errors);
    setint(L, "response_retries", s.response_retries);
    setint(L, "threads", lw->host.threads);
    setint(L, "http_inflight", lw->http ? (long)lw_http_active(lw->http) : 0);
    if (lw->host.mem) {
        setint(L, "memory", (long)lw->host.mem->used);
        setint(L, "memory_peak", (long)lw->host.mem->peak);
    }
    return 1;
}

static int l_close(lua_State *L)
{
    struct lworker *lw = luaL_checkudata(L, 1, WORKER_MT);
    if (lw->loop) {
        lworker_free(lw);
        lw_lhost_unref(&lw->host);
        luaL_unref(L, LUA_REGISTRYINDEX, lw->svc_ref);
        lw->svc_ref = LUA_NOREF;
    }
    return 0;
}

void lw_open_worker(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "run", l_run }, { "step", l_step }, { "stop", l_stop }, { "pollfd", l_pollfd },
        { "submit", l_submit }, { "now", l_now },
        { "timeout", l_timeout }, { "state", l_state }, { "stats", l_stats },
        { "close", l_close }, { NULL, NULL },
    };
    if (luaL_newmetatable(L, WORKER_MT)) {          /* core, mt */
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);                                  /* core */
    lua_pushcfunction(L, l_worker_new);
    lua_setfield(L, -2, "worker_new");
    lua_pushstring(L, LW_VERSION);
    lua_setfield(L, -2, "VERSION");
}
