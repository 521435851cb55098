/* task.h: one activity task's life in the worker, without Lua: what the
 * handler waits on, heartbeat coalescing, cancellation, deadline, and the
 * response that reports its outcome.
 *
 * The worker (worker.c) creates a task per polled activity task and owns it;
 * the task is freed by the worker once its outcome is recorded (or known to
 * be unrecordable). The handler's coroutine lives in the Lua host (ltask.c),
 * reached through struct lw_task_host: task.c never includes lua.h.
 *
 * Cancellation is cooperative: lw_task_cancel records a reason; it is raised
 * in the handler once, at its next runtime call (heartbeat, sleep, http) or
 * preemption point; a handler already waiting in a runtime call is woken with
 * the error at once. A cancelled task that does not finish within the cancel
 * grace is abandoned (deadline: failed "Timeout"; shutdown: failed
 * "WorkerShutdown").
 *
 * Heartbeats: at most one request in flight. A call within the interval of
 * the last request records the details and returns at once; the latest
 * details go out when the interval ends. While the handler waits in a runtime
 * call the task heartbeats for it with its last details; while it computes in
 * pure Lua it does not (so a stuck handler still times out). */
#ifndef LW_TASK_H
#define LW_TASK_H
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "loop.h"
#include "service.h"

struct lw_worker;
struct lw_task;

enum lw_cancel_reason {
    LW_CANCEL_NONE,
    LW_CANCEL_REQUESTED,        /* "cancel_requested": SWF cancelRequested */
    LW_CANCEL_GONE,             /* "task_gone": the service no longer knows the token */
    LW_CANCEL_TIMED_OUT,        /* "timed_out": SFN TaskTimedOut / stopped execution */
    LW_CANCEL_SHUTDOWN,         /* "shutdown": the worker's grace period ended */
    LW_CANCEL_DEADLINE,         /* "deadline": the activity type's timeout passed */
};
const char *lw_cancel_reason_name(enum lw_cancel_reason r);
/* Fill e as the Cancelled error for reason r. */
void lw_cancel_error(enum lw_cancel_reason r, struct lw_error *e);

enum lw_task_wait { LW_WAIT_NONE, LW_WAIT_SLEEP, LW_WAIT_HEARTBEAT, LW_WAIT_EXTERNAL };
enum lw_task_phase { LW_TASK_RUNNING, LW_TASK_RESPONDING, LW_TASK_DONE };

/* What the handler's coroutine ended with (from the Lua host). */
enum lw_end_kind {
    LW_END_COMPLETED,           /* result: JSON text or a string as is; NULL = none */
    LW_END_FAILED,              /* reason + details */
    LW_END_CANCELLED,           /* an uncaught Cancelled error */
    LW_END_MEMORY,              /* the Lua state's memory cap was hit */
};
struct lw_task_end {
    enum lw_end_kind kind;
    const char *result;
    size_t result_len;
    const char *reason;
    size_t reason_len;
    const char *details;
    size_t details_len;
};

/* The Lua host's side, called by task.c and worker.c. */
struct lw_task_host {
    void *ud;
    /* Create the handler's coroutine and run it until it first waits. */
    void (*start)(void *ud, struct lw_task *t);
    /* Resume a coroutine waiting in sleep/heartbeat: err NULL = return
     * normally, else raise err in the handler. */
    void (*wake)(void *ud, struct lw_task *t, const struct lw_error *err);
    /* Forget the coroutine (finished or abandoned); must not run Lua code of
     * the handler. */
    void (*release)(void *ud, struct lw_task *t);
};

struct lw_task {
    struct lw_worker *w;
    struct lw_task_info info;
    enum lw_task_phase phase;
    void *host;                 /* the Lua host's per-task data */
    double started_at;
    double hb_interval;
    double deadline;            /* seconds after start; 0 = none */

    /* what the handler waits on */
    enum lw_task_wait wait;
    struct lw_timer wait_timer;
    void (*abort_wait)(void *ud);
    void *abort_ud;

    /* heartbeats */
    char *hb_details;           /* latest details from the handler */
    size_t hb_len;
    bool hb_dirty;              /* latest details not yet sent */
    bool hb_sent_once;
    double hb_last_sent;
    struct lw_svc_op *hb_op;
    struct lw_timer hb_timer;
    int hb_failures;
    bool hb_final;              /* the flush before the response */

    /* cancellation */
    enum lw_cancel_reason cancel;
    bool cancel_delivered;
    bool gone;                  /* the service said the token is dead */
    bool memory_exceeded;
    struct lw_timer deadline_timer;
    struct lw_timer abandon_timer;  /* cancel grace: then the handler is abandoned */

    /* response */
    struct lw_outcome outcome;
    char *out_result, *out_reason, *out_details;   /* owned strings behind outcome */
    struct lw_svc_op *resp_op;
    struct lw_timer resp_timer;
    int resp_attempts;
    bool resp_maybe_applied;    /* an earlier attempt's answer was lost, not refused */
    double ended_at;

    struct lw_task *prev, *next;    /* the worker's list */
    struct lw_defer reap;
};

/* Called by the worker. */
/* Takes the heap-allocated info (freed even on failure); NULL when out of memory. */
struct lw_task *lw_task_new(struct lw_worker *w, struct lw_task_info *info);
void lw_task_free(struct lw_task *t);
void lw_task_cancel(struct lw_task *t, enum lw_cancel_reason r);
/* At exit: stop whatever the task still does and count it lost. */
void lw_task_give_up(struct lw_task *t);
/* Set by the host at start: heartbeat interval and deadline (0 = none). */
void lw_task_configure(struct lw_task *t, double hb_interval, double deadline);

/* Called by the Lua host from the handler's runtime calls. */
/* A cancellation to raise now? Fills e and marks it delivered. */
bool lw_task_take_cancel(struct lw_task *t, struct lw_error *e);
/* Record details; returns 1 if the caller must yield until woken, 0 if it
 * returns at once, -1 with e filled on misuse (details over the limit). */
int lw_task_heartbeat(struct lw_task *t, const char *details, size_t len, bool may_wait,
                      struct lw_error *e);
/* Start waiting: sleep (woken by timer), or an external operation (woken by
 * its owner through lw_task_wait_end + the host; aborted with abort(ud) on
 * cancellation). */
void lw_task_sleep(struct lw_task *t, double secs);
void lw_task_wait_external(struct lw_task *t, void (*abort)(void *), void *ud);
void lw_task_wait_end(struct lw_task *t);
/* From code that holds the loop (the count hook), where the deadline timer
 * cannot fire: look at the clock, and cancel the task if its deadline passed. */
void lw_task_check_deadline(struct lw_task *t);
/* The coroutine ended; start reporting the outcome. */
void lw_task_finished(struct lw_task *t, const struct lw_task_end *end);
#endif
