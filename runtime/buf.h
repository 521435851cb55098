/* buf.h: a growable byte buffer with a hard cap.
 *
 * The buffer owns its bytes; lw_buf_free releases them (and accepts a zeroed
 * buffer). Appends past `cap` (0 = unlimited) fail with -1 and leave the
 * buffer unchanged, so a body the network fills can never grow without bound.
 * The contents are always NUL-terminated (not counted in len). */
#ifndef LW_BUF_H
#define LW_BUF_H
#include <stddef.h>

struct lw_buf {
    char *p;
    size_t len;
    size_t alloc;
    size_t cap;      /* maximum len; 0 = no limit */
};

void lw_buf_init(struct lw_buf *b, size_t cap);
int lw_buf_append(struct lw_buf *b, const void *data, size_t n);
int lw_buf_puts(struct lw_buf *b, const char *s);
int lw_buf_printf(struct lw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lw_buf_reset(struct lw_buf *b);      /* len = 0, keeps memory */
char *lw_buf_steal(struct lw_buf *b);     /* caller owns the bytes; buffer emptied */
void lw_buf_free(struct lw_buf *b);
#endif
