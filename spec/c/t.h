/* t.h: a tiny test harness for the C unit tests in spec/c/.
 *
 * A test is a void function run with RUN(fn) (or a data-driven case between
 * t_begin(name) and t_end()); it fails if any CHECK inside it fails. Checks
 * print both sides. T_DONE() prints "N passed, N failed" and gives the exit
 * status for main. */
#ifndef LW_SPEC_T_H
#define LW_SPEC_T_H
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail, t_cur_failed;
static const char *t_name = "";

#define CHECK(c) do { if (!(c)) { \
    fprintf(stderr, "  %s:%d: [%s] CHECK failed: %s\n", __FILE__, __LINE__, t_name, #c); \
    t_cur_failed = 1; } } while (0)
#define CHECK_INT(a, b) do { long long t_a_ = (long long)(a), t_b_ = (long long)(b); \
    if (t_a_ != t_b_) { fprintf(stderr, "  %s:%d: [%s] %s == %s: %lld != %lld\n", \
        __FILE__, __LINE__, t_name, #a, #b, t_a_, t_b_); t_cur_failed = 1; } } while (0)
#define CHECK_STR(a, b) do { const char *t_a_ = (a), *t_b_ = (b); \
    if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) { \
        fprintf(stderr, "  %s:%d: [%s] %s == %s:\n    got:  \"%s\"\n    want: \"%s\"\n", \
        __FILE__, __LINE__, t_name, #a, #b, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); \
        t_cur_failed = 1; } } while (0)

static inline void t_begin(const char *name) { t_name = name; t_cur_failed = 0; }
static inline void t_end(void) {
    if (t_cur_failed) { t_fail++; printf("FAIL %s\n", t_name); }
    else { t_pass++; printf("ok   %s\n", t_name); }
    fflush(stdout);
}
#define RUN(fn) do { t_begin(#fn); fn(); t_end(); } while (0)
#define T_DONE() (printf("%d passed, %d failed\n", t_pass, t_fail), (t_fail || !t_pass) ? 1 : 0)
#endif
