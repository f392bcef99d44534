/* SPDX-License-Identifier: MIT */
/*
 * The host's side of its connections (accepted, identified and limited by
 * the skeleton, src/share/conn.c): read one request at a time, answer it.
 * A request that calls into a package is answered on a worker (host_defer):
 * its connection is not read again until the reply has gone, so one
 * connection's requests are answered in order while other connections'
 * calls run beside it (host-base.h, "Threads").
 * Every packet goes through lsa_wire_decode; a client that sends
 * something malformed, or a request out of order, is dropped with a log
 * line naming its pid and uid (such lines are rate-limited: a client can
 * cause them at will). Replies are sent without blocking: a client
 * that does not read its replies is dropped rather than allowed to stall
 * everyone else.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/host-internal.h"
#include "share/fdpass.h"
#include "share/listener.h"

/* Requests served from one connection per dispatch: fairness between a busy
 * client and the rest. */
#define REQUESTS_PER_TURN 16

static int conn_opened(void *ctx, struct conn_peer *p);
static void conn_closing(void *ctx, struct conn_peer *p);

static void log_sink(void *ctx, const char *line)
{
        /* Lines about clients: refused, dropped, left out. */
        host_logf(ctx, HOST_LOG_NOTICE "%s", line);
}

static int bind_socket(struct host *h, const char *path, mode_t mode)
{
        int r = listener_bind(path, mode, &h->listen_fd);
        if (r < 0)
                return r;
        h->socket_path = strdup(path);
        if (!h->socket_path) {
                unlink(path);
                close(h->listen_fd);
                h->listen_fd = -1;
                return -ENOMEM;
        }
        return 0;
}

/* Reply sections are memfds of exactly the size the client reserved: the
 * size must be a whole number of pages and of the protocol's unit. */
static uint64_t page_multiple(void)
{
        long page = sysconf(_SC_PAGESIZE);
        uint64_t p = page > 0 ? (uint64_t)page : 4096;
        return p > LSA_WIRE_REPLY_ALIGN ? p : LSA_WIRE_REPLY_ALIGN;
}

void host_config_defaults(struct host_config *cfg)
{
        if (!cfg->socket_mode)
                cfg->socket_mode = 0666;
        if (!cfg->reply_max)
                cfg->reply_max = 1u << 20;
        if (cfg->reply_max < LSA_WIRE_REPLY_MIN)
                cfg->reply_max = LSA_WIRE_REPLY_MIN;
        if (cfg->reply_max > LSA_WIRE_REPLY_MAX)
                cfg->reply_max = LSA_WIRE_REPLY_MAX;
        cfg->reply_max -= cfg->reply_max % page_multiple();
        if (!cfg->max_connections)
                cfg->max_connections = 1024;
        if (!cfg->max_connections_per_uid)
                cfg->max_connections_per_uid = 64;
        if (!cfg->connect_timeout_ms)
                cfg->connect_timeout_ms = 10000;
        if (!cfg->reserved_connections)
                cfg->reserved_connections = 32;
        if (!cfg->worker_threads)
                cfg->worker_threads = host_workers_default();
        if (cfg->worker_threads > HOST_MAX_WORKERS)
                cfg->worker_threads = HOST_MAX_WORKERS;
        if (!cfg->max_submit)
                cfg->max_submit = 1u << 20;
        if (cfg->max_submit < LSA_WIRE_MAX_SUBMIT)
                cfg->max_submit = LSA_WIRE_MAX_SUBMIT;
        if (cfg->max_submit > LSA_WIRE_MAX_SUBMIT_MEMFD)
                cfg->max_submit = LSA_WIRE_MAX_SUBMIT_MEMFD;
}

size_t host_privileged_gids(const struct host_config *cfg, gid_t ret[2])
{
        size_t n = 0;
        if (cfg->admin_gid != (gid_t)-1)
                ret[n++] = cfg->admin_gid;
        if (cfg->logon_gid != (gid_t)-1)
                ret[n++] = cfg->logon_gid;
        return n;
}

/* Everything host_create acquired; the listening socket too when it is
 * ours to close. */
