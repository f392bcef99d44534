/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the hostile sharing tests (tests/test-share-hostile-*.c):
 * hostile and dying peers of the sharing protocol, with real processes.
 *
 * Server side: the server runs in the test's process (driven by
 * lsashm_server_dispatch() under poll) or, for the thousand dying clients, in
 * a forked server process. Hostile clients are forked children speaking raw
 * SOCK_SEQPACKET. Each is disconnected with one log line naming its pid and
 * uid, every descriptor it sent is closed, and a well-behaved client
 * connected meanwhile keeps being served.
 *
 * Client side: a fake server in the test's process answers a forked client
 * that uses the real library with hostile replies.
 *
 * Synchronisation is by pipes and poll, never by sleeping.
 *
 * Header-only, included once by each test program; its functions are
 * static inline so that a program need not use all of them.
 */
#ifndef LSASHM_TESTS_SHARE_HOSTILE_FIXTURE_H
#define LSASHM_TESTS_SHARE_HOSTILE_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/section.h"
#include "lsashm/share.h"
#include "share/fdpass.h"
#include "share/wire.h"
#include "test-util.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define REQUIRED_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* No single dispatch (or unpublish) may take longer than this: the server
 * must never wait on a client. Generous, for sanitizer builds on busy CI. */
#define PROMPT_NS (1000LL * 1000 * 1000)

/* How long a test waits for any one event before it calls it a hang. */
#define STEP_MS 20000

static char sock_dir[64];
static char sock_path[128];

static inline int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- small helpers usable in children (no cmocka there) ---------------- */

static inline int raw_connect(void)
{
        return tu_seqpacket_connect(sock_path, 0);
}

static inline void set_timeouts(int s, int seconds)
{
        struct timeval tv = { .tv_sec = seconds };
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Receive one packet, closing every descriptor that came with it; returns
 * its length, 0 at end of stream, or -errno. *ret_nfds counts descriptors. */
static inline ssize_t recv_discard(int s, void *buf, size_t cap, int flags, int *ret_nfds)
{
        struct iovec iov = { .iov_base = buf, .iov_len = cap };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(64 * sizeof(int))];
        } control;
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        ssize_t n;
        do
                n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC | flags);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        int got = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < count; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        close(fd);
                        got++;
                }
        }
        if (ret_nfds)
                *ret_nfds = got;
        return n;
}

/* Read and discard until the peer hangs up. 1 on hangup, 0 on timeout,
 * -errno on another error. *ret_packets counts what arrived before. */
static inline int wait_hangup(int s, int timeout_ms, unsigned *ret_packets)
{
        int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
        unsigned packets = 0;
        for (;;) {
                int64_t left = (deadline - now_ns()) / 1000000;
                struct pollfd p = { .fd = s, .events = POLLIN };
                int r = poll(&p, 1, left > 0 ? (int)left : 0);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return r < 0 ? -errno : 0;
                uint8_t buf[4096];
                ssize_t n = recv_discard(s, buf, sizeof(buf), MSG_DONTWAIT, NULL);
                if (n == 0 || n == -ECONNRESET || n == -EPIPE) {
                        if (ret_packets)
                                *ret_packets = packets;
                        return 1;
                }
                if (n == -EAGAIN)
                        continue;
                if (n < 0)
                        return (int)n;
                packets++;
        }
}

static inline size_t enc_hello(uint8_t *buf, uint16_t version, uint32_t features)
{
        struct wire_message m = { .type = WIRE_HELLO };
        m.hello.version = version;
        m.hello.features = features;
        return wire_encode(&m, buf);
}

static inline size_t enc_open(uint8_t *buf, uint32_t request, uint32_t flags, const char *name)
{
        struct wire_message m = { .type = WIRE_OPEN };
        m.open.request = request;
        m.open.flags = flags;
        m.open.name_len = (uint8_t)strlen(name);
        memcpy(m.open.name, name, m.open.name_len);
        return wire_encode(&m, buf);
}

static inline size_t enc_close(uint8_t *buf, uint32_t view)
{
        struct wire_message m = { .type = WIRE_CLOSE };
        m.close.view = view;
        return wire_encode(&m, buf);
}

