/* SPDX-License-Identifier: MIT */
/*
 * The host's side of its connections (accepted, identified and limited by
 * the skeleton, src/share/conn.c): read one request at a time, answer it.
 * The host's thread takes a connection's CONNECT, then hands a client
 * connection to the workers, which serve it from then on, one worker at a
 * time (EPOLLONESHOT), and hand it back to be closed; admin connections
 * stay on the host's thread (host-base.h, "Threads").
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
static void serve_client(void *ctx, void *ptr, uint8_t *rx, uint8_t *tx);
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
        if (h->back_fd >= 0)
                close(h->back_fd);
        free(h->rx);
        free(h->tx);
        pthread_mutex_destroy(&h->back_lock);
        pthread_mutex_destroy(&h->cs_lock);
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
        h->workers.epoll_fd = h->workers.stop_fd = -1;
        h->back_fd = -1;
        pthread_mutex_init(&h->cs_lock, NULL);
        pthread_mutex_init(&h->back_lock, NULL);
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
        if ((r = host_workers_init(&h->workers, h->cfg.worker_threads, LSA_WIRE_MAX_MESSAGE, serve_client, h)) < 0)
                goto fail;
        struct epoll_event back = { .events = EPOLLIN, .data.ptr = &h->back_fd };
        h->back_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (h->back_fd < 0 || epoll_ctl(h->cs.epoll_fd, EPOLL_CTL_ADD, h->back_fd, &back) < 0) {
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
        /* Never while a worker owns it: a worker hands it back first
         * (hand_back), or all have stopped (host_destroy). */
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

/* Encode m into tx and send it (and maybe an fd, which we close either
 * way), without blocking. NULL, or why the client is to be dropped. */
static const char *send_reply(struct host_conn *c, const struct lsa_wire_message *m, int fd, uint8_t *tx)
{
        size_t len = lsa_wire_encode(m, tx);
        int r = len ? fdpass_send(c->peer.fd, tx, len, fd, true) : -EINVAL;
        if (fd >= 0)
                close(fd);
        if (r < 0)
                return r == -EAGAIN ? "not reading its replies" : "could not send a reply";
        return NULL;
}

/* On the host's thread. */
static int host_send_reply(struct host *h, struct host_conn *c, const struct lsa_wire_message *m, int fd)
{
        const char *why = send_reply(c, m, fd, h->tx);
        return why ? conn_drop(h, c, why) : 0;
}

static struct host_package *package_by_id(struct host *h, uint32_t id)
{
        /* The package list is fixed while clients are served. */
        for (unsigned i = 0; i < h->npackages; i++)
                if (h->packages[i]->id == id)
                        return h->packages[i];
        return NULL;
}

/* ---- client connections, on the workers ---- */

/* A worker gives c up: the host's thread closes it (the skeleton is
 * single-threaded), with why in the log (NULL: the client left). */
static void hand_back(struct host *h, struct host_conn *c, const char *why)
{
        c->back_why = why;
        pthread_mutex_lock(&h->back_lock);
        c->back_next = h->back;
        h->back = c;
        pthread_mutex_unlock(&h->back_lock);
        uint64_t one = 1;
        if (write(h->back_fd, &one, sizeof(one)) < 0) {
                /* the counter is non-zero already: the host wakes */
        }
}

/* On the host's thread: close what the workers gave up. */
static void close_handed_back(struct host *h)
{
        uint64_t count;
        if (read(h->back_fd, &count, sizeof(count)) < 0) {
                /* nothing to clear */
        }
        pthread_mutex_lock(&h->back_lock);
        struct host_conn *c = h->back;
        h->back = NULL;
        pthread_mutex_unlock(&h->back_lock);
        while (c) {
                struct host_conn *next = c->back_next;
                host_workers_forget(&h->workers, c->peer.fd);
                conn_close(&h->cs, &c->peer, c->back_why);
                c = next;
        }
}

/* Hand c, just connected, to the workers; the host's thread lets go of it
 * (it touches c again only once a worker hands it back). 0 or CONN_GONE. */
static int conn_to_workers(struct host *h, struct host_conn *c)
{
        if (epoll_ctl(h->cs.epoll_fd, EPOLL_CTL_DEL, c->peer.fd, NULL) < 0)
                return conn_drop(h, c, "could not hand its connection over");
        __atomic_add_fetch(&c->handoff, 1, __ATOMIC_RELEASE);
        if (host_workers_arm(&h->workers, c->peer.fd, c, true) < 0)
                return conn_drop(h, c, "no worker thread to serve it");
        return 0;
}

/* A line a client caused, from a worker: the skeleton's rate limit is the
 * host's thread's, taken under cs_lock. */
