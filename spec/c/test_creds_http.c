/* Unit tests for the container and instance-metadata (IMDS) sources
 * (runtime/creds_http.c) against fixture_server.h standing in for both
 * endpoints, and for the chain's refresh (runtime/creds.c) with the
 * container as the source: the advisory and mandatory windows, failures and
 * backoff, short-lived credentials, two threads sharing one chain. The
 * fixture and the secrets scan: creds_fixture.h. */
#include "creds_fixture.h"
#include "fixture_server.h"

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

int main(void)
{
    if (!creds_setup())
        return 2;
    fx_start();
    container_port = fx.port;
    RUN(test_container);
    RUN(test_container_errors);
    RUN(test_imds_v2);
    RUN(test_imds_v1_fallback_and_failures);
    RUN(test_refresh_windows);
    RUN(test_refresh_failure_and_backoff);
    RUN(test_short_lived);
    RUN(test_threads);
    RUN(test_no_secret_in_messages);
    creds_teardown();
    fx_stop();
    return T_DONE();
}