static inline void put32le(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* Greet as a well-behaved raw client, blocking. 0 or -1. */
static inline int raw_hello(int s)
{
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        if (tu_send_fds(s, buf, enc_hello(buf, WIRE_VERSION, WIRE_FEATURES), NULL, 0, 0) < 0)
                return -1;
        ssize_t n = recv_discard(s, buf, sizeof(buf), 0, NULL);
        struct wire_message m;
        if (n <= 0 || wire_decode(buf, (size_t)n, 0, &m) < 0 || m.type != WIRE_HELLO_REPLY)
                return -1;
        return 0;
}

static inline bool write_byte(int fd, char c)
{
        ssize_t n;
        do
                n = write(fd, &c, 1);
        while (n < 0 && errno == EINTR);
        return n == 1;
}

/* Lines of /proc/self/maps that mention needle. */
static inline int maps_count(const char *needle)
{
        FILE *f = fopen("/proc/self/maps", "re");
        char line[4096];
        int n = 0;
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strstr(line, needle))
                        n++;
        fclose(f);
        return n;
}

static inline long proc_rss_kib(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
        FILE *f = fopen(path, "re");
        long size = 0, resident = -1;
        if (!f)
                return -1;
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
                resident = -1;
        fclose(f);
        return resident < 0 ? -1 : resident * (long)(tu_page_size() / 1024);
}

static inline int proc_maps_count(pid_t pid, const char *needle)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        FILE *f = fopen(path, "re");
        char line[4096];
        int n = 0;
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (!needle || strstr(line, needle))
                        n++;
        fclose(f);
        return n;
}

/* How many small packets a connected SEQPACKET socket takes before a
 * nonblocking send gets EAGAIN (the sender's SO_SNDBUF decides that for
 * connected Unix sockets, not the receiver's buffer). */
static inline int kernel_room(void)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -1;
        /* The server shrinks each peer's send buffer to 4096 (the kernel
         * doubles it) so that unread replies cannot pile up: measure with the
         * same buffer and the size of its largest reply. */
        (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){ 4096 }, sizeof(int));
        uint8_t buf[48] = { 0 };
        int n = 0;
        while (n < 1000000 && send(sv[0], buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(buf))
                n++;
        close(sv[0]);
        close(sv[1]);
        return n;
}

/* ---- log capture -------------------------------------------------------- */

#define LOG_KEEP 256
static struct {
        char lines[LOG_KEEP][256];
        unsigned n;
} logbuf;

static inline void capture_log(void *ctx, const char *line)
{
        (void)ctx;
        if (logbuf.n < LOG_KEEP)
                snprintf(logbuf.lines[logbuf.n], sizeof(logbuf.lines[0]), "%s", line);
        logbuf.n++;
}

/* Does line contain word followed by the decimal value (and a non-digit)? */
static inline bool names_number(const char *line, const char *word, unsigned long value)
{
        char needle[64];
        snprintf(needle, sizeof(needle), "%s%lu", word, value);
        for (const char *p = strstr(line, needle); p; p = strstr(p + 1, needle)) {
                char next = p[strlen(needle)];
                if (next < '0' || next > '9')
                        return true;
        }
        return false;
}

static inline void dump_log(unsigned from)
{
        for (unsigned i = from; i < logbuf.n && i < LOG_KEEP; i++)
                print_message("  log: %s\n", logbuf.lines[i]);
}

/* Exactly one log line since `from`, and it names pid and uid. */
static inline void assert_one_log_line(unsigned from, pid_t pid, uid_t uid, const char *what)
{
        if (logbuf.n - from != 1) {
                dump_log(from);
                fail_msg("%s: %u log lines for the dropped client, expected exactly 1", what, logbuf.n - from);
        }
        const char *line = logbuf.lines[from];
        if (!names_number(line, "pid ", (unsigned long)pid) || !names_number(line, "uid ", (unsigned long)uid))
                fail_msg("%s: log line \"%s\" does not name pid %d and uid %u", what, line, (int)pid, (unsigned)uid);
}

/* ---- the in-process server ---------------------------------------------- */

static int64_t max_dispatch_ns;

static inline void dispatch_timed(lsashm_server_t *srv)
{
        int64_t t0 = now_ns();
        int r = lsashm_server_dispatch(srv);
        int64_t d = now_ns() - t0;
        assert_true(r >= 0);
        if (d > max_dispatch_ns)
                max_dispatch_ns = d;
        if (d > PROMPT_NS)
                fail_msg("lsashm_server_dispatch took %" PRId64 " ms", d / 1000000);
}

