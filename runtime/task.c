/* task.c: a task's waits, heartbeats, cancellation, deadline and response. */
#include "task.h"
#include "awserr.h"
#include "log.h"
#include "text.h"
#include "worker.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void respond_now(struct lw_task *t);
static void hb_send(struct lw_task *t);
static void finish(struct lw_task *t, const struct lw_task_end *end);

static struct lw_loop *loop_of(struct lw_task *t) { return lw_worker_loop(t->w); }
static struct lw_service *svc_of(struct lw_task *t) { return lw_worker_service(t->w); }
static double now_of(struct lw_task *t) { return lw_loop_now(loop_of(t)); }
static struct lw_worker_stats *stats_of(struct lw_task *t) { return lw_worker_counters(t->w); }

/* ---- names and errors ---- */

const char *lw_cancel_reason_name(enum lw_cancel_reason r)
{
    switch (r) {
    case LW_CANCEL_REQUESTED: return "cancel_requested";
    case LW_CANCEL_GONE: return "task_gone";
    case LW_CANCEL_TIMED_OUT: return "timed_out";
    case LW_CANCEL_SHUTDOWN: return "shutdown";
    case LW_CANCEL_DEADLINE: return "deadline";
    case LW_CANCEL_NONE: break;
    }
    return "none";
}

void lw_cancel_error(enum lw_cancel_reason r, struct lw_error *e)
{
    const char *msg = "the task was cancelled";
    switch (r) {
    case LW_CANCEL_REQUESTED: msg = "the service asked for the task to be cancelled"; break;
    case LW_CANCEL_GONE: msg = "the service no longer knows the task (closed or timed out)"; break;
    case LW_CANCEL_TIMED_OUT: msg = "the task timed out or its execution was stopped"; break;
    case LW_CANCEL_SHUTDOWN: msg = "the worker is shutting down"; break;
    case LW_CANCEL_DEADLINE: msg = "the activity's deadline passed"; break;
    case LW_CANCEL_NONE: break;
    }
    lw_error_set(e, LW_ERR_SERVICE, false, "Cancelled", "%s", msg);
    snprintf(e->reason, sizeof e->reason, "%s", lw_cancel_reason_name(r));
}

/* ---- logging with the task's fields (never the token itself) ---- */

static void tlog(struct lw_task *t, enum lw_log_level lvl, const char *msg,
                 const struct lw_log_field *extra, size_t nextra)
{
    if (!lw_log_enabled(lvl))
        return;
    struct lw_log_field f[4];
    size_t n = 0;
    if (t->info.type_name)
        f[n++] = LW_STR("activity_type", t->info.type_name);
    if (t->info.activity_id)
        f[n++] = LW_STR("activity_id", t->info.activity_id);
    if (t->info.activity_arn)
        f[n++] = LW_STR("activity_arn", t->info.activity_arn);
    f[n++] = LW_STR("token", t->info.token_hash);
    lw_log2(lvl, msg, f, n, extra, nextra);
}

static void tlog_err(struct lw_task *t, enum lw_log_level lvl, const char *msg,
                     const struct lw_error *e, int attempt, double retry_in)
{
    struct lw_log_field f[6];
    size_t n = 0;
    f[n++] = LW_STR("error", e->code);
    f[n++] = LW_STR("message", e->message);
    if (e->status)
        f[n++] = LW_INT("status", e->status);
    if (e->request_id[0])
        f[n++] = LW_STR("request_id", e->request_id);
    if (attempt)
        f[n++] = LW_INT("attempt", attempt);
    if (retry_in >= 0)
        f[n++] = LW_NUM("retry_in", retry_in);
    tlog(t, lvl, msg, f, n);
}

/* ---- lifecycle ---- */

static void on_wait_timer(struct lw_timer *tm, void *ud);
static void on_hb_timer(struct lw_timer *tm, void *ud);
static void on_deadline(struct lw_timer *tm, void *ud);
static void on_abandon(struct lw_timer *tm, void *ud);
static void on_resp_timer(struct lw_timer *tm, void *ud);

