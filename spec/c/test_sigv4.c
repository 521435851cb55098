/* Unit tests for runtime/sigv4.c and runtime/hash.c.
 *
 * Data-driven over all 38 cases of AWS's SigV4 suite (spec/sigv4-testsuite/v4,
 * header mode): each case parses request.txt and context.json, signs, and
 * compares every stage byte for byte (canonical request, string to sign,
 * signature, the headers added by header-signed-request.txt and its
 * Authorization value). Then the two API.md vectors, a session token, the
 * key cache, hashing primitives, canonicalisation edge cases, input errors
 * and concurrent signing. Run from the repository root. */
#include "t.h"
#include "hash.h"
#include "sigv4.h"
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#define SUITE "spec/sigv4-testsuite"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct lw_buf b;
    lw_buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        lw_buf_append(&b, chunk, n);
    fclose(f);
    lw_buf_append(&b, "", 0);
    if (len)
        *len = b.len;
    return lw_buf_steal(&b);
}

static char *case_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, SUITE "/v4/%s/%s", dir, name);
    return slurp(path, NULL);
}

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return timegm(&tm);
}

/* ------------------------------------------------------ request.txt parsing */

#define MAX_LINES 32

struct parsed {
    char *text;                         /* request.txt, cut up in place */
    char *method, *path, *query;
    struct lw_sigv4_header h[MAX_LINES];
    size_t nh;
    const char *body;
    size_t body_len;
    char *hdr_lines[MAX_LINES];         /* raw header lines, for header-signed-request.txt */
    size_t nlines;
};

/* The request line is "METHOD SP target SP HTTP/1.1" where the target may
 * itself contain spaces; header lines are "Name:value", a line starting with
 * white space continues the previous value (kept with its "\n" and spaces for
 * the signer to fold); a blank line starts the body. */
static int parse_request(char *text, size_t len, struct parsed *r)
{
    memset(r, 0, sizeof *r);
    r->text = text;
    char *end = text + len;
    char *nl = memchr(text, '\n', len);
    char *line_end = nl ? nl : end;
    *line_end = '\0';
    char *sp1 = strchr(text, ' '), *sp2 = strrchr(text, ' ');
    if (!sp1 || sp2 == sp1)
        return -1;
    *sp1 = '\0';
    *sp2 = '\0';
    r->method = text;
    r->path = sp1 + 1;
    char *q = strchr(r->path, '?');
    r->query = "";
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    char *p = nl ? nl + 1 : end;
    char *last_value_end = NULL;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        line_end = nl ? nl : end;
        if (line_end == p) {                        /* blank line: body follows */
            r->body = p + 1;
            r->body_len = (size_t)(end - p - 1);
            break;
        }
        if (r->nlines < MAX_LINES) {
            r->hdr_lines[r->nlines] = strndup(p, (size_t)(line_end - p));
            r->nlines++;
        }
        if ((*p == ' ' || *p == '\t') && r->nh) {
            /* Continuation: the previous value now runs to the end of this
             * line; the "\n" stays in the value. */
            *last_value_end = '\n';
            *line_end = '\0';
            last_value_end = line_end;
        } else {
            char *colon = memchr(p, ':', (size_t)(line_end - p));
            if (!colon || r->nh == MAX_LINES)
                return -1;
            *colon = '\0';
            *line_end = '\0';
            r->h[r->nh].name = p;
            r->h[r->nh].value = colon + 1;
            r->nh++;
            last_value_end = line_end;
        }
        p = nl ? nl + 1 : end;
    }
    if (!r->body)
        r->body = "";
    return 0;
}

static void parsed_free(struct parsed *r)
{
    for (size_t i = 0; i < r->nlines; i++)
        free(r->hdr_lines[i]);
    free(r->text);
}

/* ------------------------------------------------------------- suite cases */

