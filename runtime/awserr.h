/* awserr.h: decoding AWS JSON 1.0 error responses and classifying errors
 * for retry, exactly as ../shared/aws/API.md describes (the superset of
 * botocore, aws-sdk-go-v2 and smithy-rs). Pure functions; safe anywhere. */
#ifndef LW_AWSERR_H
#define LW_AWSERR_H
#include <stddef.h>
#include "error.h"

/* Fill e from a non-2xx response: code from the x-amzn-ErrorType header,
 * else body __type, else body code, else the status; cut at the first ':'
 * and keep what follows the last '#'. Message from body message/Message.
 * error_type and request_id may be NULL; the body need not be JSON or
 * NUL-terminated. Also sets kind, retryable and throttle. */
void lw_awserr_decode(int status, const char *error_type, const char *request_id,
                      const char *body, size_t len, struct lw_error *e);

/* Set e->retryable and e->throttle from its kind, status and code, by the
 * SDKs' standard retry mode: transport errors (but TLS), 500/502/503/504,
 * throttling and transient codes. */
void lw_awserr_classify(struct lw_error *e);

/* Codes that mean the credentials need refreshing (ExpiredToken...). */
int lw_awserr_is_expired_token(const struct lw_error *e);
/* Codes that mean our clock is off (RequestTimeTooSkewed, "Signature expired"). */
int lw_awserr_is_clock_skew(const struct lw_error *e);
/* Codes that mean the credentials are wrong (not retryable, fix config). */
int lw_awserr_is_auth(const struct lw_error *e);
#endif
