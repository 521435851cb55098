/* Unit tests for the credentials chain (runtime/creds*.c), source by source,
 * hermetic: a fake environment array (HOME in a mkdtemp directory), files and
 * scripts in that directory, a fake wall clock, and fixture_server.h standing
 * in for the container and instance-metadata endpoints. Every fixture secret
 * contains "sekrit" and every token "tokn": the last test scans all error
 * messages and log lines of the run for them. */
#define LW_CREDS_INTERNAL
#include "t.h"
#include "creds.h"
#include "fixture_server.h"
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>

#define T0 1900000000.0

static struct lw_loop *loop;
static struct lw_http *http;
static char dir[64], home[128], logpath[128];
static _Atomic double fake_now;
static char errlog[1 << 17];
static size_t errlen;

static double test_clock(void *ud) { return atomic_load(&fake_now); }

static void note(const struct lw_error *e)
{
    int n = snprintf(errlog + errlen, sizeof errlog - errlen, "%s: %s\n", e->code, e->message);
    if (n > 0 && (size_t)n < sizeof errlog - errlen)
        errlen += (size_t)n;
}

static void iso(double t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- files, scripts, environment ---- */

static void write_file(const char *path, const char *fmt, ...)
{
    FILE *f = fopen(path, "w");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static const char *path_in(const char *rel)
{
    static char bufs[8][256];
    static int i;
    char *p = bufs[i++ % 8];
    snprintf(p, 256, "%s/%s", dir, rel);
    return p;
}

/* An executable /bin/sh script in the temp dir; returns its path. */
static const char *script(const char *name, const char *body)
{
    const char *p = path_in(name);
    write_file(p, "#!/bin/sh\n%s\n", body);
    chmod(p, 0755);
    return p;
}

struct fenv { char *v[64]; int n; };

static void fenv_set(struct fenv *e, const char *name, const char *val)
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

static void fenv_init(struct fenv *e)
{
    memset(e, 0, sizeof *e);
    fenv_set(e, "HOME", home);
    fenv_set(e, "PATH", "/usr/bin:/bin");
    fenv_set(e, "AWS_EC2_METADATA_DISABLED", "true");
}

static void fenv_free(struct fenv *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->v[i]);
    e->n = 0;
}

static void clean_home(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/.aws' && mkdir -p '%s/.aws'", home, home);
    if (system(cmd) != 0)
        abort();
}

static struct lw_creds_config cfg_for(struct fenv *e, const char *profile)
{
    static char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", fx.port);
    return (struct lw_creds_config){ .env = e->v, .profile = profile, .clock = test_clock,
                                     .container_base = base, .container_retry_delay = 0.05,
                                     .process_timeout = 5 };
}

static struct lw_creds *mk(struct fenv *e, const char *profile)
{
    struct lw_creds_config cfg = cfg_for(e, profile);
    struct lw_error err;
    struct lw_creds *c = lw_creds_new(&cfg, &err);
    CHECK(c != NULL);
    return c;
}

static int resolve(struct lw_creds *c, struct lw_error *err)
{
    memset(err, 0, sizeof *err);
    int rc = lw_creds_resolve(c, loop, http, err);
    if (rc < 0)
        note(err);
    return rc;
}

static enum lw_creds_state get(struct lw_creds *c, struct lw_credentials **out, struct lw_error *err)
{
    memset(err, 0, sizeof *err);
    enum lw_creds_state st = lw_creds_get(c, loop, http, out, err);
    if (st != LW_CREDS_OK)
        note(err);
    return st;
}

/* Resolve, then get: the snapshot (caller releases) or NULL. */
static struct lw_credentials *resolve_get(struct lw_creds *c)
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
static void resolve_err(struct lw_creds *c, const char *code, char *msg, size_t n)
{
    struct lw_error err;
    CHECK_INT(resolve(c, &err), -1);
    CHECK_STR(err.code, code);
    snprintf(msg, n, "%s", err.message);
}

static void pump(double secs)
{
    lw_loop_update_time(loop);
    double end = lw_loop_now(loop) + secs;
    while (lw_loop_now(loop) < end)
        lw_loop_run_once(loop, 0.01);
}

/* Run the loop until get answers `want` with access key id `akid`. */
static bool wait_for(struct lw_creds *c, enum lw_creds_state want, const char *akid, double secs)
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

/* ---- pure helpers ---- */

static void test_parse_time(void)
{
    double t;
    CHECK_INT(lw_creds_parse_time("2026-11-21T12:00:00Z", &t), 0);
    CHECK(t == 1795262400.0);
    CHECK_INT(lw_creds_parse_time("2026-11-21T12:00:00.250Z", &t), 0);
    CHECK(t == 1795262400.25);
    CHECK_INT(lw_creds_parse_time("2026-11-21T13:30:00+01:30", &t), 0);
    CHECK(t == 1795262400.0);
    CHECK_INT(lw_creds_parse_time("2026-11-21T07:00:00-0500", &t), 0);
    CHECK(t == 1795262400.0);
    CHECK_INT(lw_creds_parse_time("2026-11-21 12:00:00", &t), 0);
    CHECK(t == 1795262400.0);
    CHECK_INT(lw_creds_parse_time("2026-13-21T12:00:00Z", &t), -1);
    CHECK_INT(lw_creds_parse_time("2026-11-21T12:00Z", &t), -1);
    CHECK_INT(lw_creds_parse_time("tomorrow", &t), -1);
    CHECK_INT(lw_creds_parse_time("2026-11-21T12:00:00Zjunk", &t), -1);
}

/* lw_creds_doc_parse: each source's rules and messages; never the input. */
static void test_credentials_json(void)
{
    static const struct {
        enum lw_creds_doc_kind kind;
        const char *body;
        int status;
        const char *why;        /* exact, or the expected token on success */
    } cases[] = {
        { LW_CREDS_DOC_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":"
          "\"sekrit\",\"SessionToken\":\"tokn\",\"Expiration\":null}", LW_CREDS_DOC_OK, "tokn" },
        { LW_CREDS_DOC_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":"
          "\"sekrit\"}", LW_CREDS_DOC_OK, NULL },
        { LW_CREDS_DOC_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"sekrit", LW_CREDS_DOC_MALFORMED,
          "output is not valid JSON (line 1, column 34)" },
        { LW_CREDS_DOC_PROCESS, "[1]", LW_CREDS_DOC_MALFORMED, "output is not a JSON object" },
        { LW_CREDS_DOC_PROCESS, "", LW_CREDS_DOC_MALFORMED,
          "output is not valid JSON (line 1, column 0)" },
        { LW_CREDS_DOC_PROCESS, "{}", LW_CREDS_DOC_INVALID,
          "output has no Version (supported versions: 1)" },
        { LW_CREDS_DOC_PROCESS, "{\"Version\":2}", LW_CREDS_DOC_INVALID,
          "unsupported Version 2 (supported versions: 1)" },
        { LW_CREDS_DOC_PROCESS, "{\"Version\":\"1\"}", LW_CREDS_DOC_INVALID,
          "Version must be the number 1" },
        { LW_CREDS_DOC_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"\",\"SecretAccessKey\":\"s\"}",
          LW_CREDS_DOC_INVALID, "output lacks AccessKeyId" },
        { LW_CREDS_DOC_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"A\"}", LW_CREDS_DOC_INVALID,
          "output lacks SecretAccessKey" },
        { LW_CREDS_DOC_PROCESS, "{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
          "\"Expiration\":5}", LW_CREDS_DOC_INVALID,
          "SessionToken and Expiration must be strings" },
        { LW_CREDS_DOC_CONTAINER, "{\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"sekrit\","
          "\"Token\":\"tokn\",\"Expiration\":\"2030-01-01T00:00:00Z\"}", LW_CREDS_DOC_OK, "tokn" },
        { LW_CREDS_DOC_CONTAINER, "nope", LW_CREDS_DOC_MALFORMED,
          "the response is not valid JSON (line 1, column 4)" },
        { LW_CREDS_DOC_CONTAINER, "\"s\"", LW_CREDS_DOC_MALFORMED,    /* top level: objects */
          "the response is not valid JSON (line 1, column 3)" },
        { LW_CREDS_DOC_CONTAINER, "[]", LW_CREDS_DOC_MALFORMED,
          "the response is not a JSON object" },
        { LW_CREDS_DOC_CONTAINER, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Token\":7}",
          LW_CREDS_DOC_INVALID, "the response lacks Token" },
        { LW_CREDS_DOC_IMDS, "{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":"
          "\"sekrit\",\"Token\":\"tokn\",\"Expiration\":\"x\"}", LW_CREDS_DOC_OK, "tokn" },
        { LW_CREDS_DOC_IMDS, "nope", LW_CREDS_DOC_MALFORMED, "the response is not a JSON object" },
        { LW_CREDS_DOC_IMDS, "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\"}",
          LW_CREDS_DOC_INVALID, "Code AssumeRoleUnauthorizedAccess" },
        { LW_CREDS_DOC_IMDS, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Token\":\"t\"}",
          LW_CREDS_DOC_INVALID, "the response lacks Expiration" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lw_creds_doc d;
        char why[200];
        int st = lw_creds_doc_parse(cases[i].kind, cases[i].body, strlen(cases[i].body), &d, why,
                                    sizeof why);
        CHECK_INT(st, cases[i].status);
        if (st == LW_CREDS_DOC_OK) {
            CHECK_STR(why, "");
            CHECK(d.access_key_id && d.secret_access_key && d.access_key_id[0]);
            if (cases[i].why)
                CHECK_STR(d.session_token, cases[i].why);
            else
                CHECK(d.session_token == NULL && d.expiration == NULL);
        } else {
            CHECK_STR(why, cases[i].why);
            CHECK(!d.access_key_id && !d.secret_access_key && !d.session_token && !d.expiration);
            CHECK(!strstr(why, "sekrit"));
        }
        lw_creds_doc_free(&d);
    }
    /* not NUL-terminated: only len bytes are read */
    struct lw_creds_doc d;
    char why[64];
    const char body[] = "{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}junk";
    CHECK_INT(lw_creds_doc_parse(LW_CREDS_DOC_PROCESS, body, sizeof body - 1 - 4, &d, why,
                                 sizeof why), LW_CREDS_DOC_OK);
    lw_creds_doc_free(&d);
    lw_creds_doc_free(NULL);
}

static void test_split_command(void)
{
    const char *why;
    char **a = lw_creds_split_command("  /bin/p 'a b' \"c \\\"d\\\" \\x\" e\\ f ''  g", &why);
    CHECK(a != NULL);
    if (a) {
        CHECK_STR(a[0], "/bin/p");
        CHECK_STR(a[1], "a b");
        CHECK_STR(a[2], "c \"d\" \\x");
        CHECK_STR(a[3], "e f");
        CHECK_STR(a[4], "");
        CHECK_STR(a[5], "g");
        CHECK(a[6] == NULL);
    }
    lw_creds_argv_free(a);
    CHECK(lw_creds_split_command("p 'open", &why) == NULL);
    CHECK_HAS(why, "closing quotation");
    CHECK(lw_creds_split_command("p trailing\\", &why) == NULL);
    a = lw_creds_split_command("   ", &why);
    CHECK(a && !a[0]);
    lw_creds_argv_free(a);
}

/* ---- environment ---- */

static void test_env(void)
{
    struct fenv e;
    fenv_init(&e);
    fenv_set(&e, "AWS_ACCESS_KEY_ID", "AKIDENV1");
    fenv_set(&e, "AWS_SECRET_ACCESS_KEY", "sekrit-env-1");
    struct lw_creds *c = mk(&e, NULL);
    struct lw_credentials *cr = resolve_get(c);
    CHECK(cr != NULL);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDENV1");
        CHECK_STR(cr->secret_access_key, "sekrit-env-1");
        CHECK(cr->session_token == NULL);
        CHECK(cr->expires_at == 0);
        CHECK_STR(cr->source, "env");
    }
    lw_credentials_release(cr);
    lw_creds_free(c);

    /* a token, the legacy name checked first (botocore), an expiration */
    fenv_set(&e, "AWS_SESSION_TOKEN", "tokn-env-session");
    fenv_set(&e, "AWS_CREDENTIAL_EXPIRATION", "2031-01-01T00:00:00Z");
    atomic_store(&fake_now, T0);
    c = mk(&e, NULL);
    cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->session_token, "tokn-env-session");
        CHECK(cr->expires_at == 1924992000.0);
    }
    lw_credentials_release(cr);
    lw_creds_free(c);
    fenv_set(&e, "AWS_SECURITY_TOKEN", "tokn-env-legacy");
    c = mk(&e, NULL);
    cr = resolve_get(c);
    if (cr)
        CHECK_STR(cr->session_token, "tokn-env-legacy");
    lw_credentials_release(cr);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_env_half_configured(void)
{
    char msg[512];
    struct fenv e;
    fenv_init(&e);
    fenv_set(&e, "AWS_ACCESS_KEY_ID", "AKIDHALF");
    struct lw_creds *c = mk(&e, NULL);
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "AWS_SECRET_ACCESS_KEY");
    lw_creds_free(c);
    fenv_set(&e, "AWS_ACCESS_KEY_ID", NULL);
    fenv_set(&e, "AWS_SECRET_ACCESS_KEY", "sekrit-half");
    c = mk(&e, NULL);
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "AWS_ACCESS_KEY_ID");
    lw_creds_free(c);
    /* a bad expiration */
    fenv_set(&e, "AWS_ACCESS_KEY_ID", "AKIDHALF");
    fenv_set(&e, "AWS_CREDENTIAL_EXPIRATION", "soon");
    c = mk(&e, NULL);
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "ISO-8601");
    lw_creds_free(c);
    fenv_free(&e);
}

