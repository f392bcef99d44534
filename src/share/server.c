/* SPDX-License-Identifier: MIT */
/*
 * The sharing server: answers HELLO, OPEN and CLOSE, from a table that says
 * what each request needs, on the connections the skeleton (conn.c) accepts,
 * identifies and limits. Nothing a client sends is trusted: every
 * packet goes through wire_decode() first, and a client that breaks the
 * protocol is disconnected with one log line; the others never notice.
 *
 * Locks: srv->lock guards everything below it and is taken by dispatch and by
 * the publish API; a section's lock may be taken with it held, never the
 * other way round. srv->pending_lock is a leaf: sections being deleted call
 * note_deleted() with their own lock held, and it takes only that.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "section/section-ops.h"
#include "share/conn.h"
#include "share/fdpass.h"
#include "share/listener.h"
#include "share/wire.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define DEFAULT_PER_UID 64u
#define DEFAULT_VIEWS 256u
#define DEFAULT_QUEUE 64u
#define DEFAULT_CONNECTIONS 4096u
#define DEFAULT_RESERVED 32u
#define DEFAULT_HELLO_TIMEOUT_MS 10000u
#define MAX_EVENTS 64
#define OUT_MESSAGE_MAX 48u /* the largest message the server sends */
/* Descriptors in flight are charged to the server's user by the kernel, and
 * queued ones hold a slot in its fd table: a peer that does not read its
 * replies may tie up only this many of each. */
#define QUEUED_FDS_MAX 4u
#define PEER_SNDBUF 4096

struct published {
        struct published *next;
        char name[LSASHM_NAME_MAX + 1];
        lsashm_section_t *section;
        uint64_t section_id;
        uint64_t pub_id; /* unique per publication: views belong to it */
        struct lsashm_rule *rules;
        size_t n_rules;
        uint64_t root;
        /* The read-only description every read-only open of this publication
         * passes on, made at the first one (section_share_reader): one open
         * of /proc/self/fd less per open. -1 until then. */
        int ro_fd;
};

struct view_ref {
        uint32_t view;
        uint64_t pub_id;
};

struct queued {
        uint8_t buf[OUT_MESSAGE_MAX];
        uint8_t len;
        int fd;
};

struct conn {
        struct conn_peer peer; /* first: the skeleton allocates and frees us */
        int pidfd; /* -1 where the kernel has no SO_PEERPIDFD */
        struct view_ref *views;
        uint32_t n_views, cap_views;
        uint32_t next_view;
        uint32_t features; /* agreed at HELLO */
        struct queued *queue; /* ring, allocated the first time a send would block */
        uint32_t q_head, q_len;
        uint32_t q_fds; /* queued messages that carry a descriptor */
        bool want_out;
};

struct lsashm_server {
        pthread_mutex_t lock;
        int listen_fd, wake_fd;
        char *path; /* the socket file we made, to unlink */
        struct lsashm_server_limits limits;
        void (*log)(void *ctx, const char *line);
        void *log_ctx;
        struct conn_set cs; /* its counters are the connection stats */
        struct published *pubs;
        struct lsashm_server_stats stats;
        int stop;

        pthread_mutex_t pending_lock;
        uint64_t *pending; /* ids of sections deleted, not yet revoked */
        size_t n_pending, cap_pending;
};

/* the epoll tag of the one descriptor that is neither a connection nor the
 * skeleton's */
static char wake_tag;

static void log_sink(void *ctx, const char *line)
{
        struct lsashm_server *srv = ctx;
        if (srv->log)
                srv->log(srv->log_ctx, line);
        else
                fprintf(stderr, "lsashm: %s\n", line);
}

static int close_conn(struct lsashm_server *srv, struct conn *c, const char *why)
{
        return conn_close(&srv->cs, &c->peer, why);
}

/* ---- sending ---- */

/* A peer that went away is no protocol error: no log line, not "dropped". */
static const char *hangup_reason(int err, const char *why)
{
        return err == -EPIPE || err == -ECONNRESET || err == -ECONNREFUSED ? NULL : why;
}

