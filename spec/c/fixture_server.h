/* fixture_server.h: a scripted HTTP/1.1 server on 127.0.0.1 (random port) in
 * threads of the test itself, with blocking sockets (test fixture only).
 * Keep-alive, Content-Length bodies, no chunking. Used by test_http.c and the
 * test_creds*.c programs.
 *
 * A test installs a handler with fx_set_handler: it runs on a server thread
 * with fx.mu held (so it may touch test state shared with it under that
 * lock) and fills the response, which starts as an empty 404:
 *   status, body, headers  the answer: "HTTP/1.1 <status> X", Content-Length,
 *                          the extra header lines, the body; the connection
 *                          stays open for the next request;
 *   body_len               the body's length if nonzero (it may hold NULs),
 *                          else strlen(body);
 *   raw, raw_len           if raw is set, these bytes are sent verbatim instead
 *                          (status, body and headers are ignored: a broken
 *                          response, a truncated one, a large one) and the
 *                          connection is then closed; raw is malloc'd by the
 *                          handler and the server takes ownership (frees it);
 *   delay                  seconds the server waits (without the lock) before
 *                          answering; fx_stop cuts the wait short;
 *   hang                   after the delay, close without answering.
 * Bytes starting with 0x16 where a request should begin (a TLS ClientHello)
 * are answered "HTTP/1.1 400 Bad Request" and the connection is closed, as a
 * plain HTTP server does; that is not a request (the handler does not see
 * it, fx_count does not count it).
 *
 * Every request is counted and the last FX_LOG kept for assertions (fx_count
 * and fx_request, both reset by fx_set_handler); fx_accepts counts the
 * connections accepted since fx_start (never reset), so a test can tell that
 * a client reused its connections. fx_stop shuts everything down and joins
 * the threads, so valgrind and TSan see a clean exit. */
#ifndef LW_SPEC_FIXTURE_SERVER_H
#define LW_SPEC_FIXTURE_SERVER_H
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FX_LOG 64
#define FX_MAX_CONNS 256

struct fx_request {
    char method[16];
    char path[512];
    char headers[4096];     /* raw header lines after the request line */
    char body[1024];        /* the first sizeof body - 1 bytes of the body, NUL-terminated */
    size_t body_len;        /* bytes kept in body */
};

struct fx_response {
    int status;
    char body[4096];
    size_t body_len;        /* 0: strlen(body) */
    char headers[512];      /* extra "Name: value\r\n" lines */
    char *raw;              /* sent verbatim, then close; the server frees it */
    size_t raw_len;
    double delay;           /* seconds before answering */
    bool hang;              /* after the delay, close without answering */
};

typedef void (*fx_handler)(const struct fx_request *rq, struct fx_response *rs, void *ud);

static struct {
    int fd, port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* broadcast by fx_stop: cuts delays short */
    fx_handler handler;
    void *ud;
    int nreq;
    struct fx_request log[FX_LOG];
    int conns[FX_MAX_CONNS];
    pthread_t threads[FX_MAX_CONNS];
    int nconns;             /* connections accepted since fx_start */
    bool stopping;
} fx = { .mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static void fx_send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Wait s seconds, or until fx_stop; false if stopping. */
static bool fx_sleep(double s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (s > 0) {
        ts.tv_sec += (time_t)s;
        ts.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&fx.mu);
    while (s > 0 && !fx.stopping && pthread_cond_timedwait(&fx.wake, &fx.mu, &ts) != ETIMEDOUT)
        ;
    bool go_on = !fx.stopping;
    pthread_mutex_unlock(&fx.mu);
    return go_on;
}

/* Copy the value of header `name` of rq into out; false if absent. */
static inline bool fx_header(const struct fx_request *rq, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = rq->headers; *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, n, "%.*s", (int)(len - (size_t)(v - p)), v);
            return true;
        }
        if (!eol)
            break;
        p = eol + 2;
    }
    if (n)
        out[0] = '\0';
    return false;
}