static void run_case(const char *name)
{
    t_begin(name);
    size_t len = 0;
    char path[512];
    snprintf(path, sizeof path, SUITE "/v4/%s/request.txt", name);
    char *reqtext = slurp(path, &len);
    char *creq = case_file(name, "header-canonical-request.txt");
    char *sts = case_file(name, "header-string-to-sign.txt");
    char *sig = case_file(name, "header-signature.txt");
    char *signed_req = case_file(name, "header-signed-request.txt");
    snprintf(path, sizeof path, SUITE "/v4/%s/context.json", name);
    json_error_t jerr;
    json_t *ctx = json_load_file(path, 0, &jerr);
    struct parsed r = {0};
    CHECK(reqtext && creq && sts && sig && signed_req && ctx);
    if (!reqtext || !creq || !sts || !sig || !signed_req || !ctx)
        goto out;
    CHECK_INT(parse_request(reqtext, len, &r), 0);
    reqtext = NULL;                                 /* owned by r now */

    json_t *cred = json_object_get(ctx, "credentials");
    const char *ts = json_string_value(json_object_get(ctx, "timestamp"));
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    CHECK(ts && sscanf(ts, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) == 6);
    struct lw_sigv4_params prm = {
        .access_key_id = json_string_value(json_object_get(cred, "access_key_id")),
        .secret_access_key = json_string_value(json_object_get(cred, "secret_access_key")),
        .session_token = json_string_value(json_object_get(cred, "token")),
        .region = json_string_value(json_object_get(ctx, "region")),
        .service = json_string_value(json_object_get(ctx, "service")),
        .time = utc(y, mo, d, h, mi, s),
    };
    if (json_is_false(json_object_get(ctx, "normalize")))
        prm.flags |= LW_SIGV4_NO_NORMALIZE_PATH;
    if (json_is_true(json_object_get(ctx, "sign_body")))
        prm.flags |= LW_SIGV4_SIGN_BODY;
    if (json_is_true(json_object_get(ctx, "omit_session_token")))
        prm.flags |= LW_SIGV4_OMIT_SESSION_TOKEN;

    struct lw_sigv4_request req = {
        .method = r.method, .path = r.path, .query = r.query,
        .headers = r.h, .nheaders = r.nh, .body = r.body, .body_len = r.body_len,
    };
    struct lw_sigv4_cache *cache = lw_sigv4_cache_new();
    struct lw_sigv4_result res;
    struct lw_sigv4_debug dbg = {0};
    int rc = lw_sigv4_sign(cache, &req, &prm, &res, &dbg);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK_STR(dbg.canonical_request.p, creq);
        CHECK_STR(dbg.string_to_sign.p, sts);
        CHECK_STR(res.signature, sig);

        /* header-signed-request.txt: the request's header lines, then the
         * added ones (any order), a blank line, the body. */
        struct parsed sr;
        size_t srlen = strlen(signed_req);
        char *srcopy = strdup(signed_req);
        CHECK_INT(parse_request(srcopy, srlen, &sr), 0);
        bool used[MAX_LINES] = {0};
        size_t added = 0;
        for (size_t i = 0; i < sr.nlines; i++) {
            bool original = false;
            for (size_t j = 0; j < r.nlines && !original; j++)
                if (!used[j] && strcmp(sr.hdr_lines[i], r.hdr_lines[j]) == 0)
                    used[j] = original = true;
            if (original)
                continue;
            added++;
            char *colon = strchr(sr.hdr_lines[i], ':');
            bool found = false;
            for (size_t k = 0; colon && k < res.nadd; k++) {
                size_t nl = strlen(res.add[k].name);
                if (nl == (size_t)(colon - sr.hdr_lines[i])
                    && strncasecmp(sr.hdr_lines[i], res.add[k].name, nl) == 0) {
                    found = true;
                    CHECK_STR(res.add[k].value, colon + 1);
                }
            }
            if (!found)
                fprintf(stderr, "  [%s] expected added header not returned: %.60s\n", name,
                        sr.hdr_lines[i]);
            CHECK(found);
            if (colon && strncmp(sr.hdr_lines[i], "Authorization:", 14) == 0)
                CHECK_STR(res.authorization, colon + 1);
        }
        CHECK_INT(added, res.nadd);
        CHECK_INT(res.authorization_len, strlen(res.authorization));
        parsed_free(&sr);

        /* Same answer without a cache and with a warm one. */
        struct lw_sigv4_result again;
        CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &again, NULL), 0);
        CHECK_STR(again.signature, sig);
        lw_sigv4_result_free(&again);
        CHECK_INT(lw_sigv4_sign(cache, &req, &prm, &again, NULL), 0);
        CHECK_STR(again.signature, sig);
        lw_sigv4_result_free(&again);
        unsigned long hits, misses;
        lw_sigv4_cache_stats(cache, &hits, &misses);
        CHECK_INT(hits, 1);
        CHECK_INT(misses, 1);
    }
    lw_sigv4_result_free(&res);
    lw_sigv4_debug_free(&dbg);
    lw_sigv4_cache_free(cache);
out:
    if (r.text)
        parsed_free(&r);
    free(reqtext);
    free(creq);
    free(sts);
    free(sig);
    free(signed_req);
    json_decref(ctx);
    t_end();
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_suite(void)
{
    char *names[64];
    size_t n = 0;
    DIR *d = opendir(SUITE "/v4");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && n < 64)
            names[n++] = strdup(de->d_name);
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, cmp_str);

    t_begin("suite has 38 cases, all listed in cases.tsv");
    CHECK_INT(n, 38);
    char *tsv = slurp(SUITE "/cases.tsv", NULL);
    CHECK(tsv != NULL);
    for (size_t i = 0; tsv && i < n; i++) {
        char pat[160];
        snprintf(pat, sizeof pat, "\n%s\t", names[i]);
        if (!strstr(tsv, pat))
            fprintf(stderr, "  %s missing from cases.tsv\n", names[i]);
        CHECK(strstr(tsv, pat) != NULL);
    }
    free(tsv);
    t_end();

    for (size_t i = 0; i < n; i++) {
        run_case(names[i]);
        free(names[i]);
    }
}

/* ---------------------------------------------------------- API.md vectors */

static const time_t *api_time(void)
{
    static time_t t;
    t = utc(2025, 1, 2, 3, 4, 5);
    return &t;
}

static int sign_json(struct lw_sigv4_cache *c, const char *host, const char *target,
                     const char *body, const char *service, const char *token,
                     struct lw_sigv4_result *res, struct lw_sigv4_debug *dbg)
{
    struct lw_sigv4_header h[] = {
        {"Host", host},
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", target},
    };
    struct lw_sigv4_request req = {"POST", "/", NULL, h, 3, body, strlen(body), NULL};
    struct lw_sigv4_params prm = {"AKIDEXAMPLE", SECRET, token, "us-east-1", service,
                                  *api_time(), 0};
    return lw_sigv4_sign(c, &req, &prm, res, dbg);
}

