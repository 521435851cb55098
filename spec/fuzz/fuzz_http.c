/* fuzz_http.c: the HTTP response path, end to end. An in-process peer on
 * 127.0.0.1 (a random port, served from the same lw_loop) reads each
 * request and answers it with the fuzz bytes as the raw HTTP response, then
 * closes the connection. What reads that answer is the real code: libcurl
 * under runtime/http.c (status line, header block split by parse_headers,
 * body cap, transport errors), then per mode:
 *   0-5  SWF / Step Functions poll, heartbeat and respond through svcaws.c
 *        and aws.c: SigV4-signed calls, error decoding from the body and
 *        x-amzn-ErrorType, the expired-token and clock-skew (Date header)
 *        retries, the 2xx JSON check, lw_svcaws_parse_poll into a task;
 *   6    a plain lw_http GET with a 64-byte body cap (lw.http's path);
 *   7    the container credentials source (creds_http.c), up to 3 tries;
 *   8    the EC2 instance metadata source: token, role and credentials
 *        requests all get the same answer.
 * Every call must complete (no hang: 30 s is a finding), report a complete
 * error or a result, and leave nothing behind (ASan's leak check).
 *
 * Input: byte 0 picks the mode (modulo 9); the rest is the response. */
#define LW_CREDS_INTERNAL
#include "aws.h"
#include "creds.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "service.h"
#include "svcaws.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CONNS 32
#define REQ_CAP 16384
#define HANG_LIMIT 30.0

/* ---- the peer ---- */

struct conn {
    int fd;                     /* -1: free slot */
    char req[REQ_CAP];
    size_t rlen;
    size_t wpos;
    bool writing;
};

static struct lw_loop *loop;
static int lfd = -1, port;
static struct conn conns[MAX_CONNS];
static const char *answer;
static size_t answer_len;

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        lw_loop_unwatch(loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }
}

