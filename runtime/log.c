/* log.c: logfmt and JSON-lines formatting (values quoted and escaped with
 * jansson, never by hand). */
#include "log.h"
#include "buf.h"
#include "hash.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum lw_log_level min_level = LW_LOG_INFO;
static enum lw_log_format format = LW_LOG_TEXT;
static int log_fd = 2;

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

void lw_log_configure(enum lw_log_level min, enum lw_log_format fmt, int fd)
{
    min_level = min;
    format = fmt;
    log_fd = fd;
}

int lw_log_parse_level(const char *s)
{
    for (int i = 0; i <= LW_LOG_OFF; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    if (strcmp(s, "warning") == 0)
        return LW_LOG_WARN;
    return -1;
}

int lw_log_parse_format(const char *s)
{
    if (strcmp(s, "text") == 0 || strcmp(s, "logfmt") == 0)
        return LW_LOG_TEXT;
    if (strcmp(s, "json") == 0)
        return LW_LOG_JSON;
    return -1;
}

bool lw_log_enabled(enum lw_log_level level) { return level >= min_level && level < LW_LOG_OFF; }

static void timestamp(char out[32])
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

/* A JSON string of s; not UTF-8: say so rather than drop the line. */
static json_t *string_value(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    return v ? v : json_string("(invalid UTF-8)");
}

static json_t *field_value(const struct lw_log_field *f)
{
    switch (f->type) {
    case LW_FIELD_STR:
        return string_value(f->s, f->len == (size_t)-1 ? strlen(f->s) : f->len);
    case LW_FIELD_INT:
        return json_integer(f->i);
    case LW_FIELD_NUM:
        return isfinite(f->d) ? json_real(f->d) : json_null();
    case LW_FIELD_BOOL:
        return json_boolean(f->i);
    }
    return json_null();
}

static bool bare_ok(const char *s)
{
    if (!*s)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
            return false;
    return true;
}

static void text_pair(struct lw_buf *b, const char *key, json_t *v)
{
    lw_buf_printf(b, " %s=", key);
    if (json_is_string(v) && bare_ok(json_string_value(v))) {
        lw_buf_puts(b, json_string_value(v));
    } else if (json_is_real(v)) {
        lw_buf_printf(b, "%.6g", json_real_value(v));
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (s) {
            lw_buf_puts(b, s);
            free(s);
        }
    }
}

static void add_fields(json_t *obj, struct lw_buf *b, const struct lw_log_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (f[i].type == LW_FIELD_STR && !f[i].s)
            continue;
        json_t *v = field_value(&f[i]);
        if (!v)
            continue;
        if (obj)
            json_object_set_new(obj, f[i].key, v);
        else {
            text_pair(b, f[i].key, v);
            json_decref(v);
        }
    }
}

void lw_log2(enum lw_log_level level, const char *msg,
             const struct lw_log_field *a, size_t na,
             const struct lw_log_field *b, size_t nb)
{
    if (!lw_log_enabled(level))
        return;
    int saved = errno;
    char ts[32];
    timestamp(ts);
    struct lw_buf line;
    lw_buf_init(&line, 1 << 20);
    if (format == LW_LOG_JSON) {
        json_t *obj = json_object();
        json_object_set_new(obj, "time", json_string(ts));
        json_object_set_new(obj, "level", json_string(level_names[level]));
        json_object_set_new(obj, "msg", string_value(msg, strlen(msg)));
        add_fields(obj, NULL, a, na);
        add_fields(obj, NULL, b, nb);
        char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) {
            lw_buf_puts(&line, s);
            free(s);
        }
        json_decref(obj);
    } else {
        lw_buf_printf(&line, "time=%s level=%s", ts, level_names[level]);
        json_t *m = string_value(msg, strlen(msg));
        text_pair(&line, "msg", m);
        json_decref(m);
        add_fields(NULL, &line, a, na);
        add_fields(NULL, &line, b, nb);
    }
    lw_buf_puts(&line, "\n");
    const char *p = line.p;
    size_t left = line.len;
    while (p && left) {
        ssize_t w = write(log_fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    lw_buf_free(&line);
    errno = saved;
}

void lw_log_token_hash(const char *token, size_t len, char out[9])
{
    unsigned char md[LW_SHA256_LEN];
    if (lw_hash_sha256(NULL, token, len, md) < 0)
        memset(md, 0, 4);
    lw_hash_hex(md, 4, out);
}
