/* responder.c: a minimal fast SWF activity service for the benchmarks.
 *
 *   build/bench/responder [--port 0] [--hold SECONDS (60)] [--token-length N (600)]
 *                         [--delay-ms MS (0)] [--respond-delay-ms MS (--delay-ms)]
 *
 * One thread, epoll, HTTP/1.1 keep-alive on 127.0.0.1. It speaks just enough of
 * SWF's AWS JSON 1.0 protocol for a worker to run tasks:
 *   PollForActivityTask           a task if one was enqueued, else the poll is
 *                                 held (FIFO) until one is or --hold passes
 *                                 (then {"startedEventId":0});
 *   RecordActivityTaskHeartbeat   {"cancelRequested":false};
 *   RespondActivityTask{Completed,Failed,Canceled}  an empty 200.
 * Signatures are not verified (spec/service does that with botocore); every
 * request must carry an AWS4-HMAC-SHA256 Authorization header with a
 * 64-digit signature and an X-Amz-Date, else it gets a 400.
 *
 * Control API (GET, unsigned, query string):
 *   /_enqueue?n=K   make K more tasks available (waiting polls get them at once)
 *   /_stats         counters as one JSON object
 *   /_times         one line per task: id enqueued answered hb_in hb_out resp_in
 *                   heartbeats outcome (microseconds on CLOCK_MONOTONIC, 0 = never)
 *   /_drain         answer every held poll empty, and every later poll at once
 *
 * --delay-ms holds every API answer that long after the request was read
 * (polls answered at once when a task is waiting; a held poll's answer goes
 * out when its task is enqueued): a stand-in for the network and service time
 * of a real round trip, costing the responder nothing but a timer.
 * --respond-delay-ms sets it apart for the RespondActivityTask* answers.
 *
 * Timestamps are taken when a request's last byte has been read and when its
 * answer has been written, so the responder's own share of any latency is the
 * few microseconds between the two (plus --delay-ms). It prints "port N" on stdout once
 * listening. SIGTERM/SIGINT: exit 0. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (1u << 20)

struct conn {
    int fd;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
    bool close_after;
    bool held;                      /* a poll waits for a task */
    double hold_until;
    struct conn *hprev, *hnext;     /* held polls, oldest first */
    bool delayed;                   /* an answer waits for --delay-ms */
    double due;
    long task_answer;               /* the delayed answer hands out this task */
    struct conn *dprev, *dnext;     /* delayed answers, oldest first */
};

struct task {
    double enq, answer, hb_in, hb_out, resp_in;
    unsigned hbs;
    char outcome;                   /* 0, 'c' completed, 'f' failed, 'x' canceled */
};

static struct {
    int epfd, lfd;
    double hold;
    double delay, respond_delay;
    size_t token_len;
    double t0;
    bool draining;
    struct conn *held_head, *held_tail;
    long nheld;
    struct conn *delay_head, *delay_tail;
    long ndelayed, max_delayed;     /* answers waiting for their delay */
    struct task *tasks;             /* [1..enqueued] */
    long tasks_cap;
    long enqueued, handed;
    long requests, polls, empty_polls, heartbeats, completed, failed, canceled;
    long bad_auth, bad_token, duplicate, errors;
    long conns, max_conns, accepted;
} S;

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        die("realloc");
    return q;
}

/* ---- output ---- */

static void out_append(struct conn *c, const char *p, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + n)
            cap *= 2;
        c->out = xrealloc(c->out, cap);
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

static void conn_close(struct conn *c);

static void held_unlink(struct conn *c)
{
    if (!c->held)
        return;
    if (c->hprev)
        c->hprev->hnext = c->hnext;
    else
        S.held_head = c->hnext;
    if (c->hnext)
        c->hnext->hprev = c->hprev;
    else
        S.held_tail = c->hprev;
    c->hprev = c->hnext = NULL;
    c->held = false;
    S.nheld--;
}

static void delayed_unlink(struct conn *c)
{
    if (!c->delayed)
        return;
    if (c->dprev)
        c->dprev->dnext = c->dnext;
    else
        S.delay_head = c->dnext;
    if (c->dnext)
        c->dnext->dprev = c->dprev;
    else
        S.delay_tail = c->dprev;
    c->dprev = c->dnext = NULL;
    c->delayed = false;
    S.ndelayed--;
}

/* Write what is queued; false if the connection was closed. */
static bool flush_out(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
                epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev);
                return true;
            }
            conn_close(c);
            return false;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    if (c->close_after) {
        conn_close(c);
        return false;
    }
    return true;
}