static void host_release(struct host *h, bool close_listener)
{
        host_workers_stop(&h->workers);
        conn_set_fini(&h->cs);
        if (h->wake_fd >= 0)
                close(h->wake_fd);
        if (h->socket_path) {
                unlink(h->socket_path);
                free(h->socket_path);
        }
        if (close_listener && h->listen_fd >= 0)
                close(h->listen_fd);
        free(h->rx);
        free(h->tx);
        pthread_mutex_destroy(&h->sections_lock);
        pthread_mutex_destroy(&h->log_lock);
}

int host_create(const struct host_config *cfg, struct host **ret)
{
        if (!cfg || !ret)
                return -EINVAL;
        if (host_global)
                return -EBUSY; /* the table has no context: one host per process */
        struct host *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->cfg = *cfg;
        clock_gettime(CLOCK_BOOTTIME, &h->started);
        host_config_defaults(&h->cfg);
        h->cfg.socket_path = NULL; /* not ours to keep */
        h->listen_fd = -1;
        h->cs.epoll_fd = h->cs.timer_fd = h->cs.spare_fd = -1;
        h->wake_fd = -1;
        h->next_serial = 1;
        h->workers.done_fd = -1;
        pthread_mutex_init(&h->sections_lock, NULL);
        pthread_mutex_init(&h->log_lock, NULL);

        int r = -ENOMEM;
        h->rx = malloc(LSA_WIRE_MAX_MESSAGE);
        h->tx = malloc(LSA_WIRE_MAX_MESSAGE);
        if (!h->rx || !h->tx)
                goto fail;
        /* Each client costs a descriptor, two once it has a reply section,
         * and each section a package makes one more: the soft limit (often
         * 1024) would be reached long before the connection limits. */
        listener_raise_fd_limit();
        if ((r = host_protect_init()) < 0 || (r = host_sections_init(h)) < 0)
                goto fail;
        if (cfg->listen_fd >= 0) {
                h->listen_fd = cfg->listen_fd;
                if ((r = listener_adopt(h->listen_fd)) < 0)
                        goto fail;
        } else if ((r = bind_socket(h, cfg->socket_path, h->cfg.socket_mode)) < 0) {
                goto fail;
        }
        /* Root and the admin and logon groups keep slots of their own:
         * lsashm status and LsaRegisterLogonProcess work however many
         * unprivileged clients crowd in. */
        gid_t privileged[2];
        size_t n_privileged = host_privileged_gids(&h->cfg, privileged);
        struct conn_config cc = {
                .total = h->cfg.max_connections,
                .per_uid = h->cfg.max_connections_per_uid,
                .reserved = h->cfg.reserved_connections,
                .handshake_ms = h->cfg.connect_timeout_ms,
                .handshake = "CONNECT",
                .privileged_gids = privileged,
                .n_privileged_gids = n_privileged,
                .peer_size = sizeof(struct host_conn),
                .on_open = conn_opened,
                .on_close = conn_closing,
                .log = log_sink,
                .ctx = h,
        };
        if ((r = conn_set_init(&h->cs, &cc, h->listen_fd)) < 0)
                goto fail;
        struct epoll_event wake = { .events = EPOLLIN, .data.ptr = &h->wake_fd };
        h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (h->wake_fd < 0 || epoll_ctl(h->cs.epoll_fd, EPOLL_CTL_ADD, h->wake_fd, &wake) < 0) {
                r = -errno;
                goto fail;
        }
        if ((r = host_workers_init(&h->workers, h->cfg.worker_threads)) < 0)
                goto fail;
        struct epoll_event done = { .events = EPOLLIN, .data.ptr = &h->workers.done_fd };
        if (epoll_ctl(h->cs.epoll_fd, EPOLL_CTL_ADD, h->workers.done_fd, &done) < 0) {
                r = -errno;
                goto fail;
        }
        host_global = h;
        *ret = h;
        return 0;
fail:
        host_release(h, h->socket_path != NULL); /* an inherited socket stays the caller's */
        free(h);
        return r;
}

unsigned host_package_count(const struct host *h)
{
        return h ? h->npackages : 0;
}

