/* SPDX-License-Identifier: MIT */
/* One SEQPACKET packet in or out, with at most one descriptor. */
#ifndef LSASHM_FDPASS_H
#define LSASHM_FDPASS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Send len bytes and, when fd >= 0, fd by SCM_RIGHTS. Never blocks when
 * nonblocking is set. 0 or -errno (-EAGAIN when the peer's queue is full). */
int fdpass_send(int sock, const void *buf, size_t len, int fd, bool nonblocking);

/*
 * Receive one packet into buf. Every descriptor that arrives is received
 * close-on-exec; at most one is handed to the caller (*ret_fd, else -1), and
 * only when allow_fd. Returns the packet's length, 0 at end of stream, or:
 *   -EBADMSG  truncated packet or control data, an fd where none is allowed,
 *             more than one fd, or control data of another kind; every
 *             descriptor received has been closed
 *   -EAGAIN   nothing to read (nonblocking)
 *   other     from recvmsg
 */
ssize_t fdpass_recv(int sock, void *buf, size_t cap, int *ret_fd, bool allow_fd, bool nonblocking);

/* One blocking receive, bounded by the socket's SO_RCVTIMEO: the same
 * returns, -EAGAIN when that ran out and -EINTR for a signal (not retried,
 * so that the caller can reckon with its own deadline). */
ssize_t fdpass_recv_wait(int sock, void *buf, size_t cap, int *ret_fd, bool allow_fd);

#endif