/* Send an API answer now, or `delay` seconds after t_in (the list stays in
 * due order: with one delay for all, every insertion is at the tail). */
static void send_later(struct conn *c, double t_in, double delay)
{
    if (delay > 0 && t_in > 0) {
        c->delayed = true;
        if (++S.ndelayed > S.max_delayed)
            S.max_delayed = S.ndelayed;
        c->due = t_in + delay;
        struct conn *after = S.delay_tail;
        while (after && after->due > c->due)
            after = after->dprev;
        c->dprev = after;
        c->dnext = after ? after->dnext : S.delay_head;
        if (c->dnext)
            c->dnext->dprev = c;
        else
            S.delay_tail = c;
        if (after)
            after->dnext = c;
        else
            S.delay_head = c;
        return;
    }
    flush_out(c);
}

static void send_api(struct conn *c, double t_in) { send_later(c, t_in, S.delay); }

static void reply(struct conn *c, int status, const char *ctype, const char *body, size_t len)
{
    char head[256];
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nx-amzn-RequestId: bench-%ld\r\n"
                     "Content-Length: %zu\r\n%s\r\n",
                     status, reason, ctype, S.requests, len,
                     c->close_after ? "Connection: close\r\n" : "");
    out_append(c, head, (size_t)n);
    out_append(c, body, len);
}

static void reply_json(struct conn *c, int status, const char *body)
{
    reply(c, status, "application/x-amz-json-1.0", body, strlen(body));
}

static void reply_error(struct conn *c, const char *code, const char *msg)
{
    char body[512];
    snprintf(body, sizeof body, "{\"__type\":\"com.amazonaws.swf.base.model#%s\",\"message\":\"%s\"}",
             code, msg);
    S.errors++;
    reply_json(c, 400, body);
}

/* ---- tasks ---- */

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void make_token(long id, char *out)
{
    int n = snprintf(out, S.token_len + 1, "T%ld.", id);
    unsigned x = (unsigned)id * 2654435761u + 12345u;
    for (size_t i = (size_t)n; i < S.token_len; i++) {
        x = x * 1103515245u + 12345u;
        out[i] = alphabet[(x >> 16) & 63];
    }
    out[S.token_len] = '\0';
}

static struct task *task_of(long id);

/* t_in: the poll's arrival (its answer may be delayed), 0 for a held poll. */
static void answer_task(struct conn *c, double t_in)
{
    long id = ++S.handed;
    char *token = malloc(S.token_len + 1);
    char *body = malloc(S.token_len + 512);
    if (!token || !body)
        die("malloc");
    make_token(id, token);
    int n = snprintf(body, S.token_len + 512,
                     "{\"activityId\":\"act-%ld\",\"activityType\":{\"name\":\"Bench\",\"version\":\"1\"},"
                     "\"input\":\"{\\\"n\\\":%ld}\",\"startedEventId\":%ld,\"taskToken\":\"%s\","
                     "\"workflowExecution\":{\"runId\":\"run-%ld\",\"workflowId\":\"wf-%ld\"}}",
                     id, id, 3 * id + 3, token, id, id);
    reply(c, 200, "application/x-amz-json-1.0", body, (size_t)n);
    free(token);
    free(body);
    if (S.delay > 0 && t_in > 0) {
        c->task_answer = id;
        send_api(c, t_in);
        return;
    }
    flush_out(c);               /* a closed connection loses the task, as on AWS */
    task_of(id)->answer = mono();
}

static void answer_empty(struct conn *c)
{
    S.empty_polls++;
    reply_json(c, 200, "{\"startedEventId\":0}");
    flush_out(c);
}

/* Hand enqueued tasks to the oldest waiting polls. */
static void feed_polls(void)
{
    while (S.held_head && S.handed < S.enqueued) {
        struct conn *c = S.held_head;
        held_unlink(c);
        answer_task(c, 0);
    }
}

static struct task *task_of(long id) { return &S.tasks[id]; }

static long token_id(const char *body, size_t len)
{
    static const char key[] = "\"taskToken\"";
    const char *p = memmem(body, len, key, sizeof key - 1);
    if (!p)
        return 0;
    p += sizeof key - 1;
    const char *end = body + len;
    while (p < end && (*p == ' ' || *p == ':'))
        p++;
    if (end - p < 3 || p[0] != '"' || p[1] != 'T')
        return 0;
    long id = strtol(p + 2, NULL, 10);
    return id >= 1 && id <= S.handed ? id : 0;
}

/* ---- control ---- */

