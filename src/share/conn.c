/* SPDX-License-Identifier: MIT */
/* The connection skeleton: see conn.h. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "share/conn.h"
#include "share/listener.h"

/* Connections taken from the backlog per wakeup: the rest wait for the next
 * round, so a connect storm cannot starve the peers already served. */
#define ACCEPTS_PER_TURN 64
/* Seconds between two "out of descriptors" lines. */
#define EMFILE_LOG_INTERVAL 60u

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_line(struct conn_set *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(struct conn_set *s, const char *fmt, ...)
{
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        s->cfg.log(s->cfg.ctx, line);
}

void conn_logf(struct conn_set *s, const char *fmt, ...)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t sec = (uint64_t)now.tv_sec;
        if (sec > s->log_second) {
                uint64_t refill = (sec - s->log_second) + s->log_tokens;
                s->log_tokens = refill > s->cfg.log_burst ? s->cfg.log_burst : (unsigned)refill;
                s->log_second = sec;
        }
        if (s->log_tokens == 0) {
                s->log_suppressed++;
                return;
        }
        s->log_tokens--;
        if (s->log_suppressed) {
                log_line(s, "(%" PRIu64 " lines about clients left out)", s->log_suppressed);
                s->log_suppressed = 0;
        }
        char line[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        log_line(s, "%s", line);
}

bool conn_peer_in_group(const struct conn_peer *p, gid_t gid)
{
        if (p->gid == gid)
                return true;
        for (uint32_t i = 0; i < p->n_groups; i++)
                if (p->groups[i] == gid)
                        return true;
        return false;
}

static bool is_privileged(const struct conn_set *s, const struct conn_peer *p)
{
        if (p->uid == 0)
                return true;
        for (size_t i = 0; i < s->cfg.n_privileged_gids; i++)
                if (conn_peer_in_group(p, s->gids[i]))
                        return true;
        return false;
}

/* ---- the handshake deadline ---- */

static void arm_timer(struct conn_set *s, int64_t at_ms)
{
        struct itimerspec its = { 0 };
        if (at_ms > 0) {
                its.it_value.tv_sec = at_ms / 1000;
                its.it_value.tv_nsec = (at_ms % 1000) * 1000000;
        }
        if (timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
                s->timer_ms = at_ms;
}

static int64_t deadline_of(const struct conn_set *s, const struct conn_peer *p)
{
        return p->accepted_ms + (int64_t)s->cfg.handshake_ms;
}

/* A peer that never says its first message would hold its slot, and count
 * against its uid, for ever. */
static void drop_late(struct conn_set *s)
{
        uint64_t expirations;
        (void)!read(s->timer_fd, &expirations, sizeof(expirations));
        s->timer_ms = 0;
        if (!s->cfg.handshake_ms)
                return;
        int64_t now = now_ms(), next = 0;
        char why[64];
        snprintf(why, sizeof(why), "sent no %s in time", s->cfg.handshake);
        for (struct conn_peer *p = s->peers, *nx; p && s->n_unhandshaken; p = nx) {
                nx = p->next;
                if (p->handshaken)
                        continue;
                if (deadline_of(s, p) <= now)
                        conn_close(s, p, why);
                else if (!next || deadline_of(s, p) < next)
                        next = deadline_of(s, p);
        }
        if (next)
                arm_timer(s, next);
}

/* ---- admission ---- */

static uint32_t peers_of_uid(const struct conn_set *s, uid_t uid)
{
        uint32_t n = 0;
        for (const struct conn_peer *p = s->peers; p; p = p->next)
                n += p->uid == uid;
        return n;
}

/* A privileged peer finds every slot taken: the oldest peer that is neither
 * privileged nor past its handshake gives way. */
static bool evict_for_privileged(struct conn_set *s)
{
        struct conn_peer *victim = NULL;
        for (struct conn_peer *p = s->peers; p; p = p->next) /* newest first */
                if (!p->privileged && !p->handshaken)
                        victim = p;
        if (!victim)
                return false;
        conn_close(s, victim, "slot taken by a privileged client");
        return true;
}

/* NULL if p may have a slot, else why not. */
static const char *refusal(struct conn_set *s, const struct conn_peer *p)
{
        uint32_t reserved = s->cfg.reserved < s->cfg.total / 2 ? s->cfg.reserved : s->cfg.total / 2;
        if (peers_of_uid(s, p->uid) >= s->cfg.per_uid)
                return "too many connections of its uid";
        if (!p->privileged && s->n >= s->cfg.total - reserved)
                return "too many connections";
        if (p->privileged && s->n >= s->cfg.total && !evict_for_privileged(s))
                return "too many connections";
        return NULL;
}

static void free_peer(struct conn_peer *p)
{
        free(p->groups);
        free(p);
}

static void admit(struct conn_set *s, int fd)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        struct conn_peer *p = calloc(1, s->cfg.peer_size);
        if (!p || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
            listener_peer_groups(fd, &p->groups, &p->n_groups) < 0) {
                close(fd);
                if (p)
                        free_peer(p);
                return;
        }
        p->fd = fd;
        p->pid = cred.pid;
        p->uid = cred.uid;
        p->gid = cred.gid;
        p->accepted_ms = now_ms();
        p->privileged = is_privileged(s, p);
        const char *why = refusal(s, p);
        if (why) {
                conn_logf(s, "refused client pid %d uid %u: %s", (int)p->pid, (unsigned)p->uid, why);
                s->refused++;
                close(fd);
                free_peer(p);
                return;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = p };
        bool opened = false;
        if (s->cfg.on_open && s->cfg.on_open(s->cfg.ctx, p) < 0)
                goto fail;
        opened = true;
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                goto fail;
        p->next = s->peers;
        if (s->peers)
                s->peers->prev = p;
        s->peers = p;
        s->n++;
        s->accepted++;
        if (s->cfg.handshake_ms) {
                s->n_unhandshaken++;
                if (!s->timer_ms || deadline_of(s, p) < s->timer_ms)
                        arm_timer(s, deadline_of(s, p));
        } else {
                p->handshaken = true;
        }
        return;
fail:
        if (opened && s->cfg.on_close)
                s->cfg.on_close(s->cfg.ctx, p);
        close(fd);
        free_peer(p);
}

/* Out of descriptors, a waiting connection would stay in the backlog and
 * wake a level-triggered epoll for ever: give up the spare descriptor,
 * accept the connection and close it, so the client learns at once and we
 * do not spin. */
static void shed_connection(struct conn_set *s, int err)
{
        uint64_t sec = (uint64_t)(now_ms() / 1000);
        if (!s->last_emfile_log || sec >= s->last_emfile_log + EMFILE_LOG_INTERVAL) {
                log_line(s, "out of file descriptors (%s): refusing new connections", strerror(err));
                s->last_emfile_log = sec ? sec : 1;
        }
        if (s->spare_fd >= 0) {
                close(s->spare_fd);
                s->spare_fd = -1;
        }
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
                close(fd);
        s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_some(struct conn_set *s)
{
        for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE)
                                shed_connection(s, errno);
                        return;
                }
                admit(s, fd);
        }
}

