/* aws.h: AWS JSON 1.0 calls: POST / with X-Amz-Target, SigV4-signed, errors
 * decoded (awserr.h), retried the way the SDKs' standard mode does.
 *
 * One struct lw_aws per service endpoint per loop (thread). It borrows the
 * loop, the HTTP client and the credentials provider (which threads share).
 *
 * Retries: transport errors (but TLS), 500/502/503/504, throttling and
 * transient codes; at most max_attempts attempts (default 3); the delay
 * before attempt n+1 is uniform in [0, min(2^(n-1), 20)) seconds; a retry
 * quota of 500 tokens per client (a retry costs 5, or 10 after a timeout; a
 * success refunds 1, or the retry's cost) stops retry storms. An expired
 * session token makes the provider refresh and the call retry once; a
 * clock-skew rejection corrects the signing clock from the response's Date
 * and retries once. Every attempt is signed afresh and carries the same
 * amz-sdk-invocation-id with amz-sdk-request "attempt=N; max=M".
 *
 * A success is HTTP 2xx with an empty body or a JSON object; anything else
 * in a 2xx is the retryable error MalformedResponse.
 *
 * Bursts: at most 256 attempts per client are in flight at once, long polls
 * (lw_aws_call_opts.long_poll) not counted; further attempts wait in a FIFO
 * and start as others finish (so a client sends at most 256 requests per
 * round-trip time: 5,000 a second at 50 ms). Their per-attempt timeout
 * starts when they are sent. */
#ifndef LW_AWS_H
#define LW_AWS_H
#include <jansson.h>
#include <stddef.h>
#include "creds.h"
#include "error.h"
#include "http.h"
#include "loop.h"

struct lw_aws;
struct lw_aws_call;

struct lw_aws_config {
    const char *endpoint;           /* "https://swf.us-east-1.amazonaws.com" */
    const char *region;             /* signing region */
    const char *signing_name;       /* "swf", "states" */
    const char *target_prefix;      /* "SimpleWorkflowService", "AWSStepFunctions" */
    struct lw_creds *creds;         /* borrowed */
    int max_attempts;               /* 0 = 3 */
};

struct lw_aws_call_opts {
    double timeout;                 /* per attempt; 0 = 20 s */
    double connect_timeout;         /* 0 = 5 s */
    int max_attempts;               /* 0 = the client's */
    size_t max_body;                /* response cap; 0 = 8 MiB */
    bool long_poll;                 /* may be held for a minute: never waits for
                                       a slot, and does not take one */
};

struct lw_aws_result {
    const struct lw_error *error;   /* NULL on success */
    json_t *json;                   /* success: the body (an object, {} if empty); borrowed */
    int status;
    int attempts;
    const char *request_id;         /* may be NULL */
};

typedef void (*lw_aws_cb)(void *ud, const struct lw_aws_result *r);

struct lw_aws *lw_aws_new(struct lw_loop *loop, struct lw_http *http,
                          const struct lw_aws_config *cfg, struct lw_error *err);
/* Cancels the calls still running, without calling back. */
void lw_aws_free(struct lw_aws *a);

/* Start a call of operation `op` ("PollForActivityTask") with a JSON body
 * (copied). NULL with err filled if it cannot start. The callback runs once,
 * from the loop, never from inside this call. */
struct lw_aws_call *lw_aws_call(struct lw_aws *a, const char *op, const char *body, size_t len,
                                const struct lw_aws_call_opts *o, lw_aws_cb cb, void *ud,
                                struct lw_error *err);
/* Abort a call; its callback is not called. */
void lw_aws_call_cancel(struct lw_aws_call *c);
#endif
