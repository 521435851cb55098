/* error.c: filling struct lw_error. */
#include "error.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lw_error_vset(struct lw_error *e, enum lw_error_kind kind, bool retryable,
                  const char *code, const char *fmt, va_list ap)
{
    if (!e)
        return -1;
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->retryable = retryable;
    snprintf(e->code, sizeof e->code, "%s", code);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    return -1;
}

int lw_error_set(struct lw_error *e, enum lw_error_kind kind, bool retryable,
                 const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_error_vset(e, kind, retryable, code, fmt, ap);
    va_end(ap);
    return -1;
}

void lw_error_clear(struct lw_error *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}
