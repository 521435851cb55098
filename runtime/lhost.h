/* lhost.h: the Lua side of a worker: handler coroutines (ltask.c) and the
 * worker object (lworker.c).
 *
 * struct lw_lhost implements struct lw_task_host: it runs each task's
 * handler in its own coroutine of one Lua state, preempts CPU-bound handlers
 * with a count hook, and optionally caps the state's memory. The coroutine of
 * a task is anchored in the registry from start to release; the task table
 * handed to the handler is built from the task info at start.
 *
 * The task running right now is a thread-local (lw_lhost_current), set
 * around each lua_resume: runtime calls (heartbeat, sleep, http) find their
 * task with it, and tell a call from the handler's own coroutine (which may
 * yield to the loop) from one in a nested coroutine (which may not). */
#ifndef LW_LHOST_H
#define LW_LHOST_H
#include <stdbool.h>
#include <stddef.h>
#include "lbind.h"
#include "loop.h"
#include "task.h"

struct lw_http;
struct lw_creds;
struct lw_sigv4_cache;

struct lw_memcap {
    lua_Alloc inner;
    void *inner_ud;
    size_t used, limit, peak;
};

struct lw_lhost {
    lua_State *L;               /* the state's main thread */
    lua_State *from;            /* the thread calling run/step (for lua_resume) */
    int runner_ref;             /* facade function(task) -> kind, a, b */
    int types_ref;              /* per activity type: {heartbeat_interval, timeout} */
    int task_mt_ref;            /* metatable of task tables, or LUA_NOREF */
    int preempt;                /* instructions between preemption points; 0 = off */
    struct lw_memcap *mem;      /* NULL: no cap */
    struct lw_loop *loop;
    long threads;               /* coroutines anchored (for leak checks in tests) */
    /* For lw.http.request (lhttp.c); borrowed from the worker object. */
    struct lw_http *http;
    struct lw_creds *creds;     /* NULL: a local stand-in service, no AWS credentials */
    char region[64];            /* the worker's region, "" if none */
    struct lw_sigv4_cache *sigcache;
};

/* The task whose coroutine runs now (NULL outside handlers). */
struct lw_task *lw_lhost_current(void);
/* The host running a task. */
struct lw_lhost *lw_lhost_of(struct lw_task *t);
/* The coroutine of a task (NULL once released). */
lua_State *lw_lhost_thread(struct lw_task *t);
/* Resume a task's coroutine with the nargs values already pushed on it;
 * used by runtime calls that complete from the loop (http). */
void lw_lhost_resume(struct lw_task *t, int nargs);

/* Fill ops with the host's functions (ud = h). */
void lw_lhost_ops(struct lw_lhost *h, struct lw_task_host *ops);
void lw_lhost_unref(struct lw_lhost *h);

/* The allocator that enforces a memory cap (see ltask.c): a task's request
 * past the cap goes through within a reserve of an eighth of it, and at the
 * next safe point a full collection runs; if the state is still over, the
 * running task holding the most memory is charged and fails with
 * MemoryLimit. Past the reserve a request is refused (and charged when Lua's
 * emergency collection did not help). Allocations outside any task (the
 * host's own) are never refused. */
void *lw_memcap_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* Runtime calls: fields heartbeat, sleep, in_task, cancel_reason, log,
 * log_configure, co_resume, co_wrap of the core table on top. */
void lw_open_task(lua_State *L);
/* For bindings that wait (http): raise a pending cancellation, or an error
 * when not called from a handler's own coroutine. Returns the task. */
struct lw_task *lw_lhost_check_wait(lua_State *L, const char *what);
/* Yield the handler's coroutine until lw_lhost_resume; the continuation
 * raises a pushed luaworker.Error or returns the pushed values. */
int lw_lhost_yield(lua_State *L);
/* lhttp.c: field http_request of the core table on top. */
void lw_open_http(lua_State *L);

/* lthreads.c: core.threads_start / thread_index; the command registers how
 * to make a new Lua state (NULL: no threads, as in a host application). */
void lw_threads_set_factory(lua_State *(*factory)(void), void (*closer)(lua_State *L));
void lw_open_threads(lua_State *L);
/* Log the error on top of L's stack with msg; pops it. */
void lw_lhost_report(lua_State *L, const char *msg);

/* lworker.c: core.worker_new and the worker methods. */
void lw_open_worker(lua_State *L);

/* lservice.c: a service played by the Lua table at idx (see lservice.c). */
struct lw_service *lw_lservice_new(lua_State *L, int idx, struct lw_loop *loop, struct lw_error *err);
/* Start the service-side clocks of a submitted task. */
void lw_lservice_task_started(struct lw_service *s, const struct lw_task_info *t);
#endif
