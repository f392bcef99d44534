/* SPDX-License-Identifier: MIT */
/*
 * The package's thread: it watches the directories of the sources and of
 * the configuration file (inotify), so that an editor's write-and-rename, a
 * sync job's atomic replace, a new file or a deleted one are all seen, and
 * publishes a new generation once the changes have settled (cache.h: at
 * most NSSCACHE_MAX_DELAY_MS after the first, plus the time to build).
 *
 * Made with the function table's CreateThread, as a Windows package's
 * would be, so that lsashmd counts it as the package's (the sections it
 * makes are the package's, its crash is reported as the package's, and the
 * library stays mapped while it runs); CreateThread's threads are detached,
 * so Shutdown waits on a semaphore the thread posts last. A host without
 * CreateThread gets a joinable pthread. The thread takes the package's lock
 * only to publish or retire.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cache.h"

#define WATCH_MASK                                                                                              \
        (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | \
         IN_ONLYDIR)
/* A directory that could not be watched (not there yet) is tried again. */
#define WATCH_RETRY_MS 2000u

struct watch {
        int fd;
        struct watched {
                int wd; /* -1: not watched (yet) */
                char *dir;
                char *name;
        } * paths;
        unsigned npaths;
        bool missing;
};

static void watch_clear(struct watch *w)
{
        for (unsigned i = 0; i < w->npaths; i++) {
                free(w->paths[i].dir);
                free(w->paths[i].name);
        }
        free(w->paths);
        w->paths = NULL;
        w->npaths = 0;
}

/* Watch the directory of every source and of the configuration file; the
 * set follows the configuration. inotify_add_watch on a directory watched
 * already gives its descriptor again. */
static void watch_set(struct watch *w, const struct nss_conf *conf)
{
        watch_clear(w);
        w->missing = false;
        unsigned n = conf->nsources + 1;
        w->paths = calloc(n, sizeof(*w->paths));
        if (!w->paths)
                return;
        for (unsigned i = 0; i < n; i++) {
                const char *path = i < conf->nsources ? conf->sources[i].path : conf->path;
                const char *slash = strrchr(path, '/');
                if (!slash || !slash[1])
                        continue;
                struct watched *p = &w->paths[w->npaths];
                p->dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
                p->name = strdup(slash + 1);
                if (!p->dir || !p->name) {
                        free(p->dir);
                        free(p->name);
                        continue;
                }
                p->wd = inotify_add_watch(w->fd, p->dir, WATCH_MASK);
                if (p->wd < 0)
                        w->missing = true;
                w->npaths++;
        }
}

static void watch_retry(struct watch *w)
{
        w->missing = false;
        for (unsigned i = 0; i < w->npaths; i++) {
                if (w->paths[i].wd >= 0)
                        continue;
                w->paths[i].wd = inotify_add_watch(w->fd, w->paths[i].dir, WATCH_MASK);
                if (w->paths[i].wd < 0)
                        w->missing = true;
        }
}

/* Drain the queue: does any event name one of our files? */
static bool watch_read(struct watch *w)
{
        bool relevant = false;
        char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)]
                __attribute__((aligned(__alignof__(struct inotify_event))));
        for (;;) {
                ssize_t n = read(w->fd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                relevant = true;
                                continue;
                        }
                        for (unsigned i = 0; i < w->npaths; i++) {
                                struct watched *wp = &w->paths[i];
                                if (wp->wd != ev->wd)
                                        continue;
                                if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                                        /* The directory itself went: watch it again when it is back. */
                                        wp->wd = -1;
                                        w->missing = true;
                                        relevant = true;
                                } else if (ev->len && strcmp(ev->name, wp->name) == 0) {
                                        relevant = true;
                                }
                        }
                }
        }
        return relevant;
}

static void reload(struct nsscache *c, struct watch *w)
{
        pthread_mutex_lock(&c->lock);
        /* The configuration may have changed too: a bad one is refused and
         * the one in use kept. */
        struct nss_conf conf;
        char error[512];
        int r = nss_conf_load(c->conf.path, &conf, error, sizeof(error));
        if (r == 0) {
                nss_conf_free(&c->conf);
                c->conf = conf;
        } else {
                nsscache_log("%s: the configuration in use is kept", error);
        }
        /* Before reading: a change made while we read is then seen. */
        watch_set(w, &c->conf);
        nsscache_publish_locked(c);
        pthread_mutex_unlock(&c->lock);
}

/* The epoch's lease (nsscache.h): held by this thread for the package's
 * life, so that if lsashmd dies in a way that wipes nothing (SIGKILL), the
 * kernel marks the lease in every client's mapping. */
LSASHM_STATIC_ASSERT(sizeof(pthread_mutex_t) <= sizeof(((NSSCACHE_EPOCH *)NULL)->Lease), "the lease fits");
LSASHM_STATIC_ASSERT(offsetof(pthread_mutex_t, __data.__lock) == 0,
                     "the mutex's first word is the robust futex word clients read");

