/* fuzz_awserr.c: AWS error responses: lw_awserr_decode on a status, an
 * x-amzn-ErrorType header, an x-amzn-RequestId header and a body, then the
 * classification the retry logic asks for. The decoded error must be a
 * complete, loggable struct lw_error whatever the input.
 *
 * Input: bytes 0-1 the status (100..599), byte 2 flags (bit 0: the
 * ErrorType header is present, bit 1: the RequestId header is present);
 * then the header values, each ending at the first '\n', then the body. */
#include "awserr.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *take_line(const uint8_t **p, size_t *n)
{
    const uint8_t *nl = memchr(*p, '\n', *n);
    size_t l = nl ? (size_t)(nl - *p) : *n;
    char *s = malloc(l + 1);
    if (!s)
        abort();
    memcpy(s, *p, l);
    s[l] = '\0';            /* a header value is a C string: it ends at a NUL too */
    *p += nl ? l + 1 : l;
    *n -= nl ? l + 1 : l;
    return s;
}

static void check_text(const char *s, size_t cap, bool no_ctl)
{
    const char *end = memchr(s, 0, cap);
    if (!end)
        abort();
    for (; no_ctl && s < end; s++)
        if ((unsigned char)*s < 0x20)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int status = 100 + (int)(((unsigned)data[0] << 8 | data[1]) % 500);
    unsigned flags = data[2];
    const uint8_t *p = data + 3;
    size_t n = size - 3;
    char *etype = (flags & 1) ? take_line(&p, &n) : NULL;
    char *rid = (flags & 2) ? take_line(&p, &n) : NULL;
    /* the body in its own allocation, not NUL-terminated: reads past len
     * are caught */
    char *body = malloc(n ? n : 1);
    if (!body)
        abort();
    memcpy(body, p, n);

    struct lw_error e;
    memset(&e, 0xa5, sizeof e);
    lw_awserr_decode(status, etype, rid, body, n, &e);
    if (e.kind != LW_ERR_SERVICE || e.status != status || !e.code[0]
        || (unsigned char)e.retryable > 1 || (unsigned char)e.throttle > 1)
        abort();
    check_text(e.code, sizeof e.code, false);
    check_text(e.message, sizeof e.message, true);
    check_text(e.request_id, sizeof e.request_id, false);
    check_text(e.reason, sizeof e.reason, false);
    lw_awserr_is_expired_token(&e);
    lw_awserr_is_clock_skew(&e);
    lw_awserr_is_auth(&e);
    /* the same error seen as a transport failure (the aws.c path for
     * status 0) keeps its flags well-formed */
    e.kind = LW_ERR_TRANSPORT;
    lw_awserr_classify(&e);
    if ((unsigned char)e.retryable > 1 || e.throttle)
        abort();

    free(body);
    free(etype);
    free(rid);
    return 0;
}