static int queue_message(struct lsashm_server *srv, struct conn *c, const uint8_t *buf, size_t len, int fd)
{
        if (!c->queue) {
                c->queue = calloc(srv->limits.queued_per_connection, sizeof(*c->queue));
                if (!c->queue)
                        return -ENOMEM;
        }
        if (c->q_len >= srv->limits.queued_per_connection || (fd >= 0 && c->q_fds >= QUEUED_FDS_MAX))
                return -ENOBUFS;
        struct queued *q = &c->queue[(c->q_head + c->q_len) % srv->limits.queued_per_connection];
        memcpy(q->buf, buf, len);
        q->len = (uint8_t)len;
        q->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
        if (fd >= 0 && q->fd < 0)
                return -errno;
        c->q_fds += q->fd >= 0;
        c->q_len++;
        if (!c->want_out) {
                /* Without EPOLLOUT nothing would ever flush the queue: the
                 * peer would wait for ever. Then drop it (the caller does). */
                struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = &c->peer };
                if (epoll_ctl(srv->cs.epoll_fd, EPOLL_CTL_MOD, c->peer.fd, &ev) < 0)
                        return -errno;
                c->want_out = true;
        }
        return 0;
}

/* Send now if the peer has room, else queue; a peer whose queue is full is
 * not reading, and is dropped rather than allowed to hold server memory. */
static int send_message(struct lsashm_server *srv, struct conn *c, const struct wire_message *m, int fd)
{
        uint8_t buf[WIRE_MAX_MESSAGE];
        size_t len = wire_encode(m, buf);
        int r = -EAGAIN;
        if (c->q_len == 0)
                r = fdpass_send(c->peer.fd, buf, len, fd, true);
        if (r == -EAGAIN)
                r = queue_message(srv, c, buf, len, fd);
        if (r < 0)
                return close_conn(srv, c, hangup_reason(r, r == -ENOBUFS ? "too many queued messages" : "send failed"));
        return 0;
}

static int flush_queue(struct lsashm_server *srv, struct conn *c)
{
        while (c->q_len) {
                struct queued *q = &c->queue[c->q_head];
                int r = fdpass_send(c->peer.fd, q->buf, q->len, q->fd, true);
                if (r == -EAGAIN)
                        return 0;
                if (q->fd >= 0) {
                        close(q->fd);
                        c->q_fds--;
                }
                q->fd = -1;
                c->q_head = (c->q_head + 1) % srv->limits.queued_per_connection;
                c->q_len--;
                if (r < 0)
                        return close_conn(srv, c, hangup_reason(r, "send failed"));
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->peer };
        epoll_ctl(srv->cs.epoll_fd, EPOLL_CTL_MOD, c->peer.fd, &ev);
        c->want_out = false;
        return 0;
}

/* ---- connections ---- */

static int conn_opened(void *ctx, struct conn_peer *p)
{
        (void)ctx;
        struct conn *c = (struct conn *)p;
        /* A small send buffer bounds how many replies, each with a
         * descriptor, can sit unread in the peer's queue. */
        (void)setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &(int){ PEER_SNDBUF }, sizeof(int));
        c->next_view = 1;
        /* The pidfd pins the process the credentials describe, so a recycled
         * pid can never be mistaken for this peer. */
        socklen_t len = sizeof(c->pidfd);
        if (getsockopt(p->fd, SOL_SOCKET, SO_PEERPIDFD, &c->pidfd, &len) < 0)
                c->pidfd = -1;
        return 0;
}

static void conn_closing(void *ctx, struct conn_peer *p)
{
        struct lsashm_server *srv = ctx;
        struct conn *c = (struct conn *)p;
        if (c->pidfd >= 0)
                close(c->pidfd);
        for (uint32_t i = 0; c->queue && i < c->q_len; i++) {
                struct queued *q = &c->queue[(c->q_head + i) % srv->limits.queued_per_connection];
                if (q->fd >= 0)
                        close(q->fd);
        }
        srv->stats.views -= c->n_views;
        free(c->queue);
        free(c->views);
        c->queue = NULL;
        c->views = NULL;
        c->n_views = c->q_len = 0;
}

/* ---- policy ---- */

