/* creds_http.c: the container (ECS/EKS) and EC2 instance metadata sources,
 * over lw_http on the fetch's loop. Retries wait on loop timers, never in
 * sleeps. Tokens (container authorization, IMDSv2 session) are secrets: they
 * go into headers only, never into messages. */
#define LW_CREDS_INTERNAL
#include "creds.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BODY (64u << 10)
#define TOKEN_FILE_CAP (16u << 10)
#define IMDS_TOKEN_TTL 21600

/* "HTTP 500: first line of the body" or the transport error's code. */
static void describe(char *out, size_t n, const struct lw_http_response *res)
{
    if (res->status) {
        char line[128];
        lw_creds_first_line(line, sizeof line, res->body, res->body_len, 100);
        snprintf(out, n, "HTTP %d%s%s", res->status, line[0] ? ": " : "", line);
    } else {
        snprintf(out, n, "%s", res->error.code[0] ? res->error.code : "NetworkError");
    }
}

/* ---- container credentials ---- */

struct container {
    struct lw_creds_fetch *f;
    struct lw_http_req *req;
    struct lw_timer delay;
    char *url;
    char *auth;                     /* secret */
    int tries;
    char last[200];
};

static void container_free(struct container *ct)
{
    if (ct->req)
        lw_http_cancel(ct->req);
    lw_timer_stop(ct->f->loop, &ct->delay);
    free(ct->url);
    lw_creds_wipe_free(ct->auth);
    free(ct);
}

static void container_abort(struct lw_creds_fetch *f)
{
    container_free(f->state);
}

static void container_end(struct container *ct, int step)
{
    lw_creds_fetch_step_done(ct->f, step);      /* frees ct */
}

static void container_submit(struct container *ct);

static void container_retry_timer(struct lw_timer *t, void *ud) { container_submit(ud); }

/* One try failed (botocore retries every failure of the request or its JSON). */
static void container_try_failed(struct container *ct)
{
    struct lw_creds *c = ct->f->c;
    if (++ct->tries < 3) {
        lw_timer_start(ct->f->loop, &ct->delay, c->container_retry_delay);
        return;
    }
    lw_creds_fail(ct->f, "ContainerCredentialsError", true,
                  "container credentials endpoint %s failed 3 times, last: %s", ct->url, ct->last);
    container_end(ct, LW_STEP_FAIL);
}

static void container_done(void *ud, const struct lw_http_response *res)
{
    struct container *ct = ud;
    struct lw_creds_fetch *f = ct->f;
    ct->req = NULL;
    if (res->status != 200) {
        describe(ct->last, sizeof ct->last, res);
        container_try_failed(ct);
        return;
    }
    struct lw_creds_doc d;
    char why[200], what[600];
    int st = lw_creds_doc_parse(LW_CREDS_DOC_CONTAINER, res->body, res->body_len, &d, why,
                                sizeof why);
    if (st == LW_CREDS_DOC_MALFORMED) {
        snprintf(ct->last, sizeof ct->last, "%s", why);
        container_try_failed(ct);
        return;
    }
    snprintf(what, sizeof what, "container credentials endpoint %s", ct->url);
    int step;
    if (st == LW_CREDS_DOC_NOMEM)
        step = lw_creds_fail(f, "OutOfMemory", true, "out of memory");
    else if (st != LW_CREDS_DOC_OK)     /* botocore: a KeyError there, not retried */
        step = lw_creds_fail(f, "ContainerCredentialsError", false, "%s: %s", what, why);
    else
        step = lw_creds_make(f, LW_SRC_CONTAINER, d.access_key_id, d.secret_access_key,
                             d.session_token, d.expiration, what);
    lw_creds_doc_free(&d);
    container_end(ct, step);
}

