/* http.c: curl multi glue over lw_loop (curl_multi_socket_action + epoll).
 *
 * Curl callbacks only record what curl asks for (watch this socket, arm this
 * timer, append these bytes). Completed transfers are collected after each
 * curl_multi_socket_action returns and their callbacks run from there. */
#include "http.h"
#include "buf.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_BODY (16u << 20)
#define MAX_HEADER_BYTES (64u << 10)
#define MAX_HEADERS 128
/* Idle connections kept for reuse. libcurl's default limit (4 x the
 * transfers in flight at that moment) closes warm connections whenever
 * traffic dips and opens new ones moments later: under a steady load 2-7% of
 * the requests paid for a new TCP connection. */
#define MAX_IDLE_CONNECTIONS 256L

struct lw_http_req {
    struct lw_http *h;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;                     /* request body, owned */
    struct lw_buf resp;             /* response body, capped */
    struct lw_buf rhdr;             /* raw response header lines, capped */
    bool too_large;
    bool done;                      /* collected, callback pending */
    bool cancelled;
    CURLcode result;                /* set when collected */
    double started;
    lw_http_cb cb;
    void *ud;
    struct lw_http_req *prev, *next;    /* in h->active or h->done list */
    char errbuf[CURL_ERROR_SIZE];
};

struct lw_http {
    struct lw_loop *loop;
    CURLM *multi;
    struct lw_timer timer;
    struct lw_http_req *active;     /* in flight */
    struct lw_http_req *done_head, *done_tail;
    size_t nactive;
    char *ca_bundle;
    CURL **pool;                    /* idle easy handles */
    size_t npool, pool_alloc;
    bool in_check;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;
static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static void check_done(struct lw_http *h);

/* ---- curl -> loop ---- */

static void on_socket_event(void *ud, int fd, unsigned events)
{
    struct lw_http *h = ud;
    int mask = 0, running;
    if (events & LW_READ)
        mask |= CURL_CSELECT_IN;
    if (events & LW_WRITE)
        mask |= CURL_CSELECT_OUT;
    curl_multi_socket_action(h->multi, fd, mask, &running);
    check_done(h);
}

static void on_timer(struct lw_timer *t, void *ud)
{
    struct lw_http *h = ud;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct lw_http *h = userp;
    if (what == CURL_POLL_REMOVE) {
        lw_loop_unwatch(h->loop, s);
        return 0;
    }
    unsigned ev = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev |= LW_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev |= LW_WRITE;
    return lw_loop_watch(h->loop, s, ev, on_socket_event, h) < 0 ? -1 : 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct lw_http *h = userp;
    if (timeout_ms < 0)
        lw_timer_stop(h->loop, &h->timer);
    else
        lw_timer_start(h->loop, &h->timer, (double)timeout_ms / 1000.0);
    return 0;
}

/* ---- transfer callbacks: append only ---- */

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct lw_http_req *r = ud;
    size_t len = size * n;
    if (lw_buf_append(&r->resp, p, len) < 0) {
        r->too_large = true;
        return 0;               /* curl stops with CURLE_WRITE_ERROR */
    }
    return len;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct lw_http_req *r = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
        lw_buf_reset(&r->rhdr);   /* a new response (after 100 Continue or a redirect) */
    if (lw_buf_append(&r->rhdr, p, len) < 0)
        return 0;
    return len;
}

/* ---- lifecycle ---- */

struct lw_http *lw_http_new(struct lw_loop *loop, struct lw_error *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        lw_error_set(err, LW_ERR_CLIENT, false, "CurlInit", "curl_global_init failed: %s",
                     curl_easy_strerror(global_rc));
        return NULL;
    }
    struct lw_http *h = calloc(1, sizeof *h);
    if (!h || !(h->multi = curl_multi_init())) {
        free(h);
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "cannot create a curl multi handle");
        return NULL;
    }
    h->loop = loop;
    lw_timer_init(&h->timer, on_timer, h);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, MAX_IDLE_CONNECTIONS);
    return h;
}

/* Keep up to POOL_MAX idle easy handles: resetting one is cheaper than
 * creating one. */
#define POOL_MAX 256
static int pool_put(struct lw_http *h, CURL *e)
{
    if (h->npool == POOL_MAX)
        return -1;
    if (h->npool == h->pool_alloc) {
        size_t n = h->pool_alloc ? h->pool_alloc * 2 : 16;
        CURL **p = realloc(h->pool, n * sizeof *p);
        if (!p)
            return -1;
        h->pool = p;
        h->pool_alloc = n;
    }
    curl_easy_reset(e);
    h->pool[h->npool++] = e;
    return 0;
}

static void req_free(struct lw_http_req *r)
{
    struct lw_http *h = r->h;
    if (r->easy && pool_put(h, r->easy) < 0)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    free(r->body);
    lw_buf_free(&r->resp);
    lw_buf_free(&r->rhdr);
    free(r);
}

static void unlink_active(struct lw_http_req *r)
{
    struct lw_http *h = r->h;
    if (r->prev)
        r->prev->next = r->next;
    else
        h->active = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    h->nactive--;
}

