/* Unit tests for runtime/task.c and runtime/worker.c, without Lua: a fake
 * service (answers on the next loop turn, records everything) and a fake
 * host whose "handlers" are little scripts of runtime calls, all on the
 * loop's virtual clock. */
#include "t.h"
#include "task.h"
#include "worker.h"
#include "log.h"
#include <stdlib.h>

/* ---------------- fake service ---------------- */

enum op_kind { OP_POLL, OP_HB, OP_RESP };
struct fake_op {
    struct lw_svc_op *dummy;
    enum op_kind kind;
    struct fake_svc *svc;
    struct lw_defer d;
    struct lw_timer latency;     /* heartbeats with hb_latency: answered when it fires */
    void *cb;
    void *ud;
    enum lw_hb_status hb_status;
    enum lw_resp_status resp_status;
    struct lw_error err;
    bool has_err;
    struct lw_task_info *task;
    struct fake_op *next;        /* pending polls */
};

struct fake_svc {
    struct lw_service base;
    struct lw_loop *loop;
    int queued;                  /* tasks waiting to be polled */
    int next_id;
    struct fake_op *held;        /* polls waiting for a task */
    long polls_open, max_polls_plus_held;
    long started, answered;
    /* scripts */
    int poll_errors_left;
    bool poll_error_auth;
    int hb_errors_left;
    double hb_latency;           /* seconds before a heartbeat is answered (0: next turn) */
    int resp_errors_left;
    bool resp_gone_after_errors;    /* once the errors are spent, answer "unknown task" */
    enum lw_hb_status hb_answer;
    /* records */
    int heartbeats;
    int hb_in_flight;
    int resp_with_hb_in_flight;  /* responses sent while a heartbeat was unanswered */
    char last_details[64];
    int completed, failed, canceled;
    char last_reason[300];
    char last_result[64];
    char last_cancel_details[64];
    int polls;
    double poll_times[64];
};

static void fire(struct lw_defer *d, void *ud)
{
    struct fake_op *op = ud;
    const struct lw_error *e = op->has_err ? &op->err : NULL;
    switch (op->kind) {
    case OP_POLL:
        ((lw_poll_cb)op->cb)(op->ud, op->task, e);
        break;
    case OP_HB:
        op->svc->hb_in_flight--;
        ((lw_hb_cb)op->cb)(op->ud, op->hb_status, e);
        break;
    case OP_RESP:
        ((lw_resp_cb)op->cb)(op->ud, op->resp_status, e);
        break;
    }
    free(op);
}

static void fire_late(struct lw_timer *tm, void *ud)
{
    struct fake_op *op = ud;
    fire(&op->d, op);
}

static struct fake_op *new_op(struct fake_svc *s, enum op_kind k, void *cb, void *ud)
{
    struct fake_op *op = calloc(1, sizeof *op);
    op->svc = s;
    op->kind = k;
    op->cb = cb;
    op->ud = ud;
    lw_defer_init(&op->d, fire, op);
    lw_timer_init(&op->latency, fire_late, op);
    return op;
}

static struct lw_task_info *make_task(struct fake_svc *s)
{
    struct lw_task_info *t = calloc(1, sizeof *t);
    char buf[32];
    snprintf(buf, sizeof buf, "token-%d", ++s->next_id);
    t->token = strdup(buf);
    t->token_len = strlen(buf);
    snprintf(buf, sizeof buf, "act-%d", s->next_id);
    t->activity_id = strdup(buf);
    t->type_name = strdup("T");
    t->type_version = strdup("1");
    return t;
}

static void note_load(struct fake_svc *s)
{
    long load = s->polls_open + (s->started - s->answered);
    if (load > s->max_polls_plus_held)
        s->max_polls_plus_held = load;
}

static void feed_polls(struct fake_svc *s)
{
    while (s->held && s->queued > 0) {
        struct fake_op *op = s->held;
        s->held = op->next;
        s->queued--;
        op->task = make_task(s);
        s->started++;
        s->polls_open--;
        lw_defer_queue(s->loop, &op->d);
    }
}

