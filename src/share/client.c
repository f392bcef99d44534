/* SPDX-License-Identifier: MIT */
/*
 * The client library: connect, open by name, map, and keep track of
 * revocations. The server is trusted no further than the kernel makes it:
 * every reply is decoded and checked, and a descriptor is mapped only after
 * it has proven to be the sealed memfd, with the access and size, that the
 * reply announced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "share/deadline.h"
#include "share/fdpass.h"
#include "share/wire.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* A shrinking file would SIGBUS us on pages we were told are there. A
 * writable descriptor could grow the file, so the owner seals its size
 * before it hands one out; a read-only one shares a file that may still
 * grow, and gets its size sealed whenever the owner commits the rest. */
#define REQUIRED_SEALS F_SEAL_SHRINK
#define SIZE_SEALS (F_SEAL_GROW | F_SEAL_SEAL)

struct lsashm_client {
        int fd;
        int timeout_ms;      /* for each request and its reply, and for a CLOSE */
        uint32_t next_request;
        bool gone;
        uint32_t features;   /* agreed at HELLO */
        int64_t wait_ns;     /* the socket's SO_RCVTIMEO; 0: none set */
        struct lsashm_view *views;
        /* Views closed here whose CLOSE rides on the next request
         * (WIRE_FEATURE_DEFERRED_CLOSE): the server counts them against the
         * limit until then, which the next OPEN lifts before it is served. */
        uint32_t closed[WIRE_MAX_CLOSED];
        uint8_t n_closed;
};

struct lsashm_view {
        /* First: share.h's inline readers see the view as this head. */
        struct lsashm_view_head head;
        struct lsashm_client *client; /* NULL once the client is closed */
        struct lsashm_view *prev, *next;
        uint32_t id;
        uint64_t root;
        bool writable;
};

_Static_assert(offsetof(struct lsashm_view, head) == 0, "the inline readers cast a view to its head");

static void mark_all_stale(struct lsashm_client *c)
{
        c->gone = true;
        for (struct lsashm_view *v = c->views; v; v = v->next)
                v->head.stale = true;
}

/* A server that did not answer in time may still answer later, and that
 * reply could not be told from the next one's: the connection is given up,
 * and shut down so that the server forgets it too. */
static int give_up(struct lsashm_client *c)
{
        mark_all_stale(c);
        shutdown(c->fd, SHUT_RDWR);
        return -ETIMEDOUT;
}

static void handle_revoked(struct lsashm_client *c, uint32_t view)
{
        for (struct lsashm_view *v = c->views; v; v = v->next)
                if (v->id == view)
                        v->head.stale = true;
}

/* Receive one message; notices are handled on the way. A reply (anything but
 * a notice) is returned in *ret with its fd, if any, in *ret_fd. Waits until
 * deadline for it, or not at all when nonblocking; notices do not extend
 * the wait. */
static int receive(struct lsashm_client *c, bool nonblocking, int64_t deadline, struct wire_message *ret,
                   int *ret_fd)
{
        for (bool first = true;; first = false) {
                uint8_t buf[WIRE_MAX_MESSAGE + 1];
                int fd = -1;
                ssize_t n = -EAGAIN;
                /* A reply just asked for: one blocking receive, which the
                 * socket's timeout keeps inside the deadline, rather than a
                 * receive that finds nothing, a poll and a receive. Whatever
                 * is left of the deadline after it is waited for below. */
                if (!nonblocking && first && c->wait_ns && deadline_remaining_ns(deadline) >= c->wait_ns) {
                        n = fdpass_recv_wait(c->fd, buf, sizeof(buf), &fd, true);
                        if (n == -EINTR)
                                n = -EAGAIN;
                }
                if (n == -EAGAIN)
                        n = nonblocking ? fdpass_recv(c->fd, buf, sizeof(buf), &fd, true, true)
                                        : deadline_recv(c->fd, buf, sizeof(buf), &fd, true, deadline);
                if (n == -EAGAIN)
                        return -EAGAIN;
                if (n == -ETIMEDOUT)
                        return give_up(c);
                if (n <= 0) {
                        mark_all_stale(c);
                        return n == 0 || n == -ECONNRESET ? -ECONNRESET : -EPROTO;
                }
                struct wire_message m;
                if (wire_decode(buf, (size_t)n, 0, &m) < 0 || (fd >= 0 && m.type != WIRE_OPEN_REPLY)) {
                        if (fd >= 0)
                                close(fd);
                        mark_all_stale(c);
                        return -EPROTO;
                }
                if (m.type == WIRE_REVOKED) {
                        handle_revoked(c, m.revoked.view);
                        if (nonblocking)
                                return 1;
                        continue;
                }
                *ret = m;
                *ret_fd = fd;
                return 0;
        }
}

