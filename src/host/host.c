/* SPDX-License-Identifier: MIT */
/*
 * The host's socket: accept, identify, read one request at a time, answer
 * it. Every packet goes through lsa_wire_decode; a client that sends
 * something malformed, or a request out of order, is dropped with a log
 * line naming its pid and uid (such lines are rate-limited: a client can
 * cause them at will). Replies are sent without blocking: a client
 * that does not read its replies is dropped rather than allowed to stall
 * everyone else.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/host-internal.h"
#include "share/fdpass.h"
#include "share/listener.h"

struct host *host_global;

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Requests served from one connection per dispatch: fairness between a busy
 * client and the rest. */
#define REQUESTS_PER_TURN 16

void host_logf(struct host *h, const char *fmt, ...)
{
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (h && h->cfg.log)
                h->cfg.log(h->cfg.log_ctx, line);
        else
                fprintf(stderr, "lsashmd: %s\n", line);
}

/* Lines about clients (dropped, refused) are what a hostile client can
 * cause at will: at most LOG_BURST of them at once, then one a second, and
 * a count of what was left out when lines flow again. */
#define LOG_BURST 20

static void client_logf(struct host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void client_logf(struct host *h, const char *fmt, ...)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t sec = (uint64_t)now.tv_sec;
        if (sec > h->log_second) {
                uint64_t refill = (sec - h->log_second) + h->log_tokens;
                h->log_tokens = refill > LOG_BURST ? LOG_BURST : (unsigned)refill;
                h->log_second = sec;
        }
        if (h->log_tokens == 0) {
                h->log_suppressed++;
                return;
        }
        h->log_tokens--;
        if (h->log_suppressed) {
                host_logf(h, "(%" PRIu64 " lines about clients left out)", h->log_suppressed);
                h->log_suppressed = 0;
        }
        char line[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        host_logf(h, "%s", line);
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

/* Everything host_create acquired; the listening socket too when it is
 * ours to close. */
static void host_release(struct host *h, bool close_listener)
{
        if (h->wake_fd >= 0)
                close(h->wake_fd);
        if (h->epoll_fd >= 0)
                close(h->epoll_fd);
        if (h->socket_path) {
                unlink(h->socket_path);
                free(h->socket_path);
        }
        if (close_listener && h->listen_fd >= 0)
                close(h->listen_fd);
        free(h->rx);
        free(h->tx);
        if (h->spare_fd >= 0)
                close(h->spare_fd);
        pthread_mutex_destroy(&h->sections_lock);
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
        if (!h->cfg.socket_mode)
                h->cfg.socket_mode = 0666;
        if (!h->cfg.reply_max)
                h->cfg.reply_max = 1u << 20;
        if (h->cfg.reply_max < LSA_WIRE_REPLY_MIN)
                h->cfg.reply_max = LSA_WIRE_REPLY_MIN;
        if (h->cfg.reply_max > LSA_WIRE_REPLY_MAX)
                h->cfg.reply_max = LSA_WIRE_REPLY_MAX;
        h->cfg.reply_max -= h->cfg.reply_max % page_multiple();
        if (!h->cfg.max_connections)
                h->cfg.max_connections = 1024;
        if (!h->cfg.max_connections_per_uid)
                h->cfg.max_connections_per_uid = 64;
        if (!h->cfg.connect_timeout_ms)
                h->cfg.connect_timeout_ms = 10000;
        h->cfg.socket_path = NULL; /* not ours to keep */
        h->listen_fd = -1;
        h->epoll_fd = -1;
        h->wake_fd = -1;
        h->next_serial = 1;
        h->log_tokens = LOG_BURST;
        pthread_mutex_init(&h->sections_lock, NULL);

        int r = -ENOMEM;
        h->spare_fd = -1;
        h->rx = malloc(LSA_WIRE_MAX_MESSAGE);
        h->tx = malloc(LSA_WIRE_MAX_MESSAGE);
        if (!h->rx || !h->tx)
                goto fail;
        /* Each client costs a descriptor, two once it has a reply section,
         * and each section a package makes one more: the soft limit (often
         * 1024) would be reached long before the connection limits. */
        listener_raise_fd_limit();
        h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if ((r = host_protect_init()) < 0 || (r = host_sections_init(h)) < 0)
                goto fail;
        if (cfg->listen_fd >= 0) {
                h->listen_fd = cfg->listen_fd;
                if ((r = listener_adopt(h->listen_fd)) < 0)
                        goto fail;
        } else if ((r = bind_socket(h, cfg->socket_path, h->cfg.socket_mode)) < 0) {
                goto fail;
        }
        h->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (h->epoll_fd < 0) {
                r = -errno;
                goto fail;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
        struct epoll_event wake = { .events = EPOLLIN, .data.ptr = &h->wake_fd };
        h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (h->wake_fd < 0 || epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, h->listen_fd, &ev) < 0 ||
            epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, h->wake_fd, &wake) < 0) {
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
        return h ? h->epoll_fd : -EINVAL;
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

static unsigned conns_of_uid(const struct host *h, uid_t uid)
{
        unsigned n = 0;
        for (const struct host_conn *c = h->conns; c; c = c->next)
                n += c->uid == uid;
        return n;
}

static void conn_close(struct host *h, struct host_conn *c)
{
        epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        host_conn_release_buffers(c);
        host_sections_conn_closed(h, c);
        if (c->prev)
                c->prev->next = c->next;
        else
                h->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        h->nconns--;
        if (!c->connected)
                h->unconnected--;
        free(c);
}

static void conn_drop(struct host *h, struct host_conn *c, const char *why)
{
        client_logf(h, "dropped client pid %d uid %u: %s", (int)c->pid, (unsigned)c->uid, why);
        h->dropped++;
        conn_close(h, c);
}

static void accept_one(struct host *h, int fd)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                close(fd);
                return;
        }
        if (h->nconns >= h->cfg.max_connections ||
            conns_of_uid(h, cred.uid) >= h->cfg.max_connections_per_uid) {
                client_logf(h, "refused client pid %d uid %u: too many connections", (int)cred.pid,
                          (unsigned)cred.uid);
                close(fd);
                return;
        }
        struct host_conn *c = calloc(1, sizeof(*c));
        if (!c) {
                close(fd);
                return;
        }
        c->fd = fd;
        c->serial = h->next_serial++;
        c->pid = cred.pid;
        c->uid = cred.uid;
        c->gid = cred.gid;
        c->accepted_ms = now_ms();
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                close(fd);
                free(c);
                return;
        }
        c->next = h->conns;
        if (h->conns)
                h->conns->prev = c;
        h->conns = c;
        h->nconns++;
        h->unconnected++;
}

