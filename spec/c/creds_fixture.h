/* creds_fixture.h: what the credentials-chain tests (test_creds.c,
 * test_creds_process.c, test_creds_http.c) share. Hermetic: a fake
 * environment array (struct fenv, HOME in a mkdtemp directory), files and
 * scripts in that directory (write_file, path_in, script), a fake wall clock
 * (fake_now), one loop and one http client. mk builds a chain with
 * cfg_for's configuration; resolve, get, resolve_get, resolve_err, pump and
 * wait_for drive it and note every error in errlog.
 *
 * Every fixture secret contains "sekrit" and every token "tokn": each program
 * ends with test_no_secret_in_messages, which scans all error messages and
 * log lines of its run for them. creds_setup and creds_teardown bracket a
 * program's tests. */
#ifndef LW_SPEC_CREDS_FIXTURE_H
#define LW_SPEC_CREDS_FIXTURE_H
#define LW_CREDS_INTERNAL
#include "t.h"
#include "creds.h"
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1900000000.0

static struct lw_loop *loop;
static struct lw_http *http;
static char dir[64], home[128], logpath[128];
static _Atomic double fake_now;
static char errlog[1 << 17];
static size_t errlen;
/* the host of AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is 127.0.0.1:container_port:
 * test_creds_http.c sets the fixture server's port (1 refuses connections) */
static int container_port = 1;

static inline double test_clock(void *ud) { return atomic_load(&fake_now); }

static inline void note(const struct lw_error *e)
{
    int n = snprintf(errlog + errlen, sizeof errlog - errlen, "%s: %s\n", e->code, e->message);
    if (n > 0 && (size_t)n < sizeof errlog - errlen)
        errlen += (size_t)n;
}

static inline void iso(double t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- files, scripts, environment ---- */

static inline void write_file(const char *path, const char *fmt, ...)
{
    FILE *f = fopen(path, "w");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static inline const char *path_in(const char *rel)
{
    static char bufs[8][256];
    static int i;
    char *p = bufs[i++ % 8];
    snprintf(p, 256, "%s/%s", dir, rel);
    return p;
}

/* An executable /bin/sh script in the temp dir; returns its path. */
static inline const char *script(const char *name, const char *body)
{
    const char *p = path_in(name);
    write_file(p, "#!/bin/sh\n%s\n", body);
    chmod(p, 0755);
    return p;
}

struct fenv { char *v[64]; int n; };

static inline void fenv_set(struct fenv *e, const char *name, const char *val)
{
    size_t nl = strlen(name);
    for (int i = 0; i < e->n; i++)
        if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=') {
            free(e->v[i]);
            e->v[i] = e->v[--e->n];
            e->v[e->n] = NULL;
            break;
        }
    if (val && asprintf(&e->v[e->n], "%s=%s", name, val) > 0)
        e->n++;
    e->v[e->n] = NULL;
}

static inline void fenv_init(struct fenv *e)
{
    memset(e, 0, sizeof *e);
    fenv_set(e, "HOME", home);
    fenv_set(e, "PATH", "/usr/bin:/bin");
    fenv_set(e, "AWS_EC2_METADATA_DISABLED", "true");
}

static inline void fenv_free(struct fenv *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->v[i]);
    e->n = 0;
}

static inline void clean_home(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/.aws' && mkdir -p '%s/.aws'", home, home);
    if (system(cmd) != 0)
        abort();
}

static inline struct lw_creds_config cfg_for(struct fenv *e, const char *profile)
{
    static char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", container_port);
    return (struct lw_creds_config){ .env = e->v, .profile = profile, .clock = test_clock,
                                     .container_base = base, .container_retry_delay = 0.05,
                                     .process_timeout = 5 };
}

static inline struct lw_creds *mk(struct fenv *e, const char *profile)
{
    struct lw_creds_config cfg = cfg_for(e, profile);
    struct lw_error err;
    struct lw_creds *c = lw_creds_new(&cfg, &err);
    CHECK(c != NULL);
    return c;
}

