/* aws.c: signed AWS JSON 1.0 calls with standard-mode retries. */
#include "aws.h"
#include "awserr.h"
#include "buf.h"
#include "sigv4.h"
#include "text.h"
#include "version.h"
#include <math.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUOTA_MAX 500.0
#define RETRY_COST 5.0
#define TIMEOUT_RETRY_COST 10.0
#define CREDS_WAIT_STEP 0.1
#define CREDS_WAIT_MAX 100         /* steps: 10 s for a refresh to land */
/* Attempts in flight per client, long polls aside; the others wait their
 * turn in a FIFO. Thousands of tasks finishing or heartbeating at once would
 * otherwise each open a connection (about 23 KB of memory and a file
 * descriptor apiece, measured by make bench), and the loop, busy opening
 * them, fell further behind. As many as http.c keeps idle connections, so a
 * steady load reuses warm ones. */
#define MAX_RUNNING 256

struct lw_aws {
    struct lw_loop *loop;
    struct lw_http *http;
    struct lw_creds *creds;
    char *endpoint, *host, *path, *region, *signing_name, *target_prefix;
    char user_agent[96];
    int max_attempts;
    struct lw_sigv4_cache *sigcache;
    double quota;
    double clock_offset;            /* seconds added to time(NULL) when signing */
    struct lw_aws_call *calls;
    size_t running;                 /* attempts holding a slot (MAX_RUNNING) */
    struct lw_aws_call *wait_head, *wait_tail;  /* waiting for a slot, FIFO */
};

struct lw_aws_call {
    struct lw_aws *a;
    char target[128];
    char *body;
    size_t len;
    struct lw_aws_call_opts o;
    lw_aws_cb cb;
    void *ud;
    int attempt, max_attempts;
    double last_cost;
    bool token_retried, skew_retried;
    int creds_waits;
    char invocation_id[37];
    struct lw_http_req *req;
    struct lw_timer timer;          /* first attempt, backoff, credential wait */
    struct lw_aws_call *prev, *next;
    bool has_slot, waiting;
    struct lw_aws_call *wprev, *wnext;  /* a->wait_head list */
};

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

struct lw_aws *lw_aws_new(struct lw_loop *loop, struct lw_http *http,
                          const struct lw_aws_config *cfg, struct lw_error *err)
{
    char host[512], path[1024];
    if (lw_http_url_parts(cfg->endpoint, host, sizeof host, path, sizeof path, err) < 0)
        return NULL;
    struct lw_aws *a = calloc(1, sizeof *a);
    if (!a)
        goto oom;
    a->loop = loop;
    a->http = http;
    a->creds = cfg->creds;
    a->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 3;
    a->quota = QUOTA_MAX;
    a->endpoint = dupstr(cfg->endpoint);
    a->host = dupstr(host);
    a->path = dupstr(path);
    a->region = dupstr(cfg->region);
    a->signing_name = dupstr(cfg->signing_name);
    a->target_prefix = dupstr(cfg->target_prefix);
    a->sigcache = lw_sigv4_cache_new();
    snprintf(a->user_agent, sizeof a->user_agent, "luaworker/%s curl/%s", LW_VERSION,
             lw_http_curl_version());
    if (!a->endpoint || !a->host || !a->path || !a->region || !a->signing_name
        || !a->target_prefix || !a->sigcache) {
        lw_aws_free(a);
        goto oom;
    }
    return a;
oom:
    lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
    return NULL;
}

/* ---- the in-flight cap ---- */

static void wait_unlink(struct lw_aws_call *c)
{
    struct lw_aws *a = c->a;
    if (!c->waiting)
        return;
    if (c->wprev)
        c->wprev->wnext = c->wnext;
    else
        a->wait_head = c->wnext;
    if (c->wnext)
        c->wnext->wprev = c->wprev;
    else
        a->wait_tail = c->wprev;
    c->wprev = c->wnext = NULL;
    c->waiting = false;
}

static void wait_push(struct lw_aws_call *c)
{
    struct lw_aws *a = c->a;
    c->waiting = true;
    c->wprev = a->wait_tail;
    c->wnext = NULL;
    if (a->wait_tail)
        a->wait_tail->wnext = c;
    else
        a->wait_head = c;
    a->wait_tail = c;
}

/* Give a free slot to the oldest waiting call; it starts on the next turn. */
static void release_slot(struct lw_aws_call *c)
{
    struct lw_aws *a = c->a;
    if (!c->has_slot)
        return;
    c->has_slot = false;
    a->running--;
    while (a->running < MAX_RUNNING && a->wait_head) {
        struct lw_aws_call *next = a->wait_head;
        wait_unlink(next);
        next->has_slot = true;
        a->running++;
        lw_timer_start(a->loop, &next->timer, 0);
    }
}