static void container_submit(struct container *ct)
{
    struct lw_creds *c = ct->f->c;
    struct lw_http_header h[2] = { { "Accept", "application/json" }, { "Authorization", ct->auth } };
    struct lw_http_opts o = {
        .method = "GET", .url = ct->url, .headers = h, .nheaders = ct->auth ? 2 : 1,
        .connect_timeout = c->container_timeout, .timeout = c->container_timeout,
        .max_body = MAX_BODY,
    };
    struct lw_error err;
    ct->req = lw_http_submit(ct->f->http, &o, container_done, ct, &err);
    if (!ct->req) {
        snprintf(ct->last, sizeof ct->last, "%s", err.code);
        container_try_failed(ct);
    }
}

/* Literal hosts only (botocore resolves the name; a DNS lookup would block
 * the loop): https anywhere; http to loopback (127.0.0.0/8, ::1, localhost)
 * or the ECS/EKS agent addresses. The URL is parsed by libcurl. */
static bool full_uri_allowed(const char *url)
{
    char hostport[300], path[2048];
    struct lw_error e;
    if (lw_http_url_parts(url, hostport, sizeof hostport, path, sizeof path, &e) < 0)
        return false;
    if (strncasecmp(url, "https://", 8) == 0)
        return true;
    char host[300];
    if (hostport[0] == '[') {
        size_t n = strcspn(hostport + 1, "]");
        snprintf(host, sizeof host, "%.*s", (int)n, hostport + 1);
    } else {
        snprintf(host, sizeof host, "%.*s", (int)strcspn(hostport, ":"), hostport);
    }
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0
        || strcmp(host, "169.254.170.2") == 0 || strcmp(host, "169.254.170.23") == 0
        || strcasecmp(host, "fd00:ec2::23") == 0)
        return true;
    unsigned a, b, c, d;
    char tail;
    return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127
           && b < 256 && c < 256 && d < 256;
}

