/* Unit tests for the credentials chain (runtime/creds.c, creds_file.c,
 * creds_json.c): the pure helpers, the environment, the shared credentials
 * and config files and their profiles, the order of the sources, invalidate
 * and a get before any resolve. credential_process: test_creds_process.c;
 * the container and instance-metadata endpoints and the refresh windows:
 * test_creds_http.c. The fixture (fake environment, HOME, clock) and the
 * secrets scan: creds_fixture.h. */
#include "creds_fixture.h"

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

/* ---- invalidate, get before resolve ---- */

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

int main(void)
{
    if (!creds_setup())
        return 2;
    RUN(test_parse_time);
    RUN(test_credentials_json);
    RUN(test_env);
    RUN(test_env_half_configured);
    RUN(test_credentials_file);
    RUN(test_profile_errors);
    RUN(test_config_file);
    RUN(test_precedence);
    RUN(test_invalidate_rereads_file);
    RUN(test_get_before_resolve);
    RUN(test_no_secret_in_messages);
    creds_teardown();
    return T_DONE();
}