static void test_api_swf(void)
{
    struct lw_sigv4_result res;
    struct lw_sigv4_debug dbg = {0};
    CHECK_INT(sign_json(NULL, "swf.us-east-1.amazonaws.com",
                        "SimpleWorkflowService.PollForActivityTask",
                        "{\"domain\":\"d\",\"taskList\":{\"name\":\"tl\"}}", "swf", NULL, &res,
                        &dbg), 0);
    CHECK_STR(res.payload_hash, "83485b8c5bd33aed685885d7ca7dbfb7c2080ccafb75ca2fbbaf0b85c8bb889c");
    CHECK_STR(dbg.canonical_request.p,
              "POST\n/\n\n"
              "content-type:application/x-amz-json-1.0\n"
              "host:swf.us-east-1.amazonaws.com\n"
              "x-amz-date:20250102T030405Z\n"
              "x-amz-target:SimpleWorkflowService.PollForActivityTask\n\n"
              "content-type;host;x-amz-date;x-amz-target\n"
              "83485b8c5bd33aed685885d7ca7dbfb7c2080ccafb75ca2fbbaf0b85c8bb889c");
    CHECK(strstr(dbg.string_to_sign.p, "\n20250102/us-east-1/swf/aws4_request\n") != NULL);
    CHECK_STR(res.signature, "bd4af4a85716621e53535ead2b4d8cd1d26cf16d0c347e17443705613f2e7e08");
    CHECK_STR(res.authorization,
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/us-east-1/swf/aws4_request, "
              "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
              "Signature=bd4af4a85716621e53535ead2b4d8cd1d26cf16d0c347e17443705613f2e7e08");
    CHECK_INT(res.nadd, 2);
    CHECK_STR(res.add[0].name, "X-Amz-Date");
    CHECK_STR(res.add[0].value, "20250102T030405Z");
    CHECK_STR(res.add[1].name, "Authorization");
    CHECK_STR(res.add[1].value, res.authorization);
    lw_sigv4_result_free(&res);
    lw_sigv4_debug_free(&dbg);
}

static void test_api_sfn(void)
{
    struct lw_sigv4_result res;
    CHECK_INT(sign_json(NULL, "states.us-east-1.amazonaws.com", "AWSStepFunctions.GetActivityTask",
                        "{\"activityArn\":\"arn:aws:states:us-east-1:123456789012:activity:a\"}",
                        "states", NULL, &res, NULL), 0);
    CHECK_STR(res.payload_hash, "7d0274beb7c60bdfd352edfc37fbcc1265fe413e9fdc3dd71892b5f167781771");
    CHECK(strstr(res.authorization, "/20250102/us-east-1/states/aws4_request,") != NULL);
    CHECK_STR(res.signature, "7d31151ac2c65f6fa9160d7f74d9def9ad959375db945211529205c6aec7a4d1");
    lw_sigv4_result_free(&res);
}

/* Expected values computed with botocore 1.43.11 (SigV4Auth, same inputs). */
static void test_session_token(void)
{
    const char *token = "FQoGZXIvYXdzEXAMPLE/token+with=chars";
    struct lw_sigv4_result res;
    struct lw_sigv4_debug dbg = {0};
    CHECK_INT(sign_json(NULL, "swf.us-east-1.amazonaws.com",
                        "SimpleWorkflowService.RecordActivityTaskHeartbeat",
                        "{\"taskToken\":\"tok\",\"details\":\"50%\"}", "swf", token, &res, &dbg), 0);
    CHECK_STR(res.signature, "317da237d092084d9a7749079511e452f77d2c908d297af76847f0d7b029b542");
    CHECK(strstr(res.authorization,
                 "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,")
          != NULL);
    CHECK(strstr(dbg.canonical_request.p, "\nx-amz-security-token:FQoGZXIvYXdzEXAMPLE/token+with=chars\n"));
    CHECK_INT(res.nadd, 3);
    CHECK_STR(res.add[1].name, "X-Amz-Security-Token");
    CHECK(res.add[1].value == token);               /* borrowed, not copied */
    /* The secret appears nowhere in what the signer returns. */
    CHECK(!strstr(dbg.canonical_request.p, SECRET) && !strstr(dbg.string_to_sign.p, SECRET)
          && !strstr(res.authorization, SECRET));
    lw_sigv4_result_free(&res);

    /* Redacted debug output: same signature, token gone from the text. */
    dbg.redact_token = true;
    CHECK_INT(sign_json(NULL, "swf.us-east-1.amazonaws.com",
                        "SimpleWorkflowService.RecordActivityTaskHeartbeat",
                        "{\"taskToken\":\"tok\",\"details\":\"50%\"}", "swf", token, &res, &dbg), 0);
    CHECK_STR(res.signature, "317da237d092084d9a7749079511e452f77d2c908d297af76847f0d7b029b542");
    CHECK(strstr(dbg.canonical_request.p, "\nx-amz-security-token:<redacted>\nx-amz-target:"));
    CHECK(!strstr(dbg.canonical_request.p, token));
    lw_sigv4_result_free(&res);
    lw_sigv4_debug_free(&dbg);

    /* Token not signed: returned but absent from SignedHeaders. */
    struct lw_sigv4_header h[] = {{"Host", "swf.us-east-1.amazonaws.com"}};
    struct lw_sigv4_request req = {"POST", "/", NULL, h, 1, "{}", 2, NULL};
    struct lw_sigv4_params prm = {"AKIDEXAMPLE", SECRET, token, "us-east-1", "swf",
                                  *api_time(), LW_SIGV4_OMIT_SESSION_TOKEN};
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, NULL), 0);
    CHECK(strstr(res.authorization, "SignedHeaders=host;x-amz-date,") != NULL);
    CHECK_INT(res.nadd, 3);
    CHECK_STR(res.add[1].value, token);
    lw_sigv4_result_free(&res);
}

