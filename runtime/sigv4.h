/* sigv4.h: AWS Signature Version 4 (AWS4-HMAC-SHA256), Authorization-header mode.
 *
 * lw_sigv4_sign is a pure function: no I/O, no logging, no clock (the caller
 * passes the time), no mutable globals (the only shared state is hash.c's
 * once-fetched, read-only libcrypto algorithms). Several threads may sign at
 * once provided each uses its own struct lw_sigv4_cache (or none).
 *
 * What it signs: the method, the raw path and query, every header the caller
 * passes, and the payload hash, exactly as AWS's SigV4 test suite expects
 * (spec/sigv4-testsuite, all 38 cases):
 * - header names lower-cased and sorted (byte order); values trimmed, every
 *   run of ASCII white space inside them (space, tab, and the CR/LF + space
 *   of an obsolete folded line) collapsed to one space; a name that occurs
 *   more than once becomes one line whose values are joined by "," in the
 *   order given;
 * - path: unless LW_SIGV4_NO_NORMALIZE_PATH, dot segments are removed and
 *   repeated slashes merged (a trailing slash is kept); then every byte
 *   except A-Z a-z 0-9 - . _ ~ and "/" is percent-encoded (%XX, upper-case).
 *   The path is expected as sent on the wire, i.e. already percent-encoded
 *   once, so a "%" is encoded again ("%20" -> "%2520"): the double encoding
 *   that every service except S3 expects;
 * - query: split on "&", each name and value percent-decoded and re-encoded
 *   with the same unreserved set ("+" is a literal plus), a missing "=" means
 *   an empty value, pairs sorted by encoded name then encoded value;
 * - payload: lower-case hex SHA-256 of the body, or the caller's precomputed
 *   value (e.g. the hash it computed once for a retried body).
 *
 * Which headers to sign is the caller's choice: pass exactly the headers to
 * sign. Host must be among them (AWS rejects a request whose Host is not
 * signed). User-Agent is best left out (proxies rewrite it). The signer adds
 * X-Amz-Date, X-Amz-Security-Token (with a session token) and, with
 * LW_SIGV4_SIGN_BODY, x-amz-content-sha256; passing any of those yourself,
 * or Authorization, is an error (LW_SIGV4_ERESERVED).
 *
 * Secrets: the secret access key never leaves the signer in any form except
 * the signature. The session token appears only as the value of the
 * X-Amz-Security-Token header handed back, and in the debug canonical request
 * when it is signed (the canonical request contains that header; set
 * dbg->redact_token to replace it there). */
#ifndef LW_SIGV4_H
#define LW_SIGV4_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "buf.h"

/* Flags (struct lw_sigv4_params.flags); 0 is the right value for SWF and
 * Step Functions. */
#define LW_SIGV4_NO_NORMALIZE_PATH  0x1u /* keep ".", ".." and "//" in the path (S3 style;
                                            the path is still encoded as described above) */
#define LW_SIGV4_SIGN_BODY          0x2u /* add x-amz-content-sha256 and sign it */
#define LW_SIGV4_OMIT_SESSION_TOKEN 0x4u /* return the token header but do not sign it */

/* Errors (all negative; lw_sigv4_strerror names them). */
#define LW_SIGV4_EARG      (-1) /* missing or malformed method, key id, secret, region, service, token or payload hash */
#define LW_SIGV4_EHEADER   (-2) /* a header name that is not an HTTP token, or a control character in a value */
#define LW_SIGV4_ERESERVED (-3) /* the caller passed Authorization, X-Amz-Date, X-Amz-Security-Token (or x-amz-content-sha256 with SIGN_BODY) */
#define LW_SIGV4_ENOHOST   (-4) /* no Host header */
#define LW_SIGV4_ETIME     (-5) /* time outside years 1970..9999 */
#define LW_SIGV4_ENOMEM    (-6)
#define LW_SIGV4_ECRYPTO   (-7) /* libcrypto failed */

/* A header: NUL-terminated name and value, borrowed. A value may contain
 * an obsolete line fold (CRLF or LF followed by space or tab); any other
 * CR, LF or control character except tab is rejected. */
struct lw_sigv4_header {
    const char *name;
    const char *value;
};

/* The request to sign; everything is borrowed for the duration of the call. */
struct lw_sigv4_request {
    const char *method;                     /* "POST" */
    const char *path;                       /* raw path, e.g. "/"; NULL or "" means "/" */
    const char *query;                      /* raw query without "?"; NULL or "" = none */
    const struct lw_sigv4_header *headers;  /* the headers to sign; must include Host */
    size_t nheaders;
    const void *body;                       /* may be NULL when body_len is 0 */
    size_t body_len;
    /* Optional: the payload hash to use instead of hashing body (64 lower-case
     * hex characters, or a literal such as "UNSIGNED-PAYLOAD"; at most 64
     * visible ASCII characters). NULL = SHA-256 of body. */
    const char *payload_hash;
};

