/* loop.c: epoll, a binary min-heap of timers, a FIFO of deferred calls. */
#include "loop.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct watch {
    lw_fd_cb cb;
    void *ud;
    bool active;
};

struct lw_loop {
    int epfd;
    double now;
    bool virtual_time;
    struct lw_timer **heap;
    size_t nheap, heap_alloc;
    struct lw_defer *dq_head, *dq_tail;
    size_t ndq;
    struct watch *watches;          /* indexed by fd */
    size_t nwatch_alloc;
    size_t nwatched;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct lw_loop *lw_loop_new(void)
{
    struct lw_loop *loop = calloc(1, sizeof *loop);
    if (!loop)
        return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    loop->now = mono_now();
    return loop;
}

void lw_loop_free(struct lw_loop *loop)
{
    if (!loop)
        return;
    close(loop->epfd);
    free(loop->heap);
    free(loop->watches);
    free(loop);
}

double lw_loop_now(const struct lw_loop *loop) { return loop->now; }

void lw_loop_update_time(struct lw_loop *loop)
{
    if (!loop->virtual_time)
        loop->now = mono_now();
}

void lw_loop_set_virtual(struct lw_loop *loop, bool on) { loop->virtual_time = on; }
bool lw_loop_is_virtual(const struct lw_loop *loop) { return loop->virtual_time; }

/* ---- timers: heap[i]->slot == i + 1 ---- */

static void heap_set(struct lw_loop *loop, size_t i, struct lw_timer *t)
{
    loop->heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(struct lw_loop *loop, size_t i)
{
    struct lw_timer *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (loop->heap[parent]->when <= t->when)
            break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, t);
}

static void sift_down(struct lw_loop *loop, size_t i)
{
    struct lw_timer *t = loop->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= loop->nheap)
            break;
        if (c + 1 < loop->nheap && loop->heap[c + 1]->when < loop->heap[c]->when)
            c++;
        if (t->when <= loop->heap[c]->when)
            break;
        heap_set(loop, i, loop->heap[c]);
        i = c;
    }
    heap_set(loop, i, t);
}

void lw_timer_init(struct lw_timer *t, void (*cb)(struct lw_timer *, void *), void *ud)
{
    t->when = 0;
    t->slot = 0;
    t->cb = cb;
    t->ud = ud;
}

void lw_timer_stop(struct lw_loop *loop, struct lw_timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    loop->nheap--;
    if (i == loop->nheap)
        return;
    struct lw_timer *moved = loop->heap[loop->nheap];
    heap_set(loop, i, moved);
    sift_up(loop, i);
    sift_down(loop, moved->slot - 1);
}

void lw_timer_start(struct lw_loop *loop, struct lw_timer *t, double delay)
{
    lw_timer_stop(loop, t);
    /* A zero (or NaN) delay means the next iteration: a timer re-armed from
     * its own callback must not fire again in the same turn. */
    if (!(delay > 1e-9))
        delay = 1e-9;
    t->when = loop->now + delay;
    if (loop->nheap == loop->heap_alloc) {
        size_t n = loop->heap_alloc ? loop->heap_alloc * 2 : 64;
        struct lw_timer **h = realloc(loop->heap, n * sizeof *h);
        if (!h)
            abort();            /* a few bytes per timer: out of memory is fatal here */
        loop->heap = h;
        loop->heap_alloc = n;
    }
    heap_set(loop, loop->nheap++, t);
    sift_up(loop, loop->nheap - 1);
}

/* ---- deferred calls ---- */

void lw_defer_init(struct lw_defer *d, void (*cb)(struct lw_defer *, void *), void *ud)
{
    d->next = NULL;
    d->queued = false;
    d->cb = cb;
    d->ud = ud;
}

void lw_defer_queue(struct lw_loop *loop, struct lw_defer *d)
{
    if (d->queued)
        return;
    d->queued = true;
    d->next = NULL;
    if (loop->dq_tail)
        loop->dq_tail->next = d;
    else
        loop->dq_head = d;
    loop->dq_tail = d;
    loop->ndq++;
}

void lw_defer_cancel(struct lw_loop *loop, struct lw_defer *d)
{
    if (!d->queued)
        return;
    struct lw_defer **pp = &loop->dq_head, *prev = NULL;
    while (*pp && *pp != d) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = d->next;
        if (loop->dq_tail == d)
            loop->dq_tail = prev;
        loop->ndq--;
    }
    d->queued = false;
    d->next = NULL;
}

/* ---- fds ---- */

