/* SPDX-License-Identifier: MIT */
/*
 * Sharing sections with client processes.
 *
 * The owner runs a server on an AF_UNIX SOCK_SEQPACKET socket and publishes
 * sections under names, each with a policy saying which uids and gids may map
 * it read-only or read-write (default: deny). A client connects, is identified
 * by the kernel (SO_PEERCRED, SO_PEERGROUPS, SO_PEERPIDFD where there is one:
 * never by anything it sends), opens a section by name and receives its memfd
 * over SCM_RIGHTS: read-only clients get a descriptor opened O_RDONLY (one
 * per publication, shared by its readers), which cannot be turned into a
 * writable mapping. Processes exchange offsets,
 * never pointers: each maps the section at its own address.
 *
 * Deleting or unpublishing a section revokes it: every client holding a view
 * gets a notice and its view reports -ESTALE; the mapping itself stays valid
 * (a sealed memfd is never truncated, so nobody takes SIGBUS) and reads zeros
 * where the owner wiped.
 *
 * Errors are negative errno values; ret_* outputs are untouched on failure.
 * The wire protocol is described in docs/protocol.md.
 */
#ifndef LSASHM_SHARE_H
#define LSASHM_SHARE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lsashm/section.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the host daemon listens unless told otherwise. */
#define LSASHM_DEFAULT_SOCKET "/run/lsashm/lsashm.sock"
/* Longest section name on the wire (bytes, no NUL, no '/'). */
#define LSASHM_NAME_MAX 255u

/* ---- server (owner) side ---- */

typedef struct lsashm_server lsashm_server_t;

enum lsashm_access {
        LSASHM_ACCESS_NONE = 0,
        LSASHM_ACCESS_READ = 1,
        LSASHM_ACCESS_READ_WRITE = 2,
};

enum lsashm_rule_kind {
        LSASHM_RULE_UID = 1,    /* the peer's uid is id */
        LSASHM_RULE_GID = 2,    /* id is the peer's gid or one of its supplementary groups */
        LSASHM_RULE_ANYONE = 3, /* every peer; id is ignored */
};

struct lsashm_rule {
        enum lsashm_rule_kind kind;
        uint32_t id;
        enum lsashm_access access;
};

/* A peer gets the widest access of all the rules that match it; no match
 * means deny. The rules are copied at publish time. */
struct lsashm_policy {
        const struct lsashm_rule *rules;
        size_t n_rules;
};

/* Zero fields take the defaults given. */
struct lsashm_server_limits {
        uint32_t connections_per_uid; /* 64: one more is refused at accept */
        uint32_t views_per_connection; /* 256: one more open gets -EMFILE */
        uint32_t queued_per_connection; /* 64 messages: a peer that lets more pile up is dropped */
        uint32_t connections;          /* 4096 in all */
};

struct lsashm_server_config {
        const char *path;   /* socket path; a stale socket file there (nobody listening) is replaced */
        uint32_t mode;      /* socket file mode, the first gate; 0 means 0666 */
        int listen_fd;      /* >= 0: serve this bound, listening socket instead (socket activation) */
        struct lsashm_server_limits limits;
        /* One line per event (connect refusals, protocol errors, disconnects).
         * A client can cause these at will: client_log_burst at once, then one a second,
         * and the next line that goes out says how many were left out.
         * NULL logs to stderr. It runs with the server's lock held: it must
         * not call back into the server. */
        void (*log)(void *ctx, const char *line);
        void *log_ctx;
        /* Slots only privileged peers may take, so that a crowd of
         * unprivileged ones never locks them out. Privileged: root, and
         * members (primary or supplementary group) of privileged_gids.
         * 0 means 32; at most half of limits.connections is kept. */
        uint32_t reserved_connections;
        /* A connection that has not said HELLO within this is dropped;
         * unprivileged ones that have not are also the first to give way
         * to a privileged peer when every slot is taken. 0 means 10 s. */
        uint32_t hello_timeout_ms;
        const uint32_t *privileged_gids; /* copied; may be NULL */
        size_t n_privileged_gids;
        /* Lines a client can cause that may go out at once (see log);
         * 0 means 20. */
        uint32_t client_log_burst;
};

struct lsashm_server_stats {
        uint64_t connections;      /* open now */
        uint64_t views;            /* open now, over all connections (a close a client has
                                    * not sent yet counts: see lsashm_view_close) */
        uint64_t published;        /* sections published now */
        uint64_t accepted;         /* connections accepted since creation */
        uint64_t refused;          /* connections refused by a limit */
        uint64_t dropped;          /* peers disconnected for a protocol error or a limit */
        uint64_t denied;           /* opens refused by policy */
        uint64_t revocations;      /* notices sent */
};