void lw_http_free(struct lw_http *h)
{
    if (!h)
        return;
    while (h->active)
        lw_http_cancel(h->active);
    while (h->done_head) {
        struct lw_http_req *r = h->done_head;
        h->done_head = r->next;
        req_free(r);
    }
    lw_timer_stop(h->loop, &h->timer);
    curl_multi_cleanup(h->multi);
    for (size_t i = 0; i < h->npool; i++)
        curl_easy_cleanup(h->pool[i]);
    free(h->pool);
    free(h->ca_bundle);
    free(h);
}

int lw_http_set_ca_bundle(struct lw_http *h, const char *path, struct lw_error *err)
{
    char *copy = NULL;
    if (path && !(copy = strdup(path)))
        return lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
    free(h->ca_bundle);
    h->ca_bundle = copy;
    return 0;
}

size_t lw_http_active(const struct lw_http *h) { return h->nactive; }

static long ms(double secs, double dflt)
{
    double s = secs > 0 ? secs : dflt;
    return (long)(s * 1000.0 + 0.5);
}

struct lw_http_req *lw_http_submit(struct lw_http *h, const struct lw_http_opts *o,
                                   lw_http_cb cb, void *ud, struct lw_error *err)
{
    struct lw_http_req *r = calloc(1, sizeof *r);
    if (!r) {
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
        return NULL;
    }
    r->h = h;
    r->cb = cb;
    r->ud = ud;
    lw_buf_init(&r->resp, o->max_body ? o->max_body : DEFAULT_MAX_BODY);
    lw_buf_init(&r->rhdr, MAX_HEADER_BYTES);
    r->easy = h->npool ? h->pool[--h->npool] : curl_easy_init();
    if (!r->easy)
        goto oom;
    if (o->body_len) {
        if (!(r->body = malloc(o->body_len)))
            goto oom;
        memcpy(r->body, o->body, o->body_len);
    }
    struct lw_buf line;
    lw_buf_init(&line, 0);
    for (size_t i = 0; i < o->nheaders; i++) {
        lw_buf_reset(&line);
        /* "Name: value" by concatenation: no printf on this path (a request
         * carries a dozen headers; printf was 6% of the worker's CPU). */
        if (lw_buf_puts(&line, o->headers[i].name) < 0 || lw_buf_append(&line, ": ", 2) < 0
            || lw_buf_puts(&line, o->headers[i].value) < 0) {
            lw_buf_free(&line);
            goto oom;
        }
        struct curl_slist *n = curl_slist_append(r->hdrs, line.p);
        if (!n) {
            lw_buf_free(&line);
            goto oom;
        }
        r->hdrs = n;
    }
    lw_buf_free(&line);
    /* No "Expect: 100-continue" round trip, and no default Accept header. */
    struct curl_slist *n = curl_slist_append(r->hdrs, "Expect:");
    if (!n || !(r->hdrs = n, n = curl_slist_append(r->hdrs, "Accept:")))
        goto oom;
    r->hdrs = n;

    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms(o->connect_timeout, 10));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms(o->timeout, 30));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (h->ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_bundle);
    const char *m = o->method ? o->method : "GET";
    if (strcmp(m, "GET") == 0 && !o->body_len) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
    r->started = lw_loop_now(h->loop);
    CURLMcode mc = curl_multi_add_handle(h->multi, e);
    if (mc != CURLM_OK) {
        lw_error_set(err, LW_ERR_CLIENT, false, "CurlError", "curl_multi_add_handle: %s",
                     curl_multi_strerror(mc));
        req_free(r);
        return NULL;
    }
    r->next = h->active;
    if (h->active)
        h->active->prev = r;
    h->active = r;
    h->nactive++;
    return r;
oom:
    lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
    req_free(r);
    return NULL;
}

void lw_http_cancel(struct lw_http_req *r)
{
    if (!r)
        return;
    if (r->done) {              /* collected, callback not yet run: skip it */
        r->cancelled = true;
        return;
    }
    struct lw_http *h = r->h;
    unlink_active(r);
    curl_multi_remove_handle(h->multi, r->easy);
    req_free(r);
}

/* ---- completion ---- */

static void transport_error(struct lw_http_req *r, CURLcode rc, struct lw_error *e)
{
    const char *code = "NetworkError";
    bool retry = true;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: {
        /* Pre-transfer time is set once the request could be sent, on a new
         * or a reused connection (a reused one has no connect time). */
        curl_off_t sent = 0;
        curl_easy_getinfo(r->easy, CURLINFO_PRETRANSFER_TIME_T, &sent);
        code = sent ? "HttpTimeout" : "ConnectTimeout";
        break;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        code = "HostNotFound";
        break;
    case CURLE_COULDNT_CONNECT:
        code = "ConnectionRefused";
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        code = "TlsError";
        retry = false;
        break;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        code = "ConnectionClosed";
        break;
    case CURLE_WRITE_ERROR:
        if (r->too_large) {
            lw_error_set(e, LW_ERR_CLIENT, true, "BodyTooLarge",
                         "response body larger than %zu bytes", r->resp.cap);
            return;
        }
        break;
    default:
        break;
    }
    lw_error_set(e, LW_ERR_TRANSPORT, retry, code, "%s%s%s", curl_easy_strerror(rc),
                 r->errbuf[0] ? ": " : "", r->errbuf);
}

