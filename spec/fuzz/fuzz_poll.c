/* fuzz_poll.c: a poll answer's bytes -> task info, as the client takes them:
 * aws.c decodes a 2xx body with jansson (empty = {}, JSON_ALLOW_NUL, a
 * second try with unpaired surrogate escapes replaced by
 * lw_json_fix_surrogates, an object or MalformedResponse), then
 * lw_svcaws_parse_poll builds the task with the SWF or Step Functions
 * profile. What the worker does next with a task's strings runs too: the log line naming it (logfmt and
 * JSON), the heartbeat and outcome bodies that echo its token, and the
 * heartbeat answer check.
 *
 * Input: byte 0 picks the service (bit 0) and log format (bit 1); the rest
 * is the response body. */
#include "log.h"
#include "service.h"
#include "svcaws.h"
#include "text.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int devnull = -1;

static void sink(json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    free(text);
    json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (devnull < 0)
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (size < 1)
        return 0;
    bool sfn = data[0] & 1;
    lw_log_configure(LW_LOG_DEBUG, (data[0] & 2) ? LW_LOG_JSON : LW_LOG_TEXT, devnull);
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    json_error_t je;
    json_t *answer = len ? json_loadb(body, len, JSON_ALLOW_NUL, &je) : json_object();
    if (!answer) {
        /* aws.c's second try: unpaired surrogate escapes made U+FFFD */
        size_t n = 0;
        char *fixed = lw_json_fix_surrogates(body, len, &n);
        if (fixed) {
            if (n != len)
                abort();
            answer = json_loadb(fixed, n, JSON_ALLOW_NUL, &je);
            free(fixed);
        }
    }
    if (!json_is_object(answer)) {
        json_decref(answer);
        return 0;
    }
    const struct lw_svcaws_profile *p = sfn ? &lw_sfn_profile : &lw_swf_profile;
    struct lw_svcaws s = { .p = p, .domain = "demo", .task_list = "main",
                           .activity_arn = "arn:aws:states:us-east-1:123456789012:activity:a",
                           .identity = "host:1" };
    struct lw_task_info *t = NULL;
    struct lw_error e;
    memset(&e, 0xa5, sizeof e);         /* what the callers pass: not cleared */
    int rc = lw_svcaws_parse_poll(&s, answer, &t, &e);
    if (rc < 0) {
        /* an error must be complete: the worker reads every field */
        if (t || !e.code[0] || !memchr(e.code, 0, sizeof e.code)
            || !memchr(e.message, 0, sizeof e.message) || e.kind == LW_ERR_NONE
            || (unsigned char)e.retryable > 1 || (unsigned char)e.throttle > 1)
            abort();
        struct lw_log_field f[] = { LW_STR("error", e.code), LW_STR("message", e.message) };
        lw_log(LW_LOG_WARN, "poll failed", f, 2);
    } else if (t) {
        if (!t->token || !t->token_len || strlen(t->token_hash) != 8)
            abort();
        struct lw_log_field f[] = {
            LW_STR("activity_type", t->type_name), LW_STR("activity_id", t->activity_id),
            LW_STR("version", t->type_version), LW_STR("workflow_id", t->workflow_id),
            LW_STR("run_id", t->run_id), LW_STR("token", t->token_hash),
            LW_INT("started_event_id", t->started_event_id),
            LW_STRN("input", t->input, t->input ? t->input_len : 0),
        };
        lw_log(LW_LOG_INFO, "task started", f, sizeof f / sizeof f[0]);
        const char *op = NULL;
        sink(p->heartbeat_body(t, t->input, t->input_len));
        struct lw_outcome done = { .kind = LW_OUTCOME_COMPLETED, .result = t->input,
                                   .result_len = t->input_len };
        sink(p->respond_body(t, &done, &op));
        struct lw_outcome failed = { .kind = LW_OUTCOME_FAILED, .reason = t->activity_id,
                                     .details = t->type_name };
        sink(p->respond_body(t, &failed, &op));
        struct lw_outcome canceled = { .kind = LW_OUTCOME_CANCELED, .details = t->run_id };
        sink(p->respond_body(t, &canceled, &op));
        lw_task_info_destroy(t);
    }
    p->cancel_requested(answer);
    json_decref(answer);
    return 0;
}