#define worker_logf(h, ...)                               \
        do {                                              \
                pthread_mutex_lock(&(h)->cs_lock);        \
                conn_logf(&(h)->cs, __VA_ARGS__);         \
                pthread_mutex_unlock(&(h)->cs_lock);      \
        } while (0)

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

/* The bytes a CALL or LOGON carries (inline, or a sealed memfd past 64 KiB),
 * taken once into private memory: *fd_in is consumed either way. A memfd
 * that is not what the client said gets one log line, since only a client
 * that bypasses the library sends one. */
static NTSTATUS take_client_bytes(struct host *h, const struct host_conn *c, const char *request, const char *bytes,
                                  const uint8_t *inline_data, uint32_t length, int *fd_in, struct host_submit *out)
{
        uint64_t max = __atomic_load_n(&h->cfg.max_submit, __ATOMIC_RELAXED);
        NTSTATUS st = host_submit_take(inline_data, length, *fd_in, max, out);
        *fd_in = -1;
        if (st == STATUS_INVALID_PARAMETER)
                worker_logf(h, "refused %s from pid %d uid %u: %s's memfd is not sealed, or not of the size it said",
                            request, (int)c->peer.pid, (unsigned)c->peer.uid, bytes);
        return st;
}

/* Return buffers the client freed (LsaFreeReturnBuffer, held back until
 * this request): an offset that is no return buffer of c's frees nothing
 * (the library never sends one). */
static void apply_frees(struct host_conn *c, const struct lsa_wire_frees *f)
{
        for (uint32_t i = 0; i < f->n; i++)
                host_free_return_buffer(c, f->offset[i]);
}

/* A client's CALL: its frees first, so that their room serves this call. */
static void client_call(struct host *h, struct host_conn *c, const struct lsa_wire_call *m, int *fd_in,
                        struct lsa_wire_call_reply *r, int *reply_fd)
{
        apply_frees(c, &m->frees);
        struct host_package *p = package_by_id(h, m->package);
        if (!p) {
                r->status = r->protocol_status = STATUS_NO_SUCH_PACKAGE;
                return;
        }
        struct host_submit submit;
        NTSTATUS st = take_client_bytes(h, c, "a call", "its submit buffer", m->data, m->length, fd_in, &submit);
        if (st != STATUS_SUCCESS) {
                r->status = r->protocol_status = st;
                return;
        }
        host_call_from_client(h, c, p, m->thread_id, m->submit_base, &submit, r);
        host_submit_release(&submit);
        *reply_fd = announce_section(c, &r->flags, r->return_offset, &r->status);
        if (!(r->flags & LSA_WIRE_REPLY_HAS_BUFFER))
                r->return_offset = r->return_length = 0;
}

/* A client's LsaLogonUser. The token's SIDs, which the reply points to,
 * live in sids (HOST_TOKEN_SIDS_CAP bytes) until the reply has gone. */
static void client_logon(struct host *h, struct host_conn *c, const struct lsa_wire_logon *m, int *fd_in,
                         uint8_t *sids, struct lsa_wire_logon_reply *r, int *reply_fd)
{
        struct host_package *p = package_by_id(h, m->package);
        if (!p) {
                r->status = STATUS_NO_SUCH_PACKAGE;
                return;
        }
        if (!sids) {
                r->status = STATUS_NO_MEMORY;
                return;
        }
        struct host_submit auth;
        NTSTATUS st = take_client_bytes(h, c, "a logon", "its authentication information", m->auth, m->auth_len,
                                        fd_in, &auth);
        if (st != STATUS_SUCCESS) {
                r->status = st;
                return;
        }
        host_logon_from_client(h, c, p, m, &auth, sids, HOST_TOKEN_SIDS_CAP, r);
        host_submit_release(&auth);
        *reply_fd = announce_section(c, &r->flags, r->profile_offset, &r->status);
        if (!NT_SUCCESS(r->status) && r->token_id) {
                /* The profile could not reach the client: nor may the logon. */
                host_token_close(c, r->token_id);
                memset(r, 0, sizeof(*r));
                r->status = STATUS_INSUFFICIENT_RESOURCES;
        }
}

/* Is the peer root or in gid (primary or supplementary group)? */
static bool peer_in_group(const struct host_conn *c, gid_t gid)
{
        return c->peer.uid == 0 || (gid != (gid_t)-1 && conn_peer_in_group(&c->peer, gid));
}

/* On the worker that owns c: one request of a connected client. 1: it was
 * answered; 0: a notice, answered nothing; -1: c is to be dropped, *why
 * says why. *fd_in: the descriptor the request carried, or -1; set to -1
 * once taken. */