/* ---- the set ---- */

int conn_set_init(struct conn_set *s, const struct conn_config *cfg, int listen_fd)
{
        *s = (struct conn_set){ .cfg = *cfg, .listen_fd = listen_fd, .epoll_fd = -1, .timer_fd = -1,
                                .spare_fd = -1 };
        if (!s->cfg.log_burst)
                s->cfg.log_burst = CONN_LOG_BURST;
        s->log_tokens = s->cfg.log_burst;
        s->cfg.privileged_gids = NULL;
        if (cfg->n_privileged_gids) {
                s->gids = calloc(cfg->n_privileged_gids, sizeof(gid_t));
                if (!s->gids) {
                        s->cfg.n_privileged_gids = 0;
                        return -ENOMEM;
                }
                memcpy(s->gids, cfg->privileged_gids, cfg->n_privileged_gids * sizeof(gid_t));
        }
        s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (s->epoll_fd < 0 || s->timer_fd < 0)
                return -errno;
        struct epoll_event lev = { .events = EPOLLIN, .data.ptr = &s->listen_fd };
        struct epoll_event tev = { .events = EPOLLIN, .data.ptr = &s->timer_fd };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, listen_fd, &lev) < 0 ||
            epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->timer_fd, &tev) < 0)
                return -errno;
        return 0;
}

int conn_set_limits(struct conn_set *s, uint32_t total, uint32_t per_uid, uint32_t reserved,
                    const gid_t *privileged_gids, size_t n_privileged_gids)
{
        s->cfg.total = total;
        s->cfg.per_uid = per_uid;
        s->cfg.reserved = reserved;
        gid_t *gids = NULL;
        if (n_privileged_gids) {
                gids = calloc(n_privileged_gids, sizeof(gid_t));
                if (!gids)
                        return -ENOMEM;
                memcpy(gids, privileged_gids, n_privileged_gids * sizeof(gid_t));
        }
        free(s->gids);
        s->gids = gids;
        s->cfg.n_privileged_gids = n_privileged_gids;
        return 0;
}

void conn_set_fini(struct conn_set *s)
{
        while (s->peers)
                conn_close(s, s->peers, NULL);
        conn_reap(s);
        int *fds[] = { &s->epoll_fd, &s->timer_fd, &s->spare_fd };
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
        free(s->gids);
        s->gids = NULL;
        s->cfg.n_privileged_gids = 0;
}

struct conn_peer *conn_event(struct conn_set *s, const struct epoll_event *ev)
{
        if (ev->data.ptr == &s->listen_fd) {
                accept_some(s);
                return NULL;
        }
        if (ev->data.ptr == &s->timer_fd) {
                drop_late(s);
                return NULL;
        }
        struct conn_peer *p = ev->data.ptr;
        return p->closed ? NULL : p;
}

void conn_handshaken(struct conn_set *s, struct conn_peer *p)
{
        if (p->handshaken)
                return;
        p->handshaken = true;
        s->n_unhandshaken--;
}

int conn_close(struct conn_set *s, struct conn_peer *p, const char *why)
{
        if (p->closed)
                return CONN_GONE;
        if (why) {
                conn_logf(s, "dropped client pid %d uid %u: %s", (int)p->pid, (unsigned)p->uid, why);
                s->dropped++;
        }
        if (s->cfg.on_close)
                s->cfg.on_close(s->cfg.ctx, p);
        epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, p->fd, NULL);
        close(p->fd);
        p->fd = -1;
        if (!p->handshaken)
                s->n_unhandshaken--;
        s->n--;
        if (p->prev)
                p->prev->next = p->next;
        else
                s->peers = p->next;
        if (p->next)
                p->next->prev = p->prev;
        p->closed = true;
        p->prev = NULL;
        p->next = s->closed;
        s->closed = p;
        return CONN_GONE;
}

void conn_reap(struct conn_set *s)
{
        while (s->closed) {
                struct conn_peer *p = s->closed;
                s->closed = p->next;
                free_peer(p);
        }
}