/* Out of descriptors, a waiting connection would stay in the backlog and
 * wake a level-triggered epoll forever: give up the spare descriptor,
 * accept the connection and close it, so the client learns at once and we
 * do not spin. Logged once a minute at most. */
static void shed_connection(struct host *h, int err)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (h->last_emfile_log == 0 || (uint64_t)now.tv_sec >= h->last_emfile_log + 60) {
                host_logf(h, "out of file descriptors (%s): refusing new connections", strerror(err));
                h->last_emfile_log = (uint64_t)now.tv_sec ? (uint64_t)now.tv_sec : 1;
        }
        if (h->spare_fd >= 0) {
                close(h->spare_fd);
                h->spare_fd = -1;
        }
        int fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
                close(fd);
        h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_all(struct host *h)
{
        for (int i = 0; i < 64; i++) {
                int fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE)
                                shed_connection(h, errno);
                        return;
                }
                accept_one(h, fd);
        }
}

/* Is the peer root or in gid (primary or supplementary group)? */
static bool peer_in_group(const struct host_conn *c, gid_t gid)
{
        if (c->uid == 0)
                return true;
        if (gid == (gid_t)-1)
                return false;
        if (c->gid == gid)
                return true;
        gid_t *groups;
        uint32_t n;
        if (listener_peer_groups(c->fd, &groups, &n) < 0)
                return false;
        bool found = false;
        for (uint32_t i = 0; i < n && !found; i++)
                found = groups[i] == gid;
        free(groups);
        return found;
}

/* Send a reply (and maybe an fd, which we close either way). */
static int send_reply(struct host *h, struct host_conn *c, const struct lsa_wire_message *m, int fd)
{
        size_t len = lsa_wire_encode(m, h->tx);
        int r = len ? fdpass_send(c->fd, h->tx, len, fd, true) : -EINVAL;
        if (fd >= 0)
                close(fd);
        if (r < 0) {
                conn_drop(h, c, r == -EAGAIN ? "not reading its replies" : "could not send a reply");
                return -1;
        }
        return 0;
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
                client_logf(h, "refused %s connection from pid %d uid %u",
                          m->mode == LSA_WIRE_MODE_LOGON ? "logon process" : "admin", (int)c->pid,
                          (unsigned)c->uid);
                if (send_reply(h, c, &r, -1) == 0)
                        conn_close(h, c);
                return -1;
        }
        c->connected = true;
        h->unconnected--;
        c->mode = (int)m->mode;
        memcpy(c->name, m->name, m->name_len);
        c->name[m->name_len] = '\0';
        c->reply_base = m->reply_base;
        c->reply_size = m->reply_size < h->cfg.reply_max ? m->reply_size : h->cfg.reply_max;
        c->reply_size -= c->reply_size % page_multiple();
        if (m->mode != LSA_WIRE_MODE_ADMIN && c->reply_size == 0) {
                conn_drop(h, c, "reply region smaller than a page");
                return -1;
        }
        r.connect_reply.reply_size = c->reply_size;
        return send_reply(h, c, &r, -1);
}