/* ---- shared files ---- */

static void test_credentials_file(void)
{
    clean_home();
    write_file(path_in("home/.aws/credentials"),
               "[default]\naws_access_key_id = AKIDFILEDEF\naws_secret_access_key = sekrit-file-def\n\n"
               "[work]\naws_access_key_id=AKIDFILEWORK\naws_secret_access_key=sekrit-file-work\n"
               "aws_session_token=tokn-file-work\n\n"
               "[other]\naws_access_key_id=AKIDFILEOTHER\naws_secret_access_key=sekrit-file-other\n"
               "aws_security_token=tokn-file-other\n");
    struct fenv e;
    fenv_init(&e);
    struct lw_creds *c = mk(&e, NULL);
    struct lw_credentials *cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDFILEDEF");
        CHECK_STR(cr->source, "shared-credentials-file");
        CHECK(cr->session_token == NULL);
    }
    lw_credentials_release(cr);
    lw_creds_free(c);

    fenv_set(&e, "AWS_PROFILE", "work");
    c = mk(&e, NULL);
    CHECK_STR(lw_creds_profile(c), "work");
    cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDFILEWORK");
        CHECK_STR(cr->session_token, "tokn-file-work");
    }
    lw_credentials_release(cr);
    lw_creds_free(c);

    /* AWS_DEFAULT_PROFILE before AWS_PROFILE (botocore), --profile before both;
     * aws_security_token is the legacy name of the token */
    fenv_set(&e, "AWS_DEFAULT_PROFILE", "other");
    c = mk(&e, NULL);
    cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDFILEOTHER");
        CHECK_STR(cr->session_token, "tokn-file-other");
    }
    lw_credentials_release(cr);
    lw_creds_free(c);
    c = mk(&e, "default");
    cr = resolve_get(c);
    if (cr)
        CHECK_STR(cr->access_key_id, "AKIDFILEDEF");
    lw_credentials_release(cr);
    lw_creds_free(c);

    /* AWS_SHARED_CREDENTIALS_FILE, with ~ expanded from HOME */
    write_file(path_in("home/elsewhere"), "[default]\naws_access_key_id=AKIDELSEWHERE\n"
                                          "aws_secret_access_key=sekrit-elsewhere\n");
    fenv_set(&e, "AWS_DEFAULT_PROFILE", NULL);
    fenv_set(&e, "AWS_PROFILE", NULL);
    fenv_set(&e, "AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere");
    c = mk(&e, NULL);
    cr = resolve_get(c);
    if (cr)
        CHECK_STR(cr->access_key_id, "AKIDELSEWHERE");
    lw_credentials_release(cr);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_profile_errors(void)
{
    char msg[512];
    clean_home();
    write_file(path_in("home/.aws/credentials"),
               "[default]\naws_access_key_id=AKIDPE\naws_secret_access_key=sekrit-pe\n"
               "[halfkey]\naws_access_key_id=AKIDHALFFILE\n");
    write_file(path_in("home/.aws/config"),
               "[profile assumer]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n"
               "[profile ssouser]\nsso_session = corp\nsso_account_id = 123456789012\n");
    struct fenv e;
    fenv_init(&e);
    fenv_set(&e, "AWS_PROFILE", "nosuch");
    struct lw_creds *c = mk(&e, NULL);
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "\"nosuch\"");
    CHECK_HAS(msg, "not found");
    lw_creds_free(c);
    c = mk(&e, "halfkey");
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "aws_secret_access_key");
    lw_creds_free(c);
    c = mk(&e, "assumer");
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "role_arn");
    CHECK_HAS(msg, "not support");
    CHECK_HAS(msg, "credential_process");
    lw_creds_free(c);
    c = mk(&e, "ssouser");
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "sso_");
    lw_creds_free(c);
    /* a malformed file: named with its line, the line itself never quoted */
    write_file(path_in("home/.aws/credentials"),
               "[default]\naws_access_key_id=AKIDPE\nsekrit-pasted-by-mistake\n");
    c = mk(&e, "halfkey");
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, ".aws/credentials:3:");
    lw_creds_free(c);
    fenv_set(&e, "AWS_PROFILE", NULL);
    fenv_set(&e, "AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/y");
    fenv_set(&e, "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
    c = mk(&e, NULL);
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "AWS_WEB_IDENTITY_TOKEN_FILE");
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_config_file(void)
{
    clean_home();
    write_file(path_in("home/.aws/config"),
               "[default]\nregion = us-east-1\naws_access_key_id = AKIDCFGDEF\n"
               "aws_secret_access_key = sekrit-cfg-def\n"
               "[profile x]\naws_access_key_id = AKIDCFGX\naws_secret_access_key = sekrit-cfg-x\n"
               "aws_session_token = tokn-cfg-x\n"
               "[x]\naws_access_key_id = AKIDNOTAPROFILE\naws_secret_access_key = sekrit-notaprofile\n");
    struct fenv e;
    fenv_init(&e);
    struct lw_creds *c = mk(&e, NULL);
    struct lw_credentials *cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDCFGDEF");
        CHECK_STR(cr->source, "config-file");
    }
    lw_credentials_release(cr);
    lw_creds_free(c);
    c = mk(&e, "x");
    cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDCFGX");
        CHECK_STR(cr->session_token, "tokn-cfg-x");
    }
    lw_credentials_release(cr);
    lw_creds_free(c);
    /* AWS_CONFIG_FILE */
    write_file(path_in("cfg2"), "[profile y]\naws_access_key_id=AKIDCFG2\naws_secret_access_key=sekrit-cfg2\n");
    fenv_set(&e, "AWS_CONFIG_FILE", path_in("cfg2"));
    c = mk(&e, "y");
    cr = resolve_get(c);
    if (cr)
        CHECK_STR(cr->access_key_id, "AKIDCFG2");
    lw_credentials_release(cr);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_precedence(void)
{
    clean_home();
    const char *proc = script("prec.sh", "echo '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\","
                                         "\"SecretAccessKey\":\"sekrit-proc-prec\"}'");
    write_file(path_in("home/.aws/credentials"),
               "[both]\naws_access_key_id=AKIDCREDFILE\naws_secret_access_key=sekrit-credfile\n");
    write_file(path_in("home/.aws/config"),
               "[profile both]\naws_access_key_id=AKIDCFGFILE\naws_secret_access_key=sekrit-cfgfile\n"
               "credential_process = %s\n"
               "[profile proc]\naws_access_key_id=AKIDCFGFILE2\naws_secret_access_key=sekrit-cfgfile2\n"
               "credential_process = %s\n", proc, proc);
    struct fenv e;
    fenv_init(&e);
    fenv_set(&e, "AWS_PROFILE", "both");
    fenv_set(&e, "AWS_ACCESS_KEY_ID", "AKIDENVPREC");
    fenv_set(&e, "AWS_SECRET_ACCESS_KEY", "sekrit-env-prec");
    fenv_set(&e, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/never");
    const char *want[] = { "AKIDENVPREC", "AKIDCREDFILE", "AKIDPROC" };
    for (int i = 0; i < 3; i++) {
        /* environment beats AWS_PROFILE; --profile skips the environment
         * (botocore); the credentials file beats credential_process, which
         * beats the config file's keys; all beat the container */
        struct lw_creds *c = mk(&e, i == 0 ? NULL : i == 1 ? "both" : "proc");
        struct lw_credentials *cr = resolve_get(c);
        if (cr)
            CHECK_STR(cr->access_key_id, want[i]);
        lw_credentials_release(cr);
        lw_creds_free(c);
    }
    fenv_free(&e);
}

/* ---- credential_process ---- */

static struct lw_creds *proc_creds(const char *cmdline, struct fenv *e)
{
    clean_home();
    write_file(path_in("home/.aws/config"), "[default]\ncredential_process = %s\n", cmdline);
    fenv_init(e);
    return mk(e, NULL);
}

static void test_process_ok(void)
{
    char exp[32], body[700];
    atomic_store(&fake_now, T0);
    iso(T0 + 3600, exp);
    int stray = open("/dev/null", O_RDONLY);       /* no O_CLOEXEC: the child must not get it */
    snprintf(body, sizeof body,
             "if [ -e /proc/$$/fd/%d ]; then echo 'inherited fd %d' >&2; exit 9; fi\n"
             "printf '%%s\\n' \"$1\" \"$2\" > '%s'\n"
             "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC1\", \"SecretAccessKey\": "
             "\"sekrit-proc-1\", \"SessionToken\": \"tokn-proc-1\", \"Expiration\": \"%s\"}'",
             stray, stray, path_in("args.txt"), exp);
    script("p ok.sh", body);
    /* the script's path has a space: quote it */
    char quoted[400];
    snprintf(quoted, sizeof quoted, "\"%s\" 'one arg' \"two\\\"q\"", path_in("p ok.sh"));
    struct fenv e;
    struct lw_creds *c = proc_creds(quoted, &e);
    struct lw_credentials *cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDPROC1");
        CHECK_STR(cr->secret_access_key, "sekrit-proc-1");
        CHECK_STR(cr->session_token, "tokn-proc-1");
        CHECK(cr->expires_at == T0 + 3600);
        CHECK_STR(cr->source, "credential_process");
    }
    lw_credentials_release(cr);
    char args[128] = "";
    FILE *f = fopen(path_in("args.txt"), "r");
    if (f) {
        size_t n = fread(args, 1, sizeof args - 1, f);
        args[n] = 0;
        fclose(f);
    }
    CHECK_STR(args, "one arg\ntwo\"q\n");
    close(stray);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_process_failures(void)
{
    char msg[512];
    struct fenv e;
    struct {
        const char *body, *want;
    } cases[] = {
        { "echo 'boom: the vault is sealed' >&2; echo 'second line' >&2; exit 3",
          "exited with status 3: boom: the vault is sealed" },
        { "echo '{\"Version\":1,\"AccessKeyId\":\"AKIDBAD\",\"SecretAccessKey\":\"sekrit-bad-json'",
          "not valid JSON" },
        { "echo '{\"Version\":2,\"AccessKeyId\":\"AKIDV2\",\"SecretAccessKey\":\"sekrit-v2\"}'",
          "unsupported Version 2" },
        { "echo '{\"AccessKeyId\":\"AKIDNOV\",\"SecretAccessKey\":\"sekrit-nov\"}'", "no Version" },
        { "echo '{\"Version\":1,\"SecretAccessKey\":\"sekrit-noid\"}'", "lacks AccessKeyId" },
        { "echo '{\"Version\":1,\"AccessKeyId\":\"AKIDX\",\"SecretAccessKey\":\"sekrit-exp\","
          "\"Expiration\":\"2001-01-01T00:00:00Z\"}'", "expired at 2001-01-01T00:00:00Z" },
        { "kill -9 $$", "killed by signal 9" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "fail%zu.sh", i);
        struct lw_creds *c = proc_creds(script(name, cases[i].body), &e);
        resolve_err(c, i == 5 ? "CredentialsExpired" : "CredentialProcessError", msg, sizeof msg);
        CHECK_HAS(msg, cases[i].want);
        CHECK(!strstr(msg, "second line"));
        lw_creds_free(c);
        fenv_free(&e);
    }
    /* stderr is quoted capped */
    char body[1200];
    snprintf(body, sizeof body, "printf '%%0900d\\n' 7 >&2; exit 1");
    struct lw_creds *c = proc_creds(script("longerr.sh", body), &e);
    resolve_err(c, "CredentialProcessError", msg, sizeof msg);
    CHECK(strlen(msg) < 320);
    lw_creds_free(c);
    fenv_free(&e);
    /* not on PATH; a bad command line */
    c = proc_creds("no-such-program-lw --flag", &e);
    resolve_err(c, "CredentialProcessError", msg, sizeof msg);
    CHECK_HAS(msg, "not found");
    lw_creds_free(c);
    fenv_free(&e);
    c = proc_creds("prog 'unbalanced", &e);
    resolve_err(c, "CredentialProcessError", msg, sizeof msg);
    CHECK_HAS(msg, "closing quotation");
    lw_creds_free(c);
    fenv_free(&e);
}

static int ticks;
static void on_tick(struct lw_timer *t, void *ud)
{
    ticks++;
    lw_timer_start(loop, t, 0.02);
}

static void test_process_does_not_block_loop(void)
{
    struct fenv e;
    struct lw_creds *c = proc_creds(script("slow.sh", "sleep 0.5; echo '{\"Version\":1,"
                                           "\"AccessKeyId\":\"AKIDSLOW\",\"SecretAccessKey\":\"sekrit-slow\"}'"),
                                    &e);
    struct lw_timer t;
    lw_timer_init(&t, on_tick, NULL);
    ticks = 0;
    lw_timer_start(loop, &t, 0.02);
    struct lw_credentials *cr = resolve_get(c);
    lw_timer_stop(loop, &t);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDSLOW") == 0);
    CHECK(ticks >= 10);             /* ~25 ticks of 20 ms while the process slept */
    lw_credentials_release(cr);
    lw_creds_free(c);
    fenv_free(&e);

    /* killed after the timeout, without waiting for it */
    char msg[512];
    c = proc_creds(script("hang.sh", "sleep 30"), &e);
    lw_creds_free(c);
    struct lw_creds_config cfg = cfg_for(&e, NULL);
    cfg.process_timeout = 0.3;
    c = lw_creds_new(&cfg, NULL);
    lw_loop_update_time(loop);
    double t0 = lw_loop_now(loop);
    resolve_err(c, "CredentialProcessError", msg, sizeof msg);
    CHECK_HAS(msg, "killed");
    lw_loop_update_time(loop);
    CHECK(lw_loop_now(loop) - t0 < 5);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_process_cancel(void)
{
    char body[300];
    snprintf(body, sizeof body, "echo $$ > '%s'; exec sleep 30", path_in("pid.txt"));
    unlink(path_in("pid.txt"));
    struct fenv e;
    struct lw_creds *c = proc_creds(script("cancel.sh", body), &e);
    struct lw_credentials *cr = NULL;
    struct lw_error err;
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);     /* starts the walk */
    CHECK(cr == NULL);
    CHECK_STR(err.code, "CredentialsRefreshing");
    int pid = 0;
    for (int i = 0; i < 300 && pid <= 0; i++) {
        pump(0.01);
        FILE *f = fopen(path_in("pid.txt"), "r");
        if (f) {
            if (fscanf(f, "%d", &pid) != 1)
                pid = 0;
            fclose(f);
        }
    }
    CHECK(pid > 0);
    lw_creds_cancel(c, loop);
    CHECK(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH);   /* killed and reaped */
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);     /* a new attempt may start */
    lw_creds_free(c);                   /* cancels that one too */
    fenv_free(&e);
}

