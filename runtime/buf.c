/* buf.c: growable capped byte buffer. */
#include "buf.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lw_buf_init(struct lw_buf *b, size_t cap)
{
    b->p = NULL;
    b->len = b->alloc = 0;
    b->cap = cap;
}

static int reserve(struct lw_buf *b, size_t n)
{
    if (b->cap && b->len + n > b->cap)
        return -1;
    size_t need = b->len + n + 1;
    if (need <= b->alloc)
        return 0;
    size_t a = b->alloc ? b->alloc : 256;
    while (a < need)
        a *= 2;
    char *p = realloc(b->p, a);
    if (!p)
        return -1;
    b->p = p;
    b->alloc = a;
    return 0;
}

int lw_buf_append(struct lw_buf *b, const void *data, size_t n)
{
    if (reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int lw_buf_puts(struct lw_buf *b, const char *s)
{
    return lw_buf_append(b, s, strlen(s));
}

int lw_buf_printf(struct lw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void lw_buf_reset(struct lw_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

char *lw_buf_steal(struct lw_buf *b)
{
    char *p = b->p;
    if (!p)
        p = calloc(1, 1);
    b->p = NULL;
    b->len = b->alloc = 0;
    return p;
}

void lw_buf_free(struct lw_buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->alloc = 0;
}