static enum lsashm_access access_for(const struct published *p, const struct conn *c)
{
        enum lsashm_access best = LSASHM_ACCESS_NONE;
        for (size_t i = 0; i < p->n_rules; i++) {
                const struct lsashm_rule *r = &p->rules[i];
                bool match = r->kind == LSASHM_RULE_ANYONE || (r->kind == LSASHM_RULE_UID && r->id == c->peer.uid) ||
                             (r->kind == LSASHM_RULE_GID && conn_peer_in_group(&c->peer, r->id));
                if (match && r->access > best)
                        best = r->access;
        }
        return best;
}

static struct published *find_by_name(struct lsashm_server *srv, const char *name)
{
        for (struct published *p = srv->pubs; p; p = p->next)
                if (strcmp(p->name, name) == 0)
                        return p;
        return NULL;
}

/* ---- requests ---- */

static int handle_hello(struct lsashm_server *srv, struct conn *c, const struct wire_message *m)
{
        if (m->hello.version != WIRE_VERSION || (m->hello.features & ~WIRE_FEATURES))
                return close_conn(srv, c, "unknown protocol version or features");
        conn_handshaken(&srv->cs, &c->peer);
        /* Only what the client asked for: an older client refuses any other bit. */
        c->features = m->hello.features;
        struct wire_message reply = { .type = WIRE_HELLO_REPLY };
        reply.hello_reply.version = WIRE_VERSION;
        reply.hello_reply.features = c->features;
        reply.hello_reply.max_views = srv->limits.views_per_connection;
        return send_message(srv, c, &reply, -1);
}

static void drop_view(struct lsashm_server *srv, struct conn *c, uint32_t i)
{
        c->views[i] = c->views[--c->n_views];
        srv->stats.views--;
}

/* A view this connection holds, or none: ids are per connection, so a client
 * can only ever close its own. An unknown id is no error: a revocation and
 * the close crossed, or the client named one twice. */
static void close_view(struct lsashm_server *srv, struct conn *c, uint32_t view)
{
        for (uint32_t i = 0; i < c->n_views; i++)
                if (c->views[i].view == view) {
                        drop_view(srv, c, i);
                        return;
                }
}