/* ---- the fixture endpoints ---- */

static struct {
    char akid[32];
    double ttl;
    int fail;                   /* answer 500 to this many requests */
    double delay;
    int token_status;           /* IMDS token PUT status (0: 200) */
    const char *code;           /* IMDS Code */
    bool no_role;
    double token_delay;         /* IMDS token PUT answered this late */
    int token_gen;              /* IMDS session token in force: imds-tokn-<gen> */
} S;

static void creds_json(struct fx_response *rs, const char *token_key, const char *code)
{
    char exp[32];
    iso(test_clock(NULL) + S.ttl, exp);
    snprintf(rs->body, sizeof rs->body,
             "{%s%s%s\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"sekrit-%s\",\"%s\":\"tokn-%s\","
             "\"Expiration\":\"%s\"}", code ? "\"Code\":\"" : "", code ? code : "",
             code ? "\",\"Type\":\"AWS-HMAC\"," : "", S.akid, S.akid, token_key, S.akid, exp);
    rs->status = 200;
}

static void container_handler(const struct fx_request *rq, struct fx_response *rs, void *ud)
{
    rs->delay = S.delay;
    if (S.fail > 0) {
        S.fail--;
        rs->status = 500;
        snprintf(rs->body, sizeof rs->body, "internal error\nmore");
        return;
    }
    creds_json(rs, "Token", NULL);
}

