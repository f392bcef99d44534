/* SPDX-License-Identifier: MIT */
/*
 * The worker pool: threads that serve connections themselves. They share
 * one epoll set; whoever registers a descriptor there registers it with
 * EPOLLONESHOT, so that one event wakes one worker and the descriptor
 * stays silent until that worker re-arms it: one worker at a time serves a
 * connection, and its requests are answered in order, while other
 * connections are served on other workers. What serving means is the
 * caller's (host.c: read, decode, run the package, reply, re-arm).
 *
 * Stopping: stop_fd, an eventfd in the set without EPOLLONESHOT and never
 * read, wakes every worker once it is written and keeps waking them; each
 * finishes what it serves and leaves.
 *
 * The threads start with the first descriptor armed in the process that
 * arms it: a process that forks a copy of the host (the tests do) has none
 * of its parent's threads, and its copy of the pool starts its own.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/host-base.h"

unsigned host_workers_default(void)
{
        unsigned cpus = 1;
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
                cpus = (unsigned)CPU_COUNT(&set);
        unsigned n = 2 * cpus;
        return n < 4 ? 4 : n > 64 ? 64 : n;
}

/* What a worker starts with: the pool, and its own receive and send
 * buffers (requests are decoded in place, so no two workers may share
 * one), allocated by start() rather than by the new thread: a thread that
 * allocates while another forks (the tests fork clients) could leave the
 * child an allocator lock that is never released. */
struct host_worker {
        struct host_workers *w;
        uint8_t *rx, *tx;
};

static void *worker_main(void *arg)
{
        struct host_worker *me = arg;
        struct host_workers *w = me->w;
        uint8_t *rx = me->rx, *tx = me->tx;
        for (;;) {
                struct epoll_event ev;
                int n = epoll_wait(w->epoll_fd, &ev, 1, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || ev.data.ptr == &w->stop_fd)
                        break;
                if (n == 0)
                        continue;
                /* Counted before the drain flag is looked at (the caller's
                 * serve does): host_workers_active then sees this worker,
                 * or the worker sees the flag. */
                __atomic_add_fetch(&w->active, 1, __ATOMIC_SEQ_CST);
                w->serve(w->ctx, ev.data.ptr, rx, tx);
                __atomic_sub_fetch(&w->active, 1, __ATOMIC_SEQ_CST);
        }
        return NULL;
}

int host_workers_init(struct host_workers *w, unsigned n, size_t buf_size, host_serve_fn *serve, void *ctx)
{
        memset(w, 0, sizeof(*w));
        w->epoll_fd = w->stop_fd = -1;
        if (n == 0 || n > HOST_MAX_WORKERS || !serve || !buf_size)
                return -EINVAL;
        w->size = n;
        w->buf_size = buf_size;
        w->serve = serve;
        w->ctx = ctx;
        w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->epoll_fd < 0 || w->stop_fd < 0)
                return -errno;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->stop_fd };
        return epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->stop_fd, &ev) < 0 ? -errno : 0;
}

/* Ours: started by this process (not a copy inherited through fork). */
static bool started_here(const struct host_workers *w)
{
        return w->threads && w->pid == getpid();
}

static void workers_free(struct host_workers *w)
{
        if (w->workers)
                for (unsigned i = 0; i < w->size; i++)
                        free(w->workers[i].rx); /* tx is in the same block */
        free(w->workers);
        free(w->threads);
        w->workers = NULL;
        w->threads = NULL;
}

static int start(struct host_workers *w)
{
        /* A forked copy: the parent's threads are not here to join. */
        w->threads = calloc(w->size, sizeof(*w->threads));
        w->workers = calloc(w->size, sizeof(*w->workers));
        w->nthreads = 0;
        w->active = 0;
        bool ok = w->threads && w->workers;
        for (unsigned i = 0; ok && i < w->size; i++) {
                w->workers[i].w = w;
                w->workers[i].rx = malloc(2 * w->buf_size);
                w->workers[i].tx = w->workers[i].rx + w->buf_size;
                ok = w->workers[i].rx != NULL;
        }
        if (!ok) {
                workers_free(w);
                return -ENOMEM;
        }
        w->pid = getpid();
        for (unsigned i = 0; i < w->size; i++) {
                int e = pthread_create(&w->threads[i], NULL, worker_main, &w->workers[i]);
                if (e) {
                        if (w->nthreads)
                                return 0; /* fewer than asked, but serving */
                        workers_free(w);
                        return -e;
                }
                w->nthreads++;
        }
        return 0;
}

/* ThreadSanitizer takes epoll_ctl's ADD for a release on the epoll set,
 * and epoll_wait for an acquire, but not MOD: a re-arm, and the worker's
 * use of the descriptor before it, would look unordered with the close
 * that follows the next worker's hand-back, which the kernel orders (the
 * event the re-arm makes comes after it). Under TSan only, the re-arm and
 * host_workers_forget take a lock that tells it so. */
#if defined(__SANITIZE_THREAD__)
#define TSAN_EPOLL_ORDER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN_EPOLL_ORDER 1
#endif
#endif
#ifdef TSAN_EPOLL_ORDER
static pthread_mutex_t tsan_epoll_lock = PTHREAD_MUTEX_INITIALIZER;
#define tsan_epoll_lock() pthread_mutex_lock(&tsan_epoll_lock)
#define tsan_epoll_unlock() pthread_mutex_unlock(&tsan_epoll_lock)
#else
#define tsan_epoll_lock() ((void)0)
#define tsan_epoll_unlock() ((void)0)
#endif

int host_workers_arm(struct host_workers *w, int fd, void *ptr, bool add)
{
        if (add && !started_here(w)) {
                int r = start(w);
                if (r < 0)
                        return r;
        }
        struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = ptr };
        tsan_epoll_lock();
        int r = epoll_ctl(w->epoll_fd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
        tsan_epoll_unlock();
        return r;
}

void host_workers_forget(struct host_workers *w, int fd)
{
        tsan_epoll_lock();
        epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        tsan_epoll_unlock();
}

unsigned host_workers_active(struct host_workers *w)
{
        return started_here(w) ? __atomic_load_n(&w->active, __ATOMIC_SEQ_CST) : 0;
}

void host_workers_stop(struct host_workers *w)
{
        if (started_here(w)) {
                uint64_t one = 1;
                if (write(w->stop_fd, &one, sizeof(one)) < 0) {
                        /* the counter is non-zero already: they wake */
                }
                for (unsigned i = 0; i < w->nthreads; i++)
                        pthread_join(w->threads[i], NULL);
                workers_free(w);
        }
        w->threads = NULL;
        w->workers = NULL;
        w->nthreads = 0;
        if (w->stop_fd >= 0)
                close(w->stop_fd);
        if (w->epoll_fd >= 0)
                close(w->epoll_fd);
        w->stop_fd = w->epoll_fd = -1;
}
