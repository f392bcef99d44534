/* SPDX-License-Identifier: MIT */
/*
 * What both clients (the sharing client, the LSA client) need to wait for a
 * server without waiting for ever: a deadline on the monotonic clock, and
 * connect, send and receive that give up at it.
 *
 * A deadline is a point in time, not a duration, so that a wait interrupted
 * by a signal resumes with what is left, and a request made of several steps
 * (connect, then a hello and its reply) is bounded as a whole.
 * DEADLINE_NEVER waits as long as it takes; every wait still ends as soon as
 * the peer hangs up.
 */
#ifndef LSASHM_DEADLINE_H
#define LSASHM_DEADLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DEADLINE_NEVER INT64_MAX

/* timeout_ms (> 0) from now, in nanoseconds on CLOCK_MONOTONIC. */
int64_t deadline_after_ms(int timeout_ms);
/* Nanoseconds left before deadline (INT64_MAX for DEADLINE_NEVER); 0 once
 * it has passed. */
int64_t deadline_remaining_ns(int64_t deadline);

/* The timeout a client uses unless its program chooses one: $LSASHM_TIMEOUT_MS
 * (read with secure_getenv) when it is a whole number from 1 to INT_MAX,
 * else LSASHM_DEFAULT_TIMEOUT_MS. */
int deadline_default_timeout_ms(void);

/* connect() a SOCK_SEQPACKET socket to the AF_UNIX path, giving up at
 * deadline while the listener's backlog stays full. 0, -ETIMEDOUT, or
 * -errno from connect (-ENOENT, -ECONNREFUSED, -EACCES, ...). */
int deadline_connect(int fd, const char *path, int64_t deadline);

/* fdpass_send(), waiting at most until deadline for room in the peer's
 * queue. 0, -ETIMEDOUT, or -errno (-EPIPE, -ECONNRESET once the peer is gone). */
int deadline_send(int fd, const void *buf, size_t len, int64_t deadline);
/* The same with pass_fd (>= 0) passed along by SCM_RIGHTS; pass_fd stays
 * open, the caller's. */
int deadline_send_fd(int fd, const void *buf, size_t len, int pass_fd, int64_t deadline);

/* fdpass_recv(), waiting at most until deadline for a packet. Its return
 * values, or -ETIMEDOUT with nothing received. */
ssize_t deadline_recv(int fd, void *buf, size_t cap, int *ret_fd, bool allow_fd, int64_t deadline);

#endif