static struct lw_svc_op *f_poll(struct lw_service *b, lw_poll_cb cb, void *ud, struct lw_error *err)
{
    struct fake_svc *s = (struct fake_svc *)b;
    struct fake_op *op = new_op(s, OP_POLL, (void *)cb, ud);
    if (s->polls < 64)
        s->poll_times[s->polls] = lw_loop_now(s->loop);
    s->polls++;
    s->polls_open++;
    note_load(s);
    if (s->poll_errors_left > 0) {
        s->poll_errors_left--;
        s->polls_open--;
        op->has_err = true;
        if (s->poll_error_auth)
            lw_error_set(&op->err, LW_ERR_SERVICE, false, "UnrecognizedClientException",
                         "The security token included in the request is invalid.");
        else
            lw_error_set(&op->err, LW_ERR_TRANSPORT, true, "ConnectionRefused", "refused");
        lw_defer_queue(s->loop, &op->d);
    } else {
        op->next = s->held;
        s->held = op;
        feed_polls(s);
    }
    return (struct lw_svc_op *)op;
}

static struct lw_svc_op *f_hb(struct lw_service *b, const struct lw_task_info *t, const char *d,
                              size_t len, lw_hb_cb cb, void *ud, struct lw_error *err)
{
    struct fake_svc *s = (struct fake_svc *)b;
    struct fake_op *op = new_op(s, OP_HB, (void *)cb, ud);
    s->heartbeats++;
    s->hb_in_flight++;
    snprintf(s->last_details, sizeof s->last_details, "%.*s", (int)len, d ? d : "");
    op->hb_status = s->hb_answer;
    if (s->hb_errors_left > 0) {
        s->hb_errors_left--;
        op->hb_status = LW_HB_ERROR;
        op->has_err = true;
        lw_error_set(&op->err, LW_ERR_SERVICE, true, "ThrottlingException", "Rate exceeded");
    }
    if (s->hb_latency > 0)
        lw_timer_start(s->loop, &op->latency, s->hb_latency);
    else
        lw_defer_queue(s->loop, &op->d);
    return (struct lw_svc_op *)op;
}

static struct lw_svc_op *f_resp(struct lw_service *b, const struct lw_task_info *t,
                                const struct lw_outcome *o, lw_resp_cb cb, void *ud, struct lw_error *err)
{
    struct fake_svc *s = (struct fake_svc *)b;
    struct fake_op *op = new_op(s, OP_RESP, (void *)cb, ud);
    if (s->hb_in_flight > 0)
        s->resp_with_hb_in_flight++;
    if (s->resp_errors_left > 0) {
        s->resp_errors_left--;
        op->resp_status = LW_RESP_ERROR;
        op->has_err = true;
        lw_error_set(&op->err, LW_ERR_SERVICE, true, "InternalFailure", "boom");
        op->err.status = 500;
    } else if (s->resp_gone_after_errors) {
        op->resp_status = LW_RESP_GONE;
        op->has_err = true;
        lw_error_set(&op->err, LW_ERR_SERVICE, false, "UnknownResourceFault", "Unknown activity");
        op->err.status = 400;
    } else {
        s->answered++;
        if (o->kind == LW_OUTCOME_COMPLETED) {
            s->completed++;
            snprintf(s->last_result, sizeof s->last_result, "%s", o->result ? o->result : "(nil)");
        } else if (o->kind == LW_OUTCOME_FAILED) {
            s->failed++;
            snprintf(s->last_reason, sizeof s->last_reason, "%s", o->reason);
        } else {
            s->canceled++;
            snprintf(s->last_cancel_details, sizeof s->last_cancel_details, "%s", o->details);
        }
    }
    lw_defer_queue(s->loop, &op->d);
    return (struct lw_svc_op *)op;
}