/* ---------------------------------------------------------------- cache */

static void sign_scope(struct lw_sigv4_cache *c, const char *secret, time_t t, const char *region,
                       const char *service, char sig[65])
{
    struct lw_sigv4_header h[] = {{"Host", "example.amazonaws.com"}};
    struct lw_sigv4_request req = {"GET", "/", NULL, h, 1, NULL, 0, NULL};
    struct lw_sigv4_params prm = {"AKIDEXAMPLE", secret, NULL, region, service, t, 0};
    struct lw_sigv4_result res;
    sig[0] = '\0';
    CHECK_INT(lw_sigv4_sign(c, &req, &prm, &res, NULL), 0);
    snprintf(sig, 65, "%s", res.signature);
    lw_sigv4_result_free(&res);
}

static void test_cache(void)
{
    struct lw_sigv4_cache *c = lw_sigv4_cache_new();
    unsigned long hits, misses;
    time_t t = utc(2015, 8, 30, 12, 36, 0);
    char plain[65], a[65], b[65];
    sign_scope(NULL, SECRET, t, "us-east-1", "service", plain);
    CHECK_STR(plain, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    sign_scope(c, SECRET, t, "us-east-1", "service", a);
    sign_scope(c, SECRET, t + 60, "us-east-1", "service", b);   /* same day: key reused */
    CHECK_STR(a, plain);
    CHECK(strcmp(b, a) != 0);                                   /* the date line differs */
    lw_sigv4_cache_stats(c, &hits, &misses);
    CHECK_INT(hits, 1);
    CHECK_INT(misses, 1);

    /* Each change of date, region, service or secret is a miss with another
     * signature, equal to what an uncached signer produces. */
    struct { const char *secret; time_t t; const char *region, *service; } v[] = {
        {SECRET, t + 86400, "us-east-1", "service"},
        {SECRET, t, "eu-west-1", "service"},
        {SECRET, t, "us-east-1", "swf"},
        {SECRET "x", t, "us-east-1", "service"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char want[65], got[65];
        sign_scope(NULL, v[i].secret, v[i].t, v[i].region, v[i].service, want);
        sign_scope(c, v[i].secret, v[i].t, v[i].region, v[i].service, got);
        CHECK_STR(got, want);
        CHECK(strcmp(got, a) != 0);
        lw_sigv4_cache_stats(c, &hits, &misses);
        CHECK_INT(misses, 2 + i);
    }
    /* Four slots: the original scope was least recently used and is gone;
     * the newest four all hit. */
    lw_sigv4_cache_stats(c, &hits, NULL);
    sign_scope(c, SECRET, t, "us-east-1", "service", b);
    CHECK_STR(b, plain);
    lw_sigv4_cache_stats(c, &hits, &misses);
    CHECK_INT(hits, 1);
    CHECK_INT(misses, 6);
    for (size_t i = 1; i < sizeof v / sizeof v[0]; i++)
        sign_scope(c, v[i].secret, v[i].t, v[i].region, v[i].service, b);
    lw_sigv4_cache_stats(c, &hits, &misses);
    CHECK_INT(hits, 4);
    CHECK_INT(misses, 6);
    lw_sigv4_cache_free(c);
    lw_sigv4_cache_free(NULL);
}

static void test_derive_key(void)
{
    unsigned char key[32];
    char hex[65];
    /* AWS's documented example (IAM, 2012-02-15). */
    CHECK_INT(lw_sigv4_derive_key(SECRET, "20120215", "us-east-1", "iam", key), 0);
    lw_hash_hex(key, sizeof key, hex);
    CHECK_STR(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    CHECK_INT(lw_sigv4_derive_key(SECRET, "2012021", "us-east-1", "iam", key), LW_SIGV4_EARG);
    /* A secret longer than the stack buffer gives the same as Python's hmac. */
    char longsecret[301];
    memset(longsecret, 'k', 300);
    longsecret[300] = '\0';
    CHECK_INT(lw_sigv4_derive_key(longsecret, "20120215", "us-east-1", "iam", key), 0);
    lw_hash_hex(key, sizeof key, hex);
    CHECK_STR(hex, "b47189552a1bddeebec081be9b59ce204e90edd9ab523fc3f354e74ef09d64b8");
}

/* -------------------------------------------------------------- hash.c */

static void test_hash(void)
{
    char hex[65];
    unsigned char md[32];
    struct lw_hash *h = lw_hash_new();
    CHECK(h != NULL);
    CHECK_INT(lw_hash_sha256_hex(h, "abc", 3, hex), 0);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_INT(lw_hash_sha256_hex(h, NULL, 0, hex), 0);
    CHECK_STR(hex, EMPTY_SHA256);
    CHECK_INT(lw_hash_sha256_hex(NULL, "abc", 3, hex), 0);     /* temporary context */
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* RFC 4231 cases 2 and 6 (key longer than a block), and empty key/data. */
    const char *data = "what do ya want for nothing?";
    CHECK_INT(lw_hash_hmac_sha256(h, "Jefe", 4, data, strlen(data), md), 0);
    lw_hash_hex(md, 32, hex);
    CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    unsigned char bigkey[131];
    memset(bigkey, 0xaa, sizeof bigkey);
    data = "Test Using Larger Than Block-Size Key - Hash Key First";
    CHECK_INT(lw_hash_hmac_sha256(h, bigkey, sizeof bigkey, data, strlen(data), md), 0);
    lw_hash_hex(md, 32, hex);
    CHECK_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK_INT(lw_hash_hmac_sha256(NULL, "", 0, "", 0, md), 0);
    lw_hash_hex(md, 32, hex);
    CHECK_STR(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    /* Reuse after HMAC: the digest context is still right. */
    CHECK_INT(lw_hash_sha256_hex(h, "abc", 3, hex), 0);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(lw_hash_equal("abcd", "abcd", 4));
    CHECK(!lw_hash_equal("abcd", "abce", 4));
    lw_hash_hex("\x00\xff\x10", 3, hex);
    CHECK_STR(hex, "00ff10");
    lw_hash_free(h);
    lw_hash_free(NULL);
}

/* ------------------------------------------------- canonicalisation edges */

/* Sign GET with the given path/query/headers and return the canonical
 * request (caller frees). */
static char *canon(const char *path, const char *query, const struct lw_sigv4_header *h,
                   size_t nh, unsigned flags, int *rc)
{
    struct lw_sigv4_request req = {"GET", path, query, h, nh, NULL, 0, NULL};
    struct lw_sigv4_params prm = {"AKIDEXAMPLE", SECRET, NULL, "us-east-1", "service",
                                  utc(2015, 8, 30, 12, 36, 0), flags};
    struct lw_sigv4_result res;
    struct lw_sigv4_debug dbg = {0};
    *rc = lw_sigv4_sign(NULL, &req, &prm, &res, &dbg);
    lw_sigv4_result_free(&res);
    char *s = *rc == 0 ? lw_buf_steal(&dbg.canonical_request) : NULL;
    lw_sigv4_debug_free(&dbg);
    return s;
}

/* The second and third lines of the canonical request: "path\nquery". */
static void check_pq(const char *path, const char *query, unsigned flags, const char *want)
{
    static const struct lw_sigv4_header h[] = {{"Host", "h"}};
    int rc;
    char *cr = canon(path, query, h, 1, flags, &rc);
    CHECK_INT(rc, 0);
    char got[1024] = "";
    if (cr) {
        char *a = strchr(cr, '\n') + 1, *b = strchr(a, '\n'), *c = strchr(b + 1, '\n');
        snprintf(got, sizeof got, "%.*s", (int)(c - a), a);
    }
    CHECK_STR(got, want);
    free(cr);
}

static void test_path(void)
{
    check_pq("/a/b/../c/./d//", NULL, 0, "/a/c/d/\n");
    check_pq("/a/b/../c/./d//", NULL, LW_SIGV4_NO_NORMALIZE_PATH, "/a/b/../c/./d//\n");
    check_pq("", NULL, 0, "/\n");
    check_pq(NULL, NULL, LW_SIGV4_NO_NORMALIZE_PATH, "/\n");
    check_pq("/../../a", NULL, 0, "/a\n");
    check_pq("/a/b/..", NULL, 0, "/a\n");
    check_pq("/a%20b/c d", NULL, 0, "/a%2520b/c%20d\n");        /* double encoding */
    check_pq("/caf\xC3\xA9/~x*", NULL, 0, "/caf%C3%A9/~x%2A\n");
}

static void test_query(void)
{
    check_pq("/", "b=2&a=1", 0, "/\na=1&b=2");
    check_pq("/", "a=2&a=1&a=10", 0, "/\na=1&a=10&a=2");       /* ties broken by value */
    check_pq("/", "flag&x=", 0, "/\nflag=&x=");                 /* empty values */
    check_pq("/", "a=1&&b=2&", 0, "/\na=1&b=2");                /* empty pairs ignored */
    check_pq("/", "q=a+b c&p=%e1%88%b4", 0, "/\np=%E1%88%B4&q=a%2Bb%20c");
    check_pq("/", "k=%zz%4&k2=%41%2f", 0, "/\nk=%25zz%254&k2=A%2F");  /* bad escapes kept */
    check_pq("/", "x=a=b", 0, "/\nx=a%3Db");
    check_pq("/", "Z=1&a=1&_=1&~=1&-=1", 0, "/\n-=1&Z=1&_=1&a=1&~=1");  /* byte order */
    /* More parameters than the stack array: the heap path sorts the same. */
    char q[2048] = "", want[2048] = "/\n";
    for (int i = 39; i >= 0; i--)
        snprintf(q + strlen(q), sizeof q - strlen(q), "%sp%02d=v%d", i == 39 ? "" : "&", i, i);
    for (int i = 0; i < 40; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%sp%02d=v%d", i ? "&" : "", i, i);
    check_pq("/", q, 0, want);
}

static void test_header_values(void)
{
    /* Tabs, runs of white space and a folded value all collapse to single
     * spaces; leading and trailing white space goes; values keep their case
     * and duplicates join in send order. */
    struct lw_sigv4_header h[] = {
        {"Host", "h"},
        {"X-Tab", "\ta\t b  \t c\t"},
        {"x-fold", "one\r\n  two\n\tthree"},
        {"X-Dup", "B"},
        {"x-empty", ""},
        {"X-DUP", " a "},
    };
    int rc;
    char *cr = canon("/", NULL, h, 6, 0, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(cr, "GET\n/\n\nhost:h\nx-amz-date:20150830T123600Z\nx-dup:B,a\nx-empty:\n"
                  "x-fold:one two three\nx-tab:a b c\n\n"
                  "host;x-amz-date;x-dup;x-empty;x-fold;x-tab\n" EMPTY_SHA256);
    free(cr);

    /* Same tab case as botocore 1.43.11 signs it. */
    struct lw_sigv4_header h2[] = {
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", "AWSStepFunctions.GetActivityTask"},
        {"Host", "states.us-east-1.amazonaws.com"},
        {"X-Custom", "\ta\t b  \t c\t"},
    };
    struct lw_sigv4_request req = {"POST", "/", NULL, h2, 4, "{}", 2, NULL};
    struct lw_sigv4_params prm = {"AKIDEXAMPLE", SECRET, NULL, "us-east-1", "states",
                                  *api_time(), 0};
    struct lw_sigv4_result res;
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, NULL), 0);
    CHECK_STR(res.signature, "3d123f448c72fc901024d130c6319cd996636cc2035629f8f74a868bcb7b0ae0");
    lw_sigv4_result_free(&res);
}

static void test_payload(void)
{
    struct lw_sigv4_header h[] = {{"Host", "h"}};
    struct lw_sigv4_request req = {"POST", "/", NULL, h, 1, NULL, 0, NULL};
    struct lw_sigv4_params prm = {"AKIDEXAMPLE", SECRET, NULL, "us-east-1", "service",
                                  *api_time(), LW_SIGV4_SIGN_BODY};
    struct lw_sigv4_result res, res2;
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, NULL), 0);
    CHECK_STR(res.payload_hash, EMPTY_SHA256);                  /* empty body */
    CHECK_INT(res.nadd, 3);
    CHECK_STR(res.add[1].name, "x-amz-content-sha256");
    CHECK_STR(res.add[1].value, EMPTY_SHA256);
    /* A precomputed hash gives the same signature without reading a body. */
    req.payload_hash = EMPTY_SHA256;
    req.body_len = 12345;
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res2, NULL), 0);
    CHECK_STR(res2.signature, res.signature);
    lw_sigv4_result_free(&res2);
    req.payload_hash = "UNSIGNED-PAYLOAD";
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res2, NULL), 0);
    CHECK_STR(res2.add[1].value, "UNSIGNED-PAYLOAD");
    CHECK(strcmp(res2.signature, res.signature) != 0);
    lw_sigv4_result_free(&res2);
    lw_sigv4_result_free(&res);
}