#define SC "/latest/meta-data/iam/security-credentials/"
static void imds_handler(const struct fx_request *rq, struct fx_response *rs, void *ud)
{
    char tok[128];
    bool has = fx_header(rq, "X-aws-ec2-metadata-token", tok, sizeof tok);
    if (strcmp(rq->method, "PUT") == 0 && strcmp(rq->path, "/latest/api/token") == 0) {
        char ttl[32];
        fx_header(rq, "X-aws-ec2-metadata-token-ttl-seconds", ttl, sizeof ttl);
        char want[32];
        snprintf(want, sizeof want, "imds-tokn-%d", S.token_gen);
        rs->status = S.token_status ? S.token_status : strcmp(ttl, "21600") ? 400 : 200;
        rs->delay = S.token_delay;
        snprintf(rs->body, sizeof rs->body, "%s", rs->status == 200 ? want : "");
    } else if (has && (strncmp(tok, "imds-tokn-", 10) || atoi(tok + 10) != S.token_gen)) {
        rs->status = 401;
    } else if (strcmp(rq->path, SC) == 0) {
        rs->status = S.no_role ? 404 : 200;
        snprintf(rs->body, sizeof rs->body, "%s", S.no_role ? "" : "role-a\n");
    } else if (strcmp(rq->path, SC "role-a") == 0) {
        creds_json(rs, "Token", S.code ? S.code : "Success");
    }
}