int host_fd(const struct host *h)
{
        return h ? h->cs.epoll_fd : -EINVAL;
}

void host_stop(struct host *h)
{
        if (!h)
                return;
        h->stop = 1;
        /* Wake host_run even if the signal came between its check of stop
         * and its epoll_wait: write(2) is async-signal-safe. */
        uint64_t one = 1;
        if (h->wake_fd >= 0 && write(h->wake_fd, &one, sizeof(one)) < 0) {
                /* the counter is already non-zero: it will wake */
        }
}

/* ---- connections ---- */

static int conn_opened(void *ctx, struct conn_peer *p)
{
        struct host *h = ctx;
        struct host_conn *c = (struct host_conn *)p;
        c->serial = h->next_serial++;
        pthread_mutex_init(&c->lock, NULL);
        return 0;
}

static void conn_closing(void *ctx, struct conn_peer *p)
{
        struct host *h = ctx;
        struct host_conn *c = (struct host_conn *)p;
        /* Never while a worker owns it: its client left, or it was dropped,
         * only once the call came back (finish_deferred). */
        assert(!c->busy);
        /* Its tokens first: LogonTerminated may still look at client
         * buffers of the connection. */
        host_conn_release_tokens(c);
        host_conn_release_buffers(c);
        host_sections_conn_closed(h, c->maps, &c->nmaps);
        pthread_mutex_destroy(&c->lock);
}

static int conn_drop(struct host *h, struct host_conn *c, const char *why)
{
        return conn_close(&h->cs, &c->peer, why);
}

/* Is the peer root or in gid (primary or supplementary group)? */
static bool peer_in_group(const struct host_conn *c, gid_t gid)
{
        return c->peer.uid == 0 || (gid != (gid_t)-1 && conn_peer_in_group(&c->peer, gid));
}

/* Send a reply (and maybe an fd, which we close either way). */
static int send_reply(struct host *h, struct host_conn *c, const struct lsa_wire_message *m, int fd)
{
        size_t len = lsa_wire_encode(m, h->tx);
        int r = len ? fdpass_send(c->peer.fd, h->tx, len, fd, true) : -EINVAL;
        if (fd >= 0)
                close(fd);
        if (r < 0)
                return conn_drop(h, c, r == -EAGAIN ? "not reading its replies" : "could not send a reply");
        return 0;
}

/* ---- requests answered on a worker ---- */

struct host_deferred {
        struct host_job job; /* first: the pool hands it back */
        struct host *h;
        struct host_conn *c;
        host_deferred_fn *fn;
        struct lsa_wire_message m;
        struct host_submit submit;
        uint8_t *request_held; /* what m points to that was in the packet (LOGON's LocalGroups) */
        struct lsa_wire_message reply;
        int reply_fd;
        void *reply_held; /* what reply points to (LOGON_REPLY's SIDs): freed once it is sent */
};

static void run_deferred(struct host_job *j)
{
        struct host_deferred *d = (struct host_deferred *)j;
        d->fn(d->h, d->c, &d->m, &d->submit, &d->reply, &d->reply_fd, &d->reply_held);
        host_submit_release(&d->submit);
}

static void deferred_free(struct host_deferred *d)
{
        free(d->request_held);
        free(d->reply_held);
        free(d);
}