static void ctl_stats(struct conn *c)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"requests\":%ld,\"polls\":%ld,\"empty_polls\":%ld,\"enqueued\":%ld,\"handed\":%ld,"
             "\"heartbeats\":%ld,\"completed\":%ld,\"failed\":%ld,\"canceled\":%ld,"
             "\"bad_auth\":%ld,\"bad_token\":%ld,\"duplicate\":%ld,\"errors\":%ld,"
             "\"held_polls\":%ld,\"connections\":%ld,\"max_connections\":%ld,\"accepted\":%ld,"
             "\"max_delayed\":%ld}",
             S.requests, S.polls, S.empty_polls, S.enqueued, S.handed, S.heartbeats, S.completed,
             S.failed, S.canceled, S.bad_auth, S.bad_token, S.duplicate, S.errors, S.nheld,
             S.conns, S.max_conns, S.accepted, S.max_delayed);
    reply(c, 200, "application/json", body, strlen(body));
}

static long us(double t) { return t > 0 ? (long)((t - S.t0) * 1e6) : 0; }

static void ctl_times(struct conn *c)
{
    size_t cap = 128 + (size_t)S.handed * 96, len = 0;
    char *body = malloc(cap);
    if (!body)
        die("malloc");
    for (long i = 1; i <= S.handed; i++) {
        struct task *t = &S.tasks[i];
        len += (size_t)snprintf(body + len, cap - len, "%ld %ld %ld %ld %ld %ld %u %c\n", i,
                                us(t->enq), us(t->answer), us(t->hb_in), us(t->hb_out),
                                us(t->resp_in), t->hbs, t->outcome ? t->outcome : '-');
    }
    reply(c, 200, "text/plain", body, len);
    free(body);
}

static void control(struct conn *c, const char *path)
{
    if (strncmp(path, "/_enqueue", 9) == 0) {
        const char *q = strstr(path, "n=");
        long n = q ? strtol(q + 2, NULL, 10) : 1;
        if (n < 0 || n > 10000000) {
            reply(c, 400, "text/plain", "bad n\n", 6);
            return;
        }
        if (S.enqueued + n + 1 > S.tasks_cap) {
            long cap = S.tasks_cap ? S.tasks_cap : 1024;
            while (cap < S.enqueued + n + 1)
                cap *= 2;
            S.tasks = xrealloc(S.tasks, (size_t)cap * sizeof *S.tasks);
            memset(S.tasks + S.tasks_cap, 0, (size_t)(cap - S.tasks_cap) * sizeof *S.tasks);
            S.tasks_cap = cap;
        }
        double now = mono();
        for (long i = 1; i <= n; i++)
            S.tasks[S.enqueued + i].enq = now;
        S.enqueued += n;
        char body[64];
        int len = snprintf(body, sizeof body, "{\"enqueued\":%ld}", S.enqueued);
        reply(c, 200, "application/json", body, (size_t)len);
        feed_polls();
    } else if (strncmp(path, "/_stats", 7) == 0) {
        ctl_stats(c);
    } else if (strncmp(path, "/_times", 7) == 0) {
        ctl_times(c);
    } else if (strncmp(path, "/_drain", 7) == 0) {
        S.draining = true;
        while (S.held_head) {
            struct conn *h = S.held_head;
            held_unlink(h);
            answer_empty(h);
        }
        reply(c, 200, "application/json", "{}", 2);
    } else {
        reply(c, 404, "text/plain", "not found\n", 10);
    }
}

/* ---- the AWS API ---- */

static bool auth_ok(const char *auth, size_t alen, bool has_date)
{
    static const char scheme[] = "AWS4-HMAC-SHA256 Credential=";
    if (!auth || !has_date || alen < sizeof scheme - 1 + 64 || strncmp(auth, scheme, sizeof scheme - 1) != 0)
        return false;
    const char *sig = memmem(auth, alen, "Signature=", 10);
    if (!sig || (size_t)(auth + alen - (sig + 10)) < 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((sig[10 + i] >= '0' && sig[10 + i] <= '9') || (sig[10 + i] >= 'a' && sig[10 + i] <= 'f')))
            return false;
    return true;
}