int lw_loop_watch(struct lw_loop *loop, int fd, unsigned events, lw_fd_cb cb, void *ud)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= loop->nwatch_alloc) {
        size_t n = loop->nwatch_alloc ? loop->nwatch_alloc : 64;
        while (n <= (size_t)fd)
            n *= 2;
        struct watch *w = realloc(loop->watches, n * sizeof *w);
        if (!w)
            return -1;
        memset(w + loop->nwatch_alloc, 0, (n - loop->nwatch_alloc) * sizeof *w);
        loop->watches = w;
        loop->nwatch_alloc = n;
    }
    struct watch *w = &loop->watches[fd];
    struct epoll_event ev = { 0 };
    ev.events = ((events & LW_READ) ? EPOLLIN : 0) | ((events & LW_WRITE) ? EPOLLOUT : 0);
    ev.data.fd = fd;
    int op = w->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(loop->epfd, op, fd, &ev) < 0) {
        /* the fd may have been closed and reused behind our back */
        if (op == EPOLL_CTL_MOD && errno == ENOENT)
            op = EPOLL_CTL_ADD;
        else if (op == EPOLL_CTL_ADD && errno == EEXIST)
            op = EPOLL_CTL_MOD;
        else
            return -1;
        if (epoll_ctl(loop->epfd, op, fd, &ev) < 0)
            return -1;
    }
    if (!w->active)
        loop->nwatched++;
    w->active = true;
    w->cb = cb;
    w->ud = ud;
    return 0;
}

void lw_loop_unwatch(struct lw_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->nwatch_alloc || !loop->watches[fd].active)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);   /* fails harmlessly if already closed */
    loop->watches[fd].active = false;
    loop->nwatched--;
}

int lw_loop_fd(const struct lw_loop *loop) { return loop->epfd; }

size_t lw_loop_pending(const struct lw_loop *loop)
{
    return loop->nheap + loop->nwatched + loop->ndq;
}

double lw_loop_next_timeout(const struct lw_loop *loop)
{
    if (loop->dq_head)
        return 0;
    if (!loop->nheap)
        return -1;
    double now = loop->virtual_time ? loop->now : mono_now();
    double d = loop->heap[0]->when - now;
    return d > 0 ? d : 0;
}

static int run_timers(struct lw_loop *loop)
{
    int n = 0;
    /* Only timers due at this iteration's time: a timer re-armed with delay 0
     * from its own callback waits for the next iteration. */
    double now = loop->now;
    while (loop->nheap && loop->heap[0]->when <= now) {
        struct lw_timer *t = loop->heap[0];
        lw_timer_stop(loop, t);
        t->cb(t, t->ud);
        n++;
    }
    return n;
}

static int run_deferred(struct lw_loop *loop)
{
    /* Run only what was queued before this turn: calls queued by these
     * callbacks wait for the next iteration, so a callback that re-queues
     * itself cannot starve the loop. Cancels during the turn act on the live
     * queue, so they are honoured. */
    size_t budget = loop->ndq;
    int n = 0;
    while (budget-- > 0 && loop->dq_head) {
        struct lw_defer *d = loop->dq_head;
        loop->dq_head = d->next;
        if (!loop->dq_head)
            loop->dq_tail = NULL;
        loop->ndq--;
        d->next = NULL;
        d->queued = false;
        d->cb(d, d->ud);
        n++;
    }
    return n;
}

int lw_loop_run_once(struct lw_loop *loop, double max_wait)
{
    struct epoll_event evs[64];
    int timeout_ms;
    double next = lw_loop_next_timeout(loop);
    if (loop->virtual_time) {
        timeout_ms = 0;
    } else {
        double wait = next;
        if (max_wait >= 0 && (wait < 0 || max_wait < wait))
            wait = max_wait;
        timeout_ms = wait < 0 ? -1 : (int)ceil(wait * 1000.0);
    }
    int nev = epoll_wait(loop->epfd, evs, 64, timeout_ms);
    if (nev < 0) {
        if (errno != EINTR)
            return -1;
        nev = 0;
    }
    lw_loop_update_time(loop);
    int ran = 0;
    for (int i = 0; i < nev; i++) {
        int fd = evs[i].data.fd;
        if ((size_t)fd >= loop->nwatch_alloc || !loop->watches[fd].active)
            continue;           /* unwatched by an earlier callback this round */
        struct watch *w = &loop->watches[fd];
        unsigned e = 0;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            e |= LW_READ;
        if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            e |= LW_WRITE;
        w->cb(w->ud, fd, e);
        ran++;
    }
    if (loop->virtual_time && nev == 0 && !loop->dq_head && loop->nheap
        && loop->heap[0]->when > loop->now && (max_wait < 0 || max_wait > 0)) {
        /* Nothing to do now: jump the fake clock to the next timer. */
        loop->now = loop->heap[0]->when;
    }
    ran += run_timers(loop);
    ran += run_deferred(loop);
    return ran;
}