struct lw_task *lw_task_new(struct lw_worker *w, struct lw_task_info *info)
{
    struct lw_task *t = calloc(1, sizeof *t);
    if (!t) {
        lw_task_info_destroy(info);
        return NULL;
    }
    t->w = w;
    t->info = *info;
    free(info);
    if (!t->info.token_hash[0])
        lw_log_token_hash(t->info.token ? t->info.token : "", t->info.token_len, t->info.token_hash);
    t->started_at = now_of(t);
    t->hb_last_sent = t->started_at;
    t->hb_interval = lw_worker_config(w)->heartbeat_interval;
    lw_timer_init(&t->wait_timer, on_wait_timer, t);
    lw_timer_init(&t->hb_timer, on_hb_timer, t);
    lw_timer_init(&t->deadline_timer, on_deadline, t);
    lw_timer_init(&t->abandon_timer, on_abandon, t);
    lw_timer_init(&t->resp_timer, on_resp_timer, t);
    return t;
}

void lw_task_free(struct lw_task *t)
{
    if (!t)
        return;
    struct lw_loop *loop = loop_of(t);
    lw_timer_stop(loop, &t->wait_timer);
    lw_timer_stop(loop, &t->hb_timer);
    lw_timer_stop(loop, &t->deadline_timer);
    lw_timer_stop(loop, &t->abandon_timer);
    lw_timer_stop(loop, &t->resp_timer);
    lw_defer_cancel(loop, &t->reap);
    if (t->wait == LW_WAIT_EXTERNAL && t->abort_wait)
        t->abort_wait(t->abort_ud);
    lw_service_cancel(svc_of(t), t->hb_op);
    lw_service_cancel(svc_of(t), t->resp_op);
    if (t->phase == LW_TASK_RUNNING) {
        const struct lw_task_host *h = lw_worker_host(t->w);
        h->release(h->ud, t);
    }
    free(t->hb_details);
    free(t->out_result);
    free(t->out_reason);
    free(t->out_details);
    lw_task_info_free(&t->info);
    free(t);
}

void lw_task_configure(struct lw_task *t, double hb_interval, double deadline)
{
    if (hb_interval > 0)
        t->hb_interval = hb_interval;
    t->deadline = deadline > 0 ? deadline : 0;
    if (t->deadline > 0)
        lw_timer_start(loop_of(t), &t->deadline_timer, t->deadline - (now_of(t) - t->started_at));
    else
        lw_timer_stop(loop_of(t), &t->deadline_timer);
}

/* ---- waking the handler ---- */

static void wake(struct lw_task *t, const struct lw_error *err)
{
    const struct lw_task_host *h = lw_worker_host(t->w);
    h->wake(h->ud, t, err);
}

/* Stop whatever the handler waits on; returns true if it was waiting. */
static bool stop_wait(struct lw_task *t)
{
    enum lw_task_wait was = t->wait;
    switch (was) {
    case LW_WAIT_SLEEP:
        lw_timer_stop(loop_of(t), &t->wait_timer);
        break;
    case LW_WAIT_EXTERNAL:
        if (t->abort_wait)
            t->abort_wait(t->abort_ud);
        t->abort_wait = NULL;
        t->abort_ud = NULL;
        break;
    case LW_WAIT_HEARTBEAT:     /* its answer will find nobody waiting */
    case LW_WAIT_NONE:
        break;
    }
    t->wait = LW_WAIT_NONE;
    return was != LW_WAIT_NONE;
}

bool lw_task_take_cancel(struct lw_task *t, struct lw_error *e)
{
    if (t->phase != LW_TASK_RUNNING || t->cancel == LW_CANCEL_NONE || t->cancel_delivered)
        return false;
    t->cancel_delivered = true;
    lw_cancel_error(t->cancel, e);
    return true;
}

