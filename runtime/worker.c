/* worker.c: pollers, concurrency slots, poll backoff, shutdown. */
#include "worker.h"
#include "awserr.h"
#include "log.h"
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct poll {
    struct lw_worker *w;
    struct lw_svc_op *op;
    unsigned round;                 /* w->poll_round when it was opened */
    struct poll *prev, *next;
};

struct lw_worker {
    struct lw_loop *loop;
    struct lw_service *svc;
    struct lw_task_host host;
    struct lw_worker_config cfg;
    enum lw_worker_state state;

    struct lw_task *tasks;          /* held tasks (running, responding, awaiting reap) */
    long held;                      /* tasks holding a slot */
    struct poll *polls;
    long polls_open;

    struct lw_timer poll_backoff;
    bool poll_paused;
    int poll_failures;              /* consecutive failed rounds */
    unsigned poll_round;            /* one more after each failed round */
    int auth_failures;
    bool service_answered;          /* a poll has succeeded once */

    struct lw_timer grace_timer, hard_timer;
    int wake_fd;
    atomic_int stop_requests;
    int stops_handled;
    bool aborted;
    bool has_fatal;
    struct lw_error fatal;

    struct lw_worker_stats stats;
};

static void maybe_poll(struct lw_worker *w);
static void check_stopped(struct lw_worker *w);
static void abort_now(struct lw_worker *w);

/* ---- accessors for task.c ---- */

struct lw_loop *lw_worker_loop(struct lw_worker *w) { return w->loop; }
struct lw_service *lw_worker_service(struct lw_worker *w) { return w->svc; }
const struct lw_task_host *lw_worker_host(struct lw_worker *w) { return &w->host; }
const struct lw_worker_config *lw_worker_config(const struct lw_worker *w) { return &w->cfg; }
struct lw_worker_stats *lw_worker_counters(struct lw_worker *w) { return &w->stats; }
enum lw_worker_state lw_worker_state(const struct lw_worker *w) { return w->state; }
const struct lw_error *lw_worker_fatal(const struct lw_worker *w) { return w->has_fatal ? &w->fatal : NULL; }
bool lw_worker_aborted(const struct lw_worker *w) { return w->aborted; }
int lw_worker_wake_fd(const struct lw_worker *w) { return w->wake_fd; }
struct lw_task *lw_worker_first_task(struct lw_worker *w) { return w->tasks; }

void lw_worker_stats(const struct lw_worker *w, struct lw_worker_stats *out)
{
    *out = w->stats;
    out->tasks = w->held;
    out->polls_open = w->polls_open;
}

/* ---- life ---- */

static void on_poll_backoff(struct lw_timer *tm, void *ud);
static void on_grace(struct lw_timer *tm, void *ud);
static void on_hard(struct lw_timer *tm, void *ud);
static void on_wake(void *ud, int fd, unsigned events);

static void defaults(struct lw_worker_config *c)
{
    if (c->max_concurrent <= 0)
        c->max_concurrent = 100;
    if (c->pollers <= 0)
        c->pollers = c->max_concurrent < 10 ? c->max_concurrent : 10;
    if (c->pollers > c->max_concurrent)
        c->pollers = c->max_concurrent;
    if (!(c->heartbeat_interval > 0))
        c->heartbeat_interval = 10;
    if (c->shutdown_grace < 0 || isnan(c->shutdown_grace))
        c->shutdown_grace = 30;
    if (!(c->cancel_grace > 0))
        c->cancel_grace = 5;
    if (!(c->response_patience > 0))
        c->response_patience = 30;
    if (c->max_auth_failures <= 0)
        c->max_auth_failures = 3;
    if (!(c->poll_backoff_max > 0))
        c->poll_backoff_max = 30;
}

struct lw_worker *lw_worker_new(struct lw_loop *loop, struct lw_service *svc,
                                const struct lw_task_host *host,
                                const struct lw_worker_config *cfg, struct lw_error *err)
{
    struct lw_worker *w = calloc(1, sizeof *w);
    if (!w) {
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
        return NULL;
    }
    w->loop = loop;
    w->svc = svc;
    w->host = *host;
    w->cfg = *cfg;
    defaults(&w->cfg);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0 || lw_loop_watch(loop, w->wake_fd, LW_READ, on_wake, w) < 0) {
        lw_error_set(err, LW_ERR_CLIENT, false, "SystemError", "eventfd: %s", strerror(errno));
        if (w->wake_fd >= 0)
            close(w->wake_fd);
        free(w);
        return NULL;
    }
    lw_timer_init(&w->poll_backoff, on_poll_backoff, w);
    lw_timer_init(&w->grace_timer, on_grace, w);
    lw_timer_init(&w->hard_timer, on_hard, w);
    w->state = LW_WORKER_RUNNING;
    return w;
}