static int connect_to(const char *path, int64_t deadline, int *ret_fd)
{
        if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
                return -EINVAL;
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int r = deadline_connect(fd, path, deadline);
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* The socket's SO_RCVTIMEO a little under the timeout, so that one blocking
 * receive started with a whole timeout left ends before the deadline. */
static void set_wait(struct lsashm_client *c)
{
        c->wait_ns = 0;
        if (c->timeout_ms < 2)
                return;
        int64_t us = ((int64_t)c->timeout_ms - 1) * 1000;
        struct timeval tv = { .tv_sec = (time_t)(us / 1000000), .tv_usec = (suseconds_t)(us % 1000000) };
        if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0)
                c->wait_ns = us * 1000;
}

/* Connect and exchange hellos, asking for features. A server takes any it
 * knows and answers with those: newer servers serve older clients. */
static int greet(struct lsashm_client *c, const char *path, int64_t deadline, uint32_t features)
{
        int r = connect_to(path, deadline, &c->fd);
        if (r < 0)
                return r;
        struct wire_message hello = { .type = WIRE_HELLO };
        hello.hello.version = WIRE_VERSION;
        hello.hello.features = features;
        uint8_t buf[WIRE_MAX_MESSAGE];
        r = deadline_send(c->fd, buf, wire_encode(&hello, buf), deadline);
        struct wire_message reply;
        int fd = -1;
        if (r == 0)
                r = receive(c, false, deadline, &reply, &fd);
        if (r == 0 && (fd >= 0 || reply.type != WIRE_HELLO_REPLY || reply.hello_reply.version != WIRE_VERSION ||
                       (reply.hello_reply.features & ~features)))
                r = -EPROTO;
        if (fd >= 0)
                close(fd);
        if (r < 0) {
                close(c->fd);
                return r == -EPIPE ? -ECONNRESET : r;
        }
        c->features = reply.hello_reply.features;
        set_wait(c);
        return 0;
}