/* The whole request is in: its header block and Content-Length bytes. */
static bool request_complete(const struct conn *c)
{
    if (c->rlen == REQ_CAP)
        return true;                /* a request this big is not ours: answer anyway */
    const char *end = memmem(c->req, c->rlen, "\r\n\r\n", 4);
    if (!end)
        return false;
    size_t head = (size_t)(end - c->req) + 4;
    size_t body = 0;
    for (const char *p = c->req; p < end;) {
        const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
        if (eol - p > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
            body = strtoul(p + 15, NULL, 10);
        p = eol + 2;
    }
    return c->rlen >= head + body;
}

static void on_conn(void *ud, int fd, unsigned events)
{
    struct conn *c = ud;
    if (!c->writing) {
        for (;;) {
            ssize_t r = read(fd, c->req + c->rlen, REQ_CAP - c->rlen);
            if (r > 0) {
                c->rlen += (size_t)r;
                if (c->rlen == REQ_CAP || request_complete(c))
                    break;
                continue;
            }
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            conn_close(c);          /* the client went away */
            return;
        }
        c->writing = true;
        if (lw_loop_watch(loop, fd, LW_WRITE, on_conn, c) < 0) {
            conn_close(c);
            return;
        }
    }
    while (c->wpos < answer_len) {
        ssize_t w = send(fd, answer + c->wpos, answer_len - c->wpos, MSG_NOSIGNAL);
        if (w > 0) {
            c->wpos += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        break;
    }
    conn_close(c);                  /* the answer is delimited by the close, if by nothing else */
}

static void on_listen(void *ud, int fd, unsigned events)
{
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        struct conn *c = NULL;
        for (size_t i = 0; i < MAX_CONNS && !c; i++)
            if (conns[i].fd < 0)
                c = &conns[i];
        if (!c) {
            close(cfd);
            continue;
        }
        c->fd = cfd;
        c->rlen = c->wpos = 0;
        c->writing = false;
        if (lw_loop_watch(loop, cfd, LW_READ, on_conn, c) < 0)
            conn_close(c);
    }
}

/* ---- the clients ---- */

static struct lw_creds *creds;      /* static keys, for the AWS calls */
static char endpoint[64];
static bool done;

static void check_error(const struct lw_error *e)
{
    if (!e->code[0] || !memchr(e->code, 0, sizeof e->code)
        || !memchr(e->message, 0, sizeof e->message) || e->kind == LW_ERR_NONE
        || (unsigned char)e->retryable > 1 || (unsigned char)e->throttle > 1) {
        fprintf(stderr, "fuzz_http: incomplete error: kind %d code \"%.64s\" retryable %u "
                "throttle %u status %d\n", (int)e->kind, e->code, *(const unsigned char *)&e->retryable,
                *(const unsigned char *)&e->throttle, e->status);
        abort();
    }
}

static void on_poll(void *ud, struct lw_task_info *t, const struct lw_error *err)
{
    done = true;
    if (err) {
        if (t)
            abort();
        check_error(err);
        return;
    }
    if (t) {
        if (!t->token || !t->token_len)
            abort();
        struct lw_log_field f[] = { LW_STR("activity_type", t->type_name),
                                    LW_STR("activity_id", t->activity_id),
                                    LW_STR("token", t->token_hash) };
        lw_log(LW_LOG_INFO, "task", f, 3);
        lw_task_info_destroy(t);
    }
}

static void on_hb(void *ud, enum lw_hb_status st, const struct lw_error *err)
{
    done = true;
    if ((st == LW_HB_OK || st == LW_HB_CANCEL_REQUESTED) != !err)
        abort();
    if (err)
        check_error(err);
}

static void on_resp(void *ud, enum lw_resp_status st, const struct lw_error *err)
{
    done = true;
    if ((st == LW_RESP_OK) != !err)
        abort();
    if (err)
        check_error(err);
}

static void on_raw(void *ud, const struct lw_http_response *res)
{
    done = true;
    if (!res->body || res->body[res->body_len] != '\0' || res->body_len > 64)
        abort();
    if (res->status == 0) {
        check_error(&res->error);
        return;
    }
    for (size_t i = 0; i < res->nheaders; i++)
        if (!res->headers[i].name || !res->headers[i].value)
            abort();
        else
            (void)(strlen(res->headers[i].name) + strlen(res->headers[i].value));
    lw_http_header_get(res, "x-amzn-RequestId");
    lw_http_header_get(res, "Content-Type");
}

static void run_until_done(void)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!done) {
        lw_loop_run_once(loop, 0.5);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 > HANG_LIMIT) {
            fprintf(stderr, "fuzz_http: no completion within %.0f s\n", HANG_LIMIT);
            abort();
        }
    }
}

static void aws_mode(struct lw_http *http, int mode)
{
    bool sfn = mode >= 3;
    struct lw_aws_config cfg = {
        .endpoint = endpoint, .region = "us-east-1", .signing_name = sfn ? "states" : "swf",
        .target_prefix = sfn ? "AWSStepFunctions" : "SimpleWorkflowService", .creds = creds,
        .max_attempts = 1,          /* no backoff sleeps: one try, plus the token/skew retries */
    };
    struct lw_error err;
    struct lw_aws *aws = lw_aws_new(loop, http, &cfg, &err);
    if (!aws)
        abort();
    struct lw_service *svc = lw_svcaws_new(sfn ? &lw_sfn_profile : &lw_swf_profile, aws, "demo",
                                           "main", "arn:aws:states:us-east-1:1:activity:a",
                                           "fuzz:1", &err);
    if (!svc)
        abort();
    struct lw_task_info t = { .token = "AAAAtokenBBBB", .token_len = 13 };
    struct lw_outcome o = { .kind = LW_OUTCOME_COMPLETED, .result = "{}", .result_len = 2 };
    struct lw_svc_op *op;
    switch (mode % 3) {
    case 0: op = svc->ops->poll(svc, on_poll, NULL, &err); break;
    case 1: op = svc->ops->heartbeat(svc, &t, "50%", 3, on_hb, NULL, &err); break;
    default: op = svc->ops->respond(svc, &t, &o, on_resp, NULL, &err); break;
    }
    if (!op)
        abort();
    run_until_done();
    lw_service_free(svc);
    lw_aws_free(aws);
}