/* Many headers and long names: heap scratch, qsort, heap Authorization. */
static void test_large(void)
{
    enum { N = 60 };
    struct lw_sigv4_header h[N + 1];
    char names[N][80], values[N][16];
    h[0] = (struct lw_sigv4_header){"Host", "h"};
    for (int i = 0; i < N; i++) {
        int k = N - 1 - i;                                       /* reverse order */
        snprintf(names[i], sizeof names[i], "X-Long-Header-Name-Padding-Padding-Padding-%03d", k);
        snprintf(values[i], sizeof values[i], "v%d", k);
        h[i + 1] = (struct lw_sigv4_header){names[i], values[i]};
    }
    char path[2200] = "/";                                   /* > STACK_TEXT once encoded */
    for (int i = 0; i < 700; i++)
        strcat(path, "\xC3\xA9/");                                /* 3x growth when encoded */
    struct lw_buf want;
    lw_buf_init(&want, 0);
    lw_buf_puts(&want, "GET\n/");
    for (int i = 0; i < 700; i++)
        lw_buf_puts(&want, "%C3%A9/");
    lw_buf_puts(&want, "\n\nhost:h\nx-amz-date:20150830T123600Z\n");
    for (int k = 0; k < N; k++)
        lw_buf_printf(&want, "x-long-header-name-padding-padding-padding-%03d:v%d\n", k, k);
    lw_buf_puts(&want, "\nhost;x-amz-date");
    for (int k = 0; k < N; k++)
        lw_buf_printf(&want, ";x-long-header-name-padding-padding-padding-%03d", k);
    lw_buf_puts(&want, "\n" EMPTY_SHA256);

    struct lw_sigv4_request req = {"GET", path, NULL, h, N + 1, NULL, 0, NULL};
    struct lw_sigv4_params prm = {"AKIDEXAMPLE", SECRET, NULL, "us-east-1", "service",
                                  utc(2015, 8, 30, 12, 36, 0), 0};
    struct lw_sigv4_result res;
    struct lw_sigv4_debug dbg = {0};
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, &dbg), 0);
    CHECK_STR(dbg.canonical_request.p, want.p);
    CHECK(res.authorization_len > LW_SIGV4_AUTH_INLINE);
    CHECK_INT(strlen(res.authorization), res.authorization_len);
    CHECK(strstr(res.authorization, ", SignedHeaders=host;x-amz-date;x-long-header-name-padding-padding-padding-000;") != NULL);
    lw_sigv4_result_free(&res);
    lw_sigv4_debug_free(&dbg);
    lw_buf_free(&want);
}