static void server_reset(fx_handler h, const char *akid, double ttl)
{
    pthread_mutex_lock(&fx.mu);
    memset(&S, 0, sizeof S);
    S.token_gen = 1;
    snprintf(S.akid, sizeof S.akid, "%s", akid);
    S.ttl = ttl;
    pthread_mutex_unlock(&fx.mu);
    fx_set_handler(h, NULL);
}

#define WITH_SERVER(stmt) do { pthread_mutex_lock(&fx.mu); stmt; pthread_mutex_unlock(&fx.mu); } while (0)

static void full_uri_env(struct fenv *e, const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", fx.port, path);
    fenv_init(e);
    fenv_set(e, "AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
}

/* ---- container ---- */

static void test_container(void)
{
    clean_home();
    atomic_store(&fake_now, T0);
    server_reset(container_handler, "AKIDCT1", 6 * 3600);
    struct fenv e;
    fenv_init(&e);
    fenv_set(&e, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc-123");
    fenv_set(&e, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/ignored");
    struct lw_creds *c = mk(&e, NULL);
    struct lw_credentials *cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDCT1");
        CHECK_STR(cr->session_token, "tokn-AKIDCT1");
        CHECK_STR(cr->source, "container");
        CHECK(cr->expires_at == T0 + 6 * 3600);
    }
    lw_credentials_release(cr);
    lw_creds_free(c);
    CHECK_INT(fx_count(), 1);
    struct fx_request rq = fx_request(0);
    char v[256];
    CHECK_STR(rq.path, "/v2/credentials/abc-123");
    CHECK(fx_header(&rq, "Accept", v, sizeof v) && strcmp(v, "application/json") == 0);
    CHECK(!fx_header(&rq, "Authorization", v, sizeof v));
    fenv_free(&e);

    /* full URI with a token */
    server_reset(container_handler, "AKIDCT2", 6 * 3600);
    full_uri_env(&e, "/creds");
    fenv_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic authtokn-env");
    c = mk(&e, NULL);
    cr = resolve_get(c);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDCT2") == 0);
    lw_credentials_release(cr);
    rq = fx_request(0);
    CHECK_STR(rq.path, "/creds");
    CHECK(fx_header(&rq, "Authorization", v, sizeof v) && strcmp(v, "Basic authtokn-env") == 0);
    lw_creds_free(c);

    /* the token file wins over the variable and is re-read at each fetch */
    write_file(path_in("ctoken"), "authtokn-file-1");
    fenv_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path_in("ctoken"));
    server_reset(container_handler, "AKIDCT3", 6 * 3600);
    c = mk(&e, NULL);
    cr = resolve_get(c);
    lw_credentials_release(cr);
    write_file(path_in("ctoken"), "authtokn-file-2");
    lw_creds_invalidate(c);
    CHECK(wait_for(c, LW_CREDS_OK, NULL, 3));
    CHECK_INT(fx_count(), 2);
    rq = fx_request(0);
    CHECK(fx_header(&rq, "Authorization", v, sizeof v) && strcmp(v, "authtokn-file-1") == 0);
    rq = fx_request(1);
    CHECK(fx_header(&rq, "Authorization", v, sizeof v) && strcmp(v, "authtokn-file-2") == 0);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_container_errors(void)
{
    char msg[512];
    clean_home();
    atomic_store(&fake_now, T0);
    /* 500 twice, then success on the third try */
    server_reset(container_handler, "AKIDRETRY", 3600);
    WITH_SERVER(S.fail = 2);
    struct fenv e;
    full_uri_env(&e, "/creds");
    struct lw_creds *c = mk(&e, NULL);
    struct lw_credentials *cr = resolve_get(c);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDRETRY") == 0);
    CHECK_INT(fx_count(), 3);
    lw_credentials_release(cr);
    lw_creds_free(c);
    /* three failures: named, with the status and the body's first line */
    server_reset(container_handler, "AKIDFAIL", 3600);
    WITH_SERVER(S.fail = 3);
    c = mk(&e, NULL);
    resolve_err(c, "ContainerCredentialsError", msg, sizeof msg);
    CHECK_HAS(msg, "HTTP 500: internal error");
    CHECK(!strstr(msg, "more"));
    CHECK_INT(fx_count(), 3);
    lw_creds_free(c);
    /* a timeout counts as a failed try */
    server_reset(container_handler, "AKIDSLOWCT", 3600);
    WITH_SERVER(S.delay = 1.0);
    struct lw_creds_config cfg = cfg_for(&e, NULL);
    cfg.container_timeout = 0.2;
    c = lw_creds_new(&cfg, NULL);
    resolve_err(c, "ContainerCredentialsError", msg, sizeof msg);
    CHECK_HAS(msg, "Timeout");
    lw_creds_free(c);
    fenv_free(&e);
    /* plain http to a host that is not loopback: refused before any request */
    server_reset(container_handler, "AKIDNEVER", 3600);
    const char *bad[] = { "http://192.0.2.10/creds", "http://127.0.0.1.example.com/x",
                          "ftp://127.0.0.1/x" };
    for (int i = 0; i < 3; i++) {
        fenv_init(&e);
        fenv_set(&e, "AWS_CONTAINER_CREDENTIALS_FULL_URI", bad[i]);
        c = mk(&e, NULL);
        resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
        CHECK_HAS(msg, "must use https");
        lw_creds_free(c);
        fenv_free(&e);
    }
    CHECK_INT(fx_count(), 0);
    /* localhost is loopback; a token with a line break is refused */
    char url[128];
    snprintf(url, sizeof url, "http://localhost:%d/creds", fx.port);
    fenv_init(&e);
    fenv_set(&e, "AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
    c = mk(&e, NULL);
    cr = resolve_get(c);
    CHECK(cr != NULL);
    lw_credentials_release(cr);
    lw_creds_free(c);
    fenv_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path_in("no-such-token-file"));
    int before = fx_count();
    c = mk(&e, NULL);
    resolve_err(c, "ContainerCredentialsError", msg, sizeof msg);
    CHECK_HAS(msg, "no-such-token-file");
    CHECK_INT(fx_count(), before);              /* never asked without its token */
    lw_creds_free(c);
    fenv_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL);
    fenv_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "authtokn-x\r\nX-Evil: 1");
    c = mk(&e, NULL);
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "CR or LF");
    lw_creds_free(c);
    fenv_free(&e);
}