static inline int resolve(struct lw_creds *c, struct lw_error *err)
{
    memset(err, 0, sizeof *err);
    int rc = lw_creds_resolve(c, loop, http, err);
    if (rc < 0)
        note(err);
    return rc;
}

static inline enum lw_creds_state get(struct lw_creds *c, struct lw_credentials **out, struct lw_error *err)
{
    memset(err, 0, sizeof *err);
    enum lw_creds_state st = lw_creds_get(c, loop, http, out, err);
    if (st != LW_CREDS_OK)
        note(err);
    return st;
}

/* Resolve, then get: the snapshot (caller releases) or NULL. */
static inline struct lw_credentials *resolve_get(struct lw_creds *c)
{
    struct lw_error err;
    struct lw_credentials *cr = NULL;
    if (resolve(c, &err) < 0) {
        fprintf(stderr, "  [%s] resolve: %s: %s\n", t_name, err.code, err.message);
        t_cur_failed = 1;
        return NULL;
    }
    CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
    return cr;
}

/* Resolve expecting an error; its message is copied to msg. */
static inline void resolve_err(struct lw_creds *c, const char *code, char *msg, size_t n)
{
    struct lw_error err;
    CHECK_INT(resolve(c, &err), -1);
    CHECK_STR(err.code, code);
    snprintf(msg, n, "%s", err.message);
}

static inline void pump(double secs)
{
    lw_loop_update_time(loop);
    double end = lw_loop_now(loop) + secs;
    while (lw_loop_now(loop) < end)
        lw_loop_run_once(loop, 0.01);
}

/* Run the loop until get answers `want` with access key id `akid`. */
static inline bool wait_for(struct lw_creds *c, enum lw_creds_state want, const char *akid, double secs)
{
    lw_loop_update_time(loop);
    double end = lw_loop_now(loop) + secs;
    for (;;) {
        struct lw_credentials *cr = NULL;
        struct lw_error err;
        enum lw_creds_state st = get(c, &cr, &err);
        bool ok = st == want && (!akid || (cr && strcmp(cr->access_key_id, akid) == 0));
        lw_credentials_release(cr);
        if (ok)
            return true;
        if (lw_loop_now(loop) >= end)
            return false;
        lw_loop_run_once(loop, 0.01);
    }
}

#define CHECK_HAS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
    if (!strstr(h_, n_)) { fprintf(stderr, "  %s:%d: [%s] \"%s\" lacks \"%s\"\n", \
        __FILE__, __LINE__, t_name, h_, n_); t_cur_failed = 1; } } while (0)

/* ---- secrets ---- */

static inline void test_no_secret_in_messages(void)
{
    CHECK(errlen > 1000);                   /* the suite did produce errors */
    CHECK(!strcasestr(errlog, "sekrit"));
    CHECK(!strcasestr(errlog, "tokn"));
    static char logs[1 << 18];
    int fd = open(logpath, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, logs, sizeof logs - 1) : -1;
    if (fd >= 0)
        close(fd);
    logs[n > 0 ? n : 0] = '\0';
    CHECK(n > 100 && strstr(logs, "AKID"));  /* the log names access key ids */
    CHECK(!strcasestr(logs, "sekrit"));
    CHECK(!strcasestr(logs, "tokn"));
}

static int creds_logfd = -1;

/* A temp directory with HOME and the log file, the log, the fake clock at
 * T0, the loop and the http client; false if the directory failed. */
static inline bool creds_setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/lwcredsXXXXXX");
    if (!mkdtemp(dir))
        return false;
    snprintf(home, sizeof home, "%s/home", dir);
    snprintf(logpath, sizeof logpath, "%s/log", dir);
    mkdir(home, 0700);
    creds_logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    lw_log_configure(LW_LOG_DEBUG, LW_LOG_TEXT, creds_logfd);
    atomic_store(&fake_now, T0);
    loop = lw_loop_new();
    http = lw_http_new(loop, NULL);
    return true;
}

/* Free the http client and the loop, close the log, remove the directory. */
static inline void creds_teardown(void)
{
    lw_http_free(http);
    lw_loop_free(loop);
    close(creds_logfd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}
#endif