int host_defer(struct host *h, struct host_conn *c, const struct lsa_wire_message *m,
               struct host_submit *submit, host_deferred_fn *fn)
{
        struct host_deferred *d = calloc(1, sizeof(*d));
        if (!d) {
                host_submit_release(submit);
                return conn_drop(h, c, "out of memory for its request");
        }
        d->job.run = run_deferred;
        d->h = h;
        d->c = c;
        d->fn = fn;
        d->m = *m;
        /* Nothing may point into the packet, which the worker never sees. */
        if (d->m.type == LSA_WIRE_CALL)
                d->m.call.data = NULL;
        if (d->m.type == LSA_WIRE_LOGON) {
                d->m.logon.auth = NULL; /* it is submit */
                if (m->logon.local_len) {
                        d->request_held = malloc(m->logon.local_len);
                        if (!d->request_held) {
                                free(d);
                                host_submit_release(submit);
                                return conn_drop(h, c, "out of memory for its request");
                        }
                        memcpy(d->request_held, m->logon.local, m->logon.local_len);
                }
                d->m.logon.local = d->request_held;
        }
        /* Not read again until the reply has gone: its next requests, a
         * FREE of this call's buffer among them, wait in the socket. */
        if (epoll_ctl(h->cs.epoll_fd, EPOLL_CTL_DEL, c->peer.fd, NULL) < 0) {
                deferred_free(d);
                host_submit_release(submit);
                return conn_drop(h, c, "could not pause its connection");
        }
        d->submit = *submit;
        memset(submit, 0, sizeof(*submit));
        d->reply.type = lsa_wire_reply_type(m->type);
        d->reply_fd = -1;
        c->busy = true;
        if (host_workers_submit(&h->workers, &d->job) < 0) {
                c->busy = false;
                host_submit_release(&d->submit);
                deferred_free(d);
                return conn_drop(h, c, "no worker thread to run its call");
        }
        return 0;
}

/* On the host's thread: the calls the workers finished, answered; their
 * connections served again (unless draining: then they only get their
 * replies). */
static void finish_deferred(struct host *h)
{
        struct host_job *j = host_workers_take_done(&h->workers);
        while (j) {
                struct host_deferred *d = (struct host_deferred *)j;
                j = j->next;
                struct host_conn *c = d->c;
                c->busy = false;
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->peer };
                if (send_reply(h, c, &d->reply, d->reply_fd) == 0 && !h->draining &&
                    epoll_ctl(h->cs.epoll_fd, EPOLL_CTL_ADD, c->peer.fd, &ev) < 0)
                        conn_drop(h, c, "could not resume its connection");
                deferred_free(d);
        }
}

static struct host_package *package_by_id(struct host *h, uint32_t id)
{
        for (unsigned i = 0; i < h->npackages; i++)
                if (h->packages[i]->id == id)
                        return h->packages[i];
        return NULL;
}

static int handle_connect(struct host *h, struct host_conn *c, const struct lsa_wire_connect *m)
{
        struct lsa_wire_message r = { .type = LSA_WIRE_CONNECT_REPLY };
        NTSTATUS st = STATUS_SUCCESS;
        if (m->mode == LSA_WIRE_MODE_LOGON && !peer_in_group(c, h->cfg.logon_gid))
                st = STATUS_PORT_CONNECTION_REFUSED;
        else if (m->mode == LSA_WIRE_MODE_ADMIN && !peer_in_group(c, h->cfg.admin_gid))
                st = STATUS_ACCESS_DENIED;
        r.connect_reply.status = st;
        if (st != STATUS_SUCCESS) {
                conn_logf(&h->cs, "refused %s connection from pid %d uid %u",
                          m->mode == LSA_WIRE_MODE_LOGON ? "logon process" : "admin", (int)c->peer.pid,
                          (unsigned)c->peer.uid);
                if (send_reply(h, c, &r, -1) == 0)
                        conn_close(&h->cs, &c->peer, NULL);
                return CONN_GONE;
        }
        conn_handshaken(&h->cs, &c->peer);
        c->mode = (int)m->mode;
        memcpy(c->name, m->name, m->name_len);
        c->name[m->name_len] = '\0';
        c->reply_base = m->reply_base;
        c->reply_size = m->reply_size < h->cfg.reply_max ? m->reply_size : h->cfg.reply_max;
        c->reply_size -= c->reply_size % page_multiple();
        if (m->mode != LSA_WIRE_MODE_ADMIN && c->reply_size == 0)
                return conn_drop(h, c, "reply region smaller than a page");
        r.connect_reply.reply_size = c->reply_size;
        return send_reply(h, c, &r, -1);
}

/* The first reply after c's reply section exists carries it: read-only,
 * for the client to map over the region it reserved. A reply whose buffer
 * cannot reach the client loses it: *st becomes an error. */
