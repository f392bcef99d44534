/* SPDX-License-Identifier: MIT */
/*
 * The worker pool: threads that run the jobs the host's thread queues (a
 * client's package call), and hand them back through the done queue, whose
 * eventfd the host's epoll set watches. A job runs on exactly one worker;
 * the queues are first in, first out. Nothing but list operations happens
 * under the lock: a job runs, and the host finishes it, outside it.
 *
 * The threads start with the first job, in the process that queues it: a
 * process that forks a copy of the host (the tests do) has none of its
 * parent's threads, and its copy of the pool starts its own, forgetting
 * the parent's state (jobs queued there are the parent's to run).
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
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

static void *worker_main(void *arg)
{
        struct host_workers *w = arg;
        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (!w->queue && !w->stopping)
                        pthread_cond_wait(&w->work, &w->lock);
                struct host_job *j = w->queue;
                if (!j)
                        break; /* stopping, and nothing left to run */
                w->queue = j->next;
                if (!w->queue)
                        w->queue_tail = &w->queue;
                pthread_mutex_unlock(&w->lock);

                j->run(j);

                pthread_mutex_lock(&w->lock);
                j->next = NULL;
                *w->done_tail = j;
                w->done_tail = &j->next;
                if (--w->in_flight == 0)
                        pthread_cond_broadcast(&w->idle);
                uint64_t one = 1;
                if (write(w->done_fd, &one, sizeof(one)) < 0) {
                        /* the counter is already non-zero: the host wakes */
                }
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

int host_workers_init(struct host_workers *w, unsigned n)
{
        memset(w, 0, sizeof(*w));
        w->queue_tail = &w->queue;
        w->done_tail = &w->done;
        w->done_fd = -1;
        if (n == 0 || n > HOST_MAX_WORKERS)
                return -EINVAL;
        w->size = n;
        w->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        return w->done_fd < 0 ? -errno : 0;
}

/* Ours: started by this process (not a copy inherited through fork). */
static bool started_here(const struct host_workers *w)
{
        return w->threads && w->pid == getpid();
}

static int start(struct host_workers *w)
{
        /* A forked copy: the parent's threads are not here to join, and
         * its lock may have been held by one of them. */
        w->threads = NULL;
        w->nthreads = 0;
        w->queue = w->done = NULL;
        w->queue_tail = &w->queue;
        w->done_tail = &w->done;
        w->in_flight = 0;
        w->stopping = false;
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* host_workers_wait's deadline */
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->work, NULL);
        pthread_cond_init(&w->idle, &ca);
        pthread_condattr_destroy(&ca);
        w->threads = calloc(w->size, sizeof(*w->threads));
        if (!w->threads)
                return -ENOMEM;
        w->pid = getpid();
        for (unsigned i = 0; i < w->size; i++) {
                int e = pthread_create(&w->threads[i], NULL, worker_main, w);
                if (e) {
                        if (w->nthreads)
                                return 0; /* fewer than asked, but serving */
                        free(w->threads);
                        w->threads = NULL;
                        return -e;
                }
                w->nthreads++;
        }
        return 0;
}

int host_workers_submit(struct host_workers *w, struct host_job *j)
{
        if (!started_here(w)) {
                int r = start(w);
                if (r < 0)
                        return r;
        }
        j->next = NULL;
        pthread_mutex_lock(&w->lock);
        *w->queue_tail = j;
        w->queue_tail = &j->next;
        w->in_flight++;
        pthread_cond_signal(&w->work);
        pthread_mutex_unlock(&w->lock);
        return 0;
}

struct host_job *host_workers_take_done(struct host_workers *w)
{
        uint64_t count;
        if (w->done_fd >= 0 && read(w->done_fd, &count, sizeof(count)) < 0) {
                /* nothing to clear */
        }
        if (!started_here(w))
                return NULL;
        pthread_mutex_lock(&w->lock);
        struct host_job *j = w->done;
        w->done = NULL;
        w->done_tail = &w->done;
        pthread_mutex_unlock(&w->lock);
        return j;
}

unsigned host_workers_in_flight(struct host_workers *w)
{
        if (!started_here(w))
                return 0;
        pthread_mutex_lock(&w->lock);
        unsigned n = w->in_flight;
        pthread_mutex_unlock(&w->lock);
        return n;
}

int host_workers_wait(struct host_workers *w, int timeout_ms)
{
        if (!started_here(w))
                return 0;
        struct timespec end;
        clock_gettime(CLOCK_MONOTONIC, &end);
        if (timeout_ms >= 0) {
                end.tv_sec += timeout_ms / 1000;
                end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
                if (end.tv_nsec >= 1000000000L) {
                        end.tv_sec++;
                        end.tv_nsec -= 1000000000L;
                }
        }
        int r = 0;
        pthread_mutex_lock(&w->lock);
        while (w->in_flight && r == 0) {
                if (timeout_ms < 0)
                        pthread_cond_wait(&w->idle, &w->lock);
                else if (pthread_cond_timedwait(&w->idle, &w->lock, &end) == ETIMEDOUT && w->in_flight)
                        r = -ETIMEDOUT;
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

void host_workers_stop(struct host_workers *w)
{
        if (started_here(w)) {
                pthread_mutex_lock(&w->lock);
                w->stopping = true;
                pthread_cond_broadcast(&w->work);
                pthread_mutex_unlock(&w->lock);
                for (unsigned i = 0; i < w->nthreads; i++)
                        pthread_join(w->threads[i], NULL);
                free(w->threads);
                w->threads = NULL;
                w->nthreads = 0;
                pthread_cond_destroy(&w->work);
                pthread_cond_destroy(&w->idle);
                pthread_mutex_destroy(&w->lock);
        }
        w->threads = NULL;
        if (w->done_fd >= 0) {
                close(w->done_fd);
                w->done_fd = -1;
        }
}