void lw_worker_free(struct lw_worker *w)
{
    if (!w)
        return;
    while (w->polls) {
        struct poll *p = w->polls;
        w->polls = p->next;
        lw_service_cancel(w->svc, p->op);
        free(p);
    }
    while (w->tasks) {
        struct lw_task *t = w->tasks;
        w->tasks = t->next;
        lw_task_free(t);
    }
    lw_timer_stop(w->loop, &w->poll_backoff);
    lw_timer_stop(w->loop, &w->grace_timer);
    lw_timer_stop(w->loop, &w->hard_timer);
    lw_loop_unwatch(w->loop, w->wake_fd);
    close(w->wake_fd);
    free(w);
}

void lw_worker_start(struct lw_worker *w)
{
    maybe_poll(w);
}

/* ---- polling ---- */

double lw_worker_backoff(int n, double base, double cap)
{
    double d = base * pow(2.0, n > 1 ? n - 1 : 0);
    if (d > cap)
        d = cap;
    double r = (double)random() / (double)RAND_MAX;
    return d * (0.1 + 0.9 * r);
}

/* fresh: the poll was opened after the last failure; one that was already
 * open when an earlier poll failed belongs to the same round and neither
 * deepens nor restarts the backoff. */
static void poll_error(struct lw_worker *w, const struct lw_error *err, bool fresh)
{
    w->stats.poll_errors++;
    /* What retrying cannot fix until someone changes the setup: credentials
     * the service rejects (or that expired and could not be refreshed), no
     * usable credentials, an endpoint whose certificate does not verify. */
    bool expired = lw_awserr_is_expired_token(err);
    bool auth = lw_awserr_is_auth(err) || expired;
    bool tls = strcmp(err->code, "TlsError") == 0;
    const char *what = expired ? "the credentials expired and their source gave no fresh ones"
                       : auth ? "the service rejected the credentials"
                       : err->kind == LW_ERR_CREDENTIALS ? "no usable AWS credentials"
                       : tls ? "the endpoint's TLS certificate did not verify" : NULL;
    struct lw_log_field f[] = { LW_STR("error", err->code), LW_STR("message", err->message),
                                LW_INT("status", err->status), LW_INT("failures", w->poll_failures) };
    if (what) {
        w->auth_failures++;
        if (!w->service_answered && w->auth_failures >= w->cfg.max_auth_failures) {
            /* At start-up: retrying will not fix them. */
            w->fatal = *err;
            w->has_fatal = true;
            if (tls) {
                size_t n = strlen(w->fatal.message);
                snprintf(w->fatal.message + n, sizeof w->fatal.message - n, "%s",
                         " (if the endpoint uses a private CA, give its certificate in AWS_CA_BUNDLE)");
            }
            char msg[96];
            snprintf(msg, sizeof msg, "%s; stopping", what);
            lw_log(LW_LOG_ERROR, msg, f, 4);
            abort_now(w);
            return;
        }
    }
    if (!fresh) {
        lw_log(LW_LOG_DEBUG, "poll failed in a round that failed already", f, 3);
        return;
    }
    w->poll_failures++;
    w->poll_round++;
    f[3] = LW_INT("failures", w->poll_failures);
    /* Backed off so a dead endpoint is never hammered; then one poll probes,
     * and the others open once it succeeds. Throttling starts higher. */
    double d = lw_worker_backoff(w->poll_failures, err->throttle ? 1.0 : 0.2, w->cfg.poll_backoff_max);
    struct lw_log_field g[] = { LW_NUM("retry_in", d) };
    char msg[96];
    snprintf(msg, sizeof msg, "poll failed: %s; backing off", what ? what : "");
    lw_log2(what ? LW_LOG_ERROR : LW_LOG_WARN, what ? msg : "poll failed; backing off", f, 4, g, 1);
    w->poll_paused = true;
    lw_timer_start(w->loop, &w->poll_backoff, d);
}

