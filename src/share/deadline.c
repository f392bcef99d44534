/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>

#include "lsashm/share.h"
#include "share/deadline.h"
#include "share/fdpass.h"

#define NSEC_PER_SEC INT64_C(1000000000)
#define NSEC_PER_MSEC INT64_C(1000000)

static int64_t now_ns(void)
{
        struct timespec ts;

        /* Monotonic: setting the wall clock must neither cut a wait short
         * nor make it last for ever. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int64_t deadline_after_ms(int timeout_ms)
{
        assert(timeout_ms > 0);
        return now_ns() + (int64_t)timeout_ms * NSEC_PER_MSEC;
}

/* Nanoseconds left before deadline; 0 once it has passed. */
int64_t deadline_remaining_ns(int64_t deadline)
{
        if (deadline == DEADLINE_NEVER)
                return INT64_MAX;
        int64_t now = now_ns();
        return now >= deadline ? 0 : deadline - now;
}

int deadline_default_timeout_ms(void)
{
        /* secure_getenv: whoever starts a set-user-ID program must not be
         * able to make its waits last for ever. */
        const char *s = secure_getenv("LSASHM_TIMEOUT_MS");
        char *end;

        if (!s || *s < '0' || *s > '9')
                return LSASHM_DEFAULT_TIMEOUT_MS;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || *end || v < 1 || v > INT_MAX)
                return LSASHM_DEFAULT_TIMEOUT_MS;
        return (int)v;
}

/* Until fd reports one of events, an error or a hangup. 0 or -ETIMEDOUT;
 * a signal only shortens the sleep, which resumes with what is left. */
static int wait_for(int fd, short events, int64_t deadline)
{
        for (;;) {
                struct timespec ts, *left = NULL;
                if (deadline != DEADLINE_NEVER) {
                        int64_t ns = deadline_remaining_ns(deadline);
                        if (ns == 0)
                                return -ETIMEDOUT;
                        ts.tv_sec = (time_t)(ns / NSEC_PER_SEC);
                        ts.tv_nsec = (long)(ns % NSEC_PER_SEC);
                        left = &ts;
                }
                struct pollfd p = { .fd = fd, .events = events };
                int n = ppoll(&p, 1, left, NULL);
                if (n > 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

int deadline_connect(int fd, const char *path, int64_t deadline)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof(addr.sun_path))
                return -ENAMETOOLONG;
        memcpy(addr.sun_path, path, strlen(path) + 1);
        /* An AF_UNIX connect does not go on in the background: made
         * nonblocking, it fails with EAGAIN while the listener's backlog is
         * full, and poll() has nothing to wait for. A blocking connect waits
         * for room for at most SO_SNDTIMEO, then fails with EAGAIN; one
         * interrupted by a signal has not connected and is simply retried
         * with the time left. */
        for (;;) {
                struct timeval tv = { 0, 0 }; /* 0: no limit */
                if (deadline != DEADLINE_NEVER) {
                        int64_t ns = deadline_remaining_ns(deadline);
                        if (ns == 0)
                                return -ETIMEDOUT;
                        int64_t us = (ns + 999) / 1000;
                        tv.tv_sec = (time_t)(us / 1000000);
                        tv.tv_usec = (suseconds_t)(us % 1000000);
                }
                if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                        return -errno;
                if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
                        break;
                if (errno != EINTR && !(errno == EAGAIN && deadline != DEADLINE_NEVER))
                        return -errno;
        }
        /* Later sends wait with poll(), never on SO_SNDTIMEO: leave none behind. */
        struct timeval none = { 0, 0 };
        return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none)) < 0 ? -errno : 0;
}

int deadline_send(int fd, const void *buf, size_t len, int64_t deadline)
{
        return deadline_send_fd(fd, buf, len, -1, deadline);
}

int deadline_send_fd(int fd, const void *buf, size_t len, int pass_fd, int64_t deadline)
{
        for (;;) {
                int r = fdpass_send(fd, buf, len, pass_fd, true);
                if (r != -EAGAIN)
                        return r;
                r = wait_for(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
}

ssize_t deadline_recv(int fd, void *buf, size_t cap, int *ret_fd, bool allow_fd, int64_t deadline)
{
        /* Nonblocking receives after poll(): should another process share
         * the socket (a fork) and take the packet first, this waits again
         * instead of blocking past the deadline. */
        for (;;) {
                ssize_t n = fdpass_recv(fd, buf, cap, ret_fd, allow_fd, true);
                if (n != -EAGAIN)
                        return n;
                int r = wait_for(fd, POLLIN, deadline);
                if (r < 0)
                        return r;
        }
}
