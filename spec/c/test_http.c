/* Unit tests for runtime/http.c against fixture_server.h, a scripted HTTP
 * server running in threads of this test. The path picks the behaviour:
 * /ok, /echo, /big, /hang, /close, /nostatus, anything else (/count) answers
 * the number of connections accepted so far. */
#include "t.h"
#include "http.h"
#include "fixture_server.h"

/* strdup for fx_response.raw: sent verbatim, then the connection closes */
static void raw(struct fx_response *rs, const char *bytes)
{
    rs->raw = strdup(bytes);
    rs->raw_len = strlen(bytes);
}

static void handler(const struct fx_request *rq, struct fx_response *rs, void *ud)
{
    rs->status = 200;
    if (strcmp(rq->path, "/ok") == 0) {
        snprintf(rs->headers, sizeof rs->headers,
                 "Content-Type: application/json\r\nX-Test-Header:  padded value  \r\n");
        snprintf(rs->body, sizeof rs->body, "{\"hello\":\"world\"}");
    } else if (strcmp(rq->path, "/echo") == 0) {
        char val[64];
        fx_header(rq, "X-Echo", val, sizeof val);
        rs->status = 201;
        snprintf(rs->headers, sizeof rs->headers, "X-Echo: %s\r\n", val);
        memcpy(rs->body, rq->body, rq->body_len);       /* it may hold NULs */
        rs->body_len = rq->body_len;
    } else if (strcmp(rq->path, "/big") == 0) {        /* a 1 MiB body of zeros */
        size_t big = 1 << 20;
        char head[128];
        int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big);
        rs->raw = calloc(1, (size_t)n + big);
        if (rs->raw) {
            memcpy(rs->raw, head, (size_t)n);
            rs->raw_len = (size_t)n + big;
        }
    } else if (strcmp(rq->path, "/hang") == 0) {
        rs->delay = 3;
        rs->hang = true;
    } else if (strcmp(rq->path, "/nostatus") == 0) {
        /* what libcurl takes for a header line: a response without a status */
        raw(rs, "HTTP/200 OK\r\nConnection: close\r\n\r\n{\"a\":1}");
    } else if (strcmp(rq->path, "/close") == 0) {
        raw(rs, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"par");
    } else {
        snprintf(rs->body, sizeof rs->body, "%d", fx.nconns);       /* fx.mu is held */
    }
}

/* ---- client side ---- */

struct result {
    int done;
    int status;
    char code[64];
    char body[256];
    size_t body_len;
    char header[64];
    char echo[64];
    bool retryable;
};

static void on_done(void *ud, const struct lw_http_response *res)
{
    struct result *r = ud;
    r->done++;
    r->status = res->status;
    r->retryable = res->error.retryable;
    snprintf(r->code, sizeof r->code, "%s", res->error.code);
    r->body_len = res->body_len;
    snprintf(r->body, sizeof r->body, "%.*s", (int)(res->body_len < 200 ? res->body_len : 200), res->body);
    const char *h = lw_http_header_get(res, "x-test-header");
    snprintf(r->header, sizeof r->header, "%s", h ? h : "");
    h = lw_http_header_get(res, "X-ECHO");
    snprintf(r->echo, sizeof r->echo, "%s", h ? h : "");
}

static struct lw_loop *loop;
static struct lw_http *http;

static void url(char *out, size_t n, const char *path)
{
    snprintf(out, n, "http://127.0.0.1:%d%s", fx.port, path);
}

static void run_until(int *flag, int want, double secs)
{
    double end = lw_loop_now(loop) + secs;
    while (*flag < want && lw_loop_now(loop) < end)
        lw_loop_run_once(loop, 0.05);
}

static void get(const char *path, struct lw_http_opts *o, struct result *r)
{
    char u[128];
    url(u, sizeof u, path);
    o->url = u;
    struct lw_error err;
    memset(r, 0, sizeof *r);
    CHECK(lw_http_submit(http, o, on_done, r, &err) != NULL);
    run_until(&r->done, 1, 10);
    CHECK_INT(r->done, 1);
}

static void test_get_ok(void)
{
    struct lw_http_opts o = { .method = "GET" };
    struct result r;
    get("/ok", &o, &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "{\"hello\":\"world\"}");
    CHECK_STR(r.header, "padded value");
    CHECK_STR(r.code, "");
    CHECK_INT(lw_http_active(http), 0);
}

static void test_post_body_and_headers(void)
{
    struct lw_http_header h[] = { { "X-Echo", "abc" }, { "Content-Type", "application/x-amz-json-1.0" } };
    struct lw_http_opts o = { .method = "POST", .headers = h, .nheaders = 2,
                              .body = "{\"a\":1}\0tail", .body_len = 12 };
    struct result r;
    get("/echo", &o, &r);
    CHECK_INT(r.status, 201);
    CHECK_INT(r.body_len, 12);
    CHECK_STR(r.echo, "abc");
    CHECK(memcmp(r.body, "{\"a\":1}", 7) == 0);
}