static void raw_mode(struct lw_http *http)
{
    char url[96];
    snprintf(url, sizeof url, "%s/raw", endpoint);
    struct lw_http_header h[] = { { "Accept", "*/*" } };
    struct lw_http_opts o = { .method = "GET", .url = url, .headers = h, .nheaders = 1,
                              .timeout = 20, .max_body = 64 };
    struct lw_error err;
    if (!lw_http_submit(http, &o, on_raw, NULL, &err))
        abort();
    run_until_done();
}

static void creds_mode(struct lw_http *http, bool imds)
{
    char url[96];
    char *env[8];
    size_t n = 0;
    env[n++] = "AWS_CONFIG_FILE=/nonexistent";
    env[n++] = "AWS_SHARED_CREDENTIALS_FILE=/nonexistent";
    env[n++] = "AWS_METADATA_SERVICE_TIMEOUT=20";
    if (imds) {
        snprintf(url, sizeof url, "AWS_EC2_METADATA_SERVICE_ENDPOINT=%s", endpoint);
    } else {
        snprintf(url, sizeof url, "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s/creds", endpoint);
        env[n++] = "AWS_EC2_METADATA_DISABLED=true";
    }
    env[n++] = url;
    env[n] = NULL;
    struct lw_creds_config cfg = { .env = env, .container_timeout = 20,
                                   .container_retry_delay = 0.001 };
    struct lw_error err;
    struct lw_creds *c = lw_creds_new(&cfg, &err);
    if (!c)
        abort();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (lw_creds_resolve(c, loop, http, &err) < 0) {
        check_error(&err);
    } else {
        struct lw_credentials *cr = NULL;
        if (lw_creds_get(c, loop, http, &cr, &err) != LW_CREDS_OK || !cr)
            abort();
        lw_credentials_release(cr);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if ((double)(t1.tv_sec - t0.tv_sec) > HANG_LIMIT)
        abort();
    lw_creds_cancel(c, loop);
    lw_creds_free(c);
}

static void init(void)
{
    signal(SIGPIPE, SIG_IGN);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    lw_log_configure(LW_LOG_DEBUG, LW_LOG_TEXT, devnull);
    for (size_t i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;
    loop = lw_loop_new();
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (!loop || lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0
        || listen(lfd, 64) < 0 || getsockname(lfd, (struct sockaddr *)&a, &al) < 0
        || lw_loop_watch(loop, lfd, LW_READ, on_listen, NULL) < 0)
        abort();
    port = ntohs(a.sin_port);
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    static char *env[] = { "AWS_ACCESS_KEY_ID=AKIDFUZZ", "AWS_SECRET_ACCESS_KEY=sekrit-fuzz",
                           "AWS_CONFIG_FILE=/nonexistent",
                           "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
                           "AWS_EC2_METADATA_DISABLED=true", NULL };
    struct lw_creds_config cfg = { .env = env };
    struct lw_error err;
    creds = lw_creds_new(&cfg, &err);
    struct lw_http *http = lw_http_new(loop, &err);
    if (!creds || !http || lw_creds_resolve(creds, loop, http, &err) < 0)
        abort();
    lw_creds_cancel(creds, loop);
    lw_http_free(http);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!loop)
        init();
    if (size < 1)
        return 0;
    int mode = data[0] % 9;
    answer = (const char *)data + 1;
    answer_len = size - 1;
    done = false;
    struct lw_error err;
    struct lw_http *http = lw_http_new(loop, &err);
    if (!http)
        abort();
    if (mode < 6)
        aws_mode(http, mode);
    else if (mode == 6)
        raw_mode(http);
    else
        creds_mode(http, mode == 8);
    lw_creds_cancel(creds, loop);
    lw_http_free(http);
    for (size_t i = 0; i < MAX_CONNS; i++)
        conn_close(&conns[i]);
    /* let the loop forget the closed descriptors' timers and deferred calls */
    while (lw_loop_run_once(loop, 0) > 0)
        ;
    if (lw_loop_pending(loop) != 1)     /* the listener is all that is left */
        abort();
    return 0;
}
