/* error.h: the one error value lower layers fill and the Lua bindings turn
 * into a luaworker.Error table (see lerror.c).
 *
 * Fixed-size fields, so an error can be copied, stored in a task and freed
 * with its owner; no heap ownership. Messages never carry secrets, session
 * tokens or full task tokens: callers redact before formatting. */
#ifndef LW_ERROR_H
#define LW_ERROR_H
#include <stdarg.h>
#include <stdbool.h>

enum lw_error_kind {
    LW_ERR_NONE = 0,
    LW_ERR_TRANSPORT,   /* connect, resolve, TLS, timeout, connection closed */
    LW_ERR_SERVICE,     /* the service answered with an error body or status */
    LW_ERR_CLIENT,      /* bad input caught before sending, oversized body, bad config */
    LW_ERR_CREDENTIALS, /* no credentials, or a source failed */
};

struct lw_error {
    enum lw_error_kind kind;
    bool retryable;
    bool throttle;          /* a throttling error: back off harder */
    int status;             /* HTTP status, or 0 */
    char code[64];          /* stable code: "ThrottlingException", "HttpTimeout", ... */
    char message[512];
    char request_id[80];
    char reason[32];        /* Cancelled: cancel_requested, task_gone, timed_out, shutdown, deadline */
};

/* Fill e (printf-style message); returns -1 so callers can `return lw_error_set(...)`. */
int lw_error_set(struct lw_error *e, enum lw_error_kind kind, bool retryable,
                 const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int lw_error_vset(struct lw_error *e, enum lw_error_kind kind, bool retryable,
                  const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
void lw_error_clear(struct lw_error *e);
#endif