static int announce_section(struct host_conn *c, uint32_t *flags, uint64_t offset, int32_t *st)
{
        if (!c->reply || c->reply_announced)
                return -1;
        int sfd = -1;
        uint64_t size = 0;
        if (host_reply_section_fd(c, &sfd, &size) == 0) {
                *flags |= LSA_WIRE_REPLY_SECTION;
                c->reply_announced = true;
                return sfd;
        }
        if (*flags & LSA_WIRE_REPLY_HAS_BUFFER) {
                host_free_return_buffer(c, offset);
                *flags &= ~LSA_WIRE_REPLY_HAS_BUFFER;
                *st = STATUS_INSUFFICIENT_RESOURCES;
        }
        return -1;
}

/* On a worker: a client's CALL. */
static void run_call(struct host *h, struct host_conn *c, const struct lsa_wire_message *m,
                     struct host_submit *submit, struct lsa_wire_message *reply, int *reply_fd, void **reply_held)
{
        (void)reply_held;
        struct lsa_wire_call_reply *r = &reply->call_reply;
        /* The package list is fixed while clients are served. */
        struct host_package *p = package_by_id(h, m->call.package);
        host_call_from_client(h, c, p, m->call.thread_id, m->call.submit_base, submit, r);
        *reply_fd = announce_section(c, &r->flags, r->return_offset, &r->status);
        if (!(r->flags & LSA_WIRE_REPLY_HAS_BUFFER))
                r->return_offset = r->return_length = 0;
}

/* On a worker: a client's LsaLogonUser. The token's SIDs, which the reply
 * points to, live until the reply has been sent (*reply_held). */
static void run_logon(struct host *h, struct host_conn *c, const struct lsa_wire_message *m,
                      struct host_submit *submit, struct lsa_wire_message *reply, int *reply_fd, void **reply_held)
{
        struct lsa_wire_logon_reply *r = &reply->logon_reply;
        struct host_package *p = package_by_id(h, m->logon.package);
        uint8_t *sids = malloc(HOST_TOKEN_SIDS_CAP);
        if (!sids) {
                r->status = STATUS_NO_MEMORY;
                return;
        }
        *reply_held = sids;
        host_logon_from_client(h, c, p, &m->logon, submit, sids, HOST_TOKEN_SIDS_CAP, r);
        *reply_fd = announce_section(c, &r->flags, r->profile_offset, &r->status);
        if (!NT_SUCCESS(r->status) && r->token_id) {
                /* The profile could not reach the client: nor may the logon. */
                host_token_close(c, r->token_id);
                memset(r, 0, sizeof(*r));
                r->status = STATUS_INSUFFICIENT_RESOURCES;
        }
}

/* *fd_in: the descriptor the request carried (lsa_wire_carries_fd), or -1;
 * set to -1 once taken. */
