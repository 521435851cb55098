/* worker.h: the activity worker, without Lua: pollers that open long polls
 * only while a concurrency slot is free, the tasks they bring, graceful
 * shutdown, statistics.
 *
 * A worker runs on one loop (one thread); lw_worker_request_stop is the only
 * call that may come from another thread or a signal handler. The worker
 * borrows the loop, the service and the host; it owns its tasks.
 *
 * Slots: a slot is taken when a poll opens and kept by the task it brings
 * until the task's outcome is recorded, so polls open + tasks held never
 * exceed max_concurrent. An open poll is never aborted: it may carry a task.
 *
 * Shutdown (first stop request): no new polls; open polls return and what
 * they bring runs; tasks keep heartbeating. At `shutdown_grace` what still
 * runs gets Cancelled (reason shutdown) and, `cancel_grace` later, is failed
 * with reason WorkerShutdown so the service can retry it at once; tasks that
 * arrive after the grace are failed the same way without running. The
 * worker stops when no poll is open and every task is accounted for.
 * A second stop request stops at once. */
#ifndef LW_WORKER_H
#define LW_WORKER_H
#include <stdbool.h>
#include <stddef.h>
#include "loop.h"
#include "service.h"
#include "task.h"

struct lw_worker_config {
    int max_concurrent;         /* default 100 */
    int pollers;                /* concurrent long polls; default min(max_concurrent, 10) */
    double heartbeat_interval;  /* default 10 s; per type through lw_task_configure */
    double shutdown_grace;      /* default 30 s */
    double cancel_grace;        /* default 5 s */
    double response_patience;   /* keep retrying a response this long after shutdown; default 30 s */
    int max_auth_failures;      /* consecutive credential rejections before any success
                                   that stop the worker; default 3 */
    double poll_backoff_max;    /* default 30 s */
    bool no_poll;               /* tasks come only through lw_worker_submit (invoke, tests) */
};

struct lw_worker_stats {
    long running;               /* tasks whose handler has not finished */
    long tasks;                 /* tasks held (running or responding) */
    long polls_open;
    long polls, empty_polls, poll_errors;
    long started, completed, failed, canceled, gone, lost;
    long unconfirmed;           /* "unknown task" after an attempt whose answer was lost */
    long heartbeats_sent, heartbeats_coalesced, heartbeat_errors;
    long response_retries;
};

enum lw_worker_state { LW_WORKER_RUNNING, LW_WORKER_DRAINING, LW_WORKER_GRACE_OVER,
                       LW_WORKER_STOPPED };

struct lw_worker;

struct lw_worker *lw_worker_new(struct lw_loop *loop, struct lw_service *svc,
                                const struct lw_task_host *host,
                                const struct lw_worker_config *cfg, struct lw_error *err);
/* Frees the remaining tasks (their coroutines released through the host). */
void lw_worker_free(struct lw_worker *w);
/* Open the first polls. */
void lw_worker_start(struct lw_worker *w);
/* Async-signal-safe and thread-safe: wakes the worker's loop. */
void lw_worker_request_stop(struct lw_worker *w);
/* Run from the loop (the wake fd's callback does it): act on stop requests. */
void lw_worker_handle_requests(struct lw_worker *w);
/* The wake fd the loop must watch (readable after lw_worker_request_stop). */
int lw_worker_wake_fd(const struct lw_worker *w);
enum lw_worker_state lw_worker_state(const struct lw_worker *w);
/* Non-NULL when the worker stopped because of a fatal error (e.g. rejected
 * credentials at start-up). */
const struct lw_error *lw_worker_fatal(const struct lw_worker *w);
bool lw_worker_aborted(const struct lw_worker *w);
void lw_worker_stats(const struct lw_worker *w, struct lw_worker_stats *out);
/* Run a task that did not come from a poll (local invoke, the testing
 * kit); takes the heap-allocated info. Uses a slot like a polled task. */
struct lw_task *lw_worker_submit(struct lw_worker *w, struct lw_task_info *info);
/* The held tasks, newest first (follow t->next). */
struct lw_task *lw_worker_first_task(struct lw_worker *w);

/* Full jitter over a capped exponential for the n-th consecutive failure
 * (n >= 1): base * 2^(n-1), at most cap, never below a tenth of it (no busy
 * loop). Polls here, heartbeats and responses in task.c. */
double lw_worker_backoff(int n, double base, double cap);

/* For task.c. */
struct lw_loop *lw_worker_loop(struct lw_worker *w);
struct lw_service *lw_worker_service(struct lw_worker *w);
const struct lw_task_host *lw_worker_host(struct lw_worker *w);
const struct lw_worker_config *lw_worker_config(const struct lw_worker *w);
struct lw_worker_stats *lw_worker_counters(struct lw_worker *w);
/* The task is done (outcome recorded or unrecordable): free it later and
 * release its slot. */
void lw_worker_task_done(struct lw_worker *w, struct lw_task *t);
/* The handler's coroutine finished (running count). */
void lw_worker_task_ended(struct lw_worker *w, struct lw_task *t);
#endif