/* Dispatch until fd reports one of events (or a hangup). false on timeout. */
static inline bool serve_until(lsashm_server_t *srv, int fd, short events, int timeout_ms)
{
        int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
        for (;;) {
                int64_t left = (deadline - now_ns()) / 1000000;
                if (left < 0)
                        return false;
                struct pollfd p[2] = { { .fd = lsashm_server_fd(srv), .events = POLLIN },
                                       { .fd = fd, .events = events } };
                int n = poll(p, 2, (int)left);
                if (n < 0 && errno == EINTR)
                        continue;
                assert_true(n >= 0);
                if (p[0].revents)
                        dispatch_timed(srv);
                if (p[1].revents)
                        return true;
        }
}

/* Dispatch until nothing is ready. */
static inline void serve_idle(lsashm_server_t *srv)
{
        for (int i = 0; i < 100000; i++) {
                struct pollfd p = { .fd = lsashm_server_fd(srv), .events = POLLIN };
                if (poll(&p, 1, 0) <= 0)
                        return;
                dispatch_timed(srv);
        }
        fail_msg("the server never went idle");
}

struct fixture {
        lsashm_server_t *srv;
        lsashm_section_t *good_sec, *victim_sec;
        int good;      /* a well-behaved raw client, greeted */
        uint32_t request;
        int fds0;      /* descriptors of this process before the fixture */
};

static inline lsashm_section_t *make_section(const char *name, const char *text, uint64_t *ret_root)
{
        struct lsashm_section_config sc = { .max_size = 64 * 1024, .initial_size = 64 * 1024, .name = name };
        lsashm_section_t *s = NULL;
        assert_int_equal(lsashm_section_create(&sc, &s), 0);
        void *p = NULL;
        assert_int_equal(lsashm_section_alloc(s, 64, &p), 0);
        strcpy(p, text);
        assert_int_equal(lsashm_section_offset(s, p, ret_root), 0);
        return s;
}

static inline void fixture_up(struct fixture *f, const struct lsashm_server_limits *lim)
{
        static const struct lsashm_rule rw = { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ_WRITE };
        static const struct lsashm_rule ro = { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ };
        memset(f, 0, sizeof(*f));
        f->fds0 = tu_count_fds();
        logbuf.n = 0;
        max_dispatch_ns = 0;
        uint64_t root;
        f->good_sec = make_section("hostile-good", "good", &root);
        /* Every case counts its own line: no rate limit in the way (it has
         * its own test, in test-conn-limits). */
        struct lsashm_server_config cfg = {
                .path = sock_path, .mode = 0600, .listen_fd = -1, .log = capture_log, .client_log_burst = 100000
        };
        if (lim)
                cfg.limits = *lim;
        assert_int_equal(lsashm_server_create(&cfg, &f->srv), 0);
        assert_int_equal(lsashm_server_publish(f->srv, "good", f->good_sec, &(struct lsashm_policy){ &rw, 1 }), 0);
        assert_int_equal(lsashm_server_set_root(f->srv, "good", root), 0);
        f->victim_sec = make_section("hostile-victim", "victim", &root);
        assert_int_equal(lsashm_server_publish(f->srv, "victim", f->victim_sec, &(struct lsashm_policy){ &ro, 1 }),
                         0);

        f->good = raw_connect();
        assert_true(f->good >= 0);
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        assert_int_equal(tu_send_fds(f->good, buf, enc_hello(buf, WIRE_VERSION, WIRE_FEATURES), NULL, 0, 0), 0);
        assert_true(serve_until(f->srv, f->good, POLLIN, STEP_MS));
        int fd = -1;
        ssize_t n = fdpass_recv(f->good, buf, sizeof(buf), &fd, true, true);
        struct wire_message m;
        assert_true(n > 0);
        assert_int_equal(fd, -1);
        assert_int_equal(wire_decode(buf, (size_t)n, 0, &m), 0);
        assert_int_equal(m.type, WIRE_HELLO_REPLY);
        f->request = 1;
}