static void call_free(struct lw_aws_call *c)
{
    struct lw_aws *a = c->a;
    wait_unlink(c);
    release_slot(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        a->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    lw_timer_stop(a->loop, &c->timer);
    if (c->req)
        lw_http_cancel(c->req);
    free(c->body);
    free(c);
}

void lw_aws_free(struct lw_aws *a)
{
    if (!a)
        return;
    while (a->calls)
        call_free(a->calls);
    lw_sigv4_cache_free(a->sigcache);
    free(a->endpoint);
    free(a->host);
    free(a->path);
    free(a->region);
    free(a->signing_name);
    free(a->target_prefix);
    free(a);
}

/* ---- completion ---- */

static void complete(struct lw_aws_call *c, const struct lw_error *err, json_t *json, int status,
                     const char *request_id)
{
    struct lw_aws_result r = { .error = err, .json = json, .status = status,
                               .attempts = c->attempt, .request_id = request_id };
    lw_aws_cb cb = c->cb;
    void *ud = c->ud;
    call_free(c);
    cb(ud, &r);
}

static void attempt(struct lw_aws_call *c);

static void on_timer(struct lw_timer *t, void *ud) { attempt(ud); }

static void retry_or_fail(struct lw_aws_call *c, const struct lw_error *err, int status,
                          const char *request_id)
{
    struct lw_aws *a = c->a;
    if (err->retryable && c->attempt < c->max_attempts) {
        bool timeout = strcmp(err->code, "HttpTimeout") == 0 || strcmp(err->code, "ConnectTimeout") == 0;
        double cost = timeout ? TIMEOUT_RETRY_COST : RETRY_COST;
        if (a->quota >= cost) {
            a->quota -= cost;
            c->last_cost = cost;
            double cap = pow(2.0, c->attempt - 1);
            if (cap > 20)
                cap = 20;
            double delay = cap * ((double)random() / ((double)RAND_MAX + 1.0));
            lw_timer_start(a->loop, &c->timer, delay);
            return;
        }
    }
    complete(c, err, NULL, status, request_id);
}

static time_t parse_http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s || !strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        return 0;
    return timegm(&tm);
}

static void on_http(void *ud, const struct lw_http_response *res)
{
    struct lw_aws_call *c = ud;
    struct lw_aws *a = c->a;
    c->req = NULL;
    release_slot(c);
    struct lw_error err;
    if (res->status == 0) {
        err = res->error;
        lw_awserr_classify(&err);
        retry_or_fail(c, &err, 0, NULL);
        return;
    }
    const char *rid = lw_http_header_get(res, "x-amzn-RequestId");
    if (res->status >= 200 && res->status < 300) {
        json_t *json;
        json_error_t je;
        if (res->body_len == 0)
            json = json_object();
        else
            json = json_loadb(res->body, res->body_len, JSON_ALLOW_NUL, &je);
        if (!json) {
            /* An unpaired surrogate escape ("\ud800") in a string, which a
             * Java service can send and jansson refuses: read it as U+FFFD
             * rather than lose the task the answer carries. */
            size_t n;
            char *fixed = lw_json_fix_surrogates(res->body, res->body_len, &n);
            if (fixed) {
                json = json_loadb(fixed, n, JSON_ALLOW_NUL, &je);
                free(fixed);
            }
        }
        if (!json_is_object(json)) {
            json_decref(json);
            lw_error_set(&err, LW_ERR_SERVICE, true, "MalformedResponse",
                         "HTTP %d with a body that is not a JSON object (%zu bytes)", res->status,
                         res->body_len);
            err.status = res->status;
            if (rid)
                snprintf(err.request_id, sizeof err.request_id, "%s", rid);
            retry_or_fail(c, &err, res->status, rid);
            return;
        }
        /* Standard mode refunds: 1 for a first-try success, else the retry's cost. */
        a->quota += c->attempt > 1 ? c->last_cost : 1.0;
        if (a->quota > QUOTA_MAX)
            a->quota = QUOTA_MAX;
        complete(c, NULL, json, res->status, rid);
        json_decref(json);
        return;
    }
    lw_awserr_decode(res->status, lw_http_header_get(res, "x-amzn-ErrorType"), rid, res->body,
                     res->body_len, &err);
    if (lw_awserr_is_expired_token(&err) && !c->token_retried) {
        c->token_retried = true;
        lw_creds_invalidate(a->creds);
        c->max_attempts++;              /* this retry is on us, not the service */
        lw_timer_start(a->loop, &c->timer, 0);
        return;
    }
    if (lw_awserr_is_clock_skew(&err) && !c->skew_retried) {
        time_t server = parse_http_date(lw_http_header_get(res, "Date"));
        if (server) {
            c->skew_retried = true;
            a->clock_offset = (double)server - (double)time(NULL);
            c->max_attempts++;
            lw_timer_start(a->loop, &c->timer, 0);
            return;
        }
    }
    retry_or_fail(c, &err, res->status, rid);
}

/* ---- one attempt ---- */

