/* Unit tests for runtime/awserr.c: AWS JSON 1.0 error decoding (API.md §1)
 * and retry classification (API.md §4, standard mode). */
#include "t.h"
#include "awserr.h"

static struct lw_error dec(int status, const char *etype, const char *body)
{
    struct lw_error e;
    lw_awserr_decode(status, etype, "req-1", body, body ? strlen(body) : 0, &e);
    return e;
}

static void test_type_namespace_and_message(void)
{
    struct lw_error e = dec(400, NULL, "{\"__type\":\"com.amazonaws.swf.base.model#UnknownResourceFault\",\"message\":\"Unknown execution\"}");
    CHECK_STR(e.code, "UnknownResourceFault");
    CHECK_STR(e.message, "Unknown execution");
    CHECK_STR(e.request_id, "req-1");
    CHECK_INT(e.status, 400);
    CHECK(!e.retryable);
    CHECK_INT(e.kind, LW_ERR_SERVICE);
}

static void test_colon_suffix_cut_before_hash(void)
{
    struct lw_error e = dec(400, NULL, "{\"__type\":\"aws.protocoltests#FooError:http://internal.amazon.com/coral/\",\"Message\":\"Upper\"}");
    CHECK_STR(e.code, "FooError");
    CHECK_STR(e.message, "Upper");
}

static void test_header_wins_over_body(void)
{
    struct lw_error e = dec(400, "ThrottlingException:http://x", "{\"__type\":\"Other\"}");
    CHECK_STR(e.code, "ThrottlingException");
    CHECK(e.retryable);
    CHECK(e.throttle);
}

static void test_code_member_and_status_fallback(void)
{
    struct lw_error e = dec(400, NULL, "{\"code\":\"SerializationException\"}");
    CHECK_STR(e.code, "SerializationException");
    e = dec(400, NULL, "{}");
    CHECK_STR(e.code, "400");
    CHECK(!e.retryable);
}

static void test_5xx_empty_or_html(void)
{
    struct lw_error e = dec(503, NULL, "");
    CHECK_STR(e.code, "503");
    CHECK_STR(e.message, "Service Unavailable");
    CHECK(e.retryable);
    e = dec(500, NULL, "<html><body>oops</body></html>");
    CHECK_STR(e.code, "500");
    CHECK(e.retryable);
}

static void test_unparseable_body_is_message(void)
{
    struct lw_error e = dec(400, NULL, "not json at all");
    CHECK_STR(e.code, "400");
    CHECK_STR(e.message, "not json at all");
}

static void test_retry_classes(void)
{
    struct lw_error e = dec(400, NULL, "{\"__type\":\"RequestTimeoutException\"}");
    CHECK(e.retryable && !e.throttle);
    e = dec(429, NULL, "{\"__type\":\"TooManyRequestsException\"}");
    CHECK(e.retryable && e.throttle);
    e = dec(400, NULL, "{\"__type\":\"com.amazonaws.swf.base.model#LimitExceededFault\"}");
    CHECK(!e.retryable && e.throttle);
    e = dec(400, NULL, "{\"__type\":\"com.amazon.coral.validate#ValidationException\",\"message\":\"1 validation error\"}");
    CHECK(!e.retryable);
    CHECK_STR(e.code, "ValidationException");
    e = dec(502, NULL, "{\"__type\":\"BadGateway\"}");
    CHECK(e.retryable);
    struct lw_error t;
    lw_error_set(&t, LW_ERR_TRANSPORT, false, "HttpTimeout", "timed out");
    lw_awserr_classify(&t);
    CHECK(t.retryable);
    lw_error_set(&t, LW_ERR_TRANSPORT, true, "TlsError", "bad cert");
    lw_awserr_classify(&t);
    CHECK(!t.retryable);
}

static void test_auth_skew_expired(void)
{
    struct lw_error e = dec(400, NULL, "{\"__type\":\"com.amazon.coral.service#ExpiredTokenException\",\"message\":\"The security token included in the request is expired\"}");
    CHECK(lw_awserr_is_expired_token(&e));
    e = dec(400, NULL, "{\"__type\":\"InvalidSignatureException\",\"message\":\"Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z\"}");
    CHECK(lw_awserr_is_clock_skew(&e));
    CHECK(!lw_awserr_is_auth(&e));
    e = dec(400, NULL, "{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security token included in the request is invalid.\"}");
    CHECK(lw_awserr_is_auth(&e));
    CHECK(!e.retryable);
}

static void test_hostile_bodies(void)
{
    char big[9000];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = 0;
    struct lw_error e = dec(400, big, "{\"message\":\"x\"}");
    CHECK(strlen(e.code) < sizeof e.code);
    /* control characters in messages are flattened */
    e = dec(400, NULL, "{\"__type\":\"X\",\"message\":\"a\\nb\\u0000c\"}");
    CHECK_STR(e.code, "X");
    CHECK(strchr(e.message, '\n') == NULL);
    /* __type not a string */
    e = dec(400, NULL, "{\"__type\":42}");
    CHECK_STR(e.code, "400");
    /* a lone '#' */
    e = dec(400, NULL, "{\"__type\":\"#\"}");
    CHECK_STR(e.code, "400");
    /* body with embedded NUL, not terminated */
    const char nul[] = { '{', '}', 0, 'x' };
    lw_awserr_decode(500, NULL, NULL, nul, sizeof nul, &e);
    CHECK_STR(e.code, "500");
}

int main(void)
{
    RUN(test_type_namespace_and_message);
    RUN(test_colon_suffix_cut_before_hash);
    RUN(test_header_wins_over_body);
    RUN(test_code_member_and_status_fallback);
    RUN(test_5xx_empty_or_html);
    RUN(test_unparseable_body_is_message);
    RUN(test_retry_classes);
    RUN(test_auth_skew_expired);
    RUN(test_hostile_bodies);
    return T_DONE();
}