static inline void fixture_down(struct fixture *f)
{
        close(f->good);
        lsashm_server_destroy(f->srv);
        assert_int_equal(lsashm_section_delete(f->good_sec), 0);
        assert_int_equal(lsashm_section_delete(f->victim_sec), 0);
        assert_int_equal(tu_count_fds(), f->fds0);
}

/* The well-behaved client opens name, checks the reply and the descriptor,
 * and closes the view again. */
static inline void good_open(struct fixture *f, const char *name)
{
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        uint32_t req = f->request++;
        assert_int_equal(tu_send_fds(f->good, buf, enc_open(buf, req, 0, name), NULL, 0, MSG_DONTWAIT), 0);
        for (;;) {
                if (!serve_until(f->srv, f->good, POLLIN, STEP_MS))
                        fail_msg("the well-behaved client got no answer to its open");
                int fd = -1;
                ssize_t n = fdpass_recv(f->good, buf, sizeof(buf), &fd, true, true);
                if (n == -EAGAIN)
                        continue;
                if (n <= 0)
                        fail_msg("the well-behaved client was disconnected (%zd)", n);
                struct wire_message m;
                assert_int_equal(wire_decode(buf, (size_t)n, 0, &m), 0);
                if (m.type == WIRE_REVOKED)
                        continue;
                assert_int_equal(m.type, WIRE_OPEN_REPLY);
                assert_int_equal(m.open_reply.request, req);
                assert_int_equal(m.open_reply.status, 0);
                assert_true(fd >= 0);
                struct stat st;
                assert_int_equal(fstat(fd, &st), 0);
                assert_true(S_ISREG(st.st_mode));
                close(fd);
                assert_int_equal(tu_send_fds(f->good, buf, enc_close(buf, m.open_reply.view), NULL, 0, MSG_DONTWAIT), 0);
                serve_idle(f->srv); /* the CLOSE is handled before anyone counts views */
                return;
        }
}

#define QUEUE_LIMIT 16

/* Fixtures through cmocka's setup and teardown, so that a failing test still
 * tears its server down. */
static inline int setup_with(void **state, const struct lsashm_server_limits *lim)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        *state = f;
        fixture_up(f, lim);
        /* Watchdog: a server that blocks on a client would hang this process
         * forever; SIGALRM ends it instead. */
        alarm(120);
        return 0;
}

static inline int setup_default(void **state)
{
        return setup_with(state, NULL);
}

/* Room for more views than the kernel's socket buffer holds replies, and a
 * small queue: a client that does not read is dropped soon. */
static inline int setup_small_queue(void **state)
{
        int room = kernel_room();
        assert_true(room > 0);
        struct lsashm_server_limits lim = { .queued_per_connection = QUEUE_LIMIT,
                                            .views_per_connection = (uint32_t)room + QUEUE_LIMIT + 256 };
        return setup_with(state, &lim);
}

static inline int teardown_fixture(void **state)
{
        struct fixture *f = *state;
        alarm(0);
        fixture_down(f);
        free(f);
        return 0;
}


/* In a child: wait, doing nothing, to be killed. */
_Noreturn static inline void park(void)
{
        for (;;)
                pause();
}

/* Exit codes of the hostile clients (and children that never read). */
enum { HC_OK = 0, HC_NO_HANGUP = 2, HC_FDS_KEPT = 3, HC_SETUP = 4, HC_SEND = 5 };

static pid_t g_server_pid = -1; /* killed by the teardown if a test failed */

/* ---- setup -------------------------------------------------------------- */

static inline int group_setup(void **state)
{
        (void)state;
        strcpy(sock_dir, "/tmp/lsashm-hostile-XXXXXX");
        if (!mkdtemp(sock_dir))
                return -1;
        snprintf(sock_path, sizeof(sock_path), "%s/sock", sock_dir);
        return 0;
}

static inline int group_teardown(void **state)
{
        (void)state;
        if (g_server_pid > 0) {
                kill(g_server_pid, SIGKILL);
                waitpid(g_server_pid, NULL, 0);
        }
        unlink(sock_path);
        rmdir(sock_dir);
        return 0;
}

/* What every program of the family does before its tests. */
static inline void share_hostile_prepare(void)
{
        /* A thousand clients in flight, each with a pipe and a socket. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        /* Writes to children that died early fail with EPIPE instead. */
        signal(SIGPIPE, SIG_IGN);
}

#endif