/*
 * Create a server listening at cfg->path (or on cfg->listen_fd). It raises
 * the process's soft RLIMIT_NOFILE to the hard limit: every client costs a
 * socket and a pidfd, and the server polls with epoll, never select().
 *   -EINVAL  cfg or ret NULL, no path and no listen_fd, path too long
 *   -EADDRINUSE  a server is listening at cfg->path already
 *   other    from socket, bind, listen, epoll_create1, eventfd
 */
LSASHM_PUBLIC int lsashm_server_create(const struct lsashm_server_config *cfg, lsashm_server_t **ret);

/* Disconnect everybody, unlink the socket file it created, free everything.
 * Published sections are not deleted: they belong to the caller. */
LSASHM_PUBLIC void lsashm_server_destroy(lsashm_server_t *srv);

/* One descriptor to poll for POLLIN; then call lsashm_server_dispatch(). */
LSASHM_PUBLIC int lsashm_server_fd(lsashm_server_t *srv);

/* Handle every event that is ready, without blocking on any client.
 * Returns the number of events handled, or -errno for a server failure. */
LSASHM_PUBLIC int lsashm_server_dispatch(lsashm_server_t *srv);

/* Dispatch until lsashm_server_stop(). 0, or -errno. */
LSASHM_PUBLIC int lsashm_server_run(lsashm_server_t *srv);

/* Make lsashm_server_run() return. Async-signal-safe. */
LSASHM_PUBLIC void lsashm_server_stop(lsashm_server_t *srv);

/*
 * Publish s under name. The section must stay alive while published; deleting
 * it unpublishes it and revokes every view, as lsashm_server_unpublish does.
 *   -EINVAL  NULL arguments, name empty, too long or containing '/', a rule
 *            with an unknown kind or access
 *   -EEXIST  name already published
 *   -ESTALE  s deleted
 *   -ENOSPC  s is already published under 8 names
 *   -ENOMEM
 * Read-write access lets a client write anywhere in the section and also
 * punch holes in it (fallocate): the owner then reads zeros there, and the
 * pages come back, charged to its memory, when touched. Grant it only to
 * peers trusted that far; everything the owner reads back must be checked.
 */
LSASHM_PUBLIC int lsashm_server_publish(lsashm_server_t *srv, const char *name, lsashm_section_t *s,
                                        const struct lsashm_policy *policy);

/* Unpublish and revoke every view of it.  -ENOENT unknown name. */
LSASHM_PUBLIC int lsashm_server_unpublish(lsashm_server_t *srv, const char *name);

/* The offset clients receive on open, to find the section's data.
 *   -ENOENT unknown name;  -ERANGE offset outside the committed part, the
 *   only part a view covers */
LSASHM_PUBLIC int lsashm_server_set_root(lsashm_server_t *srv, const char *name, uint64_t root);

LSASHM_PUBLIC int lsashm_server_stats(lsashm_server_t *srv, struct lsashm_server_stats *ret);

/* ---- client side ---- */

typedef struct lsashm_client lsashm_client_t;
typedef struct lsashm_view lsashm_view_t;

/*
 * Timeouts. A server that accepts connections but never answers does not
 * hang its clients: connecting (the wait for room in a full listen backlog,
 * then the exchange of hellos, under one deadline), each open, and the
 * notice a view close sends, give up after the client's timeout with
 * -ETIMEDOUT. The timeout is, first that applies:
 *   - the one given to lsashm_client_connect_timeout() or
 *     lsashm_client_set_timeout();
 *   - $LSASHM_TIMEOUT_MS, read with secure_getenv() (so not in set-user-ID
 *     programs), when it is a whole number of milliseconds from 1 to INT_MAX
 *     (anything else is ignored);
 *   - LSASHM_DEFAULT_TIMEOUT_MS, 5 seconds.
 * The time is measured on the monotonic clock, and signals do not extend it.
 * A server that answers late could no longer be told from the next reply, so
 * after a timeout the connection is given up: it is shut down, every view
 * becomes stale (the mappings stay valid) and later opens get -ECONNRESET.
 */
#define LSASHM_DEFAULT_TIMEOUT_MS 5000

/*
 * Connect to the server at path and exchange hellos, within the timeout
 * ($LSASHM_TIMEOUT_MS, else LSASHM_DEFAULT_TIMEOUT_MS).
 *   -EINVAL  NULL arguments or path too long
 *   -EPROTO  the server spoke something else, or an unknown version
 *   -ETIMEDOUT  the server did not take the connection or answer in time
 *   other    from socket, connect (-ENOENT, -ECONNREFUSED, -EACCES), recv
 */
LSASHM_PUBLIC int lsashm_client_connect(const char *path, lsashm_client_t **ret);

/* The same with timeout_ms (> 0, else -EINVAL) for the connect and for every
 * later open and close on this client, whatever $LSASHM_TIMEOUT_MS says. */
LSASHM_PUBLIC int lsashm_client_connect_timeout(const char *path, int timeout_ms, lsashm_client_t **ret);

/* Change the timeout of later opens and closes: 0, or -EINVAL (c NULL,
 * timeout_ms <= 0). */
