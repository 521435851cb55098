/* swf.c: Amazon SWF's activity API (../shared/aws/API.md §7). */
#include "svcaws.h"
#include "text.h"
#include <string.h>

static json_t *str_limited(const char *s, size_t max_units)
{
    size_t n = lw_utf8_prefix(s, strlen(s), max_units, 0);
    return json_stringn(s, n);
}

static json_t *poll_body(const struct lw_svcaws *s)
{
    return json_pack("{s:s, s:{s:s}, s:o}", "domain", s->domain, "taskList", "name", s->task_list,
                     "identity", str_limited(s->identity, 256));
}

static json_t *heartbeat_body(const struct lw_task_info *t, const char *details, size_t len)
{
    json_t *b = json_pack("{s:s#}", "taskToken", t->token, (int)t->token_len);
    if (b && details)
        json_object_set_new(b, "details", json_stringn(details, len));
    return b;
}

static json_t *respond_body(const struct lw_task_info *t, const struct lw_outcome *o, const char **op)
{
    json_t *b = json_pack("{s:s#}", "taskToken", t->token, (int)t->token_len);
    if (!b)
        return NULL;
    switch (o->kind) {
    case LW_OUTCOME_COMPLETED:
        *op = "RespondActivityTaskCompleted";
        if (o->result)
            json_object_set_new(b, "result", json_stringn(o->result, o->result_len));
        break;
    case LW_OUTCOME_FAILED:
        *op = "RespondActivityTaskFailed";
        if (o->reason)
            json_object_set_new(b, "reason", json_string(o->reason));
        if (o->details)
            json_object_set_new(b, "details", json_string(o->details));
        break;
    case LW_OUTCOME_CANCELED:
        *op = "RespondActivityTaskCanceled";
        if (o->details)
            json_object_set_new(b, "details", json_string(o->details));
        break;
    }
    return b;
}

static int fill_task(const struct lw_svcaws *s, json_t *a, struct lw_task_info *t,
                     struct lw_error *e)
{
    json_t *we = json_object_get(a, "workflowExecution");
    json_t *at = json_object_get(a, "activityType");
    json_t *sid = json_object_get(a, "startedEventId");
    if (lw_svcaws_str(a, "activityId", &t->activity_id, NULL, e) < 0
        || (we && (lw_svcaws_str(we, "workflowId", &t->workflow_id, NULL, e) < 0
                   || lw_svcaws_str(we, "runId", &t->run_id, NULL, e) < 0))
        || (at && (lw_svcaws_str(at, "name", &t->type_name, NULL, e) < 0
                   || lw_svcaws_str(at, "version", &t->type_version, NULL, e) < 0)))
        return -1;
    if (json_is_integer(sid))
        t->started_event_id = json_integer_value(sid);
    return 0;
}

static bool cancel_requested(json_t *a)
{
    return json_is_true(json_object_get(a, "cancelRequested"));
}

static enum lw_hb_status gone(const char *code)
{
    /* SWF names one fault for unknown, closed and timed-out tasks. */
    return strcmp(code, "UnknownResourceFault") == 0 ? LW_HB_GONE : LW_HB_ERROR;
}

const struct lw_svcaws_profile lw_swf_profile = {
    .kind = "swf", .limits = &lw_swf_limits,
    .poll_op = "PollForActivityTask", .heartbeat_op = "RecordActivityTaskHeartbeat",
    .poll_body = poll_body, .heartbeat_body = heartbeat_body, .respond_body = respond_body,
    .fill_task = fill_task, .cancel_requested = cancel_requested, .gone = gone,
};