static void on_poll_backoff(struct lw_timer *tm, void *ud)
{
    struct lw_worker *w = ud;
    w->poll_paused = false;
    maybe_poll(w);
}

static void on_poll(void *ud, struct lw_task_info *info, const struct lw_error *err);

static void maybe_poll(struct lw_worker *w)
{
    int pollers = w->poll_failures ? 1 : w->cfg.pollers;   /* after a failure: a probe */
    while (w->state == LW_WORKER_RUNNING && !w->cfg.no_poll && !w->poll_paused
           && w->polls_open < pollers
           && w->polls_open + w->held < w->cfg.max_concurrent) {
        struct poll *p = calloc(1, sizeof *p);
        struct lw_error err;
        if (!p) {
            lw_error_set(&err, LW_ERR_CLIENT, true, "OutOfMemory", "out of memory");
            poll_error(w, &err, true);
            return;
        }
        p->w = w;
        p->round = w->poll_round;
        /* Link before starting: a service may answer synchronously. */
        p->next = w->polls;
        if (w->polls)
            w->polls->prev = p;
        w->polls = p;
        w->polls_open++;
        w->stats.polls++;
        p->op = w->svc->ops->poll(w->svc, on_poll, p, &err);
        if (!p->op) {
            on_poll(p, NULL, &err);
            return;
        }
    }
}

static void link_task(struct lw_worker *w, struct lw_task *t)
{
    t->next = w->tasks;
    if (w->tasks)
        w->tasks->prev = t;
    w->tasks = t;
    w->held++;
}

static void unlink_task(struct lw_worker *w, struct lw_task *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        w->tasks = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

static struct lw_task *admit(struct lw_worker *w, struct lw_task_info *info)
{
    struct lw_task *t = lw_task_new(w, info);
    if (!t) {
        lw_log(LW_LOG_ERROR, "out of memory: dropping a task (the service will time it out)", NULL, 0);
        return NULL;
    }
    link_task(w, t);
    w->stats.started++;
    w->stats.running++;
    if (w->state >= LW_WORKER_GRACE_OVER) {
        /* Too late to run it: hand it back for a retry elsewhere. */
        lw_task_cancel(t, LW_CANCEL_SHUTDOWN);
        struct lw_task_end end = { .kind = LW_END_CANCELLED };
        lw_task_finished(t, &end);
    } else {
        w->host.start(w->host.ud, t);
    }
    return t;
}

struct lw_task *lw_worker_submit(struct lw_worker *w, struct lw_task_info *info)
{
    return admit(w, info);
}

static void on_poll(void *ud, struct lw_task_info *info, const struct lw_error *err)
{
    struct poll *p = ud;
    struct lw_worker *w = p->w;
    bool fresh = p->round == w->poll_round;
    if (p->prev)
        p->prev->next = p->next;
    else
        w->polls = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p);
    w->polls_open--;
    if (info) {
        w->service_answered = true;
        w->poll_failures = w->auth_failures = 0;
        admit(w, info);
    } else if (err) {
        poll_error(w, err, fresh);
    } else {
        w->stats.empty_polls++;
        w->service_answered = true;
        w->poll_failures = w->auth_failures = 0;
    }
    maybe_poll(w);
    check_stopped(w);
}

/* ---- task accounting ---- */

static void on_reap(struct lw_defer *d, void *ud)
{
    struct lw_task *t = ud;
    unlink_task(t->w, t);
    lw_task_free(t);
}

void lw_worker_task_ended(struct lw_worker *w, struct lw_task *t)
{
    w->stats.running--;
}

void lw_worker_task_done(struct lw_worker *w, struct lw_task *t)
{
    if (t->phase == LW_TASK_DONE)
        return;
    t->phase = LW_TASK_DONE;
    w->held--;
    lw_defer_init(&t->reap, on_reap, t);
    lw_defer_queue(w->loop, &t->reap);
    maybe_poll(w);
    check_stopped(w);
}

/* ---- stopping ---- */