static void f_cancel(struct lw_service *b, struct lw_svc_op *o)
{
    struct fake_svc *s = (struct fake_svc *)b;
    struct fake_op *op = (struct fake_op *)o;
    if (op->kind == OP_POLL) {
        struct fake_op **pp = &s->held;
        while (*pp && *pp != op)
            pp = &(*pp)->next;
        if (*pp) {
            *pp = op->next;
            s->polls_open--;
        }
        lw_task_info_destroy(op->task);
    } else if (op->kind == OP_HB) {
        s->hb_in_flight--;
    }
    lw_defer_cancel(s->loop, &op->d);
    lw_timer_stop(s->loop, &op->latency);
    free(op);
}

static void f_free(struct lw_service *b) {}

static const struct lw_service_ops fake_ops = { f_poll, f_hb, f_resp, f_cancel, f_free };

static void svc_init(struct fake_svc *s, struct lw_loop *loop)
{
    memset(s, 0, sizeof *s);
    s->base.ops = &fake_ops;
    s->base.kind = "swf";
    s->base.limits = lw_swf_limits;
    s->loop = loop;
    s->hb_answer = LW_HB_OK;
}

/* ---------------- fake host: scripted handlers ---------------- */

enum step_kind { S_HB, S_SLEEP, S_FINISH, S_HB_LOOP, S_SLEEP_AFTER_CANCEL };
struct step {
    enum step_kind kind;
    double secs;
    int n;
    const char *text;
};

struct htask {
    struct lw_task *t;
    const struct step *steps;
    int pc;
    int loop_i;
    bool released;
    bool saw_cancel;
    char cancel_reason[32];
};

struct host {
    const struct step *script;
    int running, max_running;
    int cancels_seen;
    char last_cancel_reason[32];
    bool ignore_cancel;          /* keep sleeping after Cancelled */
};

static void run_steps(struct host *h, struct htask *ht);

static void h_start(void *ud, struct lw_task *t)
{
    struct host *h = ud;
    struct htask *ht = calloc(1, sizeof *ht);
    ht->t = t;
    ht->steps = h->script;
    t->host = ht;
    h->running++;
    if (h->running > h->max_running)
        h->max_running = h->running;
    run_steps(h, ht);
}

static void end_task(struct host *h, struct htask *ht, const struct lw_task_end *e)
{
    lw_task_finished(ht->t, e);
}

static void h_wake(void *ud, struct lw_task *t, const struct lw_error *err)
{
    struct host *h = ud;
    struct htask *ht = t->host;
    if (err) {
        ht->saw_cancel = true;
        h->cancels_seen++;
        snprintf(h->last_cancel_reason, sizeof h->last_cancel_reason, "%s", err->reason);
        if (h->ignore_cancel) {
            lw_task_sleep(t, 1000);
            return;
        }
        struct lw_task_end e = { .kind = LW_END_CANCELLED };
        end_task(h, ht, &e);
        return;
    }
    run_steps(h, ht);
}

static void h_release(void *ud, struct lw_task *t)
{
    struct host *h = ud;
    struct htask *ht = t->host;
    if (!ht)
        return;
    h->running--;
    free(ht);
    t->host = NULL;
}

static void run_steps(struct host *h, struct htask *ht)
{
    struct lw_task *t = ht->t;
    struct lw_error e;
    for (;;) {
        const struct step *s = &ht->steps[ht->pc];
        switch (s->kind) {
        case S_HB:
            ht->pc++;
            if (lw_task_take_cancel(t, &e)) {
                h_wake(h, t, &e);
                return;
            }
            if (lw_task_heartbeat(t, s->text, strlen(s->text), true, &e) == 1)
                return;
            break;
        case S_HB_LOOP: {
            /* n heartbeats, a tiny sleep every 100 of them */
            if (ht->loop_i >= s->n) {
                ht->pc++;
                ht->loop_i = 0;
                break;
            }
            char d[32];
            snprintf(d, sizeof d, "%d", ++ht->loop_i);
            if (lw_task_take_cancel(t, &e)) {
                h_wake(h, t, &e);
                return;
            }
            int r = lw_task_heartbeat(t, d, strlen(d), true, &e);
            if (r == 1)
                return;
            if (ht->loop_i % 100 == 0) {
                lw_task_sleep(t, s->secs);
                return;
            }
            break;
        }
        case S_SLEEP:
            ht->pc++;
            if (lw_task_take_cancel(t, &e)) {
                h_wake(h, t, &e);
                return;
            }
            lw_task_sleep(t, s->secs);
            return;
        case S_FINISH: {
            struct lw_task_end end = { .kind = LW_END_COMPLETED, .result = s->text,
                                       .result_len = s->text ? strlen(s->text) : 0 };
            end_task(h, ht, &end);
            return;
        }
        default:
            return;
        }
    }
}