static void attempt(struct lw_aws_call *c)
{
    struct lw_aws *a = c->a;
    struct lw_error err;
    struct lw_credentials *cr = NULL;
    enum lw_creds_state st = lw_creds_get(a->creds, a->loop, a->http, &cr, &err);
    if (st == LW_CREDS_EXPIRED) {
        lw_credentials_release(cr);
        if (++c->creds_waits > CREDS_WAIT_MAX) {
            lw_error_set(&err, LW_ERR_CREDENTIALS, true, "CredentialsExpired",
                         "the AWS credentials expired and no fresh ones arrived in time");
            complete(c, &err, NULL, 0, NULL);
            return;
        }
        lw_timer_start(a->loop, &c->timer, CREDS_WAIT_STEP);
        return;
    }
    if (st != LW_CREDS_OK || !cr) {
        lw_credentials_release(cr);
        if (!err.code[0])
            lw_error_set(&err, LW_ERR_CREDENTIALS, true, "NoCredentials", "no AWS credentials");
        err.kind = LW_ERR_CREDENTIALS;
        err.retryable = true;
        complete(c, &err, NULL, 0, NULL);
        return;
    }
    if (!c->has_slot && !c->o.long_poll) {
        if (a->running >= MAX_RUNNING) {
            lw_credentials_release(cr);
            wait_push(c);           /* release_slot starts it again */
            return;
        }
        c->has_slot = true;
        a->running++;
    }
    c->attempt++;
    char amz_sdk_request[48];
    snprintf(amz_sdk_request, sizeof amz_sdk_request, "attempt=%d; max=%d", c->attempt, c->max_attempts);
    struct lw_sigv4_header signed_hdrs[] = {
        { "Host", a->host },
        { "Content-Type", "application/x-amz-json-1.0" },
        { "X-Amz-Target", c->target },
    };
    struct lw_sigv4_request sreq = { .method = "POST", .path = a->path, .headers = signed_hdrs,
                                     .nheaders = 3, .body = c->body, .body_len = c->len };
    struct lw_sigv4_params sp = { .access_key_id = cr->access_key_id,
                                  .secret_access_key = cr->secret_access_key,
                                  .session_token = cr->session_token, .region = a->region,
                                  .service = a->signing_name,
                                  .time = time(NULL) + (time_t)a->clock_offset };
    struct lw_sigv4_result sig;
    memset(&sig, 0, sizeof sig);
    int rc = lw_sigv4_sign(a->sigcache, &sreq, &sp, &sig, NULL);
    if (rc < 0) {
        lw_credentials_release(cr);
        lw_error_set(&err, LW_ERR_CLIENT, false, "SigningFailed", "cannot sign the request: %s",
                     lw_sigv4_strerror(rc));
        complete(c, &err, NULL, 0, NULL);
        return;
    }
    struct lw_http_header hdrs[12];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++)
        hdrs[n++] = (struct lw_http_header){ signed_hdrs[i].name, signed_hdrs[i].value };
    for (size_t i = 0; i < sig.nadd; i++)
        hdrs[n++] = (struct lw_http_header){ sig.add[i].name, sig.add[i].value };
    hdrs[n++] = (struct lw_http_header){ "User-Agent", a->user_agent };
    hdrs[n++] = (struct lw_http_header){ "amz-sdk-invocation-id", c->invocation_id };
    hdrs[n++] = (struct lw_http_header){ "amz-sdk-request", amz_sdk_request };
    struct lw_http_opts ho = {
        .method = "POST", .url = a->endpoint, .headers = hdrs, .nheaders = n,
        .body = c->body, .body_len = c->len,
        .connect_timeout = c->o.connect_timeout > 0 ? c->o.connect_timeout : 5,
        .timeout = c->o.timeout > 0 ? c->o.timeout : 20,
        .max_body = c->o.max_body ? c->o.max_body : (8u << 20),
    };
    c->req = lw_http_submit(a->http, &ho, on_http, c, &err);
    lw_sigv4_result_free(&sig);
    lw_credentials_release(cr);
    if (!c->req)
        complete(c, &err, NULL, 0, NULL);
}

static void uuid4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)random();
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    /* 8-4-4-4-12 lower-case hex digits (one per call: no printf here) */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < sizeof b; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

struct lw_aws_call *lw_aws_call(struct lw_aws *a, const char *op, const char *body, size_t len,
                                const struct lw_aws_call_opts *o, lw_aws_cb cb, void *ud,
                                struct lw_error *err)
{
    struct lw_aws_call *c = calloc(1, sizeof *c);
    if (!c || !(c->body = malloc(len + 1))) {
        free(c);
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
        return NULL;
    }
    memcpy(c->body, body, len);
    c->body[len] = '\0';
    c->len = len;
    c->a = a;
    snprintf(c->target, sizeof c->target, "%s.%s", a->target_prefix, op);
    if (o)
        c->o = *o;
    c->max_attempts = c->o.max_attempts > 0 ? c->o.max_attempts : a->max_attempts;
    c->cb = cb;
    c->ud = ud;
    uuid4(c->invocation_id);
    lw_timer_init(&c->timer, on_timer, c);
    c->next = a->calls;
    if (a->calls)
        a->calls->prev = c;
    a->calls = c;
    /* Start on the next loop turn, so the callback never runs inside this
     * call (a credentials failure would otherwise report at once). */
    lw_timer_start(a->loop, &c->timer, 0);
    return c;
}

void lw_aws_call_cancel(struct lw_aws_call *c)
{
    if (c)
        call_free(c);
}