static void check_stopped(struct lw_worker *w)
{
    if ((w->state == LW_WORKER_DRAINING || w->state == LW_WORKER_GRACE_OVER)
        && w->polls_open == 0 && w->held == 0) {
        w->state = LW_WORKER_STOPPED;
        lw_timer_stop(w->loop, &w->grace_timer);
        lw_timer_stop(w->loop, &w->hard_timer);
        struct lw_log_field f[] = { LW_INT("completed", w->stats.completed),
                                    LW_INT("failed", w->stats.failed),
                                    LW_INT("canceled", w->stats.canceled),
                                    LW_INT("gone", w->stats.gone), LW_INT("lost", w->stats.lost),
                                    LW_INT("unconfirmed", w->stats.unconfirmed) };
        lw_log(LW_LOG_INFO, "worker stopped", f, 6);
    }
}

static void begin_drain(struct lw_worker *w)
{
    if (w->state != LW_WORKER_RUNNING)
        return;
    w->state = LW_WORKER_DRAINING;
    lw_timer_stop(w->loop, &w->poll_backoff);
    struct lw_log_field f[] = { LW_INT("running", w->stats.running), LW_INT("polls_open", w->polls_open),
                                LW_NUM("grace", w->cfg.shutdown_grace) };
    lw_log(LW_LOG_INFO, "stopping: no new polls; running tasks may finish", f, 3);
    lw_timer_start(w->loop, &w->grace_timer, w->cfg.shutdown_grace);
    check_stopped(w);
}

static void on_grace(struct lw_timer *tm, void *ud)
{
    struct lw_worker *w = ud;
    if (w->state != LW_WORKER_DRAINING)
        return;
    w->state = LW_WORKER_GRACE_OVER;
    if (w->stats.running > 0) {
        struct lw_log_field f[] = { LW_INT("running", w->stats.running) };
        lw_log(LW_LOG_WARN, "shutdown grace is over: cancelling the tasks still running", f, 1);
    }
    for (struct lw_task *t = w->tasks, *next; t; t = next) {
        next = t->next;
        if (t->phase == LW_TASK_RUNNING)
            lw_task_cancel(t, LW_CANCEL_SHUTDOWN);
    }
    lw_timer_start(w->loop, &w->hard_timer, w->cfg.cancel_grace + w->cfg.response_patience);
    check_stopped(w);
}

static void give_up_all(struct lw_worker *w)
{
    for (struct lw_task *t = w->tasks, *next; t; t = next) {
        next = t->next;
        if (t->phase != LW_TASK_DONE)
            lw_task_give_up(t);
    }
    while (w->polls) {
        struct poll *p = w->polls;
        w->polls = p->next;
        lw_service_cancel(w->svc, p->op);
        free(p);
        w->polls_open--;
        /* After a fatal error (rejected credentials...) no poll can bring a task. */
        lw_log(w->has_fatal ? LW_LOG_DEBUG : LW_LOG_WARN, "abandoning a poll still open at exit", NULL, 0);
    }
}

static void on_hard(struct lw_timer *tm, void *ud)
{
    struct lw_worker *w = ud;
    give_up_all(w);
    check_stopped(w);
}

static void abort_now(struct lw_worker *w)
{
    w->aborted = true;
    if (!w->has_fatal) {
        struct lw_log_field f[] = { LW_INT("running", w->stats.running), LW_INT("held", w->held) };
        lw_log(LW_LOG_WARN, "second stop request: exiting now; unfinished tasks will time out at the service",
               f, 2);
    }
    give_up_all(w);
    w->state = LW_WORKER_STOPPED;
    lw_timer_stop(w->loop, &w->poll_backoff);
    lw_timer_stop(w->loop, &w->grace_timer);
    lw_timer_stop(w->loop, &w->hard_timer);
}

void lw_worker_request_stop(struct lw_worker *w)
{
    atomic_fetch_add(&w->stop_requests, 1);
    uint64_t one = 1;
    ssize_t r = write(w->wake_fd, &one, sizeof one);
    (void)r;
}

void lw_worker_handle_requests(struct lw_worker *w)
{
    int n = atomic_load(&w->stop_requests);
    while (w->stops_handled < n && w->state != LW_WORKER_STOPPED) {
        w->stops_handled++;
        if (w->state == LW_WORKER_RUNNING && !w->has_fatal)
            begin_drain(w);
        else
            abort_now(w);
    }
}

static void on_wake(void *ud, int fd, unsigned events)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
    lw_worker_handle_requests(ud);
}