static int handle_request(struct host *h, struct host_conn *c, const struct lsa_wire_message *m)
{
        if (m->type == LSA_WIRE_CONNECT) {
                if (c->connected) {
                        conn_drop(h, c, "second CONNECT");
                        return -1;
                }
                return handle_connect(h, c, &m->connect);
        }
        if (!c->connected) {
                conn_drop(h, c, "request before CONNECT");
                return -1;
        }
        /* Admin connections ask for status and nothing else; clients never
         * for status. */
        if ((c->mode == LSA_WIRE_MODE_ADMIN) != (m->type == LSA_WIRE_STATUS)) {
                conn_drop(h, c, "request not allowed on this connection");
                return -1;
        }
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
                host_call_from_client(h, c, p, m->call.thread_id, m->call.submit_base, m->call.data,
                                      m->call.length, &r.call_reply);
                if (c->reply && !c->reply_announced) {
                        /* The first reply after the reply section exists
                         * carries it: read-only, for the client to map over
                         * the region it reserved. */
                        int sfd = -1;
                        uint64_t size = 0;
                        if (host_reply_section_fd(c, &sfd, &size) == 0) {
                                fd = sfd;
                                r.call_reply.flags |= LSA_WIRE_REPLY_SECTION;
                                c->reply_announced = true;
                        } else if (r.call_reply.flags & LSA_WIRE_REPLY_HAS_BUFFER) {
                                host_free_return_buffer(c, r.call_reply.return_offset);
                                r.call_reply.flags = 0;
                                r.call_reply.return_offset = 0;
                                r.call_reply.return_length = 0;
                                r.call_reply.status = STATUS_INSUFFICIENT_RESOURCES;
                        }
                }
                break;
        }
        case LSA_WIRE_FREE:
                /* A notice: an offset that is no return buffer frees
                 * nothing (the library never sends one). */
                host_free_return_buffer(c, m->free.offset);
                return 0;
        case LSA_WIRE_MAP:
                r.map_reply.status = host_section_map(h, c, m->map.section_id, &fd, &r.map_reply);
                break;
        case LSA_WIRE_UNMAP:
                host_section_unmap(h, c, m->unmap.section_id); /* a notice, too */
                return 0;
        case LSA_WIRE_STATUS: {
                uint64_t len = 0;
                int e = host_report(h, m->status.format == LSA_WIRE_STATUS_JSON, &fd, &len);
                r.status_reply.status = e < 0 ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
                r.status_reply.length = len;
                break;
        }
        default:
                conn_drop(h, c, "unexpected message");
                return -1;
        }
        return send_reply(h, c, &r, fd);
}

/* Serve up to REQUESTS_PER_TURN packets from c; -1 once c is gone. */
static int serve_conn(struct host *h, struct host_conn *c)
{
        for (int i = 0; i < REQUESTS_PER_TURN; i++) {
                int no_fd = -1; /* clients never send descriptors: one is a violation */
                ssize_t n = fdpass_recv(c->fd, h->rx, LSA_WIRE_MAX_MESSAGE, &no_fd, false, true);
                if (n == -EAGAIN)
                        return 0;
                if (n == 0) {
                        conn_close(h, c); /* hung up: the usual end */
                        return -1;
                }
                if (n < 0) {
                        conn_drop(h, c, n == -EBADMSG ? "sent a descriptor or truncated packet"
                                                      : "receive failed");
                        return -1;
                }
                struct lsa_wire_message m;
                int r = lsa_wire_decode(h->rx, (size_t)n, 1, &m);
                if (r < 0) {
                        conn_drop(h, c, r == -EPROTONOSUPPORT ? "wrong protocol version or direction"
                                                              : "malformed message");
                        return -1;
                }
                int done = handle_request(h, c, &m);
                /* The packet may have carried a password: gone before the
                 * next one, which may be shorter, arrives. */
                explicit_bzero(h->rx, (size_t)n);
                if (done < 0)
                        return -1;
        }
        return 0;
}

/* A connection that never says CONNECT would hold its slot (and count
 * against its uid's limit) for ever. */
static void drop_silent(struct host *h)
{
        int64_t deadline = now_ms() - (int64_t)h->cfg.connect_timeout_ms;
        for (struct host_conn *c = h->conns, *next; c && h->unconnected; c = next) {
                next = c->next;
                if (!c->connected && c->accepted_ms <= deadline)
                        conn_drop(h, c, "sent no CONNECT in time");
        }
}

/* Wait up to timeout_ms (-1: for ever) for something to serve, and serve it. */
static int dispatch_wait(struct host *h, int timeout_ms)
{
        if (h->unconnected)
                drop_silent(h);
        struct epoll_event evs[32];
        int n = epoll_wait(h->epoll_fd, evs, 32, timeout_ms);
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
                struct host_conn *c = evs[i].data.ptr;
                if (!c) {
                        accept_all(h);
                        continue;
                }
                /* A connection closed earlier in this batch cannot appear:
                 * epoll reports each fd once per wait, and closing removes
                 * only the connection being served. */
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                        serve_conn(h, c);
        }
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
                /* Wake once a second while a connection has a CONNECT
                 * deadline to keep. */
                int r = dispatch_wait(h, h->unconnected ? 1000 : -1);
                if (r < 0)
                        return r;
        }
        return 0;
}

void host_destroy(struct host *h)
{
        if (!h)
                return;
        while (h->conns)
                conn_close(h, h->conns);
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