static void api(struct conn *c, const char *target, size_t tlen, const char *body, size_t blen,
                double t_in)
{
    static const char prefix[] = "SimpleWorkflowService.";
    if (tlen <= sizeof prefix - 1 || strncmp(target, prefix, sizeof prefix - 1) != 0) {
        reply_error(c, "UnknownOperationException", "unknown target");
        send_api(c, t_in);
        return;
    }
    const char *op = target + sizeof prefix - 1;
    size_t oplen = tlen - (sizeof prefix - 1);
#define IS(name) (oplen == sizeof name - 1 && memcmp(op, name, oplen) == 0)
    if (IS("PollForActivityTask")) {
        S.polls++;
        if (S.handed < S.enqueued) {
            answer_task(c, t_in);
        } else if (S.draining) {
            answer_empty(c);
        } else {
            c->held = true;
            c->hold_until = t_in + S.hold;
            c->hprev = S.held_tail;
            c->hnext = NULL;
            if (S.held_tail)
                S.held_tail->hnext = c;
            else
                S.held_head = c;
            S.held_tail = c;
            S.nheld++;
        }
        return;
    }
    long id = token_id(body, blen);
    if (!id) {
        S.bad_token++;
        reply_error(c, "UnknownResourceFault", "Unknown activity task");
        send_api(c, t_in);
        return;
    }
    struct task *t = &S.tasks[id];
    if (IS("RecordActivityTaskHeartbeat")) {
        S.heartbeats++;
        if (!t->hbs)
            t->hb_in = t_in;
        t->hbs++;
        reply_json(c, 200, "{\"cancelRequested\":false}");
        if (S.delay > 0) {
            send_api(c, t_in);
            if (t->hbs == 1)
                t->hb_out = t_in + S.delay;
        } else if (flush_out(c) && t->hbs == 1) {
            t->hb_out = mono();
        }
        return;
    }
    char kind = IS("RespondActivityTaskCompleted") ? 'c' : IS("RespondActivityTaskFailed") ? 'f'
              : IS("RespondActivityTaskCanceled") ? 'x' : 0;
    if (!kind) {
        reply_error(c, "UnknownOperationException",
                    "the bench responder serves only the SWF activity operations");
        send_api(c, t_in);
        return;
    }
    if (t->outcome) {
        S.duplicate++;
        reply_error(c, "UnknownResourceFault", "Unknown activity task");
        send_api(c, t_in);
        return;
    }
    t->outcome = kind;
    t->resp_in = t_in;
    if (kind == 'c')
        S.completed++;
    else if (kind == 'f')
        S.failed++;
    else
        S.canceled++;
    reply(c, 200, "application/x-amz-json-1.0", "", 0);
    send_later(c, t_in, S.respond_delay);
#undef IS
}

/* ---- requests ---- */

static const char *header(const char *head, size_t hlen, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *p = memchr(head, '\n', hlen);          /* skip the request line */
    const char *end = head + hlen;
    while (p && ++p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol;
    }
    return NULL;
}

/* Handle every complete request in the buffer; false if the connection closed. */
static bool process(struct conn *c)
{
    while (!c->held && !c->delayed && c->in_len) {
        char *hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!hend) {
            if (c->in_len > 65536) {
                conn_close(c);
                return false;
            }
            return true;
        }
        size_t hlen = (size_t)(hend - c->in) + 4;
        size_t clen_n = 0;
        const char *cl = header(c->in, hlen, "content-length", &clen_n);
        size_t blen = cl ? strtoul(cl, NULL, 10) : 0;
        if (blen > MAX_REQUEST) {
            conn_close(c);
            return false;
        }
        if (c->in_len < hlen + blen)
            return true;
        double t_in = mono();
        S.requests++;
        char *body = c->in + hlen;
        char method[8] = "", path[256] = "";
        sscanf(c->in, "%7s %255s", method, path);
        size_t vl = 0;
        const char *conn_hdr = header(c->in, hlen, "connection", &vl);
        if (conn_hdr && vl == 5 && strncasecmp(conn_hdr, "close", 5) == 0)
            c->close_after = true;
        if (strncmp(path, "/_", 2) == 0) {
            control(c, path);
            if (!flush_out(c))
                return false;
        } else {
            size_t tl = 0, al = 0, dl = 0;
            const char *target = header(c->in, hlen, "x-amz-target", &tl);
            const char *auth = header(c->in, hlen, "authorization", &al);
            bool has_date = header(c->in, hlen, "x-amz-date", &dl) != NULL;
            if (!auth_ok(auth, al, has_date)) {
                S.bad_auth++;
                reply_error(c, "MissingAuthenticationTokenException", "Missing Authentication Token");
                if (!flush_out(c))
                    return false;
            } else if (!target) {
                reply_error(c, "UnknownOperationException", "no X-Amz-Target");
                if (!flush_out(c))
                    return false;
            } else {
                api(c, target, tl, body, blen, t_in);
            }
        }
        /* The connection may have been closed by a failed write above: a
         * closed conn has fd -1 (see conn_close, which defers the free). */
        if (c->fd < 0)
            return false;
        memmove(c->in, c->in + hlen + blen, c->in_len - hlen - blen);
        c->in_len -= hlen + blen;
    }
    return true;
}

