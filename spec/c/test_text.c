/* Unit tests for runtime/text.c: UTF-8 validity, UTF-16 unit counting and
 * truncation that respects both character and byte limits. */
#include "t.h"
#include "text.h"
#include <stdlib.h>
#include <string.h>

static void test_valid(void)
{
    CHECK(lw_utf8_valid("plain", 5));
    CHECK(lw_utf8_valid("caf\xC3\xA9", 5));
    CHECK(lw_utf8_valid("\xF0\x9F\x98\x80", 4));        /* U+1F600 */
    CHECK(!lw_utf8_valid("\xC3", 1));                  /* truncated */
    CHECK(!lw_utf8_valid("\xC0\xAF", 2));              /* overlong */
    CHECK(!lw_utf8_valid("\xED\xA0\x80", 3));          /* surrogate */
    CHECK(!lw_utf8_valid("\xF4\x90\x80\x80", 4));      /* > U+10FFFF */
    CHECK(!lw_utf8_valid("\xFF", 1));
}

static void test_units(void)
{
    CHECK_INT(lw_utf16_units("abc", 3), 3);
    CHECK_INT(lw_utf16_units("caf\xC3\xA9", 5), 4);
    CHECK_INT(lw_utf16_units("\xF0\x9F\x98\x80", 4), 2);
}

static void test_prefix_never_splits(void)
{
    const char *s = "a\xC3\xA9\xF0\x9F\x98\x80z";   /* a é 😀 z: 1+2+4+1 bytes, 1+1+2+1 units */
    CHECK_INT(lw_utf8_prefix(s, 8, 2, 0), 3);
    CHECK_INT(lw_utf8_prefix(s, 8, 3, 0), 3);           /* emoji needs 2 units */
    CHECK_INT(lw_utf8_prefix(s, 8, 4, 0), 7);
    CHECK_INT(lw_utf8_prefix(s, 8, 100, 5), 3);         /* byte limit cuts before the emoji */
    CHECK_INT(lw_utf8_prefix(s, 8, 100, 0), 8);
}

static void test_sanitize(void)
{
    size_t n;
    char *o = lw_utf8_sanitize("a\xFF" "b", 3, &n);
    CHECK_STR(o, "a\xEF\xBF\xBD" "b");
    CHECK_INT(n, 5);
    free(o);
}

static void test_limit_marks_truncation(void)
{
    char big[600];
    memset(big, 'x', sizeof big);
    size_t n;
    char *o = lw_text_limit(big, sizeof big, 256, &n);
    CHECK(n <= 256);
    CHECK(lw_utf16_units(o, n) <= 256);
    CHECK(strstr(o, "[truncated]") != NULL);
    free(o);
    o = lw_text_limit("short", 5, 256, &n);
    CHECK_STR(o, "short");
    free(o);
    /* multibyte text stays valid and within the unit limit */
    char emo[400];
    for (int i = 0; i < 100; i++)
        memcpy(emo + 4 * i, "\xF0\x9F\x98\x80", 4);
    o = lw_text_limit(emo, sizeof emo, 101, &n);
    CHECK(lw_utf8_valid(o, n));
    CHECK(lw_utf16_units(o, n) <= 101);
    free(o);
    o = lw_text_limit(big, sizeof big, 5, &n);       /* limit below the marker size */
    CHECK_INT(n, 5);
    free(o);
}

static void test_json_surrogates(void)
{
    size_t n = 0;
    CHECK(lw_json_fix_surrogates("{\"a\":\"plain \\u00e9\"}", 19, &n) == NULL);
    /* a pair stays, an escaped backslash is not an escape */
    const char *ok = "\"\\ud83d\\ude00 \\\\ud800\"";
    CHECK(lw_json_fix_surrogates(ok, strlen(ok), &n) == NULL);
    const char *lone = "{\"i\":\"x\\ud800y\\uDC00\\ud83d\\ud83d\\ude00\"}";
    char *o = lw_json_fix_surrogates(lone, strlen(lone), &n);
    CHECK_STR(o, "{\"i\":\"x\\ufffdy\\ufffd\\ufffd\\ud83d\\ude00\"}");
    CHECK_INT(n, strlen(lone));
    free(o);
    const char *tail = "\"\\ud800";                 /* cut short: still replaced */
    o = lw_json_fix_surrogates(tail, strlen(tail), &n);
    CHECK_STR(o, "\"\\ufffd");
    free(o);
}

int main(void)
{
    RUN(test_valid);
    RUN(test_units);
    RUN(test_prefix_never_splits);
    RUN(test_sanitize);
    RUN(test_limit_marks_truncation);
    RUN(test_json_surrogates);
    return T_DONE();
}