void lw_task_cancel(struct lw_task *t, enum lw_cancel_reason r)
{
    if (r == LW_CANCEL_GONE || r == LW_CANCEL_TIMED_OUT)
        t->gone = true;
    if (t->phase != LW_TASK_RUNNING)
        return;
    if (t->cancel != LW_CANCEL_NONE) {
        /* A more precise reason replaces one not yet delivered. */
        if (!t->cancel_delivered && (r == LW_CANCEL_GONE || r == LW_CANCEL_TIMED_OUT))
            t->cancel = r;
        if (r != LW_CANCEL_REQUESTED && !lw_timer_active(&t->abandon_timer))
            lw_timer_start(loop_of(t), &t->abandon_timer, lw_worker_config(t->w)->cancel_grace);
        return;
    }
    t->cancel = r;
    struct lw_log_field f[] = { LW_STR("reason", lw_cancel_reason_name(r)) };
    tlog(t, LW_LOG_INFO, "cancelling task", f, 1);
    /* The handler may catch cancel_requested and carry on (SWF allows it);
     * for every other reason its work can no longer matter, so a handler that
     * ignores the cancellation is abandoned after the cancel grace. */
    if (r != LW_CANCEL_REQUESTED)
        lw_timer_start(loop_of(t), &t->abandon_timer, lw_worker_config(t->w)->cancel_grace);
    if (stop_wait(t)) {
        struct lw_error e;
        lw_task_take_cancel(t, &e);
        wake(t, &e);
    }
}

static void deadline_passed(struct lw_task *t)
{
    struct lw_log_field f[] = { LW_NUM("timeout", t->deadline) };
    tlog(t, LW_LOG_WARN, "task passed its deadline", f, 1);
    lw_task_cancel(t, LW_CANCEL_DEADLINE);
}

static void on_deadline(struct lw_timer *tm, void *ud) { deadline_passed(ud); }

void lw_task_check_deadline(struct lw_task *t)
{
    if (t->deadline <= 0 || t->cancel != LW_CANCEL_NONE || t->phase != LW_TASK_RUNNING)
        return;
    struct lw_loop *loop = loop_of(t);
    lw_loop_update_time(loop);
    if (lw_loop_now(loop) - t->started_at < t->deadline)
        return;
    lw_timer_stop(loop, &t->deadline_timer);
    deadline_passed(t);
}

static void on_abandon(struct lw_timer *tm, void *ud)
{
    struct lw_task *t = ud;
    if (t->phase != LW_TASK_RUNNING)
        return;
    struct lw_log_field f[] = { LW_STR("reason", lw_cancel_reason_name(t->cancel)),
                                LW_NUM("grace", lw_worker_config(t->w)->cancel_grace) };
    tlog(t, LW_LOG_WARN, "abandoning a handler that did not finish after cancellation", f, 2);
    stop_wait(t);
    struct lw_task_end end = { .kind = LW_END_CANCELLED };
    finish(t, &end);
}

/* ---- waits ---- */

static void hb_arm(struct lw_task *t);

static void on_wait_timer(struct lw_timer *tm, void *ud)
{
    struct lw_task *t = ud;
    if (t->wait != LW_WAIT_SLEEP)
        return;
    t->wait = LW_WAIT_NONE;
    wake(t, NULL);
}

void lw_task_sleep(struct lw_task *t, double secs)
{
    t->wait = LW_WAIT_SLEEP;
    lw_timer_start(loop_of(t), &t->wait_timer, secs);
    hb_arm(t);
}

void lw_task_wait_external(struct lw_task *t, void (*abort)(void *), void *ud)
{
    t->wait = LW_WAIT_EXTERNAL;
    t->abort_wait = abort;
    t->abort_ud = ud;
    hb_arm(t);
}

void lw_task_wait_end(struct lw_task *t)
{
    if (t->wait == LW_WAIT_EXTERNAL) {
        t->wait = LW_WAIT_NONE;
        t->abort_wait = NULL;
        t->abort_ud = NULL;
    }
}

/* ---- heartbeats ---- */

static bool waiting_in_runtime(const struct lw_task *t)
{
    return t->wait == LW_WAIT_SLEEP || t->wait == LW_WAIT_EXTERNAL;
}

/* Arm the heartbeat timer for the end of the current interval if there is
 * something to send then: new details, or a handler waiting in a runtime call. */