/* Closed connections are freed after the current batch of events. */
static struct conn **graveyard;
static size_t ngrave, grave_cap;

static void conn_close(struct conn *c)
{
    if (c->fd < 0)
        return;
    held_unlink(c);
    delayed_unlink(c);
    epoll_ctl(S.epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    S.conns--;
    if (ngrave == grave_cap) {
        grave_cap = grave_cap ? grave_cap * 2 : 64;
        graveyard = xrealloc(graveyard, grave_cap * sizeof *graveyard);
    }
    graveyard[ngrave++] = c;
}

static void bury(void)
{
    for (size_t i = 0; i < ngrave; i++) {
        free(graveyard[i]->in);
        free(graveyard[i]->out);
        free(graveyard[i]);
    }
    ngrave = 0;
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 16384) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 32768;
            c->in = xrealloc(c->in, c->in_cap);
        }
        size_t room = c->in_cap - c->in_len;
        ssize_t n = read(c->fd, c->in + c->in_len, room);
        if (n > 0) {
            c->in_len += (size_t)n;
            if (c->in_len > MAX_REQUEST + 65536) {
                conn_close(c);
                return;
            }
            if ((size_t)n < room)
                break;          /* short read: the socket is drained */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        conn_close(c);          /* EOF or error */
        return;
    }
    process(c);
}

static void on_accept(void)
{
    for (;;) {
        int fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                perror("accept4");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c)
            die("calloc");
        c->fd = fd;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl");
        S.accepted++;
        if (++S.conns > S.max_conns)
            S.max_conns = S.conns;
    }
}

/* Send the delayed answers that are due, then go on with what their
 * connections sent meanwhile. */
static void send_due(double now)
{
    while (S.delay_head && S.delay_head->due <= now) {
        struct conn *c = S.delay_head;
        delayed_unlink(c);
        long id = c->task_answer;
        c->task_answer = 0;
        if (flush_out(c)) {
            if (id)
                task_of(id)->answer = mono();
            process(c);
        }
    }
}

static void expire_polls(double now)
{
    while (S.held_head && S.held_head->hold_until <= now) {
        struct conn *c = S.held_head;
        held_unlink(c);
        answer_empty(c);
    }
}

int main(int argc, char **argv)
{
    int port = 0;
    S.hold = 60;
    S.token_len = 600;
    S.respond_delay = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
            S.hold = atof(argv[++i]);
        else if (strcmp(argv[i], "--token-length") == 0 && i + 1 < argc)
            S.token_len = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc)
            S.delay = atof(argv[++i]) / 1000.0;
        else if (strcmp(argv[i], "--respond-delay-ms") == 0 && i + 1 < argc)
            S.respond_delay = atof(argv[++i]) / 1000.0;
        else {
            fprintf(stderr, "usage: responder [--port N] [--hold SECONDS] [--token-length N] "
                            "[--delay-ms MS] [--respond-delay-ms MS]\n");
            return 2;
        }
    }
    if (S.respond_delay < 0)
        S.respond_delay = S.delay;
    if (S.token_len < 16 || S.token_len > 1024) {
        fprintf(stderr, "responder: --token-length must be 16..1024\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    S.t0 = mono();
    S.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (S.lfd < 0)
        die("socket");
    int one = 1;
    setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(S.lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(S.lfd, 4096) < 0)
        die("bind/listen");
    socklen_t alen = sizeof addr;
    getsockname(S.lfd, (struct sockaddr *)&addr, &alen);
    S.epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.lfd, &lev);
    printf("port %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event evs[256];
    while (!stop) {
        struct timespec ts, *timeout = NULL;
        double next = S.held_head ? S.held_head->hold_until : 0;
        if (S.delay_head && (!next || S.delay_head->due < next))
            next = S.delay_head->due;
        if (next) {
            double d = next - mono();
            if (d < 0)
                d = 0;
            ts.tv_sec = (time_t)d;
            ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
            timeout = &ts;
        }
        int n = epoll_pwait2(S.epfd, evs, 256, timeout, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                on_accept();
                continue;
            }
            if (c->fd < 0)
                continue;
            if (evs[i].events & EPOLLOUT) {
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev);
                if (!flush_out(c))
                    continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(c);
        }
        bury();
        if (S.delay_head)
            send_due(mono());
        if (S.held_head)
            expire_polls(mono());
        bury();
    }
    return 0;
}
