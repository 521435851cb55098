/* log.h: one structured log line per event, logfmt (default) or JSON lines.
 *
 * Process-wide settings (level, format, fd), set once at start-up; lw_log
 * may then be called from any thread: each line is formatted in a local
 * buffer and written with one write(2).
 *
 * Callers never pass secrets, session tokens or full task tokens: a task is
 * named by its activity id/type and lw_log_token_hash (first 8 hex digits of
 * the token's SHA-256). */
#ifndef LW_LOG_H
#define LW_LOG_H
#include <stdbool.h>
#include <stddef.h>

enum lw_log_level { LW_LOG_DEBUG, LW_LOG_INFO, LW_LOG_WARN, LW_LOG_ERROR, LW_LOG_OFF };
enum lw_log_format { LW_LOG_TEXT, LW_LOG_JSON };
enum lw_field_type { LW_FIELD_STR, LW_FIELD_INT, LW_FIELD_NUM, LW_FIELD_BOOL };

struct lw_log_field {
    const char *key;
    enum lw_field_type type;
    const char *s;          /* STR: NULL fields are skipped */
    size_t len;             /* STR: (size_t)-1 = strlen */
    long long i;            /* INT, BOOL */
    double d;               /* NUM */
};

#define LW_STR(k, v) ((struct lw_log_field){ .key = (k), .type = LW_FIELD_STR, .s = (v), .len = (size_t)-1 })
#define LW_STRN(k, v, n) ((struct lw_log_field){ .key = (k), .type = LW_FIELD_STR, .s = (v), .len = (n) })
#define LW_INT(k, v) ((struct lw_log_field){ .key = (k), .type = LW_FIELD_INT, .i = (long long)(v) })
#define LW_NUM(k, v) ((struct lw_log_field){ .key = (k), .type = LW_FIELD_NUM, .d = (double)(v) })
#define LW_BOOL(k, v) ((struct lw_log_field){ .key = (k), .type = LW_FIELD_BOOL, .i = !!(v) })

void lw_log_configure(enum lw_log_level min, enum lw_log_format fmt, int fd);
/* Parse "debug"/"info"/"warn"/"error"/"off" and "text"/"json"; -1 if unknown. */
int lw_log_parse_level(const char *s);
int lw_log_parse_format(const char *s);
bool lw_log_enabled(enum lw_log_level level);
/* Two field lists so a task's fields and the call's own can be joined
 * without copying; either may be NULL/0. */
void lw_log2(enum lw_log_level level, const char *msg,
             const struct lw_log_field *a, size_t na,
             const struct lw_log_field *b, size_t nb);
#define lw_log(level, msg, fields, n) lw_log2((level), (msg), (fields), (n), NULL, 0)
/* out: 9 bytes, 8 lower-case hex digits and a NUL. */
void lw_log_token_hash(const char *token, size_t len, char out[9]);
#endif