static int handle_request(struct host *h, struct host_conn *c, const struct lsa_wire_message *m, int *fd_in)
{
        if (m->type == LSA_WIRE_CONNECT) {
                if (c->peer.handshaken)
                        return conn_drop(h, c, "second CONNECT");
                return handle_connect(h, c, &m->connect);
        }
        if (!c->peer.handshaken)
                return conn_drop(h, c, "request before CONNECT");
        /* Admin connections ask for status and nothing else; clients never
         * for status. */
        if ((c->mode == LSA_WIRE_MODE_ADMIN) != (m->type == LSA_WIRE_STATUS))
                return conn_drop(h, c, "request not allowed on this connection");
        struct lsa_wire_message r = { .type = lsa_wire_reply_type(m->type) };
        int fd = -1;
        switch (m->type) {
        case LSA_WIRE_LOOKUP: {
                struct host_package *p = host_find_package_name(h, m->lookup.name);
                r.lookup_reply.status = p ? STATUS_SUCCESS : STATUS_NO_SUCH_PACKAGE;
                r.lookup_reply.package = p ? p->id : 0;
                break;
        }
        case LSA_WIRE_CALL: {
                struct host_package *p = package_by_id(h, m->call.package);
                if (!p) {
                        r.call_reply.status = STATUS_NO_SUCH_PACKAGE;
                        r.call_reply.protocol_status = STATUS_NO_SUCH_PACKAGE;
                        break;
                }
                struct host_submit submit;
                NTSTATUS st = host_submit_take(m->call.data, m->call.length, *fd_in, h->cfg.max_submit, &submit);
                *fd_in = -1;
                if (st != STATUS_SUCCESS) {
                        if (st == STATUS_INVALID_PARAMETER)
                                conn_logf(&h->cs, "refused a call from pid %d uid %u: its submit buffer's "
                                                  "memfd is not sealed, or not of the size it said",
                                          (int)c->peer.pid, (unsigned)c->peer.uid);
                        r.call_reply.status = st;
                        r.call_reply.protocol_status = st;
                        break;
                }
                return host_defer(h, c, m, &submit, run_call);
        }
        case LSA_WIRE_LOGON: {
                if (!package_by_id(h, m->logon.package)) {
                        r.logon_reply.status = STATUS_NO_SUCH_PACKAGE;
                        break;
                }
                struct host_submit auth;
                NTSTATUS st = host_submit_take(m->logon.auth, m->logon.auth_len, *fd_in, h->cfg.max_submit, &auth);
                *fd_in = -1;
                if (st != STATUS_SUCCESS) {
                        if (st == STATUS_INVALID_PARAMETER)
                                conn_logf(&h->cs, "refused a logon from pid %d uid %u: its authentication "
                                                  "information's memfd is not sealed, or not of the size it said",
                                          (int)c->peer.pid, (unsigned)c->peer.uid);
                        r.logon_reply.status = st;
                        break;
                }
                return host_defer(h, c, m, &auth, run_logon);
        }
        case LSA_WIRE_CLOSE_TOKEN:
                host_token_close(c, m->close_token.token_id); /* a notice */
                return 0;
        case LSA_WIRE_SESSIONS:
        case LSA_WIRE_SESSION_DATA: {
                /* Root and the admin group see every session, others their own. */
                bool all = peer_in_group(c, h->cfg.admin_gid);
                struct lsa_wire_call_reply *cr = &r.call_reply;
                if (m->type == LSA_WIRE_SESSIONS)
                        host_sessions_enumerate(c, all, cr);
                else
                        host_session_data_query(c, all, m->session_data.logon_id, cr);
                fd = announce_section(c, &cr->flags, cr->return_offset, &cr->status);
                break;
        }
        case LSA_WIRE_FREE:
                /* A notice: an offset that is no return buffer frees
                 * nothing (the library never sends one). */
                host_free_return_buffer(c, m->free.offset);
                return 0;
        case LSA_WIRE_MAP:
                r.map_reply.status = host_section_map(h, c->serial, c->maps, &c->nmaps, m->map.section_id,
                                                      &fd, &r.map_reply);
                break;
        case LSA_WIRE_UNMAP:
                host_section_unmap(h, c->maps, &c->nmaps, m->unmap.section_id); /* a notice, too */
                return 0;
        case LSA_WIRE_STATUS: {
                uint64_t len = 0;
                int e = m->status.format >= LSA_WIRE_STATUS_SESSIONS_TEXT
                                ? host_report_sessions(h, m->status.format == LSA_WIRE_STATUS_SESSIONS_JSON, &fd, &len)
                                : host_report(h, m->status.format == LSA_WIRE_STATUS_JSON, &fd, &len);
                r.status_reply.status = e < 0 ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
                r.status_reply.length = len;
                break;
        }
        default:
                return conn_drop(h, c, "unexpected message");
        }
        return send_reply(h, c, &r, fd);
}