LSASHM_PUBLIC int lsashm_client_set_timeout(lsashm_client_t *c, int timeout_ms);

/* The client's timeout in milliseconds, or -EINVAL for NULL. */
LSASHM_PUBLIC int lsashm_client_get_timeout(const lsashm_client_t *c);

/*
 * Open the section published as name, with the widest access the policy
 * grants this client, and map it.
 *   -EINVAL  NULL arguments, bad name
 *   -ENOENT  no section of that name
 *   -EACCES  the policy denies this client
 *   -EMFILE  this connection has too many views open
 *   -ENODATA nothing of the section is committed yet: there is no view to map
 *   -ENFILE  the server is short of descriptors for the moment
 *   -EPROTO  the server sent something malformed or an fd that is not the
 *            sealed memfd it announced; nothing was mapped
 *   -ETIMEDOUT  no answer within the client's timeout: the connection is
 *            given up (see Timeouts above)
 *   -ECONNRESET  the server went away
 */
LSASHM_PUBLIC int lsashm_client_open(lsashm_client_t *c, const char *name, lsashm_view_t **ret);

/* Same, asking for read-only access even when read-write would be granted. */
LSASHM_PUBLIC int lsashm_client_open_readonly(lsashm_client_t *c, const char *name, lsashm_view_t **ret);

/* The client's socket, to poll for POLLIN (revocation notices). */
LSASHM_PUBLIC int lsashm_client_fd(const lsashm_client_t *c);

/* Read every pending notice without blocking. Returns how many were
 * handled, or -ECONNRESET once the server is gone (every view is then stale). */
LSASHM_PUBLIC int lsashm_client_dispatch(lsashm_client_t *c);

/* Close the connection. Views stay mapped until closed, and become stale. */
LSASHM_PUBLIC void lsashm_client_close(lsashm_client_t *c);

/*
 * The inline read path. A view starts with this head, which the library
 * keeps up to date: base and size never change while the view is open, and
 * stale turns true when a notice (read by any call on the client) or the end
 * of the connection says the view was revoked. Read it only through the two
 * functions below, from the thread that uses the client; never write it.
 */
struct lsashm_view_head {
        const uint8_t *base;
        size_t size;
        bool stale;
};

/*
 * The whole view without a call: *ret_base and *ret_size, to index with
 * offsets checked against *ret_size. 0, or -EINVAL (v NULL) or -ESTALE (the
 * view is known to be revoked, or its client is closed or gone; outputs
 * untouched). It makes no system call, so it sees a revocation only once
 * some other call has read the notice: lsashm_view_state() is the one that
 * asks. A closed view is freed memory: passing one is the caller's bug, as
 * with free().
 */
static inline int lsashm_view_span(const lsashm_view_t *v, const void **ret_base, size_t *ret_size)
{
        const struct lsashm_view_head *h = (const struct lsashm_view_head *)(const void *)v;
        if (!h)
                return -EINVAL;
        if (h->stale)
                return -ESTALE;
        *ret_base = h->base;
        *ret_size = h->size;
        return 0;
}

/* lsashm_view_ptr() inline: [offset, offset+len) inside the view, or NULL,
 * and NULL also once the view is known to be stale (see lsashm_view_span). */
static inline const void *lsashm_view_span_ptr(const lsashm_view_t *v, uint64_t offset, size_t len)
{
        const struct lsashm_view_head *h = (const struct lsashm_view_head *)(const void *)v;
        uint64_t end;
        if (!h || h->stale || __builtin_add_overflow(offset, (uint64_t)len, &end) || end > h->size ||
            offset >= h->size)
                return NULL;
        return h->base + offset;
}

/* [offset, offset+len) inside the view, or NULL (overflow-safe). */
LSASHM_PUBLIC const void *lsashm_view_ptr(const lsashm_view_t *v, uint64_t offset, size_t len);
/* The same for writing; NULL also when the view is read-only. */
LSASHM_PUBLIC void *lsashm_view_ptr_mut(const lsashm_view_t *v, uint64_t offset, size_t len);
LSASHM_PUBLIC size_t lsashm_view_size(const lsashm_view_t *v);
LSASHM_PUBLIC uint64_t lsashm_view_root(const lsashm_view_t *v);
LSASHM_PUBLIC bool lsashm_view_writable(const lsashm_view_t *v);
/* 0 while valid; -ESTALE once revoked or once the server is gone. Reads any
 * pending notice first, so no separate dispatch call is needed to see it. */
LSASHM_PUBLIC int lsashm_view_state(const lsashm_view_t *v);
/* Unmap the view and free it. The server is told with the client's next
 * open (up to 16 closes wait; the 17th sends them all), so a close costs
 * no message of its own; until then the view still counts in the server's
 * stats and against the connection's limit, which that open lifts first. */
LSASHM_PUBLIC void lsashm_view_close(lsashm_view_t *v);

#ifdef __cplusplus
}
#endif

#endif
