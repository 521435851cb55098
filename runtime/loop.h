/* loop.h: the event loop: fd watches on epoll, timers, deferred calls, a clock.
 *
 * One loop per thread; no call here is thread-safe. No Lua and no curl types.
 *
 * Ownership: timers and deferred calls are embedded in their owner's struct
 * (intrusive); the loop only links them. An owner must stop its timer and
 * cancel its deferred call before freeing the memory that holds them.
 * Callbacks run from lw_loop_run_once, never from inside another library's
 * callback, so they may start and stop timers, watch fds and submit work.
 *
 * Time: lw_loop_now is monotonic seconds, cached at the start of each
 * iteration. In virtual mode (the testing kit's fake clock) time stands
 * still while anything is ready and jumps to the next timer when the loop
 * would otherwise sleep, so a handler's sleep(3600) costs no real time. */
#ifndef LW_LOOP_H
#define LW_LOOP_H
#include <stdbool.h>
#include <stddef.h>

struct lw_loop;

struct lw_timer {
    double when;                                  /* loop time it fires at */
    size_t slot;                                  /* heap index + 1; 0 = idle */
    void (*cb)(struct lw_timer *t, void *ud);
    void *ud;
};

struct lw_defer {
    struct lw_defer *next;
    bool queued;
    void (*cb)(struct lw_defer *d, void *ud);
    void *ud;
};

enum { LW_READ = 1, LW_WRITE = 2 };
/* events: LW_READ | LW_WRITE; error and hang-up are reported as both. */
typedef void (*lw_fd_cb)(void *ud, int fd, unsigned events);

struct lw_loop *lw_loop_new(void);
void lw_loop_free(struct lw_loop *loop);        /* accepts NULL */

double lw_loop_now(const struct lw_loop *loop);
void lw_loop_update_time(struct lw_loop *loop);

void lw_timer_init(struct lw_timer *t, void (*cb)(struct lw_timer *, void *), void *ud);
/* Arm (or re-arm) t to fire once, `delay` seconds from now (<= 0: next iteration). */
void lw_timer_start(struct lw_loop *loop, struct lw_timer *t, double delay);
void lw_timer_stop(struct lw_loop *loop, struct lw_timer *t);   /* idle timers are fine */
static inline bool lw_timer_active(const struct lw_timer *t) { return t->slot != 0; }

void lw_defer_init(struct lw_defer *d, void (*cb)(struct lw_defer *, void *), void *ud);
/* Queue d to run at the next iteration (FIFO); a queued d is left as is. */
void lw_defer_queue(struct lw_loop *loop, struct lw_defer *d);
void lw_defer_cancel(struct lw_loop *loop, struct lw_defer *d);

/* Watch fd (add or change events); 0 on success, -1 with errno set. */
int lw_loop_watch(struct lw_loop *loop, int fd, unsigned events, lw_fd_cb cb, void *ud);
void lw_loop_unwatch(struct lw_loop *loop, int fd);

/* Wait at most max_wait seconds (< 0: until the next timer or event), then
 * run ready fd callbacks, due timers and deferred calls. Returns the number
 * of callbacks run, or -1 on an epoll error other than EINTR. */
int lw_loop_run_once(struct lw_loop *loop, double max_wait);

/* Seconds until the next timer (0 if something is ready), -1 if none. */
double lw_loop_next_timeout(const struct lw_loop *loop);
/* The epoll fd: readable when a watched fd is ready (for embedding in
 * another loop, together with lw_loop_next_timeout). */
int lw_loop_fd(const struct lw_loop *loop);
/* Number of armed timers, watched fds and queued deferred calls. */
size_t lw_loop_pending(const struct lw_loop *loop);

void lw_loop_set_virtual(struct lw_loop *loop, bool on);
bool lw_loop_is_virtual(const struct lw_loop *loop);
#endif