static int client_request(struct host *h, struct host_conn *c, const struct lsa_wire_message *m, int *fd_in,
                          uint8_t *tx, const char **why)
{
        struct lsa_wire_message r = { .type = lsa_wire_reply_type(m->type) };
        int fd = -1;
        uint8_t *held = NULL;
        switch (m->type) {
        case LSA_WIRE_CALL:
                client_call(h, c, &m->call, fd_in, &r.call_reply, &fd);
                break;
        case LSA_WIRE_LOGON:
                held = malloc(HOST_TOKEN_SIDS_CAP);
                client_logon(h, c, &m->logon, fd_in, held, &r.logon_reply, &fd);
                break;
        case LSA_WIRE_FREE:
                host_free_return_buffer(c, m->free.offset); /* a notice */
                apply_frees(c, &m->free.more);
                return 0;
        case LSA_WIRE_LOOKUP: {
                struct host_package *p = host_find_package_name(h, m->lookup.name);
                r.lookup_reply.status = p ? STATUS_SUCCESS : STATUS_NO_SUCH_PACKAGE;
                r.lookup_reply.package = p ? p->id : 0;
                break;
        }
        case LSA_WIRE_CLOSE_TOKEN:
                host_token_close(c, m->close_token.token_id); /* a notice */
                return 0;
        case LSA_WIRE_SESSIONS:
        case LSA_WIRE_SESSION_DATA: {
                /* Root and the admin group see every session, others their own. */
                bool all = peer_in_group(c, __atomic_load_n(&h->cfg.admin_gid, __ATOMIC_RELAXED));
                struct lsa_wire_call_reply *cr = &r.call_reply;
                if (m->type == LSA_WIRE_SESSIONS)
                        host_sessions_enumerate(c, all, cr);
                else
                        host_session_data_query(c, all, m->session_data.logon_id, cr);
                fd = announce_section(c, &cr->flags, cr->return_offset, &cr->status);
                break;
        }
        case LSA_WIRE_MAP:
                r.map_reply.status = host_section_map(h, c->serial, c->maps, &c->nmaps, m->map.section_id,
                                                      &fd, &r.map_reply);
                break;
        case LSA_WIRE_UNMAP:
                host_section_unmap(h, c->maps, &c->nmaps, m->unmap.section_id); /* a notice, too */
                return 0;
        case LSA_WIRE_CONNECT:
                *why = "second CONNECT";
                return -1;
        default: /* STATUS: admin connections only */
                *why = "request not allowed on this connection";
                return -1;
        }
        *why = send_reply(c, &r, fd, tx);
        free(held);
        return *why ? -1 : 1;
}

/* A worker woken for c (host_serve_fn): its requests, up to
 * REQUESTS_PER_TURN, each answered before the next is read, then c is
 * re-armed. After a reply it looks once more without waiting: a client on
 * this CPU ran as soon as the reply woke it and has often sent its next
 * request already, which is then served without a trip through epoll
 * (re-arm, another worker woken, this one put to sleep). */
static void serve_client(void *ctx, void *ptr, uint8_t *rx, uint8_t *tx)
{
        struct host *h = ctx;
        struct host_conn *c = ptr;
        (void)__atomic_load_n(&c->handoff, __ATOMIC_ACQUIRE);
        for (int i = 0; i < REQUESTS_PER_TURN; i++) {
                /* Draining: left as it is, unread, for host_destroy. */
                if (__atomic_load_n(&h->draining, __ATOMIC_SEQ_CST))
                        return;
                int fd = -1; /* only with a request that says it carries one */
                ssize_t n = fdpass_recv(c->peer.fd, rx, LSA_WIRE_MAX_MESSAGE, &fd, true, true);
                if (n == -EAGAIN)
                        break;
                if (n == 0) {
                        hand_back(h, c, NULL); /* hung up: the usual end */
                        return;
                }
                if (n < 0) {
                        hand_back(h, c, n == -EBADMSG ? "sent a descriptor or truncated packet" : "receive failed");
                        return;
                }
                const char *why = NULL;
                struct lsa_wire_message m;
                int r = lsa_wire_decode(rx, (size_t)n, 1, &m);
                if (r == 0 && (fd >= 0) != lsa_wire_carries_fd(&m))
                        r = -EBADF;
                if (r < 0)
                        why = r == -EPROTONOSUPPORT ? "wrong protocol version or direction"
                              : r == -EBADF         ? "sent a descriptor it should not, or not one it should"
                                                    : "malformed message";
                else
                        r = client_request(h, c, &m, &fd, tx, &why);
                if (fd >= 0)
                        close(fd);
                /* The packet may have carried a password: gone before the
                 * next one, which may be shorter, arrives. */
                explicit_bzero(rx, (size_t)n);
                if (r < 0) {
                        hand_back(h, c, why);
                        return;
                }
        }
        __atomic_add_fetch(&c->handoff, 1, __ATOMIC_RELEASE);
        if (host_workers_arm(&h->workers, c->peer.fd, c, false) < 0)
                hand_back(h, c, "could not resume its connection");
}

