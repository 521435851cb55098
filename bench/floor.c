/* floor.c: the no-Lua floor of the benchmarks. A minimal SWF activity worker
 * in C on luaworker's own stack (build/liblw.a: loop.c, http.c with the same
 * curl multi setup, sigv4.c, creds.c, aws.c, and the SWF adapter svcaws.c /
 * swf.c that builds and parses the same JSON bodies) and nothing else: no
 * Lua, no task state machine, no logging.
 *
 *   build/bench/floor --endpoint URL --domain D --task-list L
 *       [--slots N (10)] [--pollers N (min(slots, 10))] [--heartbeats K (1)]
 *       [--sleep S (0)] [--heartbeat-interval S (10)] [--tasks N (0: until SIGTERM)]
 *
 * Credentials and region come from the environment as for luaworker
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, ...).
 *
 * Slots work as luaworker's do: a slot is taken when a poll opens and kept by
 * the task it brings until the outcome is recorded; at most --pollers polls
 * are open. Per task, the "handler" decodes the input JSON, sends K
 * heartbeats one after the other (no details, like lw.heartbeat()), then with
 * --sleep waits S seconds while heartbeating every --heartbeat-interval, and
 * reports RespondActivityTaskCompleted with {"ok":true,"n":N}: with K = 1 and
 * no sleep, the same three signed requests luaworker sends for the trivial
 * benchmark handler. Exits after --tasks completed tasks or on SIGTERM,
 * printing one JSON line of counters on stdout; the status is 1 if any call
 * failed, else 0. */
#include "aws.h"
#include "creds.h"
#include "http.h"
#include "loop.h"
#include "service.h"
#include "svcaws.h"
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    struct floor *f;
    struct lw_svc_op *op;
    struct lw_task_info *info;
    long n;                         /* from the input */
    int hb_left;
    double sleep_until;
    struct lw_timer timer;
    struct slot *next_free;
};

struct floor {
    struct lw_loop *loop;
    struct lw_service *svc;
    int slots, pollers, heartbeats;
    double sleep, hb_interval;
    long max_tasks;
    int polls_open, held;
    struct slot *free_slots;
    long polls, tasks, completed, heartbeats_sent, errors;
    bool stopping;
};

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { (void)sig; got_signal = 1; }

static void maybe_poll(struct floor *f);
static void heartbeat(struct slot *s);

static void release(struct slot *s)
{
    struct floor *f = s->f;
    lw_task_info_destroy(s->info);
    s->info = NULL;
    s->op = NULL;
    f->held--;
    s->next_free = f->free_slots;
    f->free_slots = s;
    maybe_poll(f);
}

static void on_respond(void *ud, enum lw_resp_status st, const struct lw_error *err)
{
    struct slot *s = ud;
    struct floor *f = s->f;
    if (st == LW_RESP_OK) {
        f->completed++;
    } else {
        f->errors++;
        fprintf(stderr, "floor: respond failed: %s: %s\n", err ? err->code : "?", err ? err->message : "");
    }
    release(s);
    if (f->max_tasks && f->completed >= f->max_tasks)
        f->stopping = true;
}

static void respond(struct slot *s)
{
    struct floor *f = s->f;
    struct lw_error err;
    json_t *r = json_pack("{s:b, s:I}", "ok", 1, "n", (json_int_t)s->n);
    char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
    json_decref(r);
    if (!text) {
        fprintf(stderr, "floor: out of memory\n");
        exit(1);
    }
    struct lw_outcome o = { .kind = LW_OUTCOME_COMPLETED, .result = text, .result_len = strlen(text) };
    s->op = f->svc->ops->respond(f->svc, s->info, &o, on_respond, s, &err);
    free(text);
    if (!s->op) {
        fprintf(stderr, "floor: cannot respond: %s\n", err.message);
        f->errors++;
        release(s);
    }
}

