/* text.c: UTF-8 validation, measuring and truncation. */
#include "text.h"
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;               /* overlong, out of range or a surrogate */
    return n;
}

size_t lw_utf8_first_invalid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = seq_len(p + i, len - i);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

bool lw_utf8_valid(const char *s, size_t len)
{
    return lw_utf8_first_invalid(s, len) == len;
}

/* The bytes of the character at p (an invalid byte counts as one). */
static size_t char_len(const unsigned char *p, size_t left)
{
    size_t n = p[0] < 0x80 ? 1 : seq_len(p, left);
    return n ? n : 1;
}

size_t lw_utf16_units(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;
    for (size_t i = 0, n; i < len; i += n) {
        n = char_len(p + i, len - i);
        units += n == 4 ? 2 : 1;
    }
    return units;
}

size_t lw_utf8_prefix(const char *s, size_t len, size_t max_units, size_t max_bytes)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, units = 0;
    while (i < len) {
        size_t n = char_len(p + i, len - i);
        size_t u = n == 4 ? 2 : 1;
        if (units + u > max_units || (max_bytes && i + n > max_bytes))
            break;
        units += u;
        i += n;
    }
    return i;
}

char *lw_utf8_sanitize(const char *s, size_t len, size_t *outlen)
{
    /* worst case: every byte becomes the 3-byte U+FFFD */
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t n = p[i] < 0x80 ? 1 : seq_len(p + i, len - i);
        if (n) {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return out;
}

char *lw_text_limit(const char *s, size_t len, size_t max_units, size_t *outlen)
{
    static const char mark[] = " ...[truncated]";
    size_t clean_len;
    char *clean = lw_utf8_sanitize(s, len, &clean_len);
    if (!clean)
        return NULL;
    if (lw_utf16_units(clean, clean_len) <= max_units) {
        if (outlen)
            *outlen = clean_len;
        return clean;
    }
    size_t room = max_units > sizeof mark - 1 ? max_units - (sizeof mark - 1) : 0;
    size_t keep = lw_utf8_prefix(clean, clean_len, room, 0);
    if (max_units >= sizeof mark - 1) {
        memcpy(clean + keep, mark, sizeof mark);
        keep += sizeof mark - 1;
    } else {
        keep = lw_utf8_prefix(clean, clean_len, max_units, 0);
        clean[keep] = '\0';
    }
    if (outlen)
        *outlen = keep;
    return clean;
}

/* The value of the \uXXXX escape at s (avail bytes), or -1. */
static long hex4_escape(const char *s, size_t avail)
{
    if (avail < 6 || s[0] != '\\' || s[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

char *lw_json_fix_surrogates(const char *s, size_t len, size_t *outlen)
{
    char *out = NULL;
    /* In valid JSON a backslash only starts an escape inside a string. */
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\')
            continue;
        long v = hex4_escape(s + i, len - i);
        if (v < 0xD800 || v > 0xDFFF) {
            i++;                                /* the escaped character */
            continue;
        }
        if (v <= 0xDBFF) {
            long lo = hex4_escape(s + i + 6, len - i - 6);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                i += 11;                        /* a pair: keep it */
                continue;
            }
        }
        if (!out) {
            if (!(out = malloc(len + 1)))
                return NULL;
            memcpy(out, s, len);
            out[len] = '\0';
        }
        memcpy(out + i, "\\ufffd", 6);
        i += 5;
    }
    if (out && outlen)
        *outlen = len;
    return out;
}