/* Credentials, scope, time and flags; borrowed for the duration of the call. */
struct lw_sigv4_params {
    const char *access_key_id;      /* required, <= 128 bytes, no "/", "," or white space */
    const char *secret_access_key;  /* required */
    const char *session_token;      /* NULL or "" = long-term credentials */
    const char *region;             /* "us-east-1"; <= 64 bytes, no "/", "," or white space */
    const char *service;            /* signing name: "swf", "states"; same rules */
    time_t time;                    /* seconds since the epoch, UTC */
    unsigned flags;                 /* LW_SIGV4_* flags */
};

/* The headers the caller must add to the request it sends, and the parts of
 * the signature. The struct points into itself (add[].value, authorization)
 * and, for the token header, at params->session_token (borrowed: keep the
 * credentials alive until the request is sent). Do not copy it by value;
 * release it with lw_sigv4_result_free. */
#define LW_SIGV4_AUTH_INLINE 512
struct lw_sigv4_result {
    /* In this order: X-Amz-Date, X-Amz-Security-Token (with a token),
     * x-amz-content-sha256 (with LW_SIGV4_SIGN_BODY), Authorization. */
    struct lw_sigv4_header add[4];
    size_t nadd;
    char amz_date[17];              /* "20250102T030405Z" */
    char payload_hash[65];          /* as used in the canonical request */
    char signature[65];             /* 64 lower-case hex characters */
    const char *authorization;      /* the Authorization header value */
    size_t authorization_len;
    /* private */
    char *auth_heap_;
    char auth_inline_[LW_SIGV4_AUTH_INLINE];
};

/* Optional debug output: the canonical request and string to sign, exactly
 * as hashed (no trailing newline). The caller owns the struct; zero it (or
 * lw_buf_init both buffers) before the first use and release it with
 * lw_sigv4_debug_free. Each lw_sigv4_sign call replaces the contents. */
struct lw_sigv4_debug {
    bool redact_token;              /* write "<redacted>" instead of the token value */
    struct lw_buf canonical_request;
    struct lw_buf string_to_sign;
};

/* A small cache of derived signing keys (the four-step HMAC chain), keyed by
 * (SHA-256 of the secret, date, region, service), least recently used
 * entry replaced. It never stores the secret itself; it does store derived
 * keys (each one signs for its day, region and service), which are wiped on
 * free. It also keeps the reusable hashing contexts the signer needs: with a
 * warm cache the signer itself allocates nothing for a usual request (OpenSSL
 * 3.0 still makes a few small allocations when it re-initialises contexts).
 * Not thread-safe and needs no locks: use one per thread (or per owner used
 * by one thread at a time). */
struct lw_sigv4_cache;

struct lw_sigv4_cache *lw_sigv4_cache_new(void);    /* NULL when out of memory */
void lw_sigv4_cache_free(struct lw_sigv4_cache *c); /* accepts NULL */
/* Counts of lookups that found / did not find a key (for tests). */
void lw_sigv4_cache_stats(const struct lw_sigv4_cache *c,
                          unsigned long *hits, unsigned long *misses);

/* Sign. cache may be NULL (then every call derives the key and allocates
 * temporary contexts). dbg may be NULL. *out need not be initialised; it is
 * overwritten without being freed, so free a previous result first. Returns
 * 0 and fills *out, or a negative LW_SIGV4_E* code and leaves *out empty
 * (still safe to free). */
int lw_sigv4_sign(struct lw_sigv4_cache *cache, const struct lw_sigv4_request *req,
                  const struct lw_sigv4_params *params, struct lw_sigv4_result *out,
                  struct lw_sigv4_debug *dbg);
void lw_sigv4_result_free(struct lw_sigv4_result *r);     /* accepts NULL or a zeroed struct */
void lw_sigv4_debug_free(struct lw_sigv4_debug *d);       /* accepts NULL or a zeroed struct */

/* The signing key for (secret, date "YYYYMMDD", region, service): HMAC chain
 * "AWS4"+secret -> date -> region -> service -> "aws4_request". Exposed for
 * tests and for presigning later. Returns 0, LW_SIGV4_EARG (NULL argument or
 * date not 8 characters), LW_SIGV4_ENOMEM or LW_SIGV4_ECRYPTO. */
int lw_sigv4_derive_key(const char *secret, const char *date8, const char *region,
                        const char *service, unsigned char key[32]);

/* A static description of an LW_SIGV4_E* code ("invalid header", ...). */
const char *lw_sigv4_strerror(int code);
#endif