static void on_timer(struct lw_timer *t, void *ud)
{
    struct slot *s = ud;
    if (lw_loop_now(s->f->loop) >= s->sleep_until)
        respond(s);
    else
        heartbeat(s);
}

static void on_heartbeat(void *ud, enum lw_hb_status st, const struct lw_error *err)
{
    struct slot *s = ud;
    struct floor *f = s->f;
    s->op = NULL;
    if (st != LW_HB_OK) {
        f->errors++;
        fprintf(stderr, "floor: heartbeat failed: %s\n", err ? err->code : "?");
    }
    if (s->hb_left > 0) {
        heartbeat(s);
        return;
    }
    double now = lw_loop_now(f->loop);
    if (now < s->sleep_until) {
        double wait = s->sleep_until - now;
        lw_timer_start(f->loop, &s->timer, wait < f->hb_interval ? wait : f->hb_interval);
        return;
    }
    respond(s);
}

static void heartbeat(struct slot *s)
{
    struct floor *f = s->f;
    struct lw_error err;
    if (s->hb_left > 0)
        s->hb_left--;
    f->heartbeats_sent++;
    s->op = f->svc->ops->heartbeat(f->svc, s->info, NULL, 0, on_heartbeat, s, &err);
    if (!s->op) {
        fprintf(stderr, "floor: cannot heartbeat: %s\n", err.message);
        f->errors++;
        release(s);
    }
}

/* The "handler": decode the input, then heartbeat. */
static void run_task(struct slot *s)
{
    struct floor *f = s->f;
    json_error_t je;
    json_t *in = s->info->input ? json_loadb(s->info->input, s->info->input_len, 0, &je) : NULL;
    s->n = json_integer_value(json_object_get(in, "n"));
    json_decref(in);
    s->hb_left = f->heartbeats;
    s->sleep_until = lw_loop_now(f->loop) + f->sleep;
    if (s->hb_left > 0)
        heartbeat(s);
    else
        on_heartbeat(s, LW_HB_OK, NULL);
}

static void on_poll(void *ud, struct lw_task_info *task, const struct lw_error *err)
{
    struct slot *s = ud;
    struct floor *f = s->f;
    f->polls_open--;
    s->op = NULL;
    if (!task) {
        if (err) {
            f->errors++;
            fprintf(stderr, "floor: poll failed: %s: %s\n", err->code, err->message);
        }
        s->next_free = f->free_slots;
        f->free_slots = s;
        if (!err)
            maybe_poll(f);
        else
            f->stopping = true;
        return;
    }
    f->tasks++;
    f->held++;
    s->info = task;
    maybe_poll(f);
    run_task(s);
}

static void maybe_poll(struct floor *f)
{
    while (!f->stopping && f->free_slots && f->polls_open < f->pollers
           && f->polls_open + f->held < f->slots) {
        struct slot *s = f->free_slots;
        f->free_slots = s->next_free;
        struct lw_error err;
        f->polls_open++;
        f->polls++;
        s->op = f->svc->ops->poll(f->svc, on_poll, s, &err);
        if (!s->op) {
            fprintf(stderr, "floor: cannot poll: %s\n", err.message);
            exit(1);
        }
    }
}

static const char *arg_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "floor: %s needs a value\n", argv[*i]);
        exit(2);
    }
    return argv[++*i];
}