/* ---- connecting, and admin connections, on the host's thread ---- */

/* CONNECT: 0 (an admin connection, served here), 1 (a client connection,
 * handed to the workers) or CONN_GONE. */
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
                if (host_send_reply(h, c, &r, -1) == 0)
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
        if (host_send_reply(h, c, &r, -1) < 0)
                return CONN_GONE;
        if (m->mode == LSA_WIRE_MODE_ADMIN)
                return 0;
        return conn_to_workers(h, c) < 0 ? CONN_GONE : 1;
}

/* A request of a connection the host's thread serves: one not connected
 * yet, or an admin connection. 0, 1 (c went to the workers), CONN_GONE. */
static int handle_request(struct host *h, struct host_conn *c, const struct lsa_wire_message *m)
{
        if (m->type == LSA_WIRE_CONNECT) {
                if (c->peer.handshaken)
                        return conn_drop(h, c, "second CONNECT");
                return handle_connect(h, c, &m->connect);
        }
        if (!c->peer.handshaken)
                return conn_drop(h, c, "request before CONNECT");
        /* Admin connections ask for status and nothing else. */
        if (m->type != LSA_WIRE_STATUS)
                return conn_drop(h, c, "request not allowed on this connection");
        struct lsa_wire_message r = { .type = LSA_WIRE_STATUS_REPLY };
        int fd = -1;
        uint64_t len = 0;
        int e = m->status.format >= LSA_WIRE_STATUS_SESSIONS_TEXT
                        ? host_report_sessions(h, m->status.format == LSA_WIRE_STATUS_SESSIONS_JSON, &fd, &len)
                        : host_report(h, m->status.format == LSA_WIRE_STATUS_JSON, &fd, &len);
        r.status_reply.status = e < 0 ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
        r.status_reply.length = len;
        return host_send_reply(h, c, &r, fd);
}

/* Serve up to REQUESTS_PER_TURN packets from c, on the host's thread;
 * CONN_GONE once c is gone. */
static int serve_conn(struct host *h, struct host_conn *c)
{
        for (int i = 0; i < REQUESTS_PER_TURN; i++) {
                int fd = -1;
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
                if (fd >= 0)
                        close(fd); /* none of CONNECT and STATUS carries one */
                if (r < 0) {
                        explicit_bzero(h->rx, (size_t)n);
                        return conn_drop(h, c, r == -EPROTONOSUPPORT ? "wrong protocol version or direction"
                                               : r == -EBADF         ? "sent a descriptor it should not, or not one it should"
                                                                     : "malformed message");
                }
                int done = handle_request(h, c, &m);
                explicit_bzero(h->rx, (size_t)n);
                if (done != 0)
                        return done < 0 ? CONN_GONE : 0; /* 1: a worker's now, not to be touched */
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
        pthread_mutex_lock(&h->cs_lock);
        for (int i = 0; i < n; i++) {
                if (evs[i].data.ptr == &h->wake_fd) {
                        uint64_t count;
                        if (read(h->wake_fd, &count, sizeof(count)) < 0) {
                                /* nothing to drain */
                        }
                        continue;
                }
                if (evs[i].data.ptr == &h->back_fd) {
                        close_handed_back(h);
                        continue;
                }
                struct host_conn *c = (struct host_conn *)conn_event(&h->cs, &evs[i]);
                if (c && !__atomic_load_n(&h->draining, __ATOMIC_RELAXED) && evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                        serve_conn(h, c);
        }
        conn_reap(&h->cs);
        pthread_mutex_unlock(&h->cs_lock);
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
        /* Seen by a worker before it reads another request: each finishes
         * (and answers) the one it serves, then leaves its connection. */
        __atomic_store_n(&h->draining, true, __ATOMIC_SEQ_CST);
        socket_unlink(h);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t end = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
        for (;;) {
                unsigned left = host_workers_active(&h->workers);
                if (!left)
                        return 0;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                int64_t ms = end - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
                if (ms <= 0) {
                        host_logf(h, "shutdown: %u call%s still running after %u ms: not waiting for them", left,
                                  left == 1 ? "" : "s", timeout_ms);
                        return -ETIMEDOUT;
                }
                /* Rare and short: a poll beats a wake-up on every request. */
                struct timespec tick = { 0, 1000000 };
                nanosleep(&tick, NULL);
        }
}

void host_destroy(struct host *h)
{
        if (!h)
                return;
        /* The requests being served finish and are answered; then no
         * worker is left to run package code while the packages go. */
        __atomic_store_n(&h->draining, true, __ATOMIC_SEQ_CST);
        host_workers_stop(&h->workers);
        /* Connections hold client buffers and mappings of package
         * sections: gone before the packages (those handed back too). */
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
