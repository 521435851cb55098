/* aws_driver: one AWS JSON 1.0 call through the real client (credentials
 * chain, signer, HTTP layer, retries), for spec/e2e/test_aws_client.py.
 *
 * usage: aws_driver ENDPOINT REGION swf|states OPERATION JSON-BODY
 * Credentials come from the usual chain (the environment in the tests).
 * Prints one JSON line: ok, code, message, status, attempts, retryable,
 * throttle, request_id, elapsed (seconds) and, on success, the answer. */
#include "aws.h"
#include "creds.h"
#include "http.h"
#include "loop.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct out {
    bool done;
    json_t *line;
};

static void on_done(void *ud, const struct lw_aws_result *r)
{
    struct out *o = ud;
    o->done = true;
    json_t *j = json_object();
    json_object_set_new(j, "ok", json_boolean(!r->error));
    json_object_set_new(j, "status", json_integer(r->status));
    json_object_set_new(j, "attempts", json_integer(r->attempts));
    if (r->request_id)
        json_object_set_new(j, "request_id", json_string(r->request_id));
    if (r->error) {
        json_object_set_new(j, "code", json_string(r->error->code));
        json_object_set_new(j, "message", json_string(r->error->message));
        json_object_set_new(j, "retryable", json_boolean(r->error->retryable));
        json_object_set_new(j, "throttle", json_boolean(r->error->throttle));
    } else {
        json_object_set(j, "answer", r->json);
    }
    o->line = j;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: aws_driver ENDPOINT REGION swf|states OPERATION JSON-BODY\n");
        return 2;
    }
    struct lw_error err;
    lw_error_clear(&err);
    struct lw_loop *loop = lw_loop_new();
    struct lw_http *http = lw_http_new(loop, &err);
    struct lw_creds *creds = lw_creds_new(NULL, &err);
    if (!http || !creds || lw_creds_resolve(creds, loop, http, &err) < 0) {
        fprintf(stderr, "aws_driver: %s: %s\n", err.code, err.message);
        return 1;
    }
    bool swf = strcmp(argv[3], "swf") == 0;
    struct lw_aws_config cfg = { .endpoint = argv[1], .region = argv[2], .signing_name = argv[3],
                                 .target_prefix = swf ? "SimpleWorkflowService" : "AWSStepFunctions",
                                 .creds = creds };
    struct lw_aws *aws = lw_aws_new(loop, http, &cfg, &err);
    if (!aws) {
        fprintf(stderr, "aws_driver: %s: %s\n", err.code, err.message);
        return 1;
    }
    struct out o = { 0 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct lw_aws_call_opts opts = { .timeout = 5 };
    if (!lw_aws_call(aws, argv[4], argv[5], strlen(argv[5]), &opts, on_done, &o, &err)) {
        fprintf(stderr, "aws_driver: %s: %s\n", err.code, err.message);
        return 1;
    }
    while (!o.done)
        lw_loop_run_once(loop, -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    json_object_set_new(o.line, "elapsed", json_real((double)(t1.tv_sec - t0.tv_sec)
                                                      + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9));
    char *s = json_dumps(o.line, JSON_COMPACT);
    puts(s);
    free(s);
    json_decref(o.line);
    lw_aws_free(aws);
    lw_creds_free(creds);
    lw_http_free(http);
    lw_loop_free(loop);
    return 0;
}