static void *fx_serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[16384];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
            if (have >= sizeof buf - 1)
                goto out;
            ssize_t r = recv(fd, buf + have, sizeof buf - have - 1, 0);
            if (r <= 0)
                goto out;
            have += (size_t)r;
            if (buf[0] == 0x16) {       /* a TLS ClientHello: answer as a plain server does */
                const char *no = "HTTP/1.1 400 Bad Request\r\n\r\n";
                fx_send_all(fd, no, strlen(no));
                goto out;
            }
        }
        buf[have] = 0;
        size_t hlen = (size_t)(end - buf) + 4, clen = 0;
        char *cl = strcasestr(buf, "\r\ncontent-length:");
        if (cl && cl < end)
            clen = strtoul(cl + 17, NULL, 10);
        if (hlen + clen >= sizeof buf)
            goto out;
        while (have < hlen + clen) {
            ssize_t r = recv(fd, buf + have, sizeof buf - have - 1, 0);
            if (r <= 0)
                goto out;
            have += (size_t)r;
        }
        struct fx_request rq;
        memset(&rq, 0, sizeof rq);
        sscanf(buf, "%15s %511s", rq.method, rq.path);
        char *hs = strstr(buf, "\r\n");
        if (hs && hs < end)
            snprintf(rq.headers, sizeof rq.headers, "%.*s", (int)(end - hs - 2 + 2), hs + 2);
        rq.body_len = clen < sizeof rq.body - 1 ? clen : sizeof rq.body - 1;
        memcpy(rq.body, buf + hlen, rq.body_len);
        struct fx_response rs;
        memset(&rs, 0, sizeof rs);
        rs.status = 404;
        pthread_mutex_lock(&fx.mu);
        fx.log[fx.nreq % FX_LOG] = rq;
        fx.nreq++;
        if (fx.handler)
            fx.handler(&rq, &rs, fx.ud);
        pthread_mutex_unlock(&fx.mu);
        if (!fx_sleep(rs.delay) || rs.hang) {
            free(rs.raw);
            goto out;
        }
        if (rs.raw) {
            fx_send_all(fd, rs.raw, rs.raw_len);
            free(rs.raw);
            goto out;
        }
        size_t blen = rs.body_len ? rs.body_len : strlen(rs.body);
        char head[1024];
        int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n",
                         rs.status, blen, rs.headers);
        fx_send_all(fd, head, (size_t)n);
        fx_send_all(fd, rs.body, blen);
        memmove(buf, buf + hlen + clen, have - hlen - clen);
        have -= hlen + clen;
    }
out:
    shutdown(fd, SHUT_RDWR);            /* fx_stop closes it, after the join */
    return NULL;
}

static void *fx_accept_loop(void *arg)
{
    for (;;) {
        int c = accept(fx.fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;                /* fx_stop shut the socket down */
        }
        pthread_mutex_lock(&fx.mu);
        if (fx.stopping || fx.nconns == FX_MAX_CONNS) {
            pthread_mutex_unlock(&fx.mu);
            close(c);
            continue;
        }
        int i = fx.nconns++;
        fx.conns[i] = c;
        pthread_create(&fx.threads[i], NULL, fx_serve_conn, (void *)(intptr_t)c);
        pthread_mutex_unlock(&fx.mu);
    }
}

static inline void fx_start(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    fx.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fx.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fx.fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fx.fd, 128) < 0) {
        perror("fixture server");
        exit(2);
    }
    getsockname(fx.fd, (struct sockaddr *)&a, &al);
    fx.port = ntohs(a.sin_port);
    pthread_create(&fx.acceptor, NULL, fx_accept_loop, NULL);
}

/* Stop accepting, cut delays short, close every connection and join every
 * thread of the server. */
static inline void fx_stop(void)
{
    pthread_mutex_lock(&fx.mu);
    fx.stopping = true;
    pthread_cond_broadcast(&fx.wake);
    pthread_mutex_unlock(&fx.mu);
    shutdown(fx.fd, SHUT_RDWR);
    pthread_join(fx.acceptor, NULL);
    close(fx.fd);
    pthread_mutex_lock(&fx.mu);
    int n = fx.nconns;
    for (int i = 0; i < n; i++)
        shutdown(fx.conns[i], SHUT_RDWR);
    pthread_mutex_unlock(&fx.mu);
    for (int i = 0; i < n; i++) {
        pthread_join(fx.threads[i], NULL);
        close(fx.conns[i]);
    }
}

/* Install a handler and reset the request log. */
static inline void fx_set_handler(fx_handler h, void *ud)
{
    pthread_mutex_lock(&fx.mu);
    fx.handler = h;
    fx.ud = ud;
    fx.nreq = 0;
    pthread_mutex_unlock(&fx.mu);
}

static inline int fx_count(void)
{
    pthread_mutex_lock(&fx.mu);
    int n = fx.nreq;
    pthread_mutex_unlock(&fx.mu);
    return n;
}

/* Connections accepted since fx_start. */
static inline int fx_accepts(void)
{
    pthread_mutex_lock(&fx.mu);
    int n = fx.nconns;
    pthread_mutex_unlock(&fx.mu);
    return n;
}

/* A copy of request i (0 = first since fx_set_handler; within the last FX_LOG). */
static inline struct fx_request fx_request(int i)
{
    pthread_mutex_lock(&fx.mu);
    struct fx_request r = fx.log[i % FX_LOG];
    pthread_mutex_unlock(&fx.mu);
    return r;
}
#endif