/* Serve up to REQUESTS_PER_TURN packets from c; CONN_GONE once c is gone. */
static int serve_conn(struct host *h, struct host_conn *c)
{
        for (int i = 0; i < REQUESTS_PER_TURN; i++) {
                int fd = -1; /* only with a request that says it carries one */
                ssize_t n = fdpass_recv(c->peer.fd, h->rx, LSA_WIRE_MAX_MESSAGE, &fd, true, true);
                if (n == -EAGAIN)
                        return 0;
                if (n == 0)
                        return conn_close(&h->cs, &c->peer, NULL); /* hung up: the usual end */
                if (n < 0)
                        return conn_drop(h, c, n == -EBADMSG ? "sent a descriptor or truncated packet"
                                                             : "receive failed");
                struct lsa_wire_message m;
                int r = lsa_wire_decode(h->rx, (size_t)n, 1, &m);
                if (r == 0 && (fd >= 0) != lsa_wire_carries_fd(&m))
                        r = -EBADF;
                if (r < 0) {
                        explicit_bzero(h->rx, (size_t)n);
                        if (fd >= 0)
                                close(fd);
                        return conn_drop(h, c, r == -EPROTONOSUPPORT ? "wrong protocol version or direction"
                                               : r == -EBADF         ? "sent a descriptor it should not, or not one it should"
                                                                     : "malformed message");
                }
                int done = handle_request(h, c, &m, &fd);
                if (fd >= 0)
                        close(fd);
                /* The packet may have carried a password: gone before the
                 * next one, which may be shorter, arrives. */
                explicit_bzero(h->rx, (size_t)n);
                if (done < 0)
                        return CONN_GONE;
                if (c->busy)
                        return 0; /* read again once its call is answered */
        }
        return 0;
}

/* Wait up to timeout_ms (-1: for ever) for something to serve, and serve it. */
static int dispatch_wait(struct host *h, int timeout_ms)
{
        struct epoll_event evs[32];
        int n = epoll_wait(h->cs.epoll_fd, evs, 32, timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                if (evs[i].data.ptr == &h->wake_fd) {
                        uint64_t count;
                        if (read(h->wake_fd, &count, sizeof(count)) < 0) {
                                /* nothing to drain */
                        }
                        continue;
                }
                if (evs[i].data.ptr == &h->workers.done_fd) {
                        finish_deferred(h);
                        continue;
                }
                struct host_conn *c = (struct host_conn *)conn_event(&h->cs, &evs[i]);
                /* busy: paused after this round's events were fetched */
                if (c && !c->busy && !h->draining && evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                        serve_conn(h, c);
        }
        conn_reap(&h->cs);
        return 0;
}

int host_dispatch(struct host *h)
{
        return h ? dispatch_wait(h, 0) : -EINVAL;
}

int host_run(struct host *h)
{
        if (!h)
                return -EINVAL;
        while (!h->stop) {
                int r = dispatch_wait(h, -1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The socket we bound is unlinked at once when we stop serving. */
static void socket_unlink(struct host *h)
{
        if (h->socket_path) {
                unlink(h->socket_path);
                free(h->socket_path);
                h->socket_path = NULL;
        }
}

int host_drain(struct host *h, unsigned timeout_ms)
{
        if (!h)
                return -EINVAL;
        h->draining = true;
        socket_unlink(h);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t end = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
        for (;;) {
                finish_deferred(h);
                unsigned left = host_workers_in_flight(&h->workers);
                if (!left) {
                        finish_deferred(h); /* those done since */
                        return 0;
                }
                clock_gettime(CLOCK_MONOTONIC, &ts);
                int64_t ms = end - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
                if (ms <= 0) {
                        host_logf(h, "shutdown: %u call%s still running after %u ms: not waiting for them", left,
                                  left == 1 ? "" : "s", timeout_ms);
                        return -ETIMEDOUT;
                }
                struct pollfd p = { .fd = h->workers.done_fd, .events = POLLIN };
                poll(&p, 1, (int)ms);
        }
}

void host_destroy(struct host *h)
{
        if (!h)
                return;
        /* The calls in flight finish and are answered; then no worker is
         * left to run package code while the packages go. */
        h->draining = true;
        host_workers_wait(&h->workers, -1);
        finish_deferred(h);
        host_workers_stop(&h->workers);
        /* Connections hold client buffers and mappings of package
         * sections: gone before the packages. */
        conn_set_fini(&h->cs);
        /* Unload in reverse order of loading, as dependencies go. */
        while (h->npackages)
                host_package_unload(h, h->packages[h->npackages - 1]);
        host_sections_release(h, NULL);
        host_logon_sessions_clear();
        host_release(h, true);
        if (host_global == h)
                host_global = NULL;
        free(h);
}
