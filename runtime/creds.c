/* creds.c: credential snapshots, the provider (refresh policy, thread
 * safety) and the fetch driver that walks the chain on one loop. The sources
 * live in creds_file.c, creds_process.c and creds_http.c. */
#define LW_CREDS_INTERNAL
#include "creds.h"
#include "log.h"
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

extern char **environ;

/* ---- snapshots ---- */

struct lw_credentials *lw_credentials_new(const char *access_key_id,
                                          const char *secret_access_key,
                                          const char *session_token, double expires_at,
                                          const char *source)
{
    if (!access_key_id || !secret_access_key)
        return NULL;
    struct lw_credentials *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->access_key_id = strdup(access_key_id);
    c->secret_access_key = strdup(secret_access_key);
    if (session_token && *session_token)
        c->session_token = strdup(session_token);
    if (!c->access_key_id || !c->secret_access_key || (session_token && *session_token
                                                       && !c->session_token)) {
        atomic_init(&c->refs, 1);
        lw_credentials_release(c);
        return NULL;
    }
    c->expires_at = expires_at > 0 ? expires_at : 0;
    snprintf(c->source, sizeof c->source, "%s", source ? source : "");
    atomic_init(&c->refs, 1);
    return c;
}

struct lw_credentials *lw_credentials_retain(struct lw_credentials *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void lw_creds_wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void lw_credentials_release(struct lw_credentials *c)
{
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(c->access_key_id);
    lw_creds_wipe_free(c->secret_access_key);
    lw_creds_wipe_free(c->session_token);
    free(c);
}

/* ---- small helpers for the sources ---- */

static const char *const src_names[LW_SRC_COUNT] = {
    "env", "profile", "shared-credentials-file", "credential_process",
    "config-file", "container", "imds",
};
static const char *const src_titles[LW_SRC_COUNT] = {
    "environment", "profile", "shared credentials file", "credential_process",
    "config file", "container endpoint", "EC2 instance metadata",
};
static const char *const src_codes[LW_SRC_COUNT] = {
    "CredentialsConfigError", "CredentialsConfigError", "CredentialsConfigError",
    "CredentialProcessError", "CredentialsConfigError", "ContainerCredentialsError",
    "InstanceMetadataError",
};

const char *lw_creds_getenv(const struct lw_creds *c, const char *name)
{
    size_t n = strlen(name);
    for (char **e = c->env; *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

bool lw_creds_env_true(const struct lw_creds *c, const char *name)
{
    const char *v = lw_creds_getenv(c, name);
    return v && strcasecmp(v, "true") == 0;
}

double lw_creds_wall(struct lw_creds *c)
{
    if (c->clock)
        return c->clock(c->clock_ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void lw_creds_tried(struct lw_creds_fetch *f, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    /* the buffer is capped: a failed append only shortens the message */
    if (f->tried.len)
        lw_buf_puts(&f->tried, ", ");
    lw_buf_puts(&f->tried, tmp);
}

int lw_creds_fail(struct lw_creds_fetch *f, const char *code, bool retryable,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_error_vset(&f->err, LW_ERR_CREDENTIALS, retryable, code, fmt, ap);
    va_end(ap);
    return LW_STEP_FAIL;
}

void lw_creds_first_line(char *out, size_t n, const char *s, size_t len, size_t max)
{
    size_t i = 0, o = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    size_t end = i;
    while (end < len && s[end] != '\r' && s[end] != '\n' && s[end] != '\0')
        end++;
    if (end - i > max) {
        end = i + max;
        while (end > i && ((unsigned char)s[end] & 0xC0) == 0x80)
            end--;              /* cut on a UTF-8 character boundary */
    }
    while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t'))
        end--;
    for (; i < end && o + 1 < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (n)
        out[o] = '\0';
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

int lw_creds_parse_time(const char *s, double *out)
{
    int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
    double frac = 0;
    const char *p = s;
    if (!s || digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-'
        || digits(&p, 2, &D) || (*p != 'T' && *p != 't' && *p != ' ') || !*p++
        || digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':'
        || digits(&p, 2, &sec))
        return -1;
    if (*p == '.' || *p == ',') {
        double scale = 0.1;
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (*p && digits(&p, 2, &om))
            return -1;
    }
    /* botocore (dateutil) takes a time without a zone as UTC: so do we */
    if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60
        || oh > 23 || om > 59)
        return -1;
    struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
                     .tm_hour = h, .tm_min = m, .tm_sec = sec };
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (double)t + frac - sign * (oh * 3600.0 + om * 60.0);
    return 0;
}

static void format_time(double t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%.0f", t);
}

int lw_creds_make(struct lw_creds_fetch *f, int src, const char *akid, const char *secret,
                  const char *token, const char *expiration, const char *what)
{
    double exp = 0;
    if (expiration && lw_creds_parse_time(expiration, &exp) < 0)
        return lw_creds_fail(f, src_codes[src], false,
                             "%s: the expiration time is not an ISO-8601 date-time", what);
    if (expiration && exp <= lw_creds_wall(f->c)) {
        char when[32];
        format_time(exp, when);
        return lw_creds_fail(f, "CredentialsExpired", true,
                             "%s returned credentials for access key %s that expired at %s",
                             what, akid, when);
    }
    lw_credentials_release(f->result);
    f->result = lw_credentials_new(akid, secret, token, exp, src_names[src]);
    if (!f->result)
        return lw_creds_fail(f, "OutOfMemory", true, "out of memory");
    f->won = src;
    return LW_STEP_DONE;
}

/* ---- the provider ---- */

static double rnd(struct lw_creds *c)
{
    /* xorshift64*: jitter only, called with c->mu held */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (double)((c->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double or_default(double v, double d) { return v > 0 ? v : d; }

struct lw_creds *lw_creds_new(const struct lw_creds_config *cfg, struct lw_error *err)
{
    static const struct lw_creds_config dflt;
    if (!cfg)
        cfg = &dflt;
    struct lw_creds *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    pthread_mutex_init(&c->mu, NULL);
    c->source = -1;
    char **src = cfg->env ? cfg->env : environ;
    size_t n = 0;
    while (src && src[n])
        n++;
    if (!(c->env = calloc(n + 1, sizeof *c->env)))
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (!(c->env[i] = strdup(src[i])))
            goto oom;
    const char *p = NULL;
    if (cfg->profile && *cfg->profile) {
        p = cfg->profile;
        c->profile_from_config = true;
    } else if ((p = lw_creds_getenv(c, "AWS_DEFAULT_PROFILE")) && *p) {
        /* botocore reads AWS_DEFAULT_PROFILE before AWS_PROFILE */
    } else if (!(p = lw_creds_getenv(c, "AWS_PROFILE")) || !*p) {
        p = NULL;
    }
    c->profile_explicit = p != NULL;
    if (!(c->profile = strdup(p ? p : "default")))
        goto oom;
    if (!(c->container_base = strdup(cfg->container_base ? cfg->container_base
                                                         : "http://169.254.170.2")))
        goto oom;
    c->mandatory = or_default(cfg->mandatory_window, 600);
    c->advisory = or_default(cfg->advisory_window, 900);
    if (c->advisory < c->mandatory)
        c->advisory = c->mandatory;
    c->min_interval = or_default(cfg->min_refresh_interval, 30);
    c->retry_min = or_default(cfg->retry_min, 2);
    c->retry_max = or_default(cfg->retry_max, 60);
    if (c->retry_max < c->retry_min)
        c->retry_max = c->retry_min;
    c->process_timeout = or_default(cfg->process_timeout, 60);
    c->container_timeout = or_default(cfg->container_timeout, 2);
    c->container_retry_delay = or_default(cfg->container_retry_delay, 1);
    c->clock = cfg->clock;
    c->clock_ud = cfg->clock_ud;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    c->rng = ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)(uintptr_t)c
             ^ (unsigned long long)ts.tv_sec;
    if (!c->rng)
        c->rng = 88172645463325252ULL;
    return c;
oom:
    lw_creds_free(c);
    lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
    return NULL;
}

const char *lw_creds_profile(const struct lw_creds *c) { return c->profile; }

/* ---- fetches ---- */

static int (*const sources[LW_SRC_COUNT])(struct lw_creds_fetch *) = {
    lw_creds_src_env, lw_creds_src_unsupported, lw_creds_src_shared_file,
    lw_creds_src_process, lw_creds_src_config_file, lw_creds_src_container,
    lw_creds_src_imds,
};

static void walk(struct lw_creds_fetch *f);
static void on_walk(struct lw_defer *d, void *ud) { walk(ud); }

/* Called with c->mu held, on loop's thread. */
static struct lw_creds_fetch *fetch_new(struct lw_creds *c, struct lw_loop *loop,
                                        struct lw_http *http, int only, bool for_resolve)
{
    struct lw_creds_fetch *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->c = c;
    f->loop = loop;
    f->http = http;
    f->only = only;
    f->src = only >= 0 ? only : 0;
    f->for_resolve = for_resolve;
    f->won = -1;
    lw_buf_init(&f->tried, 2048);
    lw_defer_init(&f->defer, on_walk, f);
    f->next = c->fetches;
    if (c->fetches)
        c->fetches->prev = f;
    c->fetches = f;
    lw_defer_queue(loop, &f->defer);
    return f;
}

static void fetch_unlink(struct lw_creds_fetch *f)
{
    struct lw_creds *c = f->c;
    if (f->prev)
        f->prev->next = f->next;
    else if (c->fetches == f)
        c->fetches = f->next;
    if (f->next)
        f->next->prev = f->prev;
    f->prev = f->next = NULL;
}

/* Cancel the pending source, if any (its abort frees its state). */
static void fetch_abort(struct lw_creds_fetch *f)
{
    void (*ab)(struct lw_creds_fetch *) = f->abort;
    f->abort = NULL;
    if (ab)
        ab(f);
    f->state = NULL;
}

static void fetch_free(struct lw_creds_fetch *f)
{
    fetch_abort(f);
    lw_defer_cancel(f->loop, &f->defer);
    lw_credentials_release(f->result);
    lw_creds_files_free(&f->files);
    lw_buf_free(&f->tried);
    free(f);
}

/* With c->mu held. */
static void install(struct lw_creds *c, struct lw_credentials *cr, int src, double now)
{
    lw_credentials_release(c->cur);
    c->cur = lw_credentials_retain(cr);
    c->source = src;
    c->failed = false;
    c->fail_count = 0;
    c->retry_at = 0;
    c->invalidated = false;
    c->short_lived = cr->expires_at > 0 && cr->expires_at - now <= c->advisory;
    c->refresh_at = 0;
    if (c->short_lived) {
        /* Do not chase credentials that live shorter than the windows (some
         * container agents hand out 5-minute ones): serve them until they
         * expire and refresh at most every ~min_interval, jittered up, but at
         * the latest at half their remaining life (1 s at the least). */
        double interval = c->min_interval * (1 + 0.25 * rnd(c));
        double half = (cr->expires_at - now) / 2;
        if (half < 1)
            half = 1;
        c->refresh_at = now + (interval < half ? interval : half);
    }
}

/* With c->mu held. */
static void record_failure(struct lw_creds *c, const struct lw_error *e, double now)
{
    c->failed = true;
    c->last_err = *e;
    if (c->fail_count < 30)
        c->fail_count++;
    double d = c->retry_min * pow(2, c->fail_count - 1);
    if (d > c->retry_max)
        d = c->retry_max;
    c->retry_at = now + d * (0.75 + 0.5 * rnd(c));
}

static void finish(struct lw_creds_fetch *f, int step)
{
    struct lw_creds *c = f->c;
    if (step != LW_STEP_DONE && !f->err.code[0])
        lw_creds_fail(f, "NoCredentialsFound", false, "no AWS credentials found");
    pthread_mutex_lock(&c->mu);
    double now = lw_creds_wall(c);
    fetch_unlink(f);
    bool keeping = false;
    if (step == LW_STEP_DONE) {
        install(c, f->result, f->won, now);
    } else {
        record_failure(c, &f->err, now);
        keeping = c->cur && (!c->cur->expires_at || c->cur->expires_at > now);
    }
    if (!f->for_resolve)
        c->running = false;
    pthread_mutex_unlock(&c->mu);

    if (step == LW_STEP_DONE) {
        struct lw_log_field fl[] = {
            LW_STR("source", f->result->source),
            LW_STR("access_key_id", f->result->access_key_id),
            LW_STR("profile", c->profile),
            LW_NUM("expires_in", f->result->expires_at ? f->result->expires_at - now : -1),
        };
        lw_log(f->for_resolve ? LW_LOG_INFO : LW_LOG_DEBUG, "aws credentials loaded", fl, 4);
    } else if (!f->for_resolve) {
        struct lw_log_field fl[] = {
            LW_STR("code", f->err.code),
            LW_STR("error", f->err.message),
            LW_BOOL("keeping_valid_credentials", keeping),
        };
        lw_log(LW_LOG_WARN, "aws credentials refresh failed", fl, 3);
    }
    if (f->for_resolve)
        f->done = true;
    else
        fetch_free(f);
}

static void single_skipped(struct lw_creds_fetch *f)
{
    const char *what = f->tried.len ? f->tried.p : src_titles[f->only];
    lw_creds_fail(f, f->only == LW_SRC_IMDS ? "InstanceMetadataError" : "NoCredentialsFound",
                  f->only == LW_SRC_IMDS,
                  "refreshing credentials: %s no longer provides them (%s)",
                  src_titles[f->only], what);
}

/* A source's answer (not PENDING): true when the walk goes on to the next
 * source, false when the fetch has finished. */
static bool next_source(struct lw_creds_fetch *f, int step)
{
    if (step == LW_STEP_SKIP && f->only < 0) {
        f->src++;
        return true;
    }
    if (step == LW_STEP_SKIP) {
        single_skipped(f);
        step = LW_STEP_FAIL;
    }
    finish(f, step);
    return false;
}

static void walk(struct lw_creds_fetch *f)
{
    for (;;) {
        if (f->src >= LW_SRC_COUNT) {
            lw_creds_fail(f, "NoCredentialsFound", false, "no AWS credentials found: tried %s",
                          f->tried.len ? f->tried.p : "nothing");
            finish(f, LW_STEP_FAIL);
            return;
        }
        int step = sources[f->src](f);
        if (step == LW_STEP_PENDING || !next_source(f, step))
            return;
    }
}

void lw_creds_fetch_step_done(struct lw_creds_fetch *f, int step)
{
    fetch_abort(f);                 /* frees the finished source's state */
    if (next_source(f, step))
        walk(f);
}

/* ---- the public calls ---- */

int lw_creds_resolve(struct lw_creds *c, struct lw_loop *loop, struct lw_http *http,
                     struct lw_error *err)
{
    pthread_mutex_lock(&c->mu);
    struct lw_creds_fetch *f = fetch_new(c, loop, http, -1, true);
    pthread_mutex_unlock(&c->mu);
    if (!f)
        return lw_error_set(err, LW_ERR_CLIENT, false, "OutOfMemory", "out of memory");
    while (!f->done) {
        if (lw_loop_run_once(loop, 1.0) < 0) {
            pthread_mutex_lock(&c->mu);
            fetch_unlink(f);
            pthread_mutex_unlock(&c->mu);
            lw_creds_fail(f, "LoopError", false, "the event loop failed while resolving credentials");
            break;
        }
    }
    int rc = 0;
    if (!f->result || f->won < 0) {
        if (err)
            *err = f->err;
        rc = -1;
    }
    fetch_free(f);
    return rc;
}

static void set_refreshing(struct lw_creds *c, struct lw_error *err)
{
    if (c->source >= 0)
        lw_error_set(err, LW_ERR_CREDENTIALS, true, "CredentialsRefreshing",
                     "AWS credentials from %s are being refreshed", src_titles[c->source]);
    else
        lw_error_set(err, LW_ERR_CREDENTIALS, true, "CredentialsRefreshing",
                     "AWS credentials are being resolved");
}

enum lw_creds_state lw_creds_get(struct lw_creds *c, struct lw_loop *loop,
                                 struct lw_http *http, struct lw_credentials **out,
                                 struct lw_error *err)
{
    enum lw_creds_state st;
    *out = NULL;
    pthread_mutex_lock(&c->mu);
    double now = lw_creds_wall(c);
    struct lw_credentials *cur = c->cur;
    double rem = cur && cur->expires_at ? cur->expires_at - now : INFINITY;
    bool valid = cur && rem > 0;
    bool due = !valid || c->invalidated || rem <= c->advisory;
    if (due && !c->running) {
        double gate = c->retry_at;
        if (valid && !c->invalidated && c->refresh_at > gate)
            gate = c->refresh_at;
        if (now >= gate && fetch_new(c, loop, http, c->source, false))
            c->running = true;
    }
    if (valid && !c->invalidated
        && (rem > c->mandatory || c->short_lived || c->failed || !c->running)) {
        /* fresh; in the advisory window; short-lived and served until it
         * expires; or the refresh failed and these are still valid */
        st = LW_CREDS_OK;
        *out = lw_credentials_retain(cur);
    } else if (c->failed) {
        st = LW_CREDS_FAILED;
        if (err)
            *err = c->last_err;
    } else {
        st = LW_CREDS_EXPIRED;
        if (valid)
            *out = lw_credentials_retain(cur);
        set_refreshing(c, err);
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

void lw_creds_invalidate(struct lw_creds *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->cur && !c->running) {
        c->invalidated = true;
        c->failed = false;      /* an older failure is not the answer to this */
        c->retry_at = 0;
    }
    pthread_mutex_unlock(&c->mu);
}

static void cancel_where(struct lw_creds *c, struct lw_loop *loop)
{
    struct lw_creds_fetch *list = NULL;
    pthread_mutex_lock(&c->mu);
    for (struct lw_creds_fetch *f = c->fetches, *nx; f; f = nx) {
        nx = f->next;
        if (loop && f->loop != loop)
            continue;
        fetch_unlink(f);
        if (!f->for_resolve)
            c->running = false;
        f->next = list;
        list = f;
    }
    pthread_mutex_unlock(&c->mu);
    while (list) {
        struct lw_creds_fetch *f = list;
        list = f->next;
        f->next = NULL;
        if (f->for_resolve) {
            fetch_abort(f);
            lw_defer_cancel(f->loop, &f->defer);
            lw_creds_fail(f, "Cancelled", false, "credentials lookup cancelled");
            f->done = true;
        } else {
            fetch_free(f);
        }
    }
}

void lw_creds_cancel(struct lw_creds *c, struct lw_loop *loop)
{
    if (c && loop)
        cancel_where(c, loop);
}

void lw_creds_free(struct lw_creds *c)
{
    if (!c)
        return;
    cancel_where(c, NULL);
    lw_credentials_release(c->cur);
    if (c->env)
        for (char **e = c->env; *e; e++)
            lw_creds_wipe_free(*e);     /* the environment may hold secrets */
    free(c->env);
    free(c->profile);
    free(c->container_base);
    lw_creds_wipe_free(c->imds_token);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
