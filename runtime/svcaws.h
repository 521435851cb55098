/* svcaws.h: SWF and Step Functions as struct lw_service, over lw_aws.
 *
 * svcaws.c holds what both share (operation handles, timeouts, mapping of
 * errors to "gone"); swf.c and sfn.c describe each service: request bodies
 * and poll-answer parsing (jansson, never by hand). The service borrows the
 * lw_aws client; lw_service_free releases the service only. */
#ifndef LW_SVCAWS_H
#define LW_SVCAWS_H
#include <jansson.h>
#include "aws.h"
#include "service.h"

struct lw_svcaws;

struct lw_svcaws_profile {
    const char *kind;                   /* "swf", "sfn" */
    const struct lw_service_limits *limits;
    const char *poll_op, *heartbeat_op;
    /* Request bodies (new references), NULL when out of memory. */
    json_t *(*poll_body)(const struct lw_svcaws *s);
    json_t *(*heartbeat_body)(const struct lw_task_info *t, const char *details, size_t len);
    /* The operation and body that report an outcome. */
    json_t *(*respond_body)(const struct lw_task_info *t, const struct lw_outcome *o,
                            const char **op);
    /* The service's own members of a poll answer that holds a task (token
     * and input are in t already): 0, or -1 with e filled when malformed. */
    int (*fill_task)(const struct lw_svcaws *s, json_t *answer, struct lw_task_info *t,
                     struct lw_error *e);
    /* Heartbeat answer -> cancel requested? */
    bool (*cancel_requested)(json_t *answer);
    /* An error code meaning the token is dead: LW_HB_GONE / LW_HB_TIMED_OUT, else LW_HB_ERROR. */
    enum lw_hb_status (*gone)(const char *code);
};

struct lw_svcaws {
    struct lw_service base;
    const struct lw_svcaws_profile *p;
    struct lw_aws *aws;
    char *domain, *task_list;           /* SWF */
    char *activity_arn;                 /* Step Functions */
    char *identity;                     /* SWF identity / SFN workerName */
};

extern const struct lw_svcaws_profile lw_swf_profile, lw_sfn_profile;

/* SWF: domain and task list; Step Functions: the activity ARN (the other
 * arguments NULL). identity: who polls (SWF identity, SFN workerName,
 * trimmed to the service's limit). */
struct lw_service *lw_svcaws_new(const struct lw_svcaws_profile *p, struct lw_aws *aws,
                                 const char *domain, const char *task_list,
                                 const char *activity_arn, const char *identity,
                                 struct lw_error *err);

/* Helpers for the profiles: a copied string member (NULL if absent or not a
 * string); -1 with e filled if present but not a string. */
int lw_svcaws_str(json_t *obj, const char *key, char **out, size_t *len, struct lw_error *e);
/* A poll answer -> task: 0 with *out NULL when there is no task
 * (taskToken absent, null or ""), 0 with a new info (token, its hash, the
 * input, then the profile's fill_task), or -1 with e filled when malformed. */
int lw_svcaws_parse_poll(const struct lw_svcaws *s, json_t *answer, struct lw_task_info **out,
                         struct lw_error *e);
#endif