static void test_body_cap(void)
{
    struct lw_http_opts o = { .method = "GET", .max_body = 1000 };
    struct result r;
    get("/big", &o, &r);
    CHECK_INT(r.status, 0);
    CHECK_STR(r.code, "BodyTooLarge");
}

static void test_timeout(void)
{
    struct lw_http_opts o = { .method = "GET", .timeout = 0.3 };
    struct result r;
    get("/hang", &o, &r);
    CHECK_STR(r.code, "HttpTimeout");
    CHECK(r.retryable);
}

static void test_closed_mid_response(void)
{
    struct lw_http_opts o = { .method = "GET" };
    struct result r;
    get("/close", &o, &r);
    CHECK_INT(r.status, 0);
    CHECK_STR(r.code, "ConnectionClosed");
    CHECK(r.retryable);
}

/* found by fuzz_http: a transfer libcurl ends without error and status 0
 * used to reach the callback with status 0 and an empty error */
static void test_no_status_line(void)
{
    struct lw_http_opts o = { .method = "GET" };
    struct result r;
    get("/nostatus", &o, &r);
    CHECK_INT(r.status, 0);
    CHECK_STR(r.code, "NetworkError");
    CHECK(r.retryable);
}

static void test_connection_refused(void)
{
    /* a port that was just bound and closed is very likely free */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    struct lw_http_opts o = { .method = "GET", .url = u };
    struct result r = { 0 };
    struct lw_error err;
    CHECK(lw_http_submit(http, &o, on_done, &r, &err) != NULL);
    run_until(&r.done, 1, 10);
    CHECK_STR(r.code, "ConnectionRefused");
}

static void test_tls_to_plain_server_fails(void)
{
    char u[64];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/ok", fx.port);
    struct lw_http_opts o = { .method = "GET", .url = u, .timeout = 5 };
    struct result r = { 0 };
    struct lw_error err;
    CHECK(lw_http_submit(http, &o, on_done, &r, &err) != NULL);
    run_until(&r.done, 1, 10);
    CHECK_STR(r.code, "TlsError");
    CHECK(!r.retryable);
}

static void test_many_concurrent_and_reuse(void)
{
    enum { N = 60 };
    static struct result rs[N];
    int done = 0;
    struct lw_http_opts o = { .method = "GET" };
    char u[128];
    url(u, sizeof u, "/count");
    o.url = u;
    struct lw_error err;
    for (int i = 0; i < N; i++) {
        memset(&rs[i], 0, sizeof rs[i]);
        CHECK(lw_http_submit(http, &o, on_done, &rs[i], &err) != NULL);
    }
    double end = lw_loop_now(loop) + 10;
    while (lw_loop_now(loop) < end) {
        done = 0;
        for (int i = 0; i < N; i++)
            done += rs[i].done;
        if (done == N)
            break;
        lw_loop_run_once(loop, 0.05);
    }
    CHECK_INT(done, N);
    for (int i = 0; i < N; i++)
        CHECK_INT(rs[i].status, 200);
    /* sequential requests now reuse the open connections: no new accepts */
    int before = fx_accepts();
    for (int i = 0; i < 5; i++) {
        struct result r;
        get("/count", &o, &r);
        CHECK_INT(r.status, 200);
    }
    CHECK_INT(fx_accepts(), before);
}

static void test_cancel_in_flight(void)
{
    struct lw_http_opts o = { .method = "GET", .timeout = 5 };
    char u[128];
    url(u, sizeof u, "/hang");
    o.url = u;
    struct result r = { 0 };
    struct lw_error err;
    struct lw_http_req *req = lw_http_submit(http, &o, on_done, &r, &err);
    CHECK(req != NULL);
    lw_loop_run_once(loop, 0.05);
    CHECK_INT(lw_http_active(http), 1);
    lw_http_cancel(req);
    CHECK_INT(lw_http_active(http), 0);
    for (int i = 0; i < 5; i++)
        lw_loop_run_once(loop, 0.02);
    CHECK_INT(r.done, 0);
}

int main(void)
{
    fx_start();
    fx_set_handler(handler, NULL);
    loop = lw_loop_new();
    struct lw_error err;
    http = lw_http_new(loop, &err);
    RUN(test_get_ok);
    RUN(test_post_body_and_headers);
    RUN(test_body_cap);
    RUN(test_timeout);
    RUN(test_closed_mid_response);
    RUN(test_no_status_line);
    RUN(test_connection_refused);
    RUN(test_tls_to_plain_server_fails);
    RUN(test_many_concurrent_and_reuse);
    RUN(test_cancel_in_flight);
    lw_http_free(http);
    lw_loop_free(loop);
    fx_stop();
    return T_DONE();
}
