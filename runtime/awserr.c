/* awserr.c: AWS JSON 1.0 error decoding and retry classification. */
#include "awserr.h"
#include "text.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const throttle_codes[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "EC2ThrottledException", NULL
};
static const char *const transient_codes[] = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "InternalFailure", "InternalServerError", "ServiceUnavailable", NULL
};
static const char *const auth_codes[] = {
    "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
    "IncompleteSignatureException", "MissingAuthenticationToken",
    "MissingAuthenticationTokenException", "AccessDeniedException", "InvalidClientTokenId",
    "SignatureDoesNotMatch", "AuthFailure", NULL
};

static int in_list(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 429: return "Too Many Requests";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    default: return "HTTP error";
    }
}

/* raw code -> cut at first ':' then keep after last '#' */
static void normalize_code(const char *raw, size_t n, char *out, size_t outlen)
{
    const char *colon = memchr(raw, ':', n);
    if (colon)
        n = (size_t)(colon - raw);
    const char *start = raw;
    for (size_t i = 0; i < n; i++)
        if (raw[i] == '#')
            start = raw + i + 1;
    n -= (size_t)(start - raw);
    /* trim spaces */
    while (n && (*start == ' ' || *start == '\t')) {
        start++;
        n--;
    }
    while (n && (start[n - 1] == ' ' || start[n - 1] == '\t'))
        n--;
    size_t keep = lw_utf8_prefix(start, n, outlen - 1, outlen - 1);
    memcpy(out, start, keep);
    out[keep] = '\0';
}

static void set_message(struct lw_error *e, const char *s, size_t n)
{
    size_t keep = lw_utf8_prefix(s, n, sizeof e->message - 1, sizeof e->message - 1);
    memcpy(e->message, s, keep);
    e->message[keep] = '\0';
    /* control characters would break log lines: flatten them */
    for (char *p = e->message; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

void lw_awserr_decode(int status, const char *error_type, const char *request_id,
                      const char *body, size_t len, struct lw_error *e)
{
    lw_error_clear(e);
    e->kind = LW_ERR_SERVICE;
    e->status = status;
    if (request_id)
        snprintf(e->request_id, sizeof e->request_id, "%s", request_id);
    json_t *root = NULL;
    size_t skip = 0;
    while (skip < len && (body[skip] == ' ' || body[skip] == '\n' || body[skip] == '\r' || body[skip] == '\t'))
        skip++;
    bool empty_or_html = skip == len || (len - skip >= 6 && strncmp(body + skip, "<html>", 6) == 0);
    if (!(status >= 500 && empty_or_html) && len)
        root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        root = NULL;
    }
    const char *raw = NULL;
    size_t rawn = 0;
    if (error_type && *error_type) {
        raw = error_type;
        rawn = strlen(error_type);
    } else if (root) {
        json_t *t = json_object_get(root, "__type");
        if (!json_is_string(t))
            t = json_object_get(root, "code");
        if (json_is_string(t)) {
            raw = json_string_value(t);
            rawn = json_string_length(t);
        }
    }
    if (raw)
        normalize_code(raw, rawn, e->code, sizeof e->code);
    if (!e->code[0])
        snprintf(e->code, sizeof e->code, "%d", status);
    json_t *m = root ? json_object_get(root, "message") : NULL;
    if (!json_is_string(m) && root)
        m = json_object_get(root, "Message");
    if (json_is_string(m))
        set_message(e, json_string_value(m), json_string_length(m));
    else if (status >= 500 && empty_or_html)
        set_message(e, reason_phrase(status), strlen(reason_phrase(status)));
    else if (!root && len)
        set_message(e, body, len);   /* unparseable: the text is the message */
    json_decref(root);
    lw_awserr_classify(e);
}

void lw_awserr_classify(struct lw_error *e)
{
    e->throttle = false;
    switch (e->kind) {
    case LW_ERR_TRANSPORT:
        e->retryable = strcmp(e->code, "TlsError") != 0;
        return;
    case LW_ERR_SERVICE:
        break;
    default:
        return;                 /* client/credential errors keep their own flag */
    }
    if (in_list(e->code, throttle_codes) || (e->status == 429)) {
        e->throttle = true;
        e->retryable = true;
    } else if (in_list(e->code, transient_codes)) {
        e->retryable = true;
    } else if (e->status == 500 || e->status == 502 || e->status == 503 || e->status == 504) {
        e->retryable = true;
    } else if (strcmp(e->code, "MalformedResponse") == 0) {
        e->retryable = true;
    } else {
        e->retryable = false;
    }
    /* Service limits the SDKs do not retry, but a worker loop must back off on. */
    if (strcmp(e->code, "LimitExceededFault") == 0 || strcmp(e->code, "ActivityWorkerLimitExceeded") == 0
        || strcmp(e->code, "KmsThrottlingException") == 0)
        e->throttle = true;
}

int lw_awserr_is_expired_token(const struct lw_error *e)
{
    return strcmp(e->code, "ExpiredTokenException") == 0 || strcmp(e->code, "ExpiredToken") == 0
        || strcmp(e->code, "RequestExpired") == 0;
}

int lw_awserr_is_clock_skew(const struct lw_error *e)
{
    return strcmp(e->code, "RequestTimeTooSkewed") == 0
        || (strcmp(e->code, "InvalidSignatureException") == 0 && strstr(e->message, "Signature expired"));
}

int lw_awserr_is_auth(const struct lw_error *e)
{
    return in_list(e->code, auth_codes) && !lw_awserr_is_clock_skew(e);
}