int main(int argc, char **argv)
{
    const char *endpoint = NULL, *domain = "bench", *task_list = "bench";
    struct floor f = { .slots = 10, .heartbeats = 1, .hb_interval = 10 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--endpoint") == 0)
            endpoint = arg_value(argc, argv, &i);
        else if (strcmp(a, "--domain") == 0)
            domain = arg_value(argc, argv, &i);
        else if (strcmp(a, "--task-list") == 0)
            task_list = arg_value(argc, argv, &i);
        else if (strcmp(a, "--slots") == 0)
            f.slots = atoi(arg_value(argc, argv, &i));
        else if (strcmp(a, "--pollers") == 0)
            f.pollers = atoi(arg_value(argc, argv, &i));
        else if (strcmp(a, "--heartbeats") == 0)
            f.heartbeats = atoi(arg_value(argc, argv, &i));
        else if (strcmp(a, "--sleep") == 0)
            f.sleep = atof(arg_value(argc, argv, &i));
        else if (strcmp(a, "--heartbeat-interval") == 0)
            f.hb_interval = atof(arg_value(argc, argv, &i));
        else if (strcmp(a, "--tasks") == 0)
            f.max_tasks = atol(arg_value(argc, argv, &i));
        else {
            fprintf(stderr, "floor: unknown option %s (see bench/floor.c)\n", a);
            return 2;
        }
    }
    if (!endpoint || f.slots < 1 || f.heartbeats < 0 || f.sleep < 0 || !(f.hb_interval > 0)) {
        fprintf(stderr, "usage: floor --endpoint URL [--domain D] [--task-list L] [--slots N] "
                        "[--pollers N] [--heartbeats K] [--sleep S] [--heartbeat-interval S] [--tasks N]\n");
        return 2;
    }
    if (f.pollers <= 0)
        f.pollers = f.slots < 10 ? f.slots : 10;
    const char *region = getenv("AWS_REGION");
    if (!region || !*region)
        region = "us-east-1";

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct lw_error err;
    lw_error_clear(&err);
    f.loop = lw_loop_new();
    struct lw_http *http = f.loop ? lw_http_new(f.loop, &err) : NULL;
    struct lw_creds *creds = http ? lw_creds_new(NULL, &err) : NULL;
    if (!creds || lw_creds_resolve(creds, f.loop, http, &err) < 0) {
        fprintf(stderr, "floor: cannot start: %s: %s\n", err.code, err.message);
        return 1;
    }
    struct lw_aws_config ac = { .endpoint = endpoint, .region = region, .signing_name = "swf",
                                .target_prefix = "SimpleWorkflowService", .creds = creds };
    struct lw_aws *aws = lw_aws_new(f.loop, http, &ac, &err);
    f.svc = aws ? lw_svcaws_new(&lw_swf_profile, aws, domain, task_list, NULL, "floor", &err) : NULL;
    if (!f.svc) {
        fprintf(stderr, "floor: cannot start: %s: %s\n", err.code, err.message);
        return 1;
    }
    struct slot *slots = calloc((size_t)f.slots, sizeof *slots);
    if (!slots) {
        fprintf(stderr, "floor: out of memory\n");
        return 1;
    }
    for (int i = f.slots - 1; i >= 0; i--) {
        slots[i].f = &f;
        lw_timer_init(&slots[i].timer, on_timer, &slots[i]);
        slots[i].next_free = f.free_slots;
        f.free_slots = &slots[i];
    }
    maybe_poll(&f);
    while (!got_signal && !(f.stopping && f.held == 0)) {
        if (lw_loop_run_once(f.loop, 0.5) < 0 && errno != EINTR)
            break;
    }
    printf("{\"polls\":%ld,\"tasks\":%ld,\"completed\":%ld,\"heartbeats\":%ld,\"errors\":%ld}\n",
           f.polls, f.tasks, f.completed, f.heartbeats_sent, f.errors);
    fflush(stdout);
    /* Cancel what is still open (polls included: this is a benchmark, not a
     * worker that must never drop a poll), then free in dependency order. */
    for (int i = 0; i < f.slots; i++) {
        lw_timer_stop(f.loop, &slots[i].timer);
        lw_service_cancel(f.svc, slots[i].op);
        lw_task_info_destroy(slots[i].info);
    }
    free(slots);
    lw_service_free(f.svc);
    lw_aws_free(aws);
    lw_creds_free(creds);
    lw_http_free(http);
    lw_loop_free(f.loop);
    return f.errors ? 1 : 0;
}
