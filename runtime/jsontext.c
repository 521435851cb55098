/* jsontext.c: JSON text with lw.json's number rules (see jsontext.h). */
#include "jsontext.h"
#include "buf.h"
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECODE_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* ---------------------------------------------------------------- numbers */

/* The C library's decimal point for printf/strtod (LC_NUMERIC may have been
 * changed by the host application). nl_langinfo is thread-safe in glibc,
 * localeconv is not. */
static char locale_point(void)
{
    const char *dp = nl_langinfo(RADIXCHAR);
    return (dp && dp[0] && !dp[1]) ? dp[0] : '.';
}

/* Shortest text that strtod reads back as d (finite), in JSON syntax with a
 * '.' or an exponent so it stays a real. Positional notation for decimal
 * exponents -4..15, exponent form otherwise (Python's repr rule), exponent
 * written without '+' or leading zeros as jansson does. */
static size_t format_real(double d, char *out, size_t outlen)
{
    char buf[40];
    int lo = 1, hi = 17;            /* %.16e always round-trips */
    while (lo < hi) {               /* the smallest precision that round-trips */
        int mid = (lo + hi) / 2;
        snprintf(buf, sizeof buf, "%.*e", mid - 1, d);
        if (strtod(buf, NULL) == d)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(buf, sizeof buf, "%.*e", lo - 1, d);
    int x = atoi(strchr(buf, 'e') + 1);
    if (x >= -4 && x < 16) {
        int decimals = lo - 1 - x;
        snprintf(out, outlen, "%.*f", decimals > 0 ? decimals : 0, d);
    } else {
        char *e = strchr(buf, 'e');
        size_t m = (size_t)(e - buf) + 1;           /* mantissa and 'e' */
        const char *p = e + 1;
        char sign = 0;
        if (*p == '+' || *p == '-')
            sign = *p++;
        while (*p == '0' && p[1])
            p++;
        snprintf(out, outlen, "%.*s%s%s", (int)m, buf, sign == '-' ? "-" : "", p);
    }
    char dp = locale_point();
    char *q = strchr(out, dp);
    if (q)
        *q = '.';
    else if (!strchr(out, 'e') && strlen(out) + 2 < outlen)
        strcat(out, ".0");
    return strlen(out);
}

/* Called for each number token tok (n bytes): with b NULL, says whether it
 * replaces the token; with b, appends the replacement (0, or -1 when out of
 * memory). */
typedef int (*number_fn)(const char *tok, size_t n, struct lw_buf *b);

/* Copy of the JSON text s with number tokens passed through fn. s is valid
 * JSON, so numbers are exactly the tokens outside strings that start with
 * '-' or a digit. Returns NULL when out of memory, or s itself (not a copy)
 * when fn kept every token. */
static const char *rewrite_numbers(const char *s, size_t len, number_fn fn, size_t *outlen)
{
    struct lw_buf b;
    lw_buf_init(&b, 0);
    size_t i = 0, copied = 0;
    int ok = 1, changed = 0;
    while (i < len && ok) {
        if (s[i] == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
            continue;
        }
        if (s[i] != '-' && (s[i] < '0' || s[i] > '9')) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && s[j] && strchr("+-0123456789.eE", s[j]))
            j++;
        if (fn(s + i, j - i, NULL)) {
            ok = lw_buf_append(&b, s + copied, i - copied) == 0 && fn(s + i, j - i, &b) == 0;
            copied = j;
            changed = 1;
        }
        i = j;
    }
    if (ok && !changed) {
        *outlen = len;
        return s;
    }
    if (!ok || lw_buf_append(&b, s + copied, len - copied) < 0) {
        lw_buf_free(&b);
        return NULL;
    }
    *outlen = b.len;
    return lw_buf_steal(&b);
}

/* jansson prints reals with %.17g: print them again, shortest. */
static int shorten_real(const char *tok, size_t n, struct lw_buf *b)
{
    char buf[40], out[48];
    if (n >= sizeof buf || (!memchr(tok, '.', n) && !memchr(tok, 'e', n) && !memchr(tok, 'E', n)))
        return 0;
    if (!b)
        return 1;
    memcpy(buf, tok, n);
    buf[n] = '\0';
    char *pt = strchr(buf, '.');
    if (pt)
        *pt = locale_point();           /* jansson wrote '.', strtod wants the locale's */
    return lw_buf_append(b, out, format_real(strtod(buf, NULL), out, sizeof out));
}

char *lw_json_dumps(const json_t *v, size_t flags)
{
    char *s = json_dumps(v, flags);
    if (!s)
        return NULL;
    size_t n;
    const char *r = rewrite_numbers(s, strlen(s), shorten_real, &n);
    if (r != s)
        free(s);
    return (char *)r;
}

/* An integer literal outside int64 gets ".0" appended, so that jansson
 * reads it as a real while every other number keeps its type. */
static int mark_big_integer(const char *tok, size_t n, struct lw_buf *b)
{
    int neg = tok[0] == '-';
    size_t digits = n - (size_t)neg;
    if (memchr(tok, '.', n) || memchr(tok, 'e', n) || memchr(tok, 'E', n) || digits < 19
        || (digits == 19 && memcmp(tok + neg, neg ? "9223372036854775808"
                                                  : "9223372036854775807", 19) <= 0))
        return 0;
    if (!b)
        return 1;
    return lw_buf_append(b, tok, n) == 0 && lw_buf_puts(b, ".0") == 0 ? 0 : -1;
}

json_t *lw_json_loadb(const char *s, size_t len, json_error_t *err)
{
    json_t *v = json_loadb(s, len, DECODE_FLAGS, err);
    if (v || json_error_code(err) != json_error_numeric_overflow)
        return v;
    /* An integer (or real) out of range. Parsing with every integer as a
     * real tells a real overflow or a later syntax error (reported with
     * its own position) from an integer too big for int64; then only the
     * big integers are turned into reals. */
    json_error_t e2;
    json_t *all_real = json_loadb(s, len, DECODE_FLAGS | JSON_DECODE_INT_AS_REAL, &e2);
    if (!all_real) {
        *err = e2;
        return NULL;
    }
    size_t flen;
    const char *fixed = rewrite_numbers(s, len, mark_big_integer, &flen);
    if (fixed && fixed != s) {
        v = json_loadb(fixed, flen, DECODE_FLAGS, &e2);
        free((char *)fixed);
    }
    if (!v)
        return all_real;        /* out of memory: every integer a real */
    json_decref(all_real);
    return v;
}