static int open_view(struct lsashm_server *srv, struct conn *c, const struct wire_open *req,
                     struct wire_open_reply *reply, struct section_share *share, bool *borrowed)
{
        struct published *p = find_by_name(srv, req->name);
        if (!p)
                return -ENOENT;
        enum lsashm_access access = access_for(p, c);
        if (access == LSASHM_ACCESS_NONE) {
                srv->stats.denied++;
                return -EACCES;
        }
        if (req->flags & WIRE_OPEN_READONLY)
                access = LSASHM_ACCESS_READ;
        if (c->n_views >= srv->limits.views_per_connection)
                return -EMFILE;
        if (c->n_views == c->cap_views) {
                uint32_t cap = c->cap_views ? c->cap_views * 2 : 4;
                struct view_ref *v = realloc(c->views, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                c->views = v;
                c->cap_views = cap;
        }
        int r;
        if (access == LSASHM_ACCESS_READ) {
                r = section_share_reader(p->section, p->section_id, &p->ro_fd, share);
                *borrowed = r == 0;
        } else {
                r = section_share(p->section, p->section_id, true, share);
        }
        if (r < 0)
                return r == -ESTALE ? -ENOENT : r; /* deleted; its revocation is on the way */
        uint32_t view = c->next_view++;
        c->views[c->n_views++] = (struct view_ref){ .view = view, .pub_id = p->pub_id };
        srv->stats.views++;
        reply->view = view;
        reply->access = share->writable ? LSASHM_ACCESS_READ_WRITE : LSASHM_ACCESS_READ;
        reply->size = share->size;
        reply->root = p->root;
        reply->seals = share->seals;
        return 0;
}

static int handle_open(struct lsashm_server *srv, struct conn *c, const struct wire_message *m)
{
        if (m->open.n_closed && !(c->features & WIRE_FEATURE_DEFERRED_CLOSE))
                return close_conn(srv, c, "closes carried without the feature");
        /* The closes first: they free room for this open under the limit. */
        for (unsigned i = 0; i < m->open.n_closed; i++)
                close_view(srv, c, m->open.closed[i]);
        struct wire_message reply = { .type = WIRE_OPEN_REPLY };
        struct section_share share = { .fd = -1 };
        /* borrowed: share.fd is the publication's, not ours to close */
        bool borrowed = false;
        reply.open_reply.request = m->open.request;
        reply.open_reply.status = open_view(srv, c, &m->open, &reply.open_reply, &share, &borrowed);
        if (share.fd >= 0 && c->q_len == 0) {
                /* Too many descriptors in flight for the server's user is the
                 * server's shortage, not this peer's fault: refuse the open,
                 * keep the peer. */
                uint8_t buf[WIRE_MAX_MESSAGE];
                int sent = fdpass_send(c->peer.fd, buf, wire_encode(&reply, buf), share.fd, true);
                if (sent == 0 || (sent != -ETOOMANYREFS && sent != -EAGAIN)) {
                        if (!borrowed)
                                close(share.fd);
                        if (sent < 0)
                                close_conn(srv, c, hangup_reason(sent, "send failed"));
                        return sent < 0 ? CONN_GONE : 0;
                }
                if (sent == -ETOOMANYREFS) {
                        if (!borrowed)
                                close(share.fd);
                        share.fd = -1;
                        drop_view(srv, c, c->n_views - 1);
                        reply.open_reply = (struct wire_open_reply){ .request = m->open.request,
                                                                     .status = -ENFILE };
                }
        }
        /* A queued reply holds a duplicate (queue_message). */
        int r = send_message(srv, c, &reply, share.fd);
        /* SCM_RIGHTS gave the client its own reference: keep none per view. */
        if (share.fd >= 0 && !borrowed)
                close(share.fd);
        return r;
}

static int handle_close(struct lsashm_server *srv, struct conn *c, const struct wire_message *m)
{
        if (m->close.n_more && !(c->features & WIRE_FEATURE_DEFERRED_CLOSE))
                return close_conn(srv, c, "closes carried without the feature");
        close_view(srv, c, m->close.view);
        for (unsigned i = 0; i < m->close.n_more; i++)
                close_view(srv, c, m->close.more[i]);
        return 0;
}

/* What each request needs, and who answers it. */
static const struct {
        enum wire_type type;
        bool needs_hello;
        int (*handle)(struct lsashm_server *, struct conn *, const struct wire_message *);
} handlers[] = {
        { WIRE_HELLO, false, handle_hello },
        { WIRE_OPEN, true, handle_open },
        { WIRE_CLOSE, true, handle_close },
};

static void handle_readable(struct lsashm_server *srv, struct conn *c)
{
        /* One packet per event: epoll is level-triggered and reports a
         * client with more queued again, so no receive is spent learning
         * that the queue is empty (most clients send one request and wait),
         * and one busy client cannot starve the others. */
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        int fd = -1;
        ssize_t n = fdpass_recv(c->peer.fd, buf, sizeof(buf), &fd, false, true);
        if (n == -EAGAIN)
                return;
        if (n == 0) {
                close_conn(srv, c, NULL);
                return;
        }
        if (n < 0) {
                close_conn(srv, c, n == -EBADMSG ? "descriptors, truncated or foreign control data"
                                                 : "receive failed");
                return;
        }
        struct wire_message m;
        int r = wire_decode(buf, (size_t)n, 1, &m);
        if (r < 0) {
                close_conn(srv, c, "malformed or oversized message");
                return;
        }
        size_t i = 0;
        while (i < sizeof(handlers) / sizeof(handlers[0]) && handlers[i].type != m.type)
                i++;
        if (i == sizeof(handlers) / sizeof(handlers[0]) || handlers[i].needs_hello != c->peer.handshaken) {
                close_conn(srv, c, "message out of sequence");
                return;
        }
        if (handlers[i].handle(srv, c, &m) < 0)
                return; /* the connection is gone */
}

/* ---- revocation ---- */

static void revoke_views(struct lsashm_server *srv, uint64_t pub_id)
{
        for (struct conn_peer *peer = srv->cs.peers, *next; peer; peer = next) {
                next = peer->next;
                struct conn *c = (struct conn *)peer;
                for (uint32_t i = 0; i < c->n_views;) {
                        if (c->views[i].pub_id != pub_id) {
                                i++;
                                continue;
                        }
                        struct wire_message m = { .type = WIRE_REVOKED };
                        m.revoked.view = c->views[i].view;
                        drop_view(srv, c, i);
                        srv->stats.revocations++;
                        if (send_message(srv, c, &m, -1) < 0)
                                break; /* c is gone */
                }
        }
}

static void note_deleted(void *ctx, uint64_t section_id);

static void unpublish(struct lsashm_server *srv, struct published *p, bool watching)
{
        struct published **pp = &srv->pubs;
        while (*pp != p)
                pp = &(*pp)->next;
        *pp = p->next;
        if (watching)
                section_unwatch(p->section, p->section_id, note_deleted, srv);
        revoke_views(srv, p->pub_id);
        srv->stats.published--;
        if (p->ro_fd >= 0)
                close(p->ro_fd);
        free(p->rules);
        free(p);
}

/* A published section is being deleted (its lock is held): note it for the
 * dispatch loop, which revokes, and wake it. */
static void note_deleted(void *ctx, uint64_t section_id)
{
        struct lsashm_server *srv = ctx;
        pthread_mutex_lock(&srv->pending_lock);
        if (srv->n_pending == srv->cap_pending) {
                size_t cap = srv->cap_pending ? srv->cap_pending * 2 : 8;
                uint64_t *p = realloc(srv->pending, cap * sizeof(*p));
                if (p) {
                        srv->pending = p;
                        srv->cap_pending = cap;
                }
        }
        /* Without room the dispatch loop still finds the section dead at its
         * next open; only the prompt notice is lost. */
        if (srv->n_pending < srv->cap_pending)
                srv->pending[srv->n_pending++] = section_id;
        pthread_mutex_unlock(&srv->pending_lock);
        uint64_t one = 1;
        (void)!write(srv->wake_fd, &one, sizeof(one));
}

static void revoke_pending(struct lsashm_server *srv)
{
        uint64_t ids[64];
        for (;;) {
                pthread_mutex_lock(&srv->pending_lock);
                size_t n = srv->n_pending < 64 ? srv->n_pending : 64;
                if (n) /* pending is NULL until the first deletion */
                        memcpy(ids, srv->pending + srv->n_pending - n, n * sizeof(*ids));
                srv->n_pending -= n;
                pthread_mutex_unlock(&srv->pending_lock);
                if (n == 0)
                        return;
                for (size_t i = 0; i < n; i++)
                        for (struct published *p = srv->pubs; p; p = p->next)
                                if (p->section_id == ids[i]) {
                                        unpublish(srv, p, false);
                                        break;
                                }
        }
}

/* ---- public API ---- */

int lsashm_server_create(const struct lsashm_server_config *cfg, lsashm_server_t **ret)
{
        if (!cfg || !ret || (!cfg->path && cfg->listen_fd < 0))
                return -EINVAL;
        struct lsashm_server *srv = calloc(1, sizeof(*srv));
        if (!srv)
                return -ENOMEM;
        srv->listen_fd = srv->wake_fd = -1;
        srv->cs.epoll_fd = srv->cs.timer_fd = srv->cs.spare_fd = -1;
        pthread_mutex_init(&srv->lock, NULL);
        pthread_mutex_init(&srv->pending_lock, NULL);
        srv->limits = cfg->limits;
        if (!srv->limits.connections_per_uid)
                srv->limits.connections_per_uid = DEFAULT_PER_UID;
        if (!srv->limits.views_per_connection)
                srv->limits.views_per_connection = DEFAULT_VIEWS;
        if (!srv->limits.queued_per_connection)
                srv->limits.queued_per_connection = DEFAULT_QUEUE;
        if (!srv->limits.connections)
                srv->limits.connections = DEFAULT_CONNECTIONS;
        srv->log = cfg->log;
        srv->log_ctx = cfg->log_ctx;

        /* Each client costs a socket and a pidfd, and descriptors in flight
         * count against this limit too. */
        listener_raise_fd_limit();

        int r;
        if (cfg->listen_fd >= 0) {
                srv->listen_fd = cfg->listen_fd;
                if ((r = listener_adopt(srv->listen_fd)) < 0)
                        goto fail;
        } else {
                r = listener_bind(cfg->path, cfg->mode, &srv->listen_fd);
                if (r < 0)
                        goto fail;
                srv->path = strdup(cfg->path);
                if (!srv->path) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        _Static_assert(sizeof(gid_t) == sizeof(uint32_t), "privileged_gids are gid_t");
        struct conn_config cc = {
                .total = srv->limits.connections,
                .per_uid = srv->limits.connections_per_uid,
                .reserved = cfg->reserved_connections ? cfg->reserved_connections : DEFAULT_RESERVED,
                .handshake_ms = cfg->hello_timeout_ms ? cfg->hello_timeout_ms : DEFAULT_HELLO_TIMEOUT_MS,
                .handshake = "HELLO",
                .log_burst = cfg->client_log_burst,
                .privileged_gids = (const gid_t *)cfg->privileged_gids,
                .n_privileged_gids = cfg->privileged_gids ? cfg->n_privileged_gids : 0,
                .peer_size = sizeof(struct conn),
                .on_open = conn_opened,
                .on_close = conn_closing,
                .log = log_sink,
                .ctx = srv,
        };
        if ((r = conn_set_init(&srv->cs, &cc, srv->listen_fd)) < 0)
                goto fail;
        srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        struct epoll_event wev = { .events = EPOLLIN, .data.ptr = &wake_tag };
        if (srv->wake_fd < 0 || epoll_ctl(srv->cs.epoll_fd, EPOLL_CTL_ADD, srv->wake_fd, &wev) < 0) {
                r = -errno;
                goto fail;
        }
        *ret = srv;
        return 0;
fail:
        lsashm_server_destroy(srv);
        return r;
}

void lsashm_server_destroy(lsashm_server_t *srv)
{
        if (!srv)
                return;
        pthread_mutex_lock(&srv->lock);
        while (srv->pubs) {
                unpublish(srv, srv->pubs, true);
        }
        conn_set_fini(&srv->cs);
        pthread_mutex_unlock(&srv->lock);
        if (srv->listen_fd >= 0)
                close(srv->listen_fd);
        if (srv->path)
                unlink(srv->path);
        if (srv->wake_fd >= 0)
                close(srv->wake_fd);
        pthread_mutex_destroy(&srv->lock);
        pthread_mutex_destroy(&srv->pending_lock);
        free(srv->pending);
        free(srv->path);
        free(srv);
}

int lsashm_server_fd(lsashm_server_t *srv)
{
        return srv ? srv->cs.epoll_fd : -EINVAL;
}

int lsashm_server_dispatch(lsashm_server_t *srv)
{
        if (!srv)
                return -EINVAL;
        struct epoll_event events[MAX_EVENTS];
        /* Fetch events under the lock: connections closed by another thread
         * are only freed at the end of a dispatch round, so every event
         * fetched here names a struct that still exists. */
        pthread_mutex_lock(&srv->lock);
        int n = epoll_wait(srv->cs.epoll_fd, events, MAX_EVENTS, 0);
        if (n < 0) {
                pthread_mutex_unlock(&srv->lock);
                return errno == EINTR ? 0 : -errno;
        }
        for (int i = 0; i < n; i++) {
                if (events[i].data.ptr == &wake_tag) {
                        uint64_t v;
                        (void)!read(srv->wake_fd, &v, sizeof(v));
                        revoke_pending(srv);
                        continue;
                }
                struct conn *c = (struct conn *)conn_event(&srv->cs, &events[i]);
                if (!c)
                        continue;
                if (events[i].events & EPOLLOUT && flush_queue(srv, c) < 0)
                        continue;
                if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                        handle_readable(srv, c);
        }
        conn_reap(&srv->cs);
        pthread_mutex_unlock(&srv->lock);
        return n;
}

int lsashm_server_run(lsashm_server_t *srv)
{
        if (!srv)
                return -EINVAL;
        while (!__atomic_load_n(&srv->stop, __ATOMIC_ACQUIRE)) {
                struct pollfd pfd = { .fd = srv->cs.epoll_fd, .events = POLLIN };
                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                        return -errno;
                int r = lsashm_server_dispatch(srv);
                if (r < 0)
                        return r;
        }
        __atomic_store_n(&srv->stop, 0, __ATOMIC_RELEASE);
        return 0;
}

void lsashm_server_stop(lsashm_server_t *srv)
{
        if (!srv)
                return;
        __atomic_store_n(&srv->stop, 1, __ATOMIC_RELEASE);
        uint64_t one = 1;
        (void)!write(srv->wake_fd, &one, sizeof(one));
}

static int copy_policy(const struct lsashm_policy *policy, struct lsashm_rule **ret, size_t *ret_n)
{
        size_t n = policy ? policy->n_rules : 0;
        if (n && !policy->rules)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                const struct lsashm_rule *r = &policy->rules[i];
                if ((r->kind != LSASHM_RULE_UID && r->kind != LSASHM_RULE_GID && r->kind != LSASHM_RULE_ANYONE) ||
                    (r->access != LSASHM_ACCESS_NONE && r->access != LSASHM_ACCESS_READ &&
                     r->access != LSASHM_ACCESS_READ_WRITE))
                        return -EINVAL;
        }
        struct lsashm_rule *copy = NULL;
        if (n) {
                copy = malloc(n * sizeof(*copy));
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, policy->rules, n * sizeof(*copy));
        }
        *ret = copy;
        *ret_n = n;
        return 0;
}