static const struct lw_task_host host_ops_template = { NULL, h_start, h_wake, h_release };

/* ---------------- harness ---------------- */

struct env {
    struct lw_loop *loop;
    struct fake_svc svc;
    struct host host;
    struct lw_worker *w;
};

static void env_init(struct env *e, const struct step *script, struct lw_worker_config cfg)
{
    memset(e, 0, sizeof *e);
    e->loop = lw_loop_new();
    lw_loop_set_virtual(e->loop, true);
    svc_init(&e->svc, e->loop);
    e->host.script = script;
    struct lw_task_host ho = host_ops_template;
    ho.ud = &e->host;
    struct lw_error err;
    e->w = lw_worker_new(e->loop, &e->svc.base, &ho, &cfg, &err);
}

/* Start polling once the fake service is scripted. */
static void go(struct env *e)
{
    lw_worker_start(e->w);
    feed_polls(&e->svc);
}

/* Run until cond or the virtual deadline; returns the virtual time spent. */
#define RUN_UNTIL(e, cond, secs) do { double end_ = lw_loop_now((e)->loop) + (secs); \
    int guard_ = 0; \
    while (!(cond) && lw_loop_now((e)->loop) < end_ && guard_++ < 2000000) lw_loop_run_once((e)->loop, -1); \
    } while (0)

static void env_stop(struct env *e)
{
    lw_worker_request_stop(e->w);
    RUN_UNTIL(e, lw_worker_state(e->w) == LW_WORKER_STOPPED, 600);
}

static void env_free(struct env *e)
{
    lw_worker_free(e->w);
    while (e->svc.held) {
        struct fake_op *op = e->svc.held;
        e->svc.held = op->next;
        free(op);
    }
    lw_loop_free(e->loop);
}

/* ---------------- tests ---------------- */