static int read_token_file(struct lw_creds_fetch *f, const char *path, char **out)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return lw_creds_fail(f, "ContainerCredentialsError", false,
                             "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", path,
                             strerror(errno));
    char *buf = malloc(TOKEN_FILE_CAP + 1);
    size_t n = buf ? fread(buf, 1, TOKEN_FILE_CAP + 1, fp) : 0;
    bool bad = ferror(fp) || n > TOKEN_FILE_CAP;
    fclose(fp);
    if (!buf)
        return lw_creds_fail(f, "OutOfMemory", true, "out of memory");
    if (bad) {
        explicit_bzero(buf, n);
        free(buf);
        return lw_creds_fail(f, "ContainerCredentialsError", false,
                             "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s (error or "
                             "larger than %u bytes)", path, TOKEN_FILE_CAP);
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

int lw_creds_src_container(struct lw_creds_fetch *f)
{
    struct lw_creds *c = f->c;
    const char *rel = lw_creds_getenv(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = lw_creds_getenv(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *tfile = lw_creds_getenv(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok = lw_creds_getenv(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char *url = NULL, *auth = NULL;
    if (rel && *rel) {
        /* botocore: the relative URI wins over the full one */
        size_t n = strlen(c->container_base) + strlen(rel) + 1;
        if ((url = malloc(n)))
            snprintf(url, n, "%s%s", c->container_base, rel);
    } else if (full && *full) {
        if (!full_uri_allowed(full))
            return lw_creds_fail(f, "CredentialsConfigError", false,
                                 "AWS_CONTAINER_CREDENTIALS_FULL_URI %s must use https, or http "
                                 "to a loopback address or 169.254.170.2, 169.254.170.23, "
                                 "fd00:ec2::23", full);
        url = strdup(full);
    } else {
        lw_creds_tried(f, "container endpoint");
        return LW_STEP_SKIP;
    }
    if (!url)
        return lw_creds_fail(f, "OutOfMemory", true, "out of memory");
    if (tfile && *tfile) {
        if (read_token_file(f, tfile, &auth) < 0) {
            free(url);
            return LW_STEP_FAIL;
        }
    } else if (tok && *tok && !(auth = strdup(tok))) {
        free(url);
        return lw_creds_fail(f, "OutOfMemory", true, "out of memory");
    }
    if (auth && strpbrk(auth, "\r\n")) {
        /* as botocore: a token with CR or LF is not a legal header value */
        lw_creds_wipe_free(auth);
        free(url);
        return lw_creds_fail(f, "CredentialsConfigError", false,
                             "the container authorization token (%s) contains CR or LF",
                             tfile && *tfile ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
                                             : "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    struct container *ct = calloc(1, sizeof *ct);
    if (!ct) {
        lw_creds_wipe_free(auth);
        free(url);
        return lw_creds_fail(f, "OutOfMemory", true, "out of memory");
    }
    ct->f = f;
    ct->url = url;
    ct->auth = auth;
    lw_timer_init(&ct->delay, container_retry_timer, ct);
    f->state = ct;
    f->abort = container_abort;
    container_submit(ct);           /* a failure to start counts as a try: never ends here */
    return LW_STEP_PENDING;
}

/* ---- EC2 instance metadata ---- */

enum { IMDS_TOKEN, IMDS_ROLE, IMDS_CREDS };

struct imds {
    struct lw_creds_fetch *f;
    struct lw_http_req *req;
    char base[512];                 /* no trailing slash */
    char *token;                    /* secret; NULL: IMDSv1 */
    int phase, attempt, attempts;
    double timeout;
    bool v1_disabled, cached, refetched;
    char role[256];
};

static void imds_free(struct imds *m)
{
    if (m->req)
        lw_http_cancel(m->req);
    lw_creds_wipe_free(m->token);
    free(m);
}

static void imds_abort(struct lw_creds_fetch *f) { imds_free(f->state); }

static void imds_end(struct imds *m, int step)
{
    lw_creds_fetch_step_done(m->f, step);       /* frees m */
}

/* IMDS is the last source: its failure is one entry of "no credentials
 * found: tried ..." (botocore returns no credentials there too). */
static void imds_give_up(struct imds *m, const char *what, const char *why)
{
    lw_creds_tried(m->f, "EC2 instance metadata (%s: %s: %s)", m->base, what, why);
    imds_end(m, LW_STEP_SKIP);
}

static bool imds_submit(struct imds *m);

static void drop_cached_token(struct imds *m)
{
    struct lw_creds *c = m->f->c;
    pthread_mutex_lock(&c->mu);
    lw_creds_wipe_free(c->imds_token);
    c->imds_token = NULL;
    pthread_mutex_unlock(&c->mu);
    lw_creds_wipe_free(m->token);
    m->token = NULL;
}

/* From a completion: the same request again, or (imds_next) the next phase's;
 * the fetch ends if the request cannot start. */
static void imds_again(struct imds *m)
{
    if (!imds_submit(m))
        imds_end(m, LW_STEP_FAIL);
}

static void imds_next(struct imds *m, int phase)
{
    m->phase = phase;
    m->attempt = 0;
    imds_again(m);
}

/* After a failed role or credentials request: a 401 on a cached session
 * token (gone stale) fetches a new token once, else the same request is
 * tried again while attempts last. False when it is time to give up. */
static bool imds_retry(struct imds *m, int status)
{
    if (status == 401 && m->cached && !m->refetched) {
        m->refetched = true;
        drop_cached_token(m);
        imds_next(m, IMDS_TOKEN);
        return true;
    }
    if (++m->attempt < m->attempts) {
        imds_again(m);
        return true;
    }
    return false;
}

static void on_token(struct imds *m, const struct lw_http_response *res)
{
    struct lw_creds *c = m->f->c;
    char why[200];
    if (res->status == 200 && res->body_len && !memchr(res->body, '\n', res->body_len)
        && !memchr(res->body, '\r', res->body_len)) {
        if (!(m->token = strdup(res->body))) {
            lw_creds_fail(m->f, "OutOfMemory", true, "out of memory");
            imds_end(m, LW_STEP_FAIL);
            return;
        }
        char *copy = strdup(m->token);
        pthread_mutex_lock(&c->mu);
        lw_creds_wipe_free(c->imds_token);
        c->imds_token = copy;       /* reused until a minute before its TTL */
        c->imds_token_until = lw_creds_wall(c) + IMDS_TOKEN_TTL - 60;
        pthread_mutex_unlock(&c->mu);
        imds_next(m, IMDS_ROLE);
        return;
    }
    describe(why, sizeof why, res);
    if (res->status == 400) {
        imds_give_up(m, "token request", why);
        return;
    }
    bool fallback_now = res->status == 403 || res->status == 404 || res->status == 405;
    if (!fallback_now && ++m->attempt < m->attempts) {
        imds_again(m);
        return;
    }
    /* 403/404/405, a timeout, or attempts used up: IMDSv1, as botocore */
    if (m->v1_disabled) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s, and IMDSv1 is disabled (AWS_EC2_METADATA_V1_DISABLED)", why);
        imds_give_up(m, "token request", msg);
        return;
    }
    imds_next(m, IMDS_ROLE);
}

static void on_role(struct imds *m, const struct lw_http_response *res)
{
    char why[200];
    if (res->status == 200) {
        lw_creds_first_line(m->role, sizeof m->role, res->body, res->body_len, sizeof m->role - 1);
        if (m->role[0] && !strpbrk(m->role, " /?#%")) {
            imds_next(m, IMDS_CREDS);
            return;
        }
        snprintf(why, sizeof why, "no usable role name (is an instance profile attached?)");
    } else {
        describe(why, sizeof why, res);
    }
    if (!imds_retry(m, res->status))
        imds_give_up(m, "role listing", why);
}

static void on_creds(struct imds *m, const struct lw_http_response *res)
{
    struct lw_creds_fetch *f = m->f;
    char why[200], what[400];
    if (res->status == 200) {
        struct lw_creds_doc d;
        int st = lw_creds_doc_parse(LW_CREDS_DOC_IMDS, res->body, res->body_len, &d, why,
                                    sizeof why);
        if (st == LW_CREDS_DOC_OK || st == LW_CREDS_DOC_NOMEM) {
            int step;
            snprintf(what, sizeof what, "EC2 instance metadata %.200s (role \"%.100s\")", m->base,
                     m->role);
            if (st == LW_CREDS_DOC_NOMEM)
                step = lw_creds_fail(f, "OutOfMemory", true, "out of memory");
            else
                step = lw_creds_make(f, LW_SRC_IMDS, d.access_key_id, d.secret_access_key,
                                     d.session_token, d.expiration, what);
            lw_creds_doc_free(&d);
            imds_end(m, step);
            return;
        }
    } else {
        describe(why, sizeof why, res);
    }
    if (imds_retry(m, res->status))
        return;
    char role[300];
    snprintf(role, sizeof role, "credentials of role \"%s\"", m->role);
    imds_give_up(m, role, why);
}

static void imds_done(void *ud, const struct lw_http_response *res)
{
    struct imds *m = ud;
    m->req = NULL;
    switch (m->phase) {
    case IMDS_TOKEN: on_token(m, res); break;
    case IMDS_ROLE: on_role(m, res); break;
    default: on_creds(m, res); break;
    }
}

/* Start the current phase's request; false with f->err set if it cannot. */
static bool imds_submit(struct imds *m)
{
    char url[900], ttl[16];
    struct lw_http_header h[1];
    struct lw_http_opts o = { .method = "GET", .url = url, .headers = h,
                              .connect_timeout = m->timeout, .timeout = m->timeout,
                              .max_body = MAX_BODY };
    if (m->phase == IMDS_TOKEN) {
        snprintf(url, sizeof url, "%s/latest/api/token", m->base);
        snprintf(ttl, sizeof ttl, "%d", IMDS_TOKEN_TTL);
        h[0] = (struct lw_http_header){ "X-aws-ec2-metadata-token-ttl-seconds", ttl };
        o.method = "PUT";
        o.nheaders = 1;
    } else {
        snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", m->base,
                 m->phase == IMDS_CREDS ? m->role : "");
        if (m->token) {
            h[0] = (struct lw_http_header){ "X-aws-ec2-metadata-token", m->token };
            o.nheaders = 1;
        }
    }
    struct lw_error err;
    m->req = lw_http_submit(m->f->http, &o, imds_done, m, &err);
    if (!m->req)
        lw_creds_fail(m->f, err.code, true, "EC2 instance metadata: %s", err.message);
    return m->req != NULL;
}

int lw_creds_src_imds(struct lw_creds_fetch *f)
{
    struct lw_creds *c = f->c;
    if (lw_creds_env_true(c, "AWS_EC2_METADATA_DISABLED")) {
        lw_creds_tried(f, "EC2 instance metadata (disabled)");
        return LW_STEP_SKIP;
    }
    const char *ep = lw_creds_getenv(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = lw_creds_getenv(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    const char *tmo = lw_creds_getenv(c, "AWS_METADATA_SERVICE_TIMEOUT");
    const char *att = lw_creds_getenv(c, "AWS_METADATA_SERVICE_NUM_ATTEMPTS");
    const char *base = "http://169.254.169.254";
    if (ep && *ep) {
        char hostport[300], path[600];
        struct lw_error e;
        /* botocore: is_valid_uri; here libcurl's parser, http and https only */
        if (strlen(ep) >= 500
            || lw_http_url_parts(ep, hostport, sizeof hostport, path, sizeof path, &e) < 0)
            return lw_creds_fail(f, "CredentialsConfigError", false,
                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT is not an http(s) URL: %.200s",
                                 ep);
        base = ep;
    } else if (mode && *mode) {
        if (strcasecmp(mode, "ipv6") == 0)
            base = "http://[fd00:ec2::254]";
        else if (strcasecmp(mode, "ipv4") != 0)
            return lw_creds_fail(f, "CredentialsConfigError", false,
                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6, "
                                 "not \"%.40s\"", mode);
    }
    double timeout = 1;
    long attempts = 1;
    char *end;
    if (tmo && *tmo) {
        timeout = strtod(tmo, &end);
        if (*end || !(timeout > 0))
            return lw_creds_fail(f, "CredentialsConfigError", false,
                                 "AWS_METADATA_SERVICE_TIMEOUT is not a positive number of seconds");
    }
    if (att && *att) {
        attempts = strtol(att, &end, 10);
        if (*end || attempts < 1 || attempts > 20)
            return lw_creds_fail(f, "CredentialsConfigError", false,
                                 "AWS_METADATA_SERVICE_NUM_ATTEMPTS must be a whole number 1..20");
    }
    struct imds *m = calloc(1, sizeof *m);
    if (!m)
        return lw_creds_fail(f, "OutOfMemory", true, "out of memory");
    m->f = f;
    snprintf(m->base, sizeof m->base, "%s", base);
    size_t bl = strlen(m->base);
    while (bl && m->base[bl - 1] == '/')
        m->base[--bl] = '\0';
    m->timeout = timeout;
    m->attempts = (int)attempts;
    m->v1_disabled = lw_creds_env_true(c, "AWS_EC2_METADATA_V1_DISABLED");
    pthread_mutex_lock(&c->mu);
    if (c->imds_token && lw_creds_wall(c) < c->imds_token_until)
        m->token = strdup(c->imds_token);
    pthread_mutex_unlock(&c->mu);
    m->cached = m->token != NULL;
    m->phase = m->cached ? IMDS_ROLE : IMDS_TOKEN;
    if (!imds_submit(m)) {
        imds_free(m);
        return LW_STEP_FAIL;
    }
    f->state = m;
    f->abort = imds_abort;
    return LW_STEP_PENDING;
}