/* ------------------------------------------------------------ input errors */

static int sign_with(const struct lw_sigv4_header *h, size_t nh, const char *method,
                     const char *region, const char *akid, time_t t, unsigned flags)
{
    struct lw_sigv4_request req = {method, "/", NULL, h, nh, NULL, 0, NULL};
    struct lw_sigv4_params prm = {akid, SECRET, NULL, region, "service", t, flags};
    struct lw_sigv4_result res;
    memset(&res, 0xA5, sizeof res);                 /* garbage in: must not matter */
    int rc = lw_sigv4_sign(NULL, &req, &prm, &res, NULL);
    if (rc < 0)
        CHECK(res.authorization == NULL && res.nadd == 0 && res.signature[0] == '\0');
    lw_sigv4_result_free(&res);
    return rc;
}

static void test_errors(void)
{
    time_t t = *api_time();
    struct lw_sigv4_header ok[] = {{"Host", "h"}};
    CHECK_INT(sign_with(ok, 1, "GET", "us-east-1", "AKID", t, 0), 0);
    struct lw_sigv4_header nohost[] = {{"X-A", "1"}};
    CHECK_INT(sign_with(nohost, 1, "GET", "us-east-1", "AKID", t, 0), LW_SIGV4_ENOHOST);
    CHECK_INT(sign_with(NULL, 0, "GET", "us-east-1", "AKID", t, 0), LW_SIGV4_ENOHOST);
    const char *reserved[] = {"Authorization", "x-amz-date", "X-AMZ-SECURITY-TOKEN"};
    for (size_t i = 0; i < 3; i++) {
        struct lw_sigv4_header h[] = {{"Host", "h"}, {reserved[i], "x"}};
        CHECK_INT(sign_with(h, 2, "GET", "us-east-1", "AKID", t, 0), LW_SIGV4_ERESERVED);
    }
    struct lw_sigv4_header sha[] = {{"Host", "h"}, {"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"}};
    CHECK_INT(sign_with(sha, 2, "GET", "us-east-1", "AKID", t, 0), 0);
    CHECK_INT(sign_with(sha, 2, "GET", "us-east-1", "AKID", t, LW_SIGV4_SIGN_BODY),
              LW_SIGV4_ERESERVED);
    const char *bad_names[] = {"", "Bad Name", "X:Y", "X\xC3\xA9"};
    for (size_t i = 0; i < 4; i++) {
        struct lw_sigv4_header h[] = {{"Host", "h"}, {bad_names[i], "x"}};
        CHECK_INT(sign_with(h, 2, "GET", "us-east-1", "AKID", t, 0), LW_SIGV4_EHEADER);
    }
    const char *bad_values[] = {"a\nb", "a\rb", "a\r\n", "a\x01", "a\x7f", "x\n"};
    for (size_t i = 0; i < 6; i++) {
        struct lw_sigv4_header h[] = {{"Host", "h"}, {"X-V", bad_values[i]}};
        CHECK_INT(sign_with(h, 2, "GET", "us-east-1", "AKID", t, 0), LW_SIGV4_EHEADER);
    }
    struct lw_sigv4_header nullv[] = {{"Host", NULL}};
    CHECK_INT(sign_with(nullv, 1, "GET", "us-east-1", "AKID", t, 0), LW_SIGV4_EHEADER);
    CHECK_INT(sign_with(ok, 1, "GET", "us/east", "AKID", t, 0), LW_SIGV4_EARG);
    CHECK_INT(sign_with(ok, 1, "GET", "", "AKID", t, 0), LW_SIGV4_EARG);
    CHECK_INT(sign_with(ok, 1, "GET", NULL, "AKID", t, 0), LW_SIGV4_EARG);
    CHECK_INT(sign_with(ok, 1, "GET", "us-east-1", "AK ID", t, 0), LW_SIGV4_EARG);
    CHECK_INT(sign_with(ok, 1, "GET", "us-east-1", "AK,ID", t, 0), LW_SIGV4_EARG);
    CHECK_INT(sign_with(ok, 1, "G T", "us-east-1", "AKID", t, 0), LW_SIGV4_EARG);
    CHECK_INT(sign_with(ok, 1, "", "us-east-1", "AKID", t, 0), LW_SIGV4_EARG);
    CHECK_INT(sign_with(ok, 1, "GET", "us-east-1", "AKID", (time_t)-1, 0), LW_SIGV4_ETIME);
    CHECK_INT(sign_with(ok, 1, "GET", "us-east-1", "AKID", (time_t)253402300800LL, 0),
              LW_SIGV4_ETIME);
    CHECK_INT(sign_with(ok, 1, "GET", "us-east-1", "AKID", (time_t)253402300799LL, 0), 0);
    CHECK(strcmp(lw_sigv4_strerror(LW_SIGV4_ENOHOST), lw_sigv4_strerror(LW_SIGV4_EARG)) != 0);

    /* Token with a space, empty secret, bad payload hash. */
    struct lw_sigv4_request req = {"GET", "/", NULL, ok, 1, NULL, 0, NULL};
    struct lw_sigv4_params prm = {"AKID", SECRET, "tok en", "us-east-1", "service", t, 0};
    struct lw_sigv4_result res;
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, NULL), LW_SIGV4_EARG);
    prm.session_token = "";                         /* empty = no token */
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, NULL), 0);
    CHECK_INT(res.nadd, 2);
    lw_sigv4_result_free(&res);
    prm.secret_access_key = "";
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, NULL), LW_SIGV4_EARG);
    prm.secret_access_key = SECRET;
    req.payload_hash = "has space";
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, NULL), LW_SIGV4_EARG);
    req.payload_hash = NULL;
    req.body_len = 3;                               /* body_len without body */
    CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, NULL), LW_SIGV4_EARG);
    CHECK_INT(lw_sigv4_sign(NULL, NULL, &prm, &res, NULL), LW_SIGV4_EARG);
    CHECK_INT(lw_sigv4_sign(NULL, &req, NULL, &res, NULL), LW_SIGV4_EARG);
    lw_sigv4_result_free(&res);
    lw_sigv4_result_free(NULL);
}