/* ---- instance metadata ---- */

static void imds_env(struct fenv *e)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", fx.port);
    fenv_init(e);
    fenv_set(e, "AWS_EC2_METADATA_DISABLED", NULL);
    fenv_set(e, "AWS_EC2_METADATA_SERVICE_ENDPOINT", url);
}

static void test_imds_v2(void)
{
    clean_home();
    atomic_store(&fake_now, T0);
    server_reset(imds_handler, "AKIDIMDS1", 6 * 3600);
    struct fenv e;
    imds_env(&e);
    struct lw_creds *c = mk(&e, NULL);
    struct lw_credentials *cr = resolve_get(c);
    if (cr) {
        CHECK_STR(cr->access_key_id, "AKIDIMDS1");
        CHECK_STR(cr->session_token, "tokn-AKIDIMDS1");
        CHECK_STR(cr->source, "imds");
    }
    lw_credentials_release(cr);
    CHECK_INT(fx_count(), 3);
    char v[128];
    struct fx_request rq = fx_request(0);
    CHECK_STR(rq.method, "PUT");
    CHECK_STR(rq.path, "/latest/api/token");
    CHECK(fx_header(&rq, "X-aws-ec2-metadata-token-ttl-seconds", v, sizeof v)
          && strcmp(v, "21600") == 0);
    rq = fx_request(1);
    CHECK_STR(rq.method, "GET");
    CHECK_STR(rq.path, SC);
    CHECK(fx_header(&rq, "X-aws-ec2-metadata-token", v, sizeof v) && strcmp(v, "imds-tokn-1") == 0);
    rq = fx_request(2);
    CHECK_STR(rq.path, SC "role-a");
    CHECK(fx_header(&rq, "X-aws-ec2-metadata-token", v, sizeof v));
    /* a refresh reuses the cached session token: no second PUT */
    WITH_SERVER(snprintf(S.akid, sizeof S.akid, "AKIDIMDS2"));
    lw_creds_invalidate(c);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDIMDS2", 3));
    CHECK_INT(fx_count(), 5);
    rq = fx_request(3);
    CHECK_STR(rq.method, "GET");
    /* the server stops honouring it (401): one new token, then on */
    WITH_SERVER(S.token_gen = 2; snprintf(S.akid, sizeof S.akid, "AKIDIMDS3"));
    lw_creds_invalidate(c);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDIMDS3", 3));
    CHECK_INT(fx_count(), 9);                   /* 401, PUT, role, credentials */
    rq = fx_request(6);
    CHECK_STR(rq.method, "PUT");
    rq = fx_request(8);
    CHECK(fx_header(&rq, "X-aws-ec2-metadata-token", v, sizeof v) && strcmp(v, "imds-tokn-2") == 0);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_imds_v1_fallback_and_failures(void)
{
    char msg[512];
    clean_home();
    atomic_store(&fake_now, T0);
    struct fenv e;
    imds_env(&e);
    /* 403 on the token: IMDSv1 without a token header */
    server_reset(imds_handler, "AKIDV1", 6 * 3600);
    WITH_SERVER(S.token_status = 403);
    struct lw_creds *c = mk(&e, NULL);
    struct lw_credentials *cr = resolve_get(c);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDV1") == 0);
    lw_credentials_release(cr);
    lw_creds_free(c);
    CHECK_INT(fx_count(), 3);
    char v[64];
    struct fx_request rq = fx_request(1);
    CHECK(!fx_header(&rq, "X-aws-ec2-metadata-token", v, sizeof v));
    /* a token request that times out (AWS_METADATA_SERVICE_TIMEOUT) falls back too */
    server_reset(imds_handler, "AKIDV1SLOW", 6 * 3600);
    WITH_SERVER(S.token_delay = 1.0);
    fenv_set(&e, "AWS_METADATA_SERVICE_TIMEOUT", "0.2");
    c = mk(&e, NULL);
    cr = resolve_get(c);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDV1SLOW") == 0);
    lw_credentials_release(cr);
    lw_creds_free(c);
    fenv_set(&e, "AWS_METADATA_SERVICE_TIMEOUT", NULL);
    /* ... unless IMDSv1 is disabled */
    server_reset(imds_handler, "AKIDV1", 6 * 3600);
    WITH_SERVER(S.token_status = 403);
    fenv_set(&e, "AWS_EC2_METADATA_V1_DISABLED", "true");
    c = mk(&e, NULL);
    resolve_err(c, "NoCredentialsFound", msg, sizeof msg);
    CHECK_HAS(msg, "IMDSv1 is disabled");
    CHECK_INT(fx_count(), 1);
    lw_creds_free(c);
    fenv_set(&e, "AWS_EC2_METADATA_V1_DISABLED", NULL);
    /* 400 on the token: give up */
    server_reset(imds_handler, "AKIDX", 6 * 3600);
    WITH_SERVER(S.token_status = 400);
    c = mk(&e, NULL);
    resolve_err(c, "NoCredentialsFound", msg, sizeof msg);
    CHECK_HAS(msg, "token request: HTTP 400");
    CHECK_INT(fx_count(), 1);
    lw_creds_free(c);
    /* no role; an error Code */
    server_reset(imds_handler, "AKIDX", 6 * 3600);
    WITH_SERVER(S.no_role = true);
    c = mk(&e, NULL);
    resolve_err(c, "NoCredentialsFound", msg, sizeof msg);
    CHECK_HAS(msg, "role listing: HTTP 404");
    lw_creds_free(c);
    server_reset(imds_handler, "AKIDX", 6 * 3600);
    WITH_SERVER(S.code = "AssumeRoleUnauthorizedAccess");
    c = mk(&e, NULL);
    resolve_err(c, "NoCredentialsFound", msg, sizeof msg);
    CHECK_HAS(msg, "Code AssumeRoleUnauthorizedAccess");
    lw_creds_free(c);
    /* a bad endpoint mode; disabled: nothing asked, and the message lists
     * every source tried */
    fenv_set(&e, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254");
    c = mk(&e, NULL);
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "not an http(s) URL");
    lw_creds_free(c);
    fenv_set(&e, "AWS_EC2_METADATA_SERVICE_ENDPOINT", NULL);
    fenv_set(&e, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5");
    c = mk(&e, NULL);
    resolve_err(c, "CredentialsConfigError", msg, sizeof msg);
    CHECK_HAS(msg, "IPv4 or IPv6");
    lw_creds_free(c);
    fenv_free(&e);
    server_reset(imds_handler, "AKIDX", 6 * 3600);
    fenv_init(&e);
    c = mk(&e, NULL);
    resolve_err(c, "NoCredentialsFound", msg, sizeof msg);
    CHECK_HAS(msg, "no AWS credentials found: tried environment, shared credentials file (");
    CHECK_HAS(msg, "config file (");
    CHECK_HAS(msg, "container endpoint, EC2 instance metadata (disabled)");
    CHECK_INT(fx_count(), 0);
    lw_creds_free(c);
    fenv_free(&e);
}

/* ---- expiry and refresh ---- */

static struct lw_creds *container_resolved(const char *akid, double ttl, struct fenv *e)
{
    clean_home();
    atomic_store(&fake_now, T0);
    server_reset(container_handler, akid, ttl);
    full_uri_env(e, "/creds");
    struct lw_creds *c = mk(e, NULL);
    struct lw_credentials *cr = resolve_get(c);
    CHECK(cr && strcmp(cr->access_key_id, akid) == 0 && cr->expires_at == T0 + ttl);
    lw_credentials_release(cr);
    return c;
}

static void test_refresh_windows(void)
{
    struct fenv e;
    struct lw_credentials *cr = NULL;
    struct lw_error err;
    /* advisory window: OK with the old snapshot, swapped after the fetch */
    struct lw_creds *c = container_resolved("AKIDADV1", 3600, &e);
    WITH_SERVER(snprintf(S.akid, sizeof S.akid, "AKIDADV2"));
    atomic_store(&fake_now, T0 + 3600 - 800);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDADV1") == 0);
    lw_credentials_release(cr);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);      /* one refresh at a time */
    lw_credentials_release(cr);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDADV2", 3));
    CHECK_INT(fx_count(), 2);
    lw_creds_free(c);
    fenv_free(&e);

    /* mandatory window: EXPIRED (old snapshot still handed out) until it lands */
    c = container_resolved("AKIDMAN1", 3600, &e);
    WITH_SERVER(snprintf(S.akid, sizeof S.akid, "AKIDMAN2"); S.delay = 0.2);
    atomic_store(&fake_now, T0 + 3600 - 300);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDMAN1") == 0);
    CHECK_STR(err.code, "CredentialsRefreshing");
    lw_credentials_release(cr);
    pump(0.05);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);
    lw_credentials_release(cr);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDMAN2", 3));
    CHECK_INT(fx_count(), 2);
    lw_creds_free(c);
    fenv_free(&e);

    /* expired: EXPIRED and nothing handed out */
    c = container_resolved("AKIDEXP1", 3600, &e);
    WITH_SERVER(snprintf(S.akid, sizeof S.akid, "AKIDEXP2"));
    atomic_store(&fake_now, T0 + 3601);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);
    CHECK(cr == NULL);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDEXP2", 3));
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_refresh_failure_and_backoff(void)
{
    struct fenv e;
    struct lw_credentials *cr = NULL;
    struct lw_error err;
    struct lw_creds *c = container_resolved("AKIDKEEP1", 3600, &e);
    WITH_SERVER(S.fail = 1000);
    atomic_store(&fake_now, T0 + 3600 - 800);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
    lw_credentials_release(cr);
    for (int i = 0; i < 300 && fx_count() < 4; i++)
        pump(0.01);
    pump(0.05);
    CHECK_INT(fx_count(), 4);                       /* resolve + 3 tries */
    /* the refresh failed: the old credentials are kept while valid */
    for (int i = 0; i < 5; i++) {
        CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
        CHECK(cr && strcmp(cr->access_key_id, "AKIDKEEP1") == 0);
        lw_credentials_release(cr);
        pump(0.01);
    }
    CHECK_INT(fx_count(), 4);                       /* backoff: no new attempt yet */
    atomic_store(&fake_now, T0 + 3601);             /* expired: FAILED, with the reason */
    CHECK_INT(get(c, &cr, &err), LW_CREDS_FAILED);
    CHECK(cr == NULL);
    CHECK_STR(err.code, "ContainerCredentialsError");
    CHECK_HAS(err.message, "HTTP 500");
    for (int i = 0; i < 300 && fx_count() < 7; i++)
        pump(0.01);
    pump(0.05);
    CHECK_INT(fx_count(), 7);                       /* that get started the next attempt */
    for (int i = 0; i < 20; i++) {                  /* the clock stands: no tight loop */
        CHECK_INT(get(c, &cr, &err), LW_CREDS_FAILED);
        pump(0.005);
    }
    CHECK_INT(fx_count(), 7);
    atomic_store(&fake_now, T0 + 3601 + 1.0);       /* 2nd backoff: 4 s +-25% */
    CHECK_INT(get(c, &cr, &err), LW_CREDS_FAILED);
    pump(0.05);
    CHECK_INT(fx_count(), 7);
    WITH_SERVER(S.fail = 0; snprintf(S.akid, sizeof S.akid, "AKIDKEEP2"));
    atomic_store(&fake_now, T0 + 3601 + 200);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDKEEP2", 3));
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_short_lived(void)
{
    struct fenv e;
    struct lw_credentials *cr = NULL;
    struct lw_error err;
    /* 5-minute credentials (inside both windows): served until they expire,
     * refreshed at most every ~30 s, not at every get */
    struct lw_creds *c = container_resolved("AKIDSHORT1", 300, &e);
    WITH_SERVER(snprintf(S.akid, sizeof S.akid, "AKIDSHORT2"));
    for (int i = 0; i < 10; i++) {
        CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
        lw_credentials_release(cr);
        pump(0.005);
    }
    atomic_store(&fake_now, T0 + 25);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
    lw_credentials_release(cr);
    pump(0.05);
    CHECK_INT(fx_count(), 1);
    atomic_store(&fake_now, T0 + 40);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDSHORT2", 3));
    CHECK_INT(fx_count(), 2);
    for (int i = 0; i < 10; i++) {
        CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
        lw_credentials_release(cr);
        pump(0.005);
    }
    CHECK_INT(fx_count(), 2);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_process_refresh(void)
{
    /* credential_process with an Expiration: re-run in the advisory window */
    char body[700];
    snprintf(body, sizeof body,
             "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
             "exp=$(date -u -d @$((%.0f + n * 3600)) +%%Y-%%m-%%dT%%H:%%M:%%SZ)\n"
             "echo \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"AKIDPR$n\\\","
             "\\\"SecretAccessKey\\\":\\\"sekrit-pr\\\",\\\"Expiration\\\":\\\"$exp\\\"}\"",
             path_in("count"), path_in("count"), T0);
    unlink(path_in("count"));
    atomic_store(&fake_now, T0);
    struct fenv e;
    struct lw_creds *c = proc_creds(script("refresh.sh", body), &e);
    struct lw_credentials *cr = resolve_get(c);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDPR1") == 0 && cr->expires_at == T0 + 3600);
    lw_credentials_release(cr);
    atomic_store(&fake_now, T0 + 3600 - 700);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDPR2", 5));
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_invalidate_rereads_file(void)
{
    clean_home();
    write_file(path_in("home/.aws/credentials"),
               "[default]\naws_access_key_id=AKIDROT1\naws_secret_access_key=sekrit-rot-1\n");
    struct fenv e;
    fenv_init(&e);
    struct lw_creds *c = mk(&e, NULL);
    struct lw_credentials *cr = resolve_get(c);
    lw_credentials_release(cr);
    write_file(path_in("home/.aws/credentials"),
               "[default]\naws_access_key_id=AKIDROT2\naws_secret_access_key=sekrit-rot-2\n");
    struct lw_error err;
    atomic_store(&fake_now, T0 + 10 * 86400);       /* static: never refreshed by time */
    CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDROT1") == 0);
    lw_credentials_release(cr);
    pump(0.05);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDROT1") == 0);
    lw_credentials_release(cr);
    lw_creds_invalidate(c);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);
    CHECK(cr && strcmp(cr->access_key_id, "AKIDROT1") == 0);
    lw_credentials_release(cr);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDROT2", 3));
    CHECK_INT(get(c, &cr, &err), LW_CREDS_OK);
    CHECK(cr && strcmp(cr->secret_access_key, "sekrit-rot-2") == 0);
    lw_credentials_release(cr);
    lw_creds_free(c);
    fenv_free(&e);
}

static void test_get_before_resolve(void)
{
    clean_home();
    struct fenv e;
    fenv_init(&e);
    fenv_set(&e, "AWS_ACCESS_KEY_ID", "AKIDLAZY");
    fenv_set(&e, "AWS_SECRET_ACCESS_KEY", "sekrit-lazy");
    struct lw_creds *c = mk(&e, NULL);
    struct lw_credentials *cr = NULL;
    struct lw_error err;
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);
    CHECK(cr == NULL);
    CHECK(wait_for(c, LW_CREDS_OK, "AKIDLAZY", 3));
    lw_creds_free(c);
    fenv_free(&e);
    /* nothing anywhere: FAILED with the reason, retried only after backoff */
    fenv_init(&e);
    c = mk(&e, NULL);
    CHECK_INT(get(c, &cr, &err), LW_CREDS_EXPIRED);
    CHECK(wait_for(c, LW_CREDS_FAILED, NULL, 3));
    CHECK_INT(get(c, &cr, &err), LW_CREDS_FAILED);
    CHECK_STR(err.code, "NoCredentialsFound");
    CHECK(cr == NULL);
    lw_creds_free(c);
    fenv_free(&e);
}

/* ---- threads ---- */

struct worker { struct lw_creds *c; int ok, other; bool saw_new; };

static void *thread_main(void *arg)
{
    struct worker *w = arg;
    struct lw_loop *l = lw_loop_new();
    struct lw_http *h = lw_http_new(l, NULL);
    for (int i = 0; i < 400 && !w->saw_new; i++) {
        struct lw_credentials *cr = NULL;
        struct lw_error err;
        enum lw_creds_state st = lw_creds_get(w->c, l, h, &cr, &err);
        if (st == LW_CREDS_OK && cr) {
            w->ok++;
            w->saw_new = strcmp(cr->access_key_id, "AKIDTHR2") == 0;
        } else {
            w->other++;
        }
        lw_credentials_release(cr);
        lw_loop_run_once(l, 0.005);
    }
    lw_creds_cancel(w->c, l);
    lw_http_free(h);
    lw_loop_free(l);
    return NULL;
}

static void test_threads(void)
{
    struct fenv e;
    struct lw_creds *c = container_resolved("AKIDTHR1", 3600, &e);
    WITH_SERVER(snprintf(S.akid, sizeof S.akid, "AKIDTHR2"); S.delay = 0.3);
    atomic_store(&fake_now, T0 + 3600 - 800);
    struct worker w[2] = { { .c = c }, { .c = c } };
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, thread_main, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        CHECK(w[i].saw_new);
        CHECK_INT(w[i].other, 0);
        CHECK(w[i].ok > 3);                 /* served while the refresh ran */
    }
    CHECK_INT(fx_count(), 2);               /* one refresh for both threads */
    lw_creds_free(c);
    fenv_free(&e);
}