int lsashm_server_publish(lsashm_server_t *srv, const char *name, lsashm_section_t *s,
                          const struct lsashm_policy *policy)
{
        if (!srv || !name || !s || wire_check_name(name, strlen(name)) < 0)
                return -EINVAL;
        struct published *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        int r = copy_policy(policy, &p->rules, &p->n_rules);
        if (r < 0) {
                free(p);
                return r;
        }
        strcpy(p->name, name);
        p->section = s;
        p->ro_fd = -1;
        pthread_mutex_lock(&srv->lock);
        revoke_pending(srv); /* a deleted section must not block its name */
        if (find_by_name(srv, name)) {
                r = -EEXIST;
                goto fail;
        }
        r = section_identity(s, &p->section_id);
        if (r < 0)
                goto fail;
        r = section_watch(s, p->section_id, note_deleted, srv);
        if (r < 0)
                goto fail;
        static uint64_t next_pub_id; /* shared by every server in the process */
        p->pub_id = __atomic_add_fetch(&next_pub_id, 1, __ATOMIC_RELAXED);
        p->next = srv->pubs;
        srv->pubs = p;
        srv->stats.published++;
        pthread_mutex_unlock(&srv->lock);
        return 0;
fail:
        pthread_mutex_unlock(&srv->lock);
        free(p->rules);
        free(p);
        return r;
}