/* Dates across calendar edges (the signer formats without gmtime). */
static void test_dates(void)
{
    struct { int y, mo, d, h, mi, s; } v[] = {
        {1970, 1, 1, 0, 0, 0}, {2000, 2, 29, 23, 59, 59}, {2024, 12, 31, 12, 0, 1},
        {2100, 3, 1, 0, 0, 0}, {2038, 1, 19, 3, 14, 8}, {9999, 12, 31, 23, 59, 59},
    };
    struct lw_sigv4_header ok[] = {{"Host", "h"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        time_t t = utc(v[i].y, v[i].mo, v[i].d, v[i].h, v[i].mi, v[i].s);
        struct lw_sigv4_request req = {"GET", "/", NULL, ok, 1, NULL, 0, NULL};
        struct lw_sigv4_params prm = {"AKID", SECRET, NULL, "us-east-1", "service", t, 0};
        struct lw_sigv4_result res;
        char want[32];
        snprintf(want, sizeof want, "%04d%02d%02dT%02d%02d%02dZ", v[i].y, v[i].mo, v[i].d,
                 v[i].h, v[i].mi, v[i].s);
        CHECK_INT(lw_sigv4_sign(NULL, &req, &prm, &res, NULL), 0);
        CHECK_STR(res.amz_date, want);
        lw_sigv4_result_free(&res);
    }
}

/* ------------------------------------------------------------- threads */

static void *thread_main(void *arg)
{
    int *bad = arg;
    struct lw_sigv4_cache *c = lw_sigv4_cache_new();
    for (int i = 0; i < 2000; i++) {
        struct lw_sigv4_result res;
        const char *region = (i % 3) ? "us-east-1" : "eu-west-1";
        struct lw_sigv4_header h[] = {{"Host", "swf.us-east-1.amazonaws.com"},
                                      {"Content-Type", "application/x-amz-json-1.0"},
                                      {"X-Amz-Target", "SimpleWorkflowService.PollForActivityTask"}};
        const char *body = "{\"domain\":\"d\",\"taskList\":{\"name\":\"tl\"}}";
        struct lw_sigv4_request req = {"POST", "/", NULL, h, 3, body, strlen(body), NULL};
        struct lw_sigv4_params prm = {"AKIDEXAMPLE", SECRET, NULL, region, "swf",
                                      utc(2025, 1, 2, 3, 4, 5), 0};
        if (lw_sigv4_sign(c, &req, &prm, &res, NULL) != 0
            || ((i % 3) && strcmp(res.signature, "bd4af4a85716621e53535ead2b4d8cd1d26cf16d0c347e17443705613f2e7e08") != 0))
            (*bad)++;
        lw_sigv4_result_free(&res);
    }
    lw_sigv4_cache_free(c);
    return NULL;
}

static void test_threads(void)
{
    pthread_t th[4];
    int bad[4] = {0};
    for (int i = 0; i < 4; i++)
        CHECK_INT(pthread_create(&th[i], NULL, thread_main, &bad[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(bad[i], 0);
    }
}

int main(void)
{
    run_suite();
    RUN(test_api_swf);
    RUN(test_api_sfn);
    RUN(test_session_token);
    RUN(test_cache);
    RUN(test_derive_key);
    RUN(test_hash);
    RUN(test_path);
    RUN(test_query);
    RUN(test_header_values);
    RUN(test_payload);
    RUN(test_large);
    RUN(test_errors);
    RUN(test_dates);
    RUN(test_threads);
    return T_DONE();
}
