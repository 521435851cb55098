/* svcaws.c: struct lw_service over AWS JSON calls, for SWF and Step Functions. */
#include "svcaws.h"
#include "awserr.h"
#include "log.h"
#include <stdlib.h>
#include <string.h>

/* Long polls: the service holds them up to 60 s; the client waits 70 s
 * (../shared/aws/API.md §3). Other calls are quick. */
#define POLL_TIMEOUT 70.0
#define HEARTBEAT_TIMEOUT 10.0
#define RESPOND_TIMEOUT 20.0

enum op_kind { OP_POLL, OP_HB, OP_RESP };

struct lw_svc_op {
    struct lw_svcaws *s;
    enum op_kind kind;
    struct lw_aws_call *call;
    void *cb;
    void *ud;
};

static void on_answer(void *ud, const struct lw_aws_result *r)
{
    struct lw_svc_op *op = ud;
    struct lw_svcaws *s = op->s;
    void *cb = op->cb, *cud = op->ud;
    enum op_kind kind = op->kind;
    free(op);
    switch (kind) {
    case OP_POLL: {
        struct lw_task_info *task = NULL;
        struct lw_error e;
        if (r->error) {
            ((lw_poll_cb)cb)(cud, NULL, r->error);
        } else if (lw_svcaws_parse_poll(s, r->json, &task, &e) < 0) {
            ((lw_poll_cb)cb)(cud, NULL, &e);
        } else {
            ((lw_poll_cb)cb)(cud, task, NULL);
        }
        break;
    }
    case OP_HB: {
        if (r->error) {
            enum lw_hb_status st = s->p->gone(r->error->code);
            ((lw_hb_cb)cb)(cud, st, r->error);
        } else {
            bool cancel = s->p->cancel_requested(r->json);
            ((lw_hb_cb)cb)(cud, cancel ? LW_HB_CANCEL_REQUESTED : LW_HB_OK, NULL);
        }
        break;
    }
    case OP_RESP: {
        if (r->error) {
            enum lw_hb_status g = s->p->gone(r->error->code);
            ((lw_resp_cb)cb)(cud, g == LW_HB_ERROR ? LW_RESP_ERROR : LW_RESP_GONE, r->error);
        } else {
            ((lw_resp_cb)cb)(cud, LW_RESP_OK, NULL);
        }
        break;
    }
    }
}

