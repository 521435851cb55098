/* Unit tests for runtime/loop.c: timer order, re-arm and stop, deferred
 * calls, fd watches, the virtual clock. */
#include "t.h"
#include "loop.h"
#include <fcntl.h>
#include <unistd.h>

static char order[64];
static size_t norder;
static void note(struct lw_timer *t, void *ud)
{
    if (norder < sizeof order - 1)
        order[norder] = *(const char *)ud;
    norder++;
}

static void test_timers_fire_in_order(void)
{
    struct lw_loop *loop = lw_loop_new();
    struct lw_timer a, b, c, d;
    norder = 0;
    lw_timer_init(&a, note, "a");
    lw_timer_init(&b, note, "b");
    lw_timer_init(&c, note, "c");
    lw_timer_init(&d, note, "d");
    lw_timer_start(loop, &c, 0.03);
    lw_timer_start(loop, &a, 0.01);
    lw_timer_start(loop, &d, 0.04);
    lw_timer_start(loop, &b, 0.02);
    lw_timer_stop(loop, &d);
    CHECK(!lw_timer_active(&d));
    while (lw_loop_pending(loop))
        lw_loop_run_once(loop, -1);
    order[norder] = 0;
    CHECK_STR(order, "abc");
    lw_loop_free(loop);
}

static void test_timer_heap_many(void)
{
    struct lw_loop *loop = lw_loop_new();
    lw_loop_set_virtual(loop, true);
    enum { N = 500 };
    static struct lw_timer ts[N];
    static char tags[N];
    norder = 0;
    /* start in scrambled order, stop every third */
    for (int i = 0; i < N; i++) {
        int k = (i * 7919) % N;
        tags[k] = 'x';
        lw_timer_init(&ts[k], note, &tags[k]);
        lw_timer_start(loop, &ts[k], 1.0 + k);
    }
    int stopped = 0;
    for (int k = 0; k < N; k += 3) {
        lw_timer_stop(loop, &ts[k]);
        stopped++;
    }
    double last = -1;
    int fired = 0, bad = 0;
    while (lw_loop_pending(loop)) {
        double before = lw_loop_now(loop);
        int n = lw_loop_run_once(loop, -1);
        if (n > 0) {
            fired += n;
            if (lw_loop_now(loop) < last || lw_loop_now(loop) < before)
                bad++;
            last = lw_loop_now(loop);
        }
    }
    CHECK_INT(fired, N - stopped);
    CHECK_INT(bad, 0);
    lw_loop_free(loop);
}

static int rearms;
static void rearm(struct lw_timer *t, void *ud)
{
    if (++rearms < 5)
        lw_timer_start(ud, t, 0);
}

static void test_timer_rearm_zero_waits_a_turn(void)
{
    struct lw_loop *loop = lw_loop_new();
    struct lw_timer t;
    rearms = 0;
    lw_timer_init(&t, rearm, loop);
    lw_timer_start(loop, &t, 0);
    int turns = 0;
    while (lw_loop_pending(loop) && turns < 100) {
        lw_loop_run_once(loop, 0);
        turns++;
    }
    CHECK_INT(rearms, 5);
    CHECK(turns >= 5);
    lw_loop_free(loop);
}

static int defers_run;
static struct lw_defer *victim;
static void defer_cb(struct lw_defer *d, void *ud)
{
    defers_run++;
    if (ud)
        lw_defer_cancel(ud, victim);
}

static void test_defer_fifo_and_cancel(void)
{
    struct lw_loop *loop = lw_loop_new();
    struct lw_defer d1, d2, d3;
    defers_run = 0;
    lw_defer_init(&d1, defer_cb, loop);   /* cancels d2 when it runs */
    lw_defer_init(&d2, defer_cb, NULL);
    lw_defer_init(&d3, defer_cb, NULL);
    victim = &d2;
    lw_defer_queue(loop, &d1);
    lw_defer_queue(loop, &d2);
    lw_defer_queue(loop, &d3);
    lw_defer_queue(loop, &d3);              /* already queued: no-op */
    CHECK_INT(lw_loop_pending(loop), 3);
    CHECK(lw_loop_next_timeout(loop) == 0);
    lw_loop_run_once(loop, 0);
    CHECK_INT(defers_run, 2);
    CHECK_INT(lw_loop_pending(loop), 0);
    lw_loop_free(loop);
}

static int reads;
static void on_read(void *ud, int fd, unsigned ev)
{
    char buf[16];
    if (ev & LW_READ)
        reads += (int)read(fd, buf, sizeof buf);
}

static void test_fd_watch(void)
{
    struct lw_loop *loop = lw_loop_new();
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    reads = 0;
    CHECK(lw_loop_watch(loop, p[0], LW_READ, on_read, NULL) == 0);
    CHECK(write(p[1], "abc", 3) == 3);
    lw_loop_run_once(loop, 1.0);
    CHECK_INT(reads, 3);
    lw_loop_unwatch(loop, p[0]);
    CHECK_INT(lw_loop_pending(loop), 0);
    CHECK(write(p[1], "d", 1) == 1);
    CHECK_INT(lw_loop_run_once(loop, 0.01), 0);
    close(p[0]);
    close(p[1]);
    lw_loop_free(loop);
}

static void test_virtual_clock_jumps(void)
{
    struct lw_loop *loop = lw_loop_new();
    lw_loop_set_virtual(loop, true);
    struct lw_timer t;
    norder = 0;
    lw_timer_init(&t, note, "h");
    double start = lw_loop_now(loop);
    lw_timer_start(loop, &t, 3600);
    lw_loop_run_once(loop, -1);
    CHECK_INT(norder, 1);
    CHECK(lw_loop_now(loop) - start >= 3600 - 1e-6);   /* (start + 3600) - start may round down */
    lw_loop_free(loop);
}

int main(void)
{
    RUN(test_timers_fire_in_order);
    RUN(test_timer_heap_many);
    RUN(test_timer_rearm_zero_waits_a_turn);
    RUN(test_defer_fifo_and_cancel);
    RUN(test_fd_watch);
    RUN(test_virtual_clock_jumps);
    return T_DONE();
}
