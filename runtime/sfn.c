/* sfn.c: AWS Step Functions' activity API (../shared/aws/API.md §11, §13). */
#include "svcaws.h"
#include <string.h>

/* workerName is a Name: 1-80 characters, none of white space, brackets,
 * wildcards or " # % \ ^ | ~ ` $ & , ; : / (API.md §10). The default
 * identity is host:pid, so such characters become '-'. */
static json_t *worker_name(const char *identity)
{
    char name[81];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)identity; *p && n < 80; p++)
        name[n++] = (*p <= ' ' || *p >= 0x7f || strchr("<>{}[]?*\"#%\\^|~`$&,;:/", *p)) ? '-' : (char)*p;
    name[n] = '\0';
    return json_string(n ? name : "luaworker");
}

static json_t *poll_body(const struct lw_svcaws *s)
{
    return json_pack("{s:s, s:o}", "activityArn", s->activity_arn, "workerName",
                     worker_name(s->identity));
}

static json_t *heartbeat_body(const struct lw_task_info *t, const char *details, size_t len)
{
    return json_pack("{s:s#}", "taskToken", t->token, (int)t->token_len);   /* no details in SFN */
}

static json_t *respond_body(const struct lw_task_info *t, const struct lw_outcome *o, const char **op)
{
    json_t *b = json_pack("{s:s#}", "taskToken", t->token, (int)t->token_len);
    if (!b)
        return NULL;
    if (o->kind == LW_OUTCOME_COMPLETED) {
        *op = "SendTaskSuccess";
        json_object_set_new(b, "output", json_stringn(o->result ? o->result : "null",
                                                      o->result ? o->result_len : 4));
        return b;
    }
    /* Failed, or (never asked by SFN itself) canceled: the error name is what
     * a state machine's Retry/Catch ErrorEquals matches. */
    *op = "SendTaskFailure";
    const char *reason = o->kind == LW_OUTCOME_CANCELED ? "Cancelled" : o->reason;
    if (reason)
        json_object_set_new(b, "error", json_string(reason));
    if (o->details)
        json_object_set_new(b, "cause", json_string(o->details));
    return b;
}

static int fill_task(const struct lw_svcaws *s, json_t *a, struct lw_task_info *t,
                     struct lw_error *e)
{
    if (!(t->activity_arn = strdup(s->activity_arn)))
        return lw_error_set(e, LW_ERR_CLIENT, true, "OutOfMemory", "out of memory");
    return 0;
}

static bool cancel_requested(json_t *a) { return false; }

static enum lw_hb_status gone(const char *code)
{
    if (strcmp(code, "TaskTimedOut") == 0)
        return LW_HB_TIMED_OUT;     /* also what a stopped execution answers */
    if (strcmp(code, "TaskDoesNotExist") == 0 || strcmp(code, "InvalidToken") == 0)
        return LW_HB_GONE;
    return LW_HB_ERROR;
}

const struct lw_svcaws_profile lw_sfn_profile = {
    .kind = "sfn", .limits = &lw_sfn_limits,
    .poll_op = "GetActivityTask", .heartbeat_op = "SendTaskHeartbeat",
    .poll_body = poll_body, .heartbeat_body = heartbeat_body, .respond_body = respond_body,
    .fill_task = fill_task, .cancel_requested = cancel_requested, .gone = gone,
};
