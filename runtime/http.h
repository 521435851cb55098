/* http.h: HTTP requests on an lw_loop through libcurl's multi interface.
 *
 * The only module that includes curl.h. One struct lw_http per loop holds the
 * curl multi handle: many requests run at once, connections and DNS answers
 * are reused, TLS peer and host verification are always on (a custom CA file
 * through lw_http_set_ca_bundle, e.g. from AWS_CA_BUNDLE).
 *
 * Ownership: lw_http_submit copies everything in the options (URL, headers,
 * body). The response passed to the callback is borrowed: its body and
 * headers are valid only until the callback returns. The callback runs from
 * the loop after curl has finished with the transfer, never from inside a
 * curl callback, so it may submit or cancel requests and run Lua.
 * After the callback returns the request is freed; lw_http_cancel on a
 * request whose callback already ran is a use after free, so owners clear
 * their pointer in the callback.
 *
 * Errors (response.status == 0, response.error filled, kind LW_ERR_TRANSPORT
 * unless noted): HttpTimeout, ConnectTimeout, ConnectionRefused, HostNotFound,
 * TlsError (not retryable), ConnectionClosed, NetworkError, and BodyTooLarge
 * (the response body passed the request's cap; kind LW_ERR_CLIENT). */
#ifndef LW_HTTP_H
#define LW_HTTP_H
#include <stddef.h>
#include "error.h"
#include "loop.h"

struct lw_http;
struct lw_http_req;

struct lw_http_header {
    const char *name;
    const char *value;
};

struct lw_http_opts {
    const char *method;                     /* "GET", "POST", "PUT", ... */
    const char *url;
    const struct lw_http_header *headers;   /* sent as given; Host may be set here */
    size_t nheaders;
    const void *body;
    size_t body_len;
    double connect_timeout;                 /* seconds; 0 = 10 s */
    double timeout;                         /* whole transfer, seconds; 0 = 30 s */
    size_t max_body;                        /* response body cap; 0 = 16 MiB */
};

struct lw_http_response {
    int status;                             /* HTTP status, 0 on a transport error */
    const char *body;                       /* NUL-terminated, borrowed */
    size_t body_len;
    const struct lw_http_header *headers;   /* borrowed; last response's headers */
    size_t nheaders;
    double elapsed;                         /* seconds from submit to completion */
    struct lw_error error;
};

typedef void (*lw_http_cb)(void *ud, const struct lw_http_response *res);

struct lw_http *lw_http_new(struct lw_loop *loop, struct lw_error *err);
/* Aborts every request in flight without calling their callbacks. */
void lw_http_free(struct lw_http *h);
/* A CA bundle file for TLS verification (NULL: the system store). Copied. */
int lw_http_set_ca_bundle(struct lw_http *h, const char *path, struct lw_error *err);

struct lw_http_req *lw_http_submit(struct lw_http *h, const struct lw_http_opts *o,
                                   lw_http_cb cb, void *ud, struct lw_error *err);
/* Abort a request in flight; its callback is not called. */
void lw_http_cancel(struct lw_http_req *r);
/* Requests submitted and not yet completed or cancelled. */
size_t lw_http_active(const struct lw_http *h);

/* Split a URL with libcurl's parser: host (with ":port" when the URL names a
 * port that is not the scheme's default; IPv6 in brackets) for a Host
 * header, and the path (at least "/"). Only http and https are accepted. */
int lw_http_url_parts(const char *url, char *host, size_t hostlen, char *path, size_t pathlen,
                      struct lw_error *err);
/* The same, plus the raw query (without '?'; "" if none), as the URL holds
 * it, for signing. */
int lw_http_url_split(const char *url, char *host, size_t hostlen, char *path, size_t pathlen,
                      char *query, size_t querylen, struct lw_error *err);
/* The libcurl version string, e.g. "7.88.1". */
const char *lw_http_curl_version(void);

/* Case-insensitive header lookup in a response; NULL if absent. */
const char *lw_http_header_get(const struct lw_http_response *r, const char *name);
#endif
