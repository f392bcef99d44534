/* SPDX-License-Identifier: MIT */
/*
 * What both servers (the sharing server, the package host) need of their
 * listening socket and their peers, in one place.
 */
#ifndef LSASHM_LISTENER_H
#define LSASHM_LISTENER_H

#include <stdint.h>
#include <sys/types.h>

/* A nonblocking, close-on-exec SOCK_SEQPACKET socket listening at path with
 * mode (0: 0666). A socket file left by a run that nobody listens on any
 * more is replaced; a live one is -EADDRINUSE. 0 or -errno. */
int listener_bind(const char *path, mode_t mode, int *ret_fd);

/* Make an inherited listening socket nonblocking. 0 or -errno. */
int listener_adopt(int fd);

/* Each client costs descriptors (its socket, and more), and both servers
 * poll with epoll, never select(): the soft RLIMIT_NOFILE may go up to the
 * hard one. */
void listener_raise_fd_limit(void);

/* The peer's supplementary groups (SO_PEERGROUPS), however many, in a new
 * array (*ret, free it) of *ret_n entries. 0 or -errno. */
int listener_peer_groups(int fd, gid_t **ret, uint32_t *ret_n);

#endif
