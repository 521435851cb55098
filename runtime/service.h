/* service.h: the activity service behind one small interface: poll,
 * heartbeat, respond (complete / fail / canceled), cancel an operation.
 *
 * Implementations: SWF and Step Functions over the AWS JSON call layer
 * (swf.c, sfn.c, svcaws.c) and the in-process stand-in used by
 * `luaworker invoke` and the testing kit (lservice.c, driven from Lua).
 *
 * Ownership: a poll callback receives a heap-allocated task info and owns it
 * (struct and strings): hand it to lw_task_new or lw_task_info_destroy it. Operation handles belong to the service; they are
 * valid until their callback has been called or lw_service_cancel has been
 * called, whichever comes first. Callbacks run from the loop, never inside a
 * curl callback and never from within the call that started the operation,
 * and may start new operations. */
#ifndef LW_SERVICE_H
#define LW_SERVICE_H
#include <stdbool.h>
#include <stddef.h>
#include "error.h"

struct lw_task_info {
    char *token;                /* opaque; never logged */
    size_t token_len;
    char *input;                /* NULL: no input */
    size_t input_len;
    char token_hash[9];         /* short hash for logs */
    /* SWF */
    char *activity_id;
    char *type_name;
    char *type_version;
    char *workflow_id;
    char *run_id;
    long long started_event_id;
    /* Step Functions */
    char *activity_arn;
};
/* Free the strings of an info (embedded or not); accepts NULL. */
void lw_task_info_free(struct lw_task_info *t);
/* Free a heap-allocated info and its strings; accepts NULL. */
void lw_task_info_destroy(struct lw_task_info *t);

/* Limits of what may be sent, in UTF-16 units unless *_bytes says bytes. */
struct lw_service_limits {
    size_t heartbeat_details;   /* 0: heartbeats carry no details (SFN) */
    size_t result;
    bool result_bytes;
    bool result_json;           /* output must be valid JSON (SFN) */
    size_t reason;
    size_t details;
};

enum lw_outcome_kind { LW_OUTCOME_COMPLETED, LW_OUTCOME_FAILED, LW_OUTCOME_CANCELED };

struct lw_outcome {
    enum lw_outcome_kind kind;
    const char *result;         /* completed: NULL = no result */
    size_t result_len;
    const char *reason;         /* failed (SFN: error) */
    const char *details;        /* failed (SFN: cause) / canceled */
};

enum lw_hb_status {
    LW_HB_OK,
    LW_HB_CANCEL_REQUESTED,     /* SWF cancelRequested */
    LW_HB_GONE,                 /* unknown / closed task */
    LW_HB_TIMED_OUT,            /* SFN TaskTimedOut (also a stopped execution) */
    LW_HB_ERROR,                /* anything else: see the error */
};
enum lw_resp_status { LW_RESP_OK, LW_RESP_GONE, LW_RESP_ERROR };

typedef void (*lw_poll_cb)(void *ud, struct lw_task_info *task, const struct lw_error *err);
typedef void (*lw_hb_cb)(void *ud, enum lw_hb_status st, const struct lw_error *err);
typedef void (*lw_resp_cb)(void *ud, enum lw_resp_status st, const struct lw_error *err);

struct lw_service;
struct lw_svc_op;

struct lw_service_ops {
    /* task == NULL in the callback: an empty poll. */
    struct lw_svc_op *(*poll)(struct lw_service *s, lw_poll_cb cb, void *ud, struct lw_error *err);
    struct lw_svc_op *(*heartbeat)(struct lw_service *s, const struct lw_task_info *t,
                                   const char *details, size_t len, lw_hb_cb cb, void *ud,
                                   struct lw_error *err);
    struct lw_svc_op *(*respond)(struct lw_service *s, const struct lw_task_info *t,
                                 const struct lw_outcome *o, lw_resp_cb cb, void *ud,
                                 struct lw_error *err);
    void (*cancel)(struct lw_service *s, struct lw_svc_op *op);
    void (*free)(struct lw_service *s);
};

struct lw_service {
    const struct lw_service_ops *ops;
    const char *kind;           /* "swf", "sfn" */
    struct lw_service_limits limits;
};

static inline void lw_service_cancel(struct lw_service *s, struct lw_svc_op *op)
{
    if (s && op)
        s->ops->cancel(s, op);
}
static inline void lw_service_free(struct lw_service *s)
{
    if (s)
        s->ops->free(s);
}

extern const struct lw_service_limits lw_swf_limits, lw_sfn_limits;
#endif