static void test_complete_and_stop(void)
{
    static const struct step script[] = { { S_FINISH, .text = "{\"ok\":true}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 4 });
    e.svc.queued = 3;
    go(&e);
    RUN_UNTIL(&e, e.svc.completed == 3, 10);
    CHECK_INT(e.svc.completed, 3);
    CHECK_STR(e.svc.last_result, "{\"ok\":true}");
    env_stop(&e);
    CHECK_INT(lw_worker_state(e.w), LW_WORKER_STOPPED);
    CHECK_INT(e.host.running, 0);
    struct lw_worker_stats st;
    lw_worker_stats(e.w, &st);
    CHECK_INT(st.completed, 3);
    CHECK_INT(st.tasks, 0);
    CHECK_INT(st.polls_open, 0);
    env_free(&e);
}

static void test_heartbeat_coalescing(void)
{
    /* 10,000 calls over ~2 s (a 0.02 s sleep every 100 calls), interval 1 s */
    static const struct step script[] = { { S_HB_LOOP, .n = 10000, .secs = 0.02 },
                                          { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1, .heartbeat_interval = 1 });
    e.svc.queued = 1;
    go(&e);
    RUN_UNTIL(&e, e.svc.completed == 1, 60);
    CHECK_INT(e.svc.completed, 1);
    CHECK(e.svc.heartbeats >= 2);
    CHECK(e.svc.heartbeats <= 5);
    CHECK_STR(e.svc.last_details, "10000");
    struct lw_worker_stats st;
    lw_worker_stats(e.w, &st);
    CHECK(st.heartbeats_coalesced > 9000);
    env_stop(&e);
    env_free(&e);
}

static void test_cancel_requested_while_sleeping(void)
{
    static const struct step script[] = { { S_HB, .text = "step 1" }, { S_SLEEP, .secs = 100 },
                                          { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1, .heartbeat_interval = 2 });
    e.svc.queued = 1;
    go(&e);
    RUN_UNTIL(&e, e.svc.heartbeats == 1, 5);
    double t0 = lw_loop_now(e.loop);
    e.svc.hb_answer = LW_HB_CANCEL_REQUESTED;
    RUN_UNTIL(&e, e.svc.canceled == 1, 30);
    CHECK_INT(e.svc.canceled, 1);
    CHECK(lw_loop_now(e.loop) - t0 <= 2.5);   /* within one interval */
    CHECK_STR(e.host.last_cancel_reason, "cancel_requested");
    CHECK_STR(e.svc.last_cancel_details, "step 1");
    env_stop(&e);
    env_free(&e);
}

static void test_task_gone_sends_no_response(void)
{
    static const struct step script[] = { { S_SLEEP, .secs = 100 }, { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1, .heartbeat_interval = 1 });
    e.svc.hb_answer = LW_HB_GONE;
    e.svc.queued = 1;
    go(&e);
    RUN_UNTIL(&e, e.host.cancels_seen == 1, 10);
    struct lw_worker_stats st;
    RUN_UNTIL(&e, (lw_worker_stats(e.w, &st), st.gone == 1), 5);
    CHECK_STR(e.host.last_cancel_reason, "task_gone");
    CHECK_INT(st.gone, 1);
    CHECK_INT(e.svc.completed + e.svc.failed + e.svc.canceled, 0);
    env_stop(&e);
    env_free(&e);
}

static void test_concurrency_limit(void)
{
    static const struct step script[] = { { S_SLEEP, .secs = 1 }, { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 3, .pollers = 3 });
    e.svc.queued = 20;
    go(&e);
    RUN_UNTIL(&e, e.svc.completed == 20, 60);
    CHECK_INT(e.svc.completed, 20);
    CHECK(e.host.max_running <= 3);
    CHECK(e.svc.max_polls_plus_held <= 3);
    env_stop(&e);
    env_free(&e);
}

static void test_shutdown_lets_tasks_finish(void)
{
    static const struct step script[] = { { S_SLEEP, .secs = 3 }, { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 5, .shutdown_grace = 10 });
    e.svc.queued = 5;
    go(&e);
    RUN_UNTIL(&e, e.host.running == 5, 5);
    env_stop(&e);
    CHECK_INT(e.svc.completed, 5);
    CHECK_INT(e.host.cancels_seen, 0);
    env_free(&e);
}

static void test_shutdown_grace_cancels_then_fails(void)
{
    static const struct step script[] = { { S_SLEEP, .secs = 100 }, { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 2, .shutdown_grace = 1,
                                                    .cancel_grace = 2 });
    e.svc.queued = 2;
    go(&e);
    RUN_UNTIL(&e, e.host.running == 2, 5);
    double t0 = lw_loop_now(e.loop);
    env_stop(&e);
    CHECK_INT(e.host.cancels_seen, 2);
    CHECK_STR(e.host.last_cancel_reason, "shutdown");
    CHECK_INT(e.svc.failed, 2);
    CHECK_STR(e.svc.last_reason, "WorkerShutdown");
    CHECK(lw_loop_now(e.loop) - t0 < 3);
    env_free(&e);
}

static void test_shutdown_abandons_stubborn_handler(void)
{
    static const struct step script[] = { { S_SLEEP, .secs = 100 }, { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1, .shutdown_grace = 1,
                                                    .cancel_grace = 2 });
    e.host.ignore_cancel = true;
    e.svc.queued = 1;
    go(&e);
    RUN_UNTIL(&e, e.host.running == 1, 5);
    double t0 = lw_loop_now(e.loop);
    env_stop(&e);
    CHECK_INT(e.host.cancels_seen, 1);
    CHECK_INT(e.svc.failed, 1);
    CHECK_STR(e.svc.last_reason, "WorkerShutdown");
    CHECK(lw_loop_now(e.loop) - t0 >= 3 - 0.01);
    CHECK_INT(e.host.running, 0);
    env_free(&e);
}

static void test_deadline(void)
{
    static const struct step script[] = { { S_SLEEP, .secs = 100 }, { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1 });
    e.svc.queued = 1;
    go(&e);
    RUN_UNTIL(&e, e.host.running == 1, 5);
    struct lw_task *t = NULL;
    /* the only task: configure its deadline as the Lua host would at start */
    t = lw_worker_first_task(e.w);
    CHECK(t != NULL);
    if (t)
        lw_task_configure(t, 0, 2);
    RUN_UNTIL(&e, e.svc.failed == 1, 10);
    CHECK_STR(e.host.last_cancel_reason, "deadline");
    CHECK_STR(e.svc.last_reason, "Timeout");
    env_stop(&e);
    env_free(&e);
}

static void test_response_waits_for_heartbeat_in_flight(void)
{
    /* Heartbeats take 0.3 s to answer. "a" goes out at 0 (answered at 0.3);
     * "b" at 0.3 is coalesced and goes out when the interval ends (1.0) while
     * the handler sleeps; the handler finishes at 1.1 with "b" still in
     * flight. The response waits for its answer: sent alongside, the
     * heartbeat could reach the service after the outcome and be refused. */
    static const struct step script[] = { { S_HB, .text = "a" }, { S_HB, .text = "b" },
                                          { S_SLEEP, .secs = 0.8 }, { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1, .heartbeat_interval = 1 });
    e.svc.hb_latency = 0.3;
    e.svc.queued = 1;
    go(&e);
    RUN_UNTIL(&e, e.svc.completed == 1, 10);
    CHECK_INT(e.svc.completed, 1);
    CHECK_INT(e.svc.heartbeats, 2);
    CHECK_STR(e.svc.last_details, "b");
    CHECK_INT(e.svc.resp_with_hb_in_flight, 0);
    env_stop(&e);
    env_free(&e);
}

static void test_response_retried_until_recorded(void)
{
    static const struct step script[] = { { S_FINISH, .text = "{\"r\":1}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1 });
    e.svc.resp_errors_left = 3;
    e.svc.queued = 1;
    go(&e);
    RUN_UNTIL(&e, e.svc.completed == 1, 120);
    CHECK_INT(e.svc.completed, 1);
    struct lw_worker_stats st;
    lw_worker_stats(e.w, &st);
    CHECK_INT(st.response_retries, 3);
    env_stop(&e);
    env_free(&e);
}

static void test_unknown_task_after_lost_answer_is_unconfirmed(void)
{
    /* A 500 may have been applied with its answer lost: the "unknown task"
     * that follows is most likely that earlier success, not a loss. */
    static const struct step script[] = { { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1 });
    e.svc.resp_errors_left = 1;
    e.svc.resp_gone_after_errors = true;
    e.svc.queued = 1;
    go(&e);
    struct lw_worker_stats st = { 0 };
    RUN_UNTIL(&e, (lw_worker_stats(e.w, &st), st.unconfirmed == 1), 60);
    CHECK_INT(st.unconfirmed, 1);
    CHECK_INT(st.gone, 0);
    env_stop(&e);
    env_free(&e);
}

static void test_heartbeat_errors_do_not_fail(void)
{
    static const struct step script[] = { { S_HB, .text = "a" }, { S_SLEEP, .secs = 5 },
                                          { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1, .heartbeat_interval = 1 });
    e.svc.hb_errors_left = 3;
    e.svc.queued = 1;
    go(&e);
    RUN_UNTIL(&e, e.svc.completed == 1, 30);
    CHECK_INT(e.svc.completed, 1);
    CHECK_INT(e.svc.failed, 0);
    CHECK(e.svc.heartbeats >= 4);         /* the failures were retried */
    env_stop(&e);
    env_free(&e);
}

static void test_poll_backoff_no_busy_loop(void)
{
    static const struct step script[] = { { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1, .poll_backoff_max = 5 });
    e.svc.poll_errors_left = 1000;
    go(&e);
    RUN_UNTIL(&e, 0, 60);
    /* capped exponential backoff: about a dozen tries in a minute, not thousands */
    CHECK(e.svc.polls >= 6);
    CHECK(e.svc.polls <= 60);
    e.svc.poll_errors_left = 0;
    e.svc.queued = 1;
    feed_polls(&e.svc);
    RUN_UNTIL(&e, e.svc.completed == 1, 30);
    CHECK_INT(e.svc.completed, 1);      /* recovers by itself */
    env_stop(&e);
    env_free(&e);
}

static void test_bad_credentials_stop_at_startup(void)
{
    static const struct step script[] = { { S_FINISH, .text = "{}" } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1, .max_auth_failures = 3 });
    e.svc.poll_errors_left = 100;
    e.svc.poll_error_auth = true;
    go(&e);
    RUN_UNTIL(&e, lw_worker_state(e.w) == LW_WORKER_STOPPED, 120);
    CHECK_INT(lw_worker_state(e.w), LW_WORKER_STOPPED);
    CHECK(lw_worker_fatal(e.w) != NULL);
    CHECK_INT(e.svc.polls, 3);
    env_free(&e);
}

static void test_limits(void)
{
    static const struct step script[] = { { S_SLEEP, .secs = 100 } };
    struct env e;
    env_init(&e, script, (struct lw_worker_config){ .max_concurrent = 1 });
    e.svc.queued = 1;
    go(&e);
    RUN_UNTIL(&e, e.host.running == 1, 5);
    struct lw_task *t = lw_worker_first_task(e.w);
    char big[3000];
    memset(big, 'x', sizeof big);
    struct lw_error err;
    CHECK_INT(lw_task_heartbeat(t, big, 2049, false, &err), -1);
    CHECK_STR(err.code, "DetailsTooLarge");
    CHECK_INT(lw_task_heartbeat(t, big, 2048, false, &err), 0);
    CHECK_INT(lw_task_heartbeat(t, "\xff", 1, false, &err), -1);
    CHECK_STR(err.code, "InvalidDetails");
    /* a result over 32768 characters fails with a named reason, not truncated */
    char *huge = malloc(40000);
    memset(huge, 'r', 40000);
    struct lw_task_end end = { .kind = LW_END_COMPLETED, .result = huge, .result_len = 40000 };
    lw_task_finished(t, &end);
    free(huge);
    RUN_UNTIL(&e, e.svc.failed == 1, 5);
    CHECK_STR(e.svc.last_reason, "ResultTooLarge");
    CHECK_INT(e.svc.completed, 0);
    env_stop(&e);
    env_free(&e);
}

int main(void)
{
    srandom(7);
    lw_log_configure(LW_LOG_OFF, LW_LOG_TEXT, 2);
    RUN(test_complete_and_stop);
    RUN(test_heartbeat_coalescing);
    RUN(test_cancel_requested_while_sleeping);
    RUN(test_task_gone_sends_no_response);
    RUN(test_concurrency_limit);
    RUN(test_shutdown_lets_tasks_finish);
    RUN(test_shutdown_grace_cancels_then_fails);
    RUN(test_shutdown_abandons_stubborn_handler);
    RUN(test_deadline);
    RUN(test_response_waits_for_heartbeat_in_flight);
    RUN(test_response_retried_until_recorded);
    RUN(test_unknown_task_after_lost_answer_is_unconfirmed);
    RUN(test_heartbeat_errors_do_not_fail);
    RUN(test_poll_backoff_no_busy_loop);
    RUN(test_bad_credentials_stop_at_startup);
    RUN(test_limits);
    return T_DONE();
}