int lsashm_server_unpublish(lsashm_server_t *srv, const char *name)
{
        if (!srv || !name)
                return -EINVAL;
        pthread_mutex_lock(&srv->lock);
        revoke_pending(srv); /* a deleted section must not block its name */
        struct published *p = find_by_name(srv, name);
        if (p)
                unpublish(srv, p, true);
        pthread_mutex_unlock(&srv->lock);
        return p ? 0 : -ENOENT;
}

int lsashm_server_set_root(lsashm_server_t *srv, const char *name, uint64_t root)
{
        if (!srv || !name)
                return -EINVAL;
        pthread_mutex_lock(&srv->lock);
        revoke_pending(srv); /* a deleted section must not block its name */
        struct published *p = find_by_name(srv, name);
        int r = p ? section_root_in_range(p->section, p->section_id, root) : -ENOENT;
        if (r == -ESTALE)
                r = -ENOENT;
        if (r == 0)
                p->root = root;
        pthread_mutex_unlock(&srv->lock);
        return r;
}

int lsashm_server_stats(lsashm_server_t *srv, struct lsashm_server_stats *ret)
{
        if (!srv || !ret)
                return -EINVAL;
        pthread_mutex_lock(&srv->lock);
        *ret = srv->stats;
        ret->connections = srv->cs.n;
        ret->accepted = srv->cs.accepted;
        ret->refused = srv->cs.refused;
        ret->dropped = srv->cs.dropped;
        pthread_mutex_unlock(&srv->lock);
        return 0;
}
