/* SPDX-License-Identifier: MIT */
/*
 * The connection skeleton both servers (the sharing server, the package
 * host) build on: accept, who the peer is, how many may connect, how long a
 * peer may take to say its first message, and the log of what clients
 * cause. The protocols stay with the servers.
 *
 * Glossary:
 *   peer        one accepted connection (struct conn_peer, the first member
 *               of the server's own connection struct)
 *   privileged  root, or a member (primary or supplementary group) of one of
 *               the configured groups: only such peers may take the reserved
 *               slots
 *   handshake   the protocol's first message (HELLO, CONNECT); a peer that
 *               has not sent it within the deadline is dropped
 *   gone        a peer closed (quietly or dropped): every function of a
 *               server that may close one returns CONN_GONE when it did,
 *               and the caller must not touch the peer's connection again
 *               except to see peer.closed
 *
 * One thread at a time (the servers' own lock or thread). Closed peers are
 * freed by conn_reap() only, at the end of a dispatch round: an epoll event
 * fetched earlier in the round may still name one.
 */
#ifndef LSASHM_CONN_H
#define LSASHM_CONN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>

/* The one return value that says "this connection is gone". */
#define CONN_GONE (-ECONNRESET)

/* Client-caused log lines: this many at once, then one a second. */
#define CONN_LOG_BURST 20u

struct conn_peer {
        struct conn_peer *prev, *next;
        int fd;
        pid_t pid;
        uid_t uid;
        gid_t gid;
        gid_t *groups; /* supplementary, from SO_PEERGROUPS */
        uint32_t n_groups;
        int64_t accepted_ms; /* CLOCK_MONOTONIC */
        bool privileged;
        bool handshaken;
        bool closed;
};

struct conn_config {
        uint32_t total;        /* slots in all */
        uint32_t per_uid;      /* slots one uid may hold, privileged or not */
        uint32_t reserved;     /* of total, for privileged peers only; at most total / 2 is kept */
        uint32_t handshake_ms; /* 0: no deadline */
        const char *handshake; /* the first message's name, for the log ("HELLO") */
        uint32_t log_burst;    /* client-caused lines at once; 0: CONN_LOG_BURST */
        const gid_t *privileged_gids; /* copied by conn_set_init */
        size_t n_privileged_gids;
        size_t peer_size;      /* of the server's struct whose first member is a struct conn_peer */
        /* A peer passed the limits: set up the rest of the server's struct.
         * < 0 refuses it (closed, no log): on_open releases what it took. */
        int (*on_open)(void *ctx, struct conn_peer *p);
        /* A peer is being closed: release what on_open and the protocol
         * acquired. The fd is still open; the peer is freed later. */
        void (*on_close)(void *ctx, struct conn_peer *p);
        void (*log)(void *ctx, const char *line); /* one line, no newline */
        void *ctx;
};

struct conn_set {
        struct conn_config cfg; /* limits may change between dispatch rounds */
        int listen_fd;          /* the server's: not closed here */
        int epoll_fd, timer_fd, spare_fd;
        struct conn_peer *peers, *closed;
        uint32_t n, n_unhandshaken;
        int64_t timer_ms; /* when the handshake timer fires; 0: disarmed */
        uint64_t accepted, refused, dropped;
        unsigned log_tokens;
        uint64_t log_second, log_suppressed;
        uint64_t last_emfile_log;
        gid_t *gids; /* our copy of cfg.privileged_gids */
};

/* epoll_fd is made here (the server adds its own descriptors to it, with
 * data.ptr tags of its own); listen_fd must be nonblocking. 0 or -errno;
 * on failure conn_set_fini is still to be called. */
int conn_set_init(struct conn_set *s, const struct conn_config *cfg, int listen_fd);
/* New limits and privileged groups for what comes next (a reload): peers
 * already admitted stay, even above a lowered limit. 0, or -ENOMEM with the
 * old groups kept (the limits are taken either way). */
int conn_set_limits(struct conn_set *s, uint32_t total, uint32_t per_uid, uint32_t reserved,
                    const gid_t *privileged_gids, size_t n_privileged_gids);
/* Close every peer quietly, free everything. Safe to call twice. */
void conn_set_fini(struct conn_set *s);

/* An event from epoll_fd: the listener's and the timer's are handled here
 * (accept; drop the peers past their deadline). Returns the peer the event
 * is for, to serve, or NULL (the skeleton's own event, a closed peer). */
struct conn_peer *conn_event(struct conn_set *s, const struct epoll_event *ev);

/* The peer said its first message: it keeps its slot past the deadline. */
void conn_handshaken(struct conn_set *s, struct conn_peer *p);

/* Close p. why NULL: the peer left (no log line); else it is dropped, with
 * one rate-limited line naming its pid and uid. Returns CONN_GONE. */
int conn_close(struct conn_set *s, struct conn_peer *p, const char *why);

/* Free the peers closed since the last call. */
void conn_reap(struct conn_set *s);

/* A line a client can cause at will: rate-limited (cfg.log_burst, then one
 * a second); the next line that goes out is led by a count of those left out. */
void conn_logf(struct conn_set *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Is gid p's primary or one of its supplementary groups? */
bool conn_peer_in_group(const struct conn_peer *p, gid_t gid);

#endif