/* ---- secrets ---- */

static void test_no_secret_in_messages(void)
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

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lwcredsXXXXXX");
    if (!mkdtemp(dir))
        return 2;
    snprintf(home, sizeof home, "%s/home", dir);
    snprintf(logpath, sizeof logpath, "%s/log", dir);
    mkdir(home, 0700);
    int logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    lw_log_configure(LW_LOG_DEBUG, LW_LOG_TEXT, logfd);
    atomic_store(&fake_now, T0);
    fx_start();
    loop = lw_loop_new();
    http = lw_http_new(loop, NULL);
    RUN(test_parse_time);
    RUN(test_credentials_json);
    RUN(test_split_command);
    RUN(test_env);
    RUN(test_env_half_configured);
    RUN(test_credentials_file);
    RUN(test_profile_errors);
    RUN(test_config_file);
    RUN(test_precedence);
    RUN(test_process_ok);
    RUN(test_process_failures);
    RUN(test_process_does_not_block_loop);
    RUN(test_process_cancel);
    RUN(test_container);
    RUN(test_container_errors);
    RUN(test_imds_v2);
    RUN(test_imds_v1_fallback_and_failures);
    RUN(test_refresh_windows);
    RUN(test_refresh_failure_and_backoff);
    RUN(test_short_lived);
    RUN(test_process_refresh);
    RUN(test_invalidate_rereads_file);
    RUN(test_get_before_resolve);
    RUN(test_threads);
    RUN(test_no_secret_in_messages);
    lw_http_free(http);
    lw_loop_free(loop);
    fx_stop();
    close(logfd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return T_DONE();
}