static struct lw_svc_op *start(struct lw_svcaws *s, enum op_kind kind, const char *opname,
                               json_t *body, double timeout, int attempts, void *cb, void *ud,
                               struct lw_error *err)
{
    if (!body) {
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory building a request");
        return NULL;
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct lw_svc_op *op = calloc(1, sizeof *op);
    if (!text || !op) {
        free(text);
        free(op);
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory building a request");
        return NULL;
    }
    op->s = s;
    op->kind = kind;
    op->cb = cb;
    op->ud = ud;
    struct lw_aws_call_opts o = { .timeout = timeout, .max_attempts = attempts,
                                  .long_poll = kind == OP_POLL };
    op->call = lw_aws_call(s->aws, opname, text, strlen(text), &o, on_answer, op, err);
    free(text);
    if (!op->call) {
        free(op);
        return NULL;
    }
    return op;
}

static struct lw_svc_op *op_poll(struct lw_service *b, lw_poll_cb cb, void *ud, struct lw_error *err)
{
    struct lw_svcaws *s = (struct lw_svcaws *)b;
    /* One attempt: the worker's poll loop backs off and polls again itself. */
    return start(s, OP_POLL, s->p->poll_op, s->p->poll_body(s), POLL_TIMEOUT, 1, (void *)cb, ud, err);
}

static struct lw_svc_op *op_heartbeat(struct lw_service *b, const struct lw_task_info *t,
                                      const char *details, size_t len, lw_hb_cb cb, void *ud,
                                      struct lw_error *err)
{
    struct lw_svcaws *s = (struct lw_svcaws *)b;
    return start(s, OP_HB, s->p->heartbeat_op, s->p->heartbeat_body(t, details, len),
                 HEARTBEAT_TIMEOUT, 0, (void *)cb, ud, err);
}

static struct lw_svc_op *op_respond(struct lw_service *b, const struct lw_task_info *t,
                                    const struct lw_outcome *o, lw_resp_cb cb, void *ud,
                                    struct lw_error *err)
{
    struct lw_svcaws *s = (struct lw_svcaws *)b;
    const char *opname = NULL;
    json_t *body = s->p->respond_body(t, o, &opname);
    return start(s, OP_RESP, opname, body, RESPOND_TIMEOUT, 0, (void *)cb, ud, err);
}

static void op_cancel(struct lw_service *b, struct lw_svc_op *op)
{
    lw_aws_call_cancel(op->call);
    free(op);
}

static void op_free(struct lw_service *b)
{
    struct lw_svcaws *s = (struct lw_svcaws *)b;
    free(s->domain);
    free(s->task_list);
    free(s->activity_arn);
    free(s->identity);
    free(s);
}

static const struct lw_service_ops ops = { op_poll, op_heartbeat, op_respond, op_cancel, op_free };

struct lw_service *lw_svcaws_new(const struct lw_svcaws_profile *p, struct lw_aws *aws,
                                 const char *domain, const char *task_list,
                                 const char *activity_arn, const char *identity,
                                 struct lw_error *err)
{
    struct lw_svcaws *s = calloc(1, sizeof *s);
    if (!s) {
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
        return NULL;
    }
    s->base.ops = &ops;
    s->base.kind = p->kind;
    s->base.limits = *p->limits;
    s->p = p;
    s->aws = aws;
    s->domain = domain ? strdup(domain) : NULL;
    s->task_list = task_list ? strdup(task_list) : NULL;
    s->activity_arn = activity_arn ? strdup(activity_arn) : NULL;
    s->identity = strdup(identity ? identity : "luaworker");
    if ((domain && !s->domain) || (task_list && !s->task_list) || (activity_arn && !s->activity_arn)
        || !s->identity) {
        op_free(&s->base);
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
        return NULL;
    }
    return &s->base;
}

int lw_svcaws_str(json_t *obj, const char *key, char **out, size_t *len, struct lw_error *e)
{
    *out = NULL;
    if (len)
        *len = 0;
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return lw_error_set(e, LW_ERR_SERVICE, true, "MalformedResponse",
                            "the service's answer has a %s that is not a string", key);
    size_t n = json_string_length(v);
    *out = malloc(n + 1);
    if (!*out)
        return lw_error_set(e, LW_ERR_CLIENT, true, "OutOfMemory", "out of memory");
    memcpy(*out, json_string_value(v), n);
    (*out)[n] = '\0';
    if (len)
        *len = n;
    return 0;
}

int lw_svcaws_parse_poll(const struct lw_svcaws *s, json_t *a, struct lw_task_info **out,
                         struct lw_error *e)
{
    *out = NULL;
    char *token = NULL;
    size_t tlen = 0;
    if (lw_svcaws_str(a, "taskToken", &token, &tlen, e) < 0)
        return -1;
    if (!token || !tlen) {          /* no task: absent, null or "" */
        free(token);
        return 0;
    }
    struct lw_task_info *t = calloc(1, sizeof *t);
    if (!t) {
        free(token);
        return lw_error_set(e, LW_ERR_CLIENT, true, "OutOfMemory", "out of memory");
    }
    t->token = token;
    t->token_len = tlen;
    lw_log_token_hash(token, tlen, t->token_hash);
    if (lw_svcaws_str(a, "input", &t->input, &t->input_len, e) < 0
        || s->p->fill_task(s, a, t, e) < 0) {
        lw_task_info_destroy(t);
        return -1;
    }
    *out = t;
    return 0;
}