/* Split the raw header block of the last response into name/value pairs,
 * in place. */
static size_t parse_headers(struct lw_buf *b, struct lw_http_header *out, size_t max)
{
    size_t n = 0;
    char *p = b->p, *end = b->p ? b->p + b->len : NULL;
    bool first = true;
    while (p && p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        char *next = eol ? eol + 1 : end;
        char *stop = eol ? eol : end;
        if (stop > p && stop[-1] == '\r')
            stop--;
        *stop = '\0';
        if (first) {
            first = false;      /* status line */
        } else if (stop > p && n < max) {
            char *colon = strchr(p, ':');
            if (colon) {
                *colon = '\0';
                char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                    v++;
                char *ve = stop;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                    *--ve = '\0';
                out[n].name = p;
                out[n].value = v;
                n++;
            }
        }
        p = next;
    }
    return n;
}

static void finish(struct lw_http_req *r, CURLcode rc)
{
    struct lw_http_response res;
    struct lw_http_header hdrs[MAX_HEADERS];
    memset(&res, 0, sizeof res);
    res.elapsed = lw_loop_now(r->h->loop) - r->started;
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status > 0) {
        res.status = (int)status;
        res.nheaders = parse_headers(&r->rhdr, hdrs, MAX_HEADERS);
        res.headers = hdrs;
    } else if (rc == CURLE_OK) {
        /* libcurl (7.88) takes a line like "HTTP/200 OK" for a header and
         * ends such a transfer without an error and without a status */
        lw_error_set(&res.error, LW_ERR_TRANSPORT, true, "NetworkError",
                     "the answer has no valid HTTP status line");
    } else {
        transport_error(r, rc, &res.error);
    }
    res.body = r->resp.p ? r->resp.p : "";
    res.body_len = r->resp.len;
    r->cb(r->ud, &res);
}

static void check_done(struct lw_http *h)
{
    CURLMsg *msg;
    int left;
    /* Collect first: callbacks may submit or cancel requests. */
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct lw_http_req *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode rc = msg->data.result;
        unlink_active(r);
        curl_multi_remove_handle(h->multi, r->easy);
        r->done = true;
        r->errbuf[CURL_ERROR_SIZE - 1] = '\0';
        r->result = rc;
        r->next = NULL;
        if (h->done_tail)
            h->done_tail->next = r;
        else
            h->done_head = r;
        h->done_tail = r;
    }
    if (h->in_check)
        return;                 /* an outer call is draining the list */
    h->in_check = true;
    while (h->done_head) {
        struct lw_http_req *r = h->done_head;
        h->done_head = r->next;
        if (!h->done_head)
            h->done_tail = NULL;
        r->next = NULL;
        if (!r->cancelled)
            finish(r, r->result);
        req_free(r);
    }
    h->in_check = false;
}

const char *lw_http_header_get(const struct lw_http_response *r, const char *name)
{
    for (size_t i = r->nheaders; i-- > 0;)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

int lw_http_url_parts(const char *url, char *host, size_t hostlen, char *path, size_t pathlen,
                      struct lw_error *err)
{
    return lw_http_url_split(url, host, hostlen, path, pathlen, NULL, 0, err);
}

int lw_http_url_split(const char *url, char *host, size_t hostlen, char *path, size_t pathlen,
                      char *query, size_t querylen, struct lw_error *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *port = NULL, *p = NULL, *q = NULL;
    int rc = -1;
    if (!u) {
        lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
        return -1;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
        lw_error_set(err, LW_ERR_CLIENT, false, "InvalidEndpoint", "not a valid URL: %.200s", url);
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        lw_error_set(err, LW_ERR_CLIENT, false, "InvalidEndpoint",
                     "endpoint must be http or https, not %s: %.200s", scheme, url);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);       /* absent: default port */
    curl_url_get(u, CURLUPART_PATH, &p, 0);
    curl_url_get(u, CURLUPART_QUERY, &q, 0);        /* absent: no query */
    int n = port ? snprintf(host, hostlen, "%s:%s", h, port) : snprintf(host, hostlen, "%s", h);
    int m = snprintf(path, pathlen, "%s", p && *p ? p : "/");
    int k = query ? snprintf(query, querylen, "%s", q ? q : "") : 0;
    if (n < 0 || (size_t)n >= hostlen || m < 0 || (size_t)m >= pathlen
        || k < 0 || (query && (size_t)k >= querylen)) {
        lw_error_set(err, LW_ERR_CLIENT, false, "InvalidEndpoint", "endpoint URL too long");
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(h);
    curl_free(port);
    curl_free(p);
    curl_free(q);
    curl_url_cleanup(u);
    return rc;
}

const char *lw_http_curl_version(void)
{
    return curl_version_info(CURLVERSION_NOW)->version;
}