static void hb_arm(struct lw_task *t)
{
    if (t->phase != LW_TASK_RUNNING || t->gone || t->hb_op)
        return;
    if (!t->hb_dirty && !waiting_in_runtime(t))
        return;
    double due = t->hb_last_sent + t->hb_interval - now_of(t);
    if (waiting_in_runtime(t) && !t->hb_dirty && due <= 0) {
        hb_send(t);             /* overdue while the handler waits: send now */
        return;
    }
    lw_timer_start(loop_of(t), &t->hb_timer, due);
}

static void on_hb_timer(struct lw_timer *tm, void *ud)
{
    struct lw_task *t = ud;
    if (t->phase != LW_TASK_RUNNING || t->gone || t->hb_op)
        return;
    if (t->hb_dirty || waiting_in_runtime(t))
        hb_send(t);
}

static void on_hb_done(void *ud, enum lw_hb_status st, const struct lw_error *err);

/* After the handler ended: details the service has not seen go out before
 * the outcome (not before a cancellation, which carries them itself). */
static bool wants_flush(struct lw_task *t)
{
    return t->hb_dirty && svc_of(t)->limits.heartbeat_details
        && t->outcome.kind != LW_OUTCOME_CANCELED;
}

static void hb_send(struct lw_task *t)
{
    struct lw_error err;
    struct lw_service *s = svc_of(t);
    lw_timer_stop(loop_of(t), &t->hb_timer);
    const char *d = s->limits.heartbeat_details ? t->hb_details : NULL;
    size_t dl = s->limits.heartbeat_details ? t->hb_len : 0;
    t->hb_last_sent = now_of(t);
    t->hb_sent_once = true;
    struct lw_svc_op *op = s->ops->heartbeat(s, &t->info, d, dl, on_hb_done, t, &err);
    if (!op) {
        /* Could not even start the request: same path as a failed answer. */
        t->hb_op = NULL;
        on_hb_done(t, LW_HB_ERROR, &err);
        return;
    }
    t->hb_op = op;
    t->hb_dirty = false;
    stats_of(t)->heartbeats_sent++;
}

static void on_hb_done(void *ud, enum lw_hb_status st, const struct lw_error *err)
{
    struct lw_task *t = ud;
    t->hb_op = NULL;
    switch (st) {
    case LW_HB_OK:
        t->hb_failures = 0;
        break;
    case LW_HB_CANCEL_REQUESTED:
        t->hb_failures = 0;
        lw_task_cancel(t, LW_CANCEL_REQUESTED);
        break;
    case LW_HB_GONE:
        lw_task_cancel(t, LW_CANCEL_GONE);
        break;
    case LW_HB_TIMED_OUT:
        lw_task_cancel(t, LW_CANCEL_TIMED_OUT);
        break;
    case LW_HB_ERROR: {
        /* A failed heartbeat never fails the task: resend the latest details
         * after a backoff no longer than the interval. */
        t->hb_failures++;
        stats_of(t)->heartbeat_errors++;
        t->hb_dirty = true;
        double d = lw_worker_backoff(t->hb_failures, 0.5, t->hb_interval);
        tlog_err(t, LW_LOG_WARN, "heartbeat failed; will retry", err, t->hb_failures, d);
        if (t->phase == LW_TASK_RUNNING && !t->hb_final)
            lw_timer_start(loop_of(t), &t->hb_timer, d);
        break;
    }
    }
    if (t->phase == LW_TASK_RESPONDING) {
        if (t->hb_final) {
            /* The flush before the response: resend if newer details came. */
            if (st == LW_HB_OK && wants_flush(t)) {
                hb_send(t);
                return;
            }
            t->hb_final = false;
            respond_now(t);
        }
        return;
    }
    if (t->phase != LW_TASK_RUNNING)
        return;
    if (t->wait == LW_WAIT_HEARTBEAT) {
        t->wait = LW_WAIT_NONE;
        struct lw_error e;
        wake(t, lw_task_take_cancel(t, &e) ? &e : NULL);
        return;
    }
    if (st != LW_HB_ERROR)
        hb_arm(t);
}