int lsashm_client_connect_timeout(const char *path, int timeout_ms, lsashm_client_t **ret)
{
        if (!path || !ret || timeout_ms <= 0)
                return -EINVAL;
        struct lsashm_client *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->next_request = 1;
        c->timeout_ms = timeout_ms;
        /* One deadline for the connect and the hellos: a full backlog
         * followed by a silent server is still one timeout. */
        int64_t deadline = deadline_after_ms(timeout_ms);
        int r = greet(c, path, deadline, WIRE_FEATURES);
        if (r < 0) {
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int lsashm_client_connect(const char *path, lsashm_client_t **ret)
{
        return lsashm_client_connect_timeout(path, deadline_default_timeout_ms(), ret);
}

int lsashm_client_set_timeout(lsashm_client_t *c, int timeout_ms)
{
        if (!c || timeout_ms <= 0)
                return -EINVAL;
        c->timeout_ms = timeout_ms;
        set_wait(c);
        return 0;
}

int lsashm_client_get_timeout(const lsashm_client_t *c)
{
        return c ? c->timeout_ms : -EINVAL;
}

/* Everything about the descriptor must match the reply before it is mapped. */
static int check_descriptor(int fd, const struct wire_open_reply *r)
{
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return -EPROTO;
        int seals = fcntl(fd, F_GET_SEALS);
        unsigned need = REQUIRED_SEALS | (r->access == LSASHM_ACCESS_READ_WRITE ? SIZE_SEALS : 0);
        if (seals < 0 || ((unsigned)seals & need) != need)
                return -EPROTO;
        /* As announced, except that the size may have been sealed since. */
        if ((r->seals & ~(unsigned)seals) || (((unsigned)seals ^ r->seals) & ~(unsigned)SIZE_SEALS))
                return -EPROTO;
        if (r->size == 0 || r->size > (uint64_t)st.st_size || r->size > SIZE_MAX || r->root > r->size)
                return -EPROTO;
        int mode = fcntl(fd, F_GETFL);
        if (mode < 0)
                return -EPROTO;
        mode &= O_ACCMODE;
        if (r->access == LSASHM_ACCESS_READ_WRITE && (mode != O_RDWR || (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))))
                return -EPROTO;
        if (r->access == LSASHM_ACCESS_READ && mode != O_RDONLY)
                return -EPROTO;
        return 0;
}

static int open_view(lsashm_client_t *c, const char *name, uint32_t flags, lsashm_view_t **ret)
{
        if (!c || !name || !ret || wire_check_name(name, strlen(name)) < 0)
                return -EINVAL;
        if (c->gone)
                return -ECONNRESET;
        struct lsashm_view *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;

        struct wire_message req = { .type = WIRE_OPEN };
        req.open.request = c->next_request++;
        req.open.flags = flags;
        req.open.name_len = (uint8_t)strlen(name);
        memcpy(req.open.name, name, req.open.name_len);
        /* The views closed since the last request: the server closes them
         * before it serves this open, whatever the open's outcome. */
        req.open.n_closed = c->n_closed;
        memcpy(req.open.closed, c->closed, c->n_closed * sizeof(*c->closed));
        uint8_t buf[WIRE_MAX_MESSAGE];
        int64_t deadline = deadline_after_ms(c->timeout_ms);
        int r = deadline_send(c->fd, buf, wire_encode(&req, buf), deadline);
        /* Sent, or the connection is given up below, which closes them all. */
        c->n_closed = 0;
        if (r < 0) {
                free(v);
                if (r == -ETIMEDOUT)
                        return give_up(c);
                mark_all_stale(c);
                return -ECONNRESET;
        }
        struct wire_message m;
        int fd = -1;
        r = receive(c, false, deadline, &m, &fd);
        if (r == 0 && (m.type != WIRE_OPEN_REPLY || m.open_reply.request != req.open.request))
                r = -EPROTO;
        else if (r == 0 && m.open_reply.status < 0)
                r = fd >= 0 ? -EPROTO : m.open_reply.status;
        else if (r == 0 && fd < 0)
                r = -EPROTO;
        else if (r == 0)
                r = check_descriptor(fd, &m.open_reply);
        if (r == 0) {
                bool writable = m.open_reply.access == LSASHM_ACCESS_READ_WRITE;
                void *base = mmap(NULL, (size_t)m.open_reply.size, PROT_READ | (writable ? PROT_WRITE : 0),
                                  MAP_SHARED, fd, 0);
                if (base == MAP_FAILED) {
                        r = -errno;
                } else {
                        *v = (struct lsashm_view){ .head = { .base = base, .size = (size_t)m.open_reply.size },
                                                   .client = c, .id = m.open_reply.view,
                                                   .root = m.open_reply.root, .writable = writable };
                }
        }
        /* The mapping holds the section; no descriptor is kept per view. */
        if (fd >= 0)
                close(fd);
        if (r < 0) {
                if (r == -EPROTO)
                        mark_all_stale(c);
                free(v);
                return r;
        }
        v->next = c->views;
        if (c->views)
                c->views->prev = v;
        c->views = v;
        *ret = v;
        return 0;
}

int lsashm_client_open(lsashm_client_t *c, const char *name, lsashm_view_t **ret)
{
        return open_view(c, name, 0, ret);
}

int lsashm_client_open_readonly(lsashm_client_t *c, const char *name, lsashm_view_t **ret)
{
        return open_view(c, name, WIRE_OPEN_READONLY, ret);
}

int lsashm_client_fd(const lsashm_client_t *c)
{
        return c ? c->fd : -EINVAL;
}

int lsashm_client_dispatch(lsashm_client_t *c)
{
        if (!c)
                return -EINVAL;
        if (c->gone)
                return -ECONNRESET;
        int handled = 0;
        for (;;) {
                struct wire_message m;
                int fd = -1;
                int r = receive(c, true, DEADLINE_NEVER, &m, &fd);
                if (r == -EAGAIN)
                        return handled;
                if (r < 0)
                        return r;
                if (r == 0) {
                        /* A reply nobody waits for is a protocol error. */
                        if (fd >= 0)
                                close(fd);
                        mark_all_stale(c);
                        return -EPROTO;
                }
                handled++;
        }
}

void lsashm_client_close(lsashm_client_t *c)
{
        if (!c)
                return;
        for (struct lsashm_view *v = c->views; v; v = v->next) {
                v->client = NULL;
                v->head.stale = true;
        }
        close(c->fd);
        free(c);
}

const void *lsashm_view_ptr(const lsashm_view_t *v, uint64_t offset, size_t len)
{
        uint64_t end;
        if (!v || __builtin_add_overflow(offset, (uint64_t)len, &end) || end > v->head.size ||
            offset >= v->head.size)
                return NULL;
        return v->head.base + offset;
}

void *lsashm_view_ptr_mut(const lsashm_view_t *v, uint64_t offset, size_t len)
{
        if (!v || !v->writable)
                return NULL;
        return (void *)(uintptr_t)lsashm_view_ptr(v, offset, len);
}

size_t lsashm_view_size(const lsashm_view_t *v)
{
        return v ? v->head.size : 0;
}

uint64_t lsashm_view_root(const lsashm_view_t *v)
{
        return v ? v->root : 0;
}

bool lsashm_view_writable(const lsashm_view_t *v)
{
        return v && v->writable;
}

int lsashm_view_state(const lsashm_view_t *v)
{
        if (!v)
                return -EINVAL;
        if (v->client && !v->client->gone)
                (void)lsashm_client_dispatch(v->client);
        return v->head.stale ? -ESTALE : 0;
}

void lsashm_view_close(lsashm_view_t *v)
{
        if (!v)
                return;
        struct lsashm_client *c = v->client;
        if (c) {
                if (!c->gone && !v->head.stale && (c->features & WIRE_FEATURE_DEFERRED_CLOSE) &&
                    c->n_closed < WIRE_MAX_CLOSED) {
                        /* The next OPEN carries it: no system call now. */
                        c->closed[c->n_closed++] = v->id;
                } else if (!c->gone && !v->head.stale) {
                        /* This one and every deferred one, in one CLOSE. */
                        struct wire_message m = { .type = WIRE_CLOSE };
                        m.close.view = v->id;
                        m.close.n_more = c->n_closed;
                        memcpy(m.close.more, c->closed, c->n_closed * sizeof(*c->closed));
                        c->n_closed = 0;
                        uint8_t buf[WIRE_MAX_MESSAGE];
                        /* Waits for room: a CLOSE lost to a full buffer would
                         * leave the view counted against this connection's
                         * limit. A server that reads nothing for a whole
                         * timeout is given up, which releases every view. */
                        if (deadline_send(c->fd, buf, wire_encode(&m, buf), deadline_after_ms(c->timeout_ms)) ==
                            -ETIMEDOUT)
                                (void)give_up(c);
                }
                if (v->prev)
                        v->prev->next = v->next;
                else
                        c->views = v->next;
                if (v->next)
                        v->next->prev = v->prev;
        }
        munmap((void *)(uintptr_t)v->head.base, v->head.size);
        free(v);
}