static pthread_mutex_t *lease_take(struct nsscache *c)
{
        pthread_mutex_t *m = (pthread_mutex_t *)(void *)c->epoch->Lease;
        pthread_mutexattr_t attr;
        if (pthread_mutexattr_init(&attr) != 0)
                return NULL;
        int r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        if (r == 0)
                r = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
        if (r == 0)
                r = pthread_mutex_init(m, &attr);
        pthread_mutexattr_destroy(&attr);
        if (r == 0 && (r = pthread_mutex_lock(m)) != 0)
                pthread_mutex_destroy(m);
        if (r != 0) {
                nsscache_log("no lease: %s: clients notice only a clean stop", strerror(r));
                return NULL;
        }
        return m;
}

static void lease_give_back(pthread_mutex_t *m)
{
        /* Before the epoch goes: the thread's robust list points into it. */
        if (m) {
                pthread_mutex_unlock(m);
                pthread_mutex_destroy(m);
        }
}

/* Set up before the first publication (the caller holds the lock), so that
 * no change made while it reads the sources goes unseen. */
static struct watch the_watch = { .fd = -1 };

static void *watch_thread(void *arg)
{
        struct nsscache *c = arg;
        pthread_mutex_t *lease = lease_take(c);
        struct watch w = the_watch;
        uint64_t first = 0, last = 0, retry_at = 0;
        bool pending = false, retiring = true;
        for (;;) {
                uint64_t now = nsscache_now_ms();
                int64_t timeout = -1;
                if (pending) {
                        uint64_t due = last + NSSCACHE_QUIET_MS;
                        if (due > first + NSSCACHE_MAX_DELAY_MS)
                                due = first + NSSCACHE_MAX_DELAY_MS;
                        timeout = due > now ? (int64_t)(due - now) : 0;
                } else if (retiring || w.missing) {
                        timeout = 1000;
                }
                struct pollfd fds[2] = { { .fd = c->wake_fd, .events = POLLIN }, { .fd = w.fd, .events = POLLIN } };
                int n = poll(fds, w.fd >= 0 ? 2 : 1, (int)timeout);
                if (n < 0 && errno != EINTR)
                        break;
                if (n > 0 && (fds[0].revents & POLLIN))
                        break; /* Shutdown */
                now = nsscache_now_ms();
                if (n > 0 && (fds[1].revents & POLLIN) && watch_read(&w)) {
                        if (!pending)
                                first = now;
                        pending = true;
                        last = now;
                }
                if (w.missing && now >= retry_at) {
                        watch_retry(&w);
                        retry_at = now + WATCH_RETRY_MS;
                        if (!w.missing) {
                                pending = true; /* the files may have come with it */
                                first = last = now;
                        }
                }
                if (pending && (now >= last + NSSCACHE_QUIET_MS || now >= first + NSSCACHE_MAX_DELAY_MS)) {
                        pending = false;
                        reload(c, &w);
                        retiring = true;
                }
                pthread_mutex_lock(&c->lock);
                retiring = nsscache_retire_locked(c, now);
                pthread_mutex_unlock(&c->lock);
        }
        watch_clear(&w);
        if (w.fd >= 0)
                close(w.fd);
        the_watch = (struct watch){ .fd = -1 };
        lease_give_back(lease);
        if (c->thread_from_lsa)
                sem_post(&c->thread_done); /* the last thing it does with c */
        return NULL;
}

static DWORD NTAPI watch_thread_lsa(PVOID arg)
{
        watch_thread(arg);
        return 0;
}

int nsscache_watch_start(struct nsscache *c)
{
        c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (c->wake_fd < 0)
                return -errno;
        the_watch = (struct watch){ .fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC) };
        if (the_watch.fd < 0)
                nsscache_log("inotify: %s: changes are published only on request", strerror(errno));
        else
                watch_set(&the_watch, &c->conf);
        int r = 0;
        c->thread_from_lsa = c->lsa->CreateThread != NULL;
        if (c->thread_from_lsa) {
                if (sem_init(&c->thread_done, 0, 0) != 0)
                        r = errno;
                else if (!c->lsa->CreateThread(NULL, 0, watch_thread_lsa, c, 0, NULL)) {
                        sem_destroy(&c->thread_done);
                        r = EAGAIN;
                }
        } else {
                /* Signals are lsashmd's to handle, on its own thread: ours
                 * starts with every one blocked. */
                sigset_t all, old;
                sigfillset(&all);
                pthread_sigmask(SIG_SETMASK, &all, &old);
                r = pthread_create(&c->thread, NULL, watch_thread, c);
                pthread_sigmask(SIG_SETMASK, &old, NULL);
        }
        if (r != 0) {
                watch_clear(&the_watch);
                if (the_watch.fd >= 0)
                        close(the_watch.fd);
                the_watch = (struct watch){ .fd = -1 };
                close(c->wake_fd);
                c->wake_fd = -1;
                return -r;
        }
        c->thread_running = true;
        return 0;
}

void nsscache_watch_stop(struct nsscache *c)
{
        if (!c->thread_running)
                return;
        uint64_t one = 1;
        while (write(c->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
                ;
        if (c->thread_from_lsa) {
                while (sem_wait(&c->thread_done) != 0 && errno == EINTR)
                        ;
                sem_destroy(&c->thread_done);
        } else {
                pthread_join(c->thread, NULL);
        }
        c->thread_running = false;
        close(c->wake_fd);
        c->wake_fd = -1;
}