int lw_task_heartbeat(struct lw_task *t, const char *details, size_t len, bool may_wait,
                      struct lw_error *e)
{
    const struct lw_service_limits *lim = &svc_of(t)->limits;
    if (details && !lw_utf8_valid(details, len))
        return lw_error_set(e, LW_ERR_CLIENT, false, "InvalidDetails",
                            "heartbeat details must be valid UTF-8 text");
    if (details && lim->heartbeat_details && lw_utf16_units(details, len) > lim->heartbeat_details)
        return lw_error_set(e, LW_ERR_CLIENT, false, "DetailsTooLarge",
                            "heartbeat details are %zu characters; %s allows at most %zu",
                            lw_utf16_units(details, len), svc_of(t)->kind, lim->heartbeat_details);
    if (t->gone)
        return 0;               /* nobody to tell: the cancellation was raised already */
    if (details) {
        char *copy = malloc(len + 1);
        if (!copy)
            return lw_error_set(e, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
        memcpy(copy, details, len);
        copy[len] = '\0';
        free(t->hb_details);
        t->hb_details = copy;
        t->hb_len = len;
    }
    t->hb_dirty = true;
    if (t->hb_op || (t->hb_sent_once && now_of(t) - t->hb_last_sent < t->hb_interval)) {
        stats_of(t)->heartbeats_coalesced++;
        hb_arm(t);
        return 0;
    }
    hb_send(t);
    if (t->hb_op && may_wait) {
        t->wait = LW_WAIT_HEARTBEAT;
        return 1;
    }
    return 0;
}

/* ---- ending and responding ---- */

static char *dup_limited(const char *s, size_t len, size_t max_units)
{
    return lw_text_limit(s ? s : "", s ? len : 0, max_units, NULL);
}

static void set_failed(struct lw_task *t, const char *reason, const char *details, size_t dlen)
{
    const struct lw_service_limits *lim = &svc_of(t)->limits;
    free(t->out_reason);
    free(t->out_details);
    t->out_reason = dup_limited(reason, strlen(reason), lim->reason);
    t->out_details = dup_limited(details, dlen, lim->details);
    t->outcome = (struct lw_outcome){ .kind = LW_OUTCOME_FAILED, .reason = t->out_reason,
                                      .details = t->out_details };
}

static void set_failedf(struct lw_task *t, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_failedf(struct lw_task *t, const char *reason, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_failed(t, reason, msg, strlen(msg));
}

/* Completed with a result: check it fits what the service takes; never
 * truncate a result. */
static void set_completed(struct lw_task *t, const char *result, size_t len)
{
    struct lw_service *s = svc_of(t);
    const struct lw_service_limits *lim = &s->limits;
    if (!result && lim->result_json) {
        result = "null";
        len = 4;
    }
    if (result && !lw_utf8_valid(result, len)) {
        set_failedf(t, "InvalidResult", "the handler's result is not valid UTF-8 text");
        return;
    }
    if (result) {
        size_t size = lim->result_bytes ? len : lw_utf16_units(result, len);
        if (size > lim->result) {
            set_failedf(t, "ResultTooLarge",
                        "the handler's result is %zu %s; %s accepts at most %zu. Return a smaller "
                        "result (for example a reference to data stored elsewhere)",
                        size, lim->result_bytes ? "bytes" : "characters", s->kind, lim->result);
            return;
        }
    }
    if (result && lim->result_json) {
        json_error_t je;
        json_t *v = json_loadb(result, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!v) {
            set_failedf(t, "InvalidResult",
                        "Step Functions needs the output to be JSON; the handler returned a string "
                        "that is not (%s at position %d). Return a table, or a JSON string",
                        je.text, je.position);
            return;
        }
        json_decref(v);
    }
    if (result) {
        t->out_result = malloc(len + 1);
        if (!t->out_result) {
            set_failedf(t, "OutOfMemory", "out of memory while keeping the result");
            return;
        }
        memcpy(t->out_result, result, len);
        t->out_result[len] = '\0';
    }
    t->outcome = (struct lw_outcome){ .kind = LW_OUTCOME_COMPLETED, .result = t->out_result,
                                      .result_len = result ? len : 0 };
}

static void done(struct lw_task *t)
{
    lw_timer_stop(loop_of(t), &t->resp_timer);
    lw_timer_stop(loop_of(t), &t->hb_timer);
    if (t->hb_op) {
        lw_service_cancel(svc_of(t), t->hb_op);
        t->hb_op = NULL;
    }
    lw_worker_task_done(t->w, t);
}

static const char *outcome_name(const struct lw_task *t)
{
    switch (t->outcome.kind) {
    case LW_OUTCOME_COMPLETED: return "completed";
    case LW_OUTCOME_FAILED: return "failed";
    case LW_OUTCOME_CANCELED: return "canceled";
    }
    return "?";
}

static void finish(struct lw_task *t, const struct lw_task_end *end)
{
    struct lw_loop *loop = loop_of(t);
    lw_timer_stop(loop, &t->wait_timer);
    lw_timer_stop(loop, &t->deadline_timer);
    lw_timer_stop(loop, &t->abandon_timer);
    lw_timer_stop(loop, &t->hb_timer);
    const struct lw_task_host *h = lw_worker_host(t->w);
    h->release(h->ud, t);
    t->phase = LW_TASK_RESPONDING;
    t->ended_at = now_of(t);
    lw_worker_task_ended(t->w, t);
    switch (end->kind) {
    case LW_END_COMPLETED:
        set_completed(t, end->result, end->result_len);
        break;
    case LW_END_FAILED:
        set_failed(t, end->reason ? end->reason : "Error", end->details, end->details_len);
        break;
    case LW_END_MEMORY:
        set_failed(t, "MemoryLimit", end->details, end->details_len);
        break;
    case LW_END_CANCELLED:
        switch (t->cancel) {
        case LW_CANCEL_REQUESTED:
            free(t->out_details);
            t->out_details = dup_limited(t->hb_details, t->hb_len, svc_of(t)->limits.details);
            t->outcome = (struct lw_outcome){ .kind = LW_OUTCOME_CANCELED, .details = t->out_details };
            break;
        case LW_CANCEL_GONE:
        case LW_CANCEL_TIMED_OUT:       /* t->gone: nothing to report */
            break;
        case LW_CANCEL_SHUTDOWN:
            set_failedf(t, "WorkerShutdown", "the worker shut down before the handler finished; "
                        "the task can be retried at once");
            break;
        case LW_CANCEL_DEADLINE:
            set_failedf(t, "Timeout", "the handler did not finish within its timeout of %g s",
                        t->deadline);
            break;
        case LW_CANCEL_NONE:
            set_failed(t, "Cancelled", end->details, end->details_len);
            break;
        }
        break;
    }
    /* Flush details the service has not seen, so its record (and a later
     * timeout's details) holds the handler's last word. A heartbeat still in
     * flight is answered first: sent alongside the response, it could reach
     * the service after it and be refused (its details lost). A gone task
     * reports nothing: respond_now counts it. */
    if (!t->gone && (wants_flush(t) || t->hb_op)) {
        t->hb_final = true;
        if (!t->hb_op)
            hb_send(t);
        return;
    }
    respond_now(t);
}

void lw_task_finished(struct lw_task *t, const struct lw_task_end *end)
{
    if (t->phase != LW_TASK_RUNNING)
        return;
    stop_wait(t);
    if (end->kind == LW_END_MEMORY)
        t->memory_exceeded = true;
    finish(t, end);
}

static void on_resp_done(void *ud, enum lw_resp_status st, const struct lw_error *err);

static void respond_now(struct lw_task *t)
{
    struct lw_error err;
    struct lw_service *s = svc_of(t);
    if (t->gone) {
        stats_of(t)->gone++;
        tlog(t, LW_LOG_WARN, "task is gone at the service; its outcome was not reported", NULL, 0);
        done(t);
        return;
    }
    t->resp_attempts++;
    t->resp_op = s->ops->respond(s, &t->info, &t->outcome, on_resp_done, t, &err);
    if (!t->resp_op)
        on_resp_done(t, LW_RESP_ERROR, &err);
}

static void on_resp_timer(struct lw_timer *tm, void *ud) { respond_now(ud); }

static bool rejected(const struct lw_error *e)
{
    return e && !e->retryable && !e->throttle && e->kind == LW_ERR_SERVICE && !lw_awserr_is_auth(e)
        && !lw_awserr_is_expired_token(e) && !lw_awserr_is_clock_skew(e) && e->status >= 400
        && e->status < 500;
}

static void on_resp_done(void *ud, enum lw_resp_status st, const struct lw_error *err)
{
    struct lw_task *t = ud;
    struct lw_worker_stats *stats = stats_of(t);
    t->resp_op = NULL;
    if (st == LW_RESP_OK) {
        struct lw_log_field f[4];
        size_t n = 0;
        f[n++] = LW_NUM("duration", t->ended_at - t->started_at);
        if (t->resp_attempts > 1)
            f[n++] = LW_INT("attempts", t->resp_attempts);
        if (t->outcome.kind == LW_OUTCOME_FAILED)
            f[n++] = LW_STR("reason", t->outcome.reason);
        char msg[32];
        snprintf(msg, sizeof msg, "task %s", outcome_name(t));
        tlog(t, t->outcome.kind == LW_OUTCOME_FAILED ? LW_LOG_WARN : LW_LOG_INFO, msg, f, n);
        if (t->outcome.kind == LW_OUTCOME_COMPLETED)
            stats->completed++;
        else if (t->outcome.kind == LW_OUTCOME_FAILED)
            stats->failed++;
        else
            stats->canceled++;
        done(t);
        return;
    }
    if (st == LW_RESP_GONE) {
        char msg[200];
        if (t->resp_maybe_applied) {
            /* An earlier attempt may have been recorded with its answer
             * lost on the way back: the usual reason for this answer. */
            stats->unconfirmed++;
            snprintf(msg, sizeof msg, "the service no longer knows the task: its %s outcome was most "
                     "likely recorded by an earlier attempt whose answer was lost", outcome_name(t));
        } else {
            stats->gone++;
            snprintf(msg, sizeof msg, "task is gone at the service; its %s outcome was not recorded",
                     outcome_name(t));
        }
        tlog_err(t, LW_LOG_WARN, msg, err, t->resp_attempts, -1);
        done(t);
        return;
    }
    if (rejected(err)) {
        if (t->outcome.kind == LW_OUTCOME_COMPLETED) {
            /* The service refused the result: report that instead. */
            tlog_err(t, LW_LOG_ERROR, "the service rejected the result; failing the task", err,
                     t->resp_attempts, -1);
            set_failedf(t, "InvalidResult", "the service rejected the handler's result: %s: %s",
                        err->code, err->message);
            respond_now(t);
            return;
        }
        stats->lost++;
        tlog_err(t, LW_LOG_ERROR, "the service rejected the task's outcome; giving up", err,
                 t->resp_attempts, -1);
        done(t);
        return;
    }
    stats->response_retries++;
    /* Did the service perhaps apply it? Not when it refused with 4xx. */
    if (err && (err->kind == LW_ERR_TRANSPORT || err->status >= 500
                || strcmp(err->code, "MalformedResponse") == 0 || strcmp(err->code, "BodyTooLarge") == 0))
        t->resp_maybe_applied = true;
    double d = lw_worker_backoff(t->resp_attempts, 0.5, 30);
    tlog_err(t, LW_LOG_WARN, "could not report the task's outcome; will retry", err,
             t->resp_attempts, d);
    lw_timer_start(loop_of(t), &t->resp_timer, d);
}

void lw_task_give_up(struct lw_task *t)
{
    if (t->phase == LW_TASK_DONE)
        return;
    if (t->phase == LW_TASK_RUNNING) {
        stop_wait(t);
        const struct lw_task_host *h = lw_worker_host(t->w);
        h->release(h->ud, t);
        t->phase = LW_TASK_RESPONDING;
        lw_worker_task_ended(t->w, t);
    }
    if (t->resp_op) {
        lw_service_cancel(svc_of(t), t->resp_op);
        t->resp_op = NULL;
    }
    stats_of(t)->lost++;
    tlog(t, LW_LOG_ERROR, "giving up on the task at exit: its outcome was not reported "
         "(the service will time it out)", NULL, 0);
    done(t);
}
