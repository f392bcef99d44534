/* SPDX-License-Identifier: MIT */
/*
 * Hostile and dying peers of the sharing protocol, with real processes.
 *
 * Server side: the server runs in this process (driven by
 * lsashm_server_dispatch() under poll) or, for the thousand dying clients, in
 * a forked server process. Hostile clients are forked children speaking raw
 * SOCK_SEQPACKET: descriptors sent to the server, truncated control data,
 * oversized, short and malformed packets, messages out of sequence, unknown
 * versions and features, bad names, clients that never read. Each is
 * disconnected with one log line naming its pid and uid, every descriptor it
 * sent is closed, and a well-behaved client connected meanwhile keeps being
 * served.
 *
 * Client side: a fake server in this process answers a forked client that
 * uses the real library with hostile replies; the client refuses them without
 * mapping anything or leaking a descriptor. Servers that die mid-exchange
 * leave the client with -ECONNRESET, stale views and no SIGPIPE.
 *
 * Synchronisation is by pipes and poll, never by sleeping.
 */
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

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- small helpers usable in children (no cmocka there) ---------------- */

static int raw_connect(void)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        strcpy(addr.sun_path, sock_path);
        int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                int r = -errno;
                close(s);
                return r;
        }
        return s;
}

static void set_timeouts(int s, int seconds)
{
        struct timeval tv = { .tv_sec = seconds };
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Receive one packet, closing every descriptor that came with it; returns
 * its length, 0 at end of stream, or -errno. *ret_nfds counts descriptors. */
static ssize_t recv_discard(int s, void *buf, size_t cap, int flags, int *ret_nfds)
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
static int wait_hangup(int s, int timeout_ms, unsigned *ret_packets)
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

static size_t enc_hello(uint8_t *buf, uint16_t version, uint32_t features)
{
        struct wire_message m = { .type = WIRE_HELLO };
        m.hello.version = version;
        m.hello.features = features;
        return wire_encode(&m, buf);
}

static size_t enc_open(uint8_t *buf, uint32_t request, uint32_t flags, const char *name)
{
        struct wire_message m = { .type = WIRE_OPEN };
        m.open.request = request;
        m.open.flags = flags;
        m.open.name_len = (uint8_t)strlen(name);
        memcpy(m.open.name, name, m.open.name_len);
        return wire_encode(&m, buf);
}

static size_t enc_close(uint8_t *buf, uint32_t view)
{
        struct wire_message m = { .type = WIRE_CLOSE };
        m.close.view = view;
        return wire_encode(&m, buf);
}

static void put32le(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* Greet as a well-behaved raw client, blocking. 0 or -1. */
static int raw_hello(int s)
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

static bool write_byte(int fd, char c)
{
        ssize_t n;
        do
                n = write(fd, &c, 1);
        while (n < 0 && errno == EINTR);
        return n == 1;
}

/* Lines of /proc/self/maps that mention needle. */
static int maps_count(const char *needle)
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

static long proc_rss_kib(pid_t pid)
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

static int proc_maps_count(pid_t pid, const char *needle)
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
static int kernel_room(void)
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

static void capture_log(void *ctx, const char *line)
{
        (void)ctx;
        if (logbuf.n < LOG_KEEP)
                snprintf(logbuf.lines[logbuf.n], sizeof(logbuf.lines[0]), "%s", line);
        logbuf.n++;
}

/* Does line contain word followed by the decimal value (and a non-digit)? */
static bool names_number(const char *line, const char *word, unsigned long value)
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

static void dump_log(unsigned from)
{
        for (unsigned i = from; i < logbuf.n && i < LOG_KEEP; i++)
                print_message("  log: %s\n", logbuf.lines[i]);
}

/* Exactly one log line since `from`, and it names pid and uid. */
static void assert_one_log_line(unsigned from, pid_t pid, uid_t uid, const char *what)
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

static void dispatch_timed(lsashm_server_t *srv)
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
static bool serve_until(lsashm_server_t *srv, int fd, short events, int timeout_ms)
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
static void serve_idle(lsashm_server_t *srv)
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

static lsashm_section_t *make_section(const char *name, const char *text, uint64_t *ret_root)
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

static void fixture_up(struct fixture *f, const struct lsashm_server_limits *lim)
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

static void fixture_down(struct fixture *f)
{
        close(f->good);
        lsashm_server_destroy(f->srv);
        assert_int_equal(lsashm_section_delete(f->good_sec), 0);
        assert_int_equal(lsashm_section_delete(f->victim_sec), 0);
        assert_int_equal(tu_count_fds(), f->fds0);
}

/* The well-behaved client opens name, checks the reply and the descriptor,
 * and closes the view again. */
static void good_open(struct fixture *f, const char *name)
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
static int setup_with(void **state, const struct lsashm_server_limits *lim)
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

static int setup_default(void **state)
{
        return setup_with(state, NULL);
}

/* Room for more views than the kernel's socket buffer holds replies, and a
 * small queue: a client that does not read is dropped soon. */
static int setup_small_queue(void **state)
{
        int room = kernel_room();
        assert_true(room > 0);
        struct lsashm_server_limits lim = { .queued_per_connection = QUEUE_LIMIT,
                                            .views_per_connection = (uint32_t)room + QUEUE_LIMIT + 256 };
        return setup_with(state, &lim);
}

static int teardown_fixture(void **state)
{
        struct fixture *f = *state;
        alarm(0);
        fixture_down(f);
        free(f);
        return 0;
}

/* ---- 1, 2: clients that send descriptors or malformed packets ----------- */

enum hostile_kind {
        H_FD1, H_FD3, H_FD_IN_HELLO, H_FD_ON_CLOSE, H_CTRUNC,
        H_BIG513, H_BIG4096, H_BIG_BEFORE_HELLO,
        H_EMPTY, H_SHORT3, H_HEADER_ONLY, H_GARBLED,
        H_LEN_LONG, H_LEN_SHORT, H_LEN_OPEN,
        H_RESERVED_HEADER, H_RESERVED_HELLO, H_RESERVED_OPEN, H_RESERVED_CLOSE,
        H_TYPE_UNKNOWN, H_TYPE_ZERO, H_TYPE_HIGH, H_TYPE_HELLO_REPLY, H_TYPE_OPEN_REPLY, H_TYPE_REVOKED,
        H_OPEN_BEFORE_HELLO, H_CLOSE_BEFORE_HELLO, H_HELLO_TWICE,
        H_VERSION_2, H_VERSION_0, H_VERSION_MAX, H_FEATURES_1, H_FEATURES_HIGH,
        H_NAME_EMPTY, H_NAME_SLASH, H_NAME_CONTROL, H_NAME_SPACE, H_NAME_DEL, H_NAME_HIGH, H_NAME_NUL,
        H_NAME_LEN_LONG, H_NAME_LEN_SHORT, H_NAME_TOO_LONG_PACKET, H_OPEN_FLAGS,
};

struct hostile {
        const char *name;
        enum hostile_kind kind;
        bool hello; /* greet properly first */
        int nfds;   /* descriptors (a pipe's write end) sent with the packet */
};

/* Build the hostile packet into pkt (4096 bytes). */
static size_t build_hostile(enum hostile_kind kind, uint8_t *pkt)
{
        uint8_t buf[WIRE_MAX_MESSAGE];
        size_t len;
        memset(pkt, 0, 4096);
        switch (kind) {
        case H_FD1:
        case H_FD3:
        case H_CTRUNC:
        case H_OPEN_BEFORE_HELLO:
                len = enc_open(buf, 7, 0, "good");
                break;
        case H_FD_IN_HELLO:
        case H_HELLO_TWICE:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                break;
        case H_FD_ON_CLOSE:
        case H_CLOSE_BEFORE_HELLO:
                len = enc_close(buf, 1);
                break;
        case H_BIG513:
                len = enc_open(buf, 7, 0, "good");
                memcpy(pkt, buf, len);
                put32le(pkt + 4, 513);
                return 513;
        case H_BIG4096:
                len = enc_open(buf, 7, 0, "good");
                memcpy(pkt, buf, len);
                put32le(pkt + 4, 4096);
                return 4096;
        case H_BIG_BEFORE_HELLO:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                memcpy(pkt, buf, len);
                put32le(pkt + 4, 1000);
                return 1000;
        case H_EMPTY:
                return 0;
        case H_SHORT3:
                pkt[0] = WIRE_HELLO;
                return 3;
        case H_HEADER_ONLY:
                pkt[0] = WIRE_HELLO;
                put32le(pkt + 4, WIRE_HEADER_SIZE);
                return WIRE_HEADER_SIZE;
        case H_GARBLED:
                memset(pkt, 0xa5, 16);
                return 16;
        case H_LEN_LONG:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                memcpy(pkt, buf, len);
                put32le(pkt + 4, (uint32_t)len + 1);
                return len;
        case H_LEN_SHORT:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                memcpy(pkt, buf, len);
                put32le(pkt + 4, WIRE_HEADER_SIZE);
                return len;
        case H_LEN_OPEN:
                len = enc_open(buf, 7, 0, "good");
                memcpy(pkt, buf, len);
                put32le(pkt + 4, (uint32_t)len - 1);
                return len;
        case H_RESERVED_HEADER:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                buf[3] = 0x80;
                break;
        case H_RESERVED_HELLO:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                buf[WIRE_HEADER_SIZE + 2] = 1;
                break;
        case H_RESERVED_OPEN:
                len = enc_open(buf, 7, 0, "good");
                buf[WIRE_HEADER_SIZE + 11] = 1;
                break;
        case H_RESERVED_CLOSE:
                len = enc_close(buf, 1);
                buf[WIRE_HEADER_SIZE + 7] = 1;
                break;
        case H_TYPE_UNKNOWN:
        case H_TYPE_ZERO:
        case H_TYPE_HIGH:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                buf[0] = kind == H_TYPE_UNKNOWN ? 99 : kind == H_TYPE_ZERO ? 0 : 0xff;
                buf[1] = kind == H_TYPE_HIGH ? 0xff : 0;
                break;
        case H_TYPE_HELLO_REPLY: {
                struct wire_message m = { .type = WIRE_HELLO_REPLY };
                m.hello_reply.version = WIRE_VERSION;
                len = wire_encode(&m, buf);
                break;
        }
        case H_TYPE_OPEN_REPLY: {
                struct wire_message m = { .type = WIRE_OPEN_REPLY };
                m.open_reply.access = LSASHM_ACCESS_READ;
                m.open_reply.size = 4096;
                len = wire_encode(&m, buf);
                break;
        }
        case H_TYPE_REVOKED: {
                struct wire_message m = { .type = WIRE_REVOKED };
                m.revoked.view = 1;
                len = wire_encode(&m, buf);
                break;
        }
        case H_VERSION_2:
                len = enc_hello(buf, WIRE_VERSION + 1, WIRE_FEATURES);
                break;
        case H_VERSION_0:
                len = enc_hello(buf, 0, WIRE_FEATURES);
                break;
        case H_VERSION_MAX:
                len = enc_hello(buf, 0xffff, WIRE_FEATURES);
                break;
        case H_FEATURES_1:
                len = enc_hello(buf, WIRE_VERSION, 1);
                break;
        case H_FEATURES_HIGH:
                len = enc_hello(buf, WIRE_VERSION, 0x80000000u);
                break;
        case H_NAME_EMPTY:
                len = enc_open(buf, 7, 0, "");
                break;
        case H_NAME_SLASH:
                len = enc_open(buf, 7, 0, "go/od");
                break;
        case H_NAME_CONTROL:
                len = enc_open(buf, 7, 0, "go\x01od");
                break;
        case H_NAME_SPACE:
                len = enc_open(buf, 7, 0, "go od");
                break;
        case H_NAME_DEL:
                len = enc_open(buf, 7, 0, "go\x7fod");
                break;
        case H_NAME_HIGH:
                len = enc_open(buf, 7, 0, "g\xc3\xb6od");
                break;
        case H_NAME_NUL:
                /* "good\0x": the name the server would see is "good" */
                len = enc_open(buf, 7, 0, "goodxx");
                buf[WIRE_HEADER_SIZE + 12 + 4] = '\0';
                break;
        case H_NAME_LEN_LONG:
                /* name_len says 6, the packet carries 4 name bytes */
                len = enc_open(buf, 7, 0, "good");
                buf[WIRE_HEADER_SIZE + 8] = 6;
                break;
        case H_NAME_LEN_SHORT:
                /* name_len says 2, the packet carries 4 name bytes */
                len = enc_open(buf, 7, 0, "good");
                buf[WIRE_HEADER_SIZE + 8] = 2;
                break;
        case H_NAME_TOO_LONG_PACKET:
                /* name_len 255 and 255 bytes, plus trailing junk */
                memset(pkt, 0, 4096);
                pkt[0] = WIRE_OPEN;
                put32le(pkt + 4, 20 + 255 + 8);
                put32le(pkt + 8, 7);
                pkt[16] = 255;
                memset(pkt + 20, 'a', 255 + 8);
                return 20 + 255 + 8;
        case H_OPEN_FLAGS:
                len = enc_open(buf, 7, 1u << 1, "good");
                break;
        default:
                return 0;
        }
        memcpy(pkt, buf, len);
        return len;
}

/* Exit codes of the hostile child. */
enum { HC_OK = 0, HC_NO_HANGUP = 2, HC_FDS_KEPT = 3, HC_SETUP = 4, HC_SEND = 5 };

static void hostile_child(const struct hostile *k, int life)
{
        tu_close_fds_except(life, -1);
        int s = raw_connect();
        if (s < 0)
                _exit(HC_SETUP);
        set_timeouts(s, 10);
        if (k->hello && raw_hello(s) < 0)
                _exit(HC_SETUP);
        static uint8_t pkt[4096];
        size_t len = build_hostile(k->kind, pkt);
        int fds[32], keep = -1;
        if (k->nfds) {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                        _exit(HC_SETUP);
                keep = p[0];
                fds[0] = p[1];
                for (int i = 1; i < k->nfds; i++)
                        if ((fds[i] = dup(p[1])) < 0)
                                _exit(HC_SETUP);
        }
        int r = tu_send_fds(s, pkt, len, fds, k->nfds, 0);
        for (int i = 0; i < k->nfds; i++)
                close(fds[i]);
        if (r < 0)
                _exit(HC_SEND);
        if (wait_hangup(s, 10000, NULL) != 1)
                _exit(HC_NO_HANGUP);
        if (keep >= 0) {
                /* Every copy of the write end the server received is closed:
                 * the read end sees end of file. */
                char c;
                if (tu_read_byte(keep, 10000, &c) != 0)
                        _exit(HC_FDS_KEPT);
        }
        _exit(HC_OK);
}

static void run_hostile(struct fixture *f, const struct hostile *k)
{
        int fds_before = tu_count_fds();
        struct lsashm_server_stats st0, st1;
        assert_int_equal(lsashm_server_stats(f->srv, &st0), 0);
        unsigned log0 = logbuf.n;
        int life[2];
        assert_int_equal(pipe2(life, O_CLOEXEC), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                hostile_child(k, life[1]);
        close(life[1]);
        bool done = serve_until(f->srv, life[0], POLLIN, STEP_MS);
        if (!done)
                kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        close(life[0]);
        char why[64];
        if (!done || !WIFEXITED(status) || WEXITSTATUS(status) != HC_OK) {
                dump_log(log0);
                fail_msg("%s: hostile client %s (2: not disconnected, 3: its descriptors stayed open, "
                         "4: setup, 5: send)", k->name, tu_describe_status(done ? status : -1, why, sizeof(why)));
        }
        assert_one_log_line(log0, pid, getuid(), k->name);
        assert_int_equal(lsashm_server_stats(f->srv, &st1), 0);
        assert_int_equal(st1.connections, st0.connections);
        assert_int_equal(st1.dropped, st0.dropped + 1);
        assert_int_equal(st1.views, st0.views);
        int fds_after = tu_count_fds();
        if (fds_after != fds_before)
                fail_msg("%s: the server holds %d descriptors more than before", k->name, fds_after - fds_before);
        /* The client connected all along is still served. */
        good_open(f, "good");
}

static void test_descriptors_refused(void **state)
{
        struct fixture *f = *state;
        static const struct hostile cases[] = {
                { "OPEN with 1 fd", H_FD1, true, 1 },
                { "OPEN with 3 fds", H_FD3, true, 3 },
                { "HELLO with 1 fd", H_FD_IN_HELLO, false, 1 },
                { "CLOSE with 2 fds", H_FD_ON_CLOSE, true, 2 },
                { "OPEN with 20 fds (MSG_CTRUNC)", H_CTRUNC, true, 20 },
                { "empty packet with 1 fd", H_EMPTY, true, 1 },
        };
        good_open(f, "good");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                run_hostile(f, &cases[i]);
}

static void test_malformed_refused(void **state)
{
        struct fixture *f = *state;
        static const struct hostile cases[] = {
                { "513-byte packet", H_BIG513, true, 0 },
                { "4096-byte packet", H_BIG4096, true, 0 },
                { "1000-byte packet before HELLO", H_BIG_BEFORE_HELLO, false, 0 },
                { "3-byte packet", H_SHORT3, false, 0 },
                { "header only", H_HEADER_ONLY, false, 0 },
                { "garbage", H_GARBLED, false, 0 },
                { "length field too long", H_LEN_LONG, false, 0 },
                { "length field too short", H_LEN_SHORT, false, 0 },
                { "OPEN length field off by one", H_LEN_OPEN, true, 0 },
                { "reserved header bytes", H_RESERVED_HEADER, false, 0 },
                { "reserved HELLO bytes", H_RESERVED_HELLO, false, 0 },
                { "reserved OPEN bytes", H_RESERVED_OPEN, true, 0 },
                { "reserved CLOSE bytes", H_RESERVED_CLOSE, true, 0 },
                { "unknown type 99", H_TYPE_UNKNOWN, false, 0 },
                { "type 0", H_TYPE_ZERO, true, 0 },
                { "type 0xffff", H_TYPE_HIGH, true, 0 },
                { "HELLO_REPLY sent to the server", H_TYPE_HELLO_REPLY, false, 0 },
                { "OPEN_REPLY sent to the server", H_TYPE_OPEN_REPLY, true, 0 },
                { "REVOKED sent to the server", H_TYPE_REVOKED, true, 0 },
                { "OPEN before HELLO", H_OPEN_BEFORE_HELLO, false, 0 },
                { "CLOSE before HELLO", H_CLOSE_BEFORE_HELLO, false, 0 },
                { "second HELLO", H_HELLO_TWICE, true, 0 },
                { "version 2", H_VERSION_2, false, 0 },
                { "version 0", H_VERSION_0, false, 0 },
                { "version 0xffff", H_VERSION_MAX, false, 0 },
                { "feature bit 0", H_FEATURES_1, false, 0 },
                { "feature bit 31", H_FEATURES_HIGH, false, 0 },
                { "empty name", H_NAME_EMPTY, true, 0 },
                { "name with '/'", H_NAME_SLASH, true, 0 },
                { "name with a control byte", H_NAME_CONTROL, true, 0 },
                { "name with a space", H_NAME_SPACE, true, 0 },
                { "name with DEL", H_NAME_DEL, true, 0 },
                { "name with non-ASCII bytes", H_NAME_HIGH, true, 0 },
                { "name with a NUL", H_NAME_NUL, true, 0 },
                { "name_len longer than the packet", H_NAME_LEN_LONG, true, 0 },
                { "name_len shorter than the packet", H_NAME_LEN_SHORT, true, 0 },
                { "255-byte name and junk after it", H_NAME_TOO_LONG_PACKET, true, 0 },
                { "unknown OPEN flag", H_OPEN_FLAGS, true, 0 },
        };
        good_open(f, "good");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                run_hostile(f, &cases[i]);
}

/* A zero-length packet is a malformed message like any other (recvmsg()
 * returns 0 for it, as at end of stream, but the peer is still there). */
static void test_empty_packet_refused(void **state)
{
        struct fixture *f = *state;
        static const struct hostile empty = { "empty packet", H_EMPTY, true, 0 };
        static const struct hostile empty_first = { "empty packet before HELLO", H_EMPTY, false, 0 };
        good_open(f, "good");
        run_hostile(f, &empty);
        run_hostile(f, &empty_first);
}

/* ---- 4: clients that never read ----------------------------------------- */

/* Greets, then sends OPENs and never reads a reply, until the server hangs
 * up on it (its sends fail). */
static void flood_child(int life)
{
        tu_close_fds_except(life, -1);
        int s = raw_connect();
        if (s < 0)
                _exit(HC_SETUP);
        set_timeouts(s, 10);
        if (raw_hello(s) < 0)
                _exit(HC_SETUP);
        uint8_t buf[WIRE_MAX_MESSAGE];
        for (uint32_t i = 0; i < 200000; i++) {
                int r = tu_send_fds(s, buf, enc_open(buf, i + 1, 0, "good"), NULL, 0, 0);
                if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN || r == -ECONNREFUSED)
                        _exit(HC_OK);
                if (r < 0)
                        _exit(HC_NO_HANGUP); /* the send timed out: nobody dropped us */
        }
        _exit(HC_NO_HANGUP);
}

static void test_never_reads_opens(void **state)
{
        struct fixture *f = *state;
        int room = kernel_room();
        assert_true(room > 0);
        struct lsashm_server_stats st0, st1;
        assert_int_equal(lsashm_server_stats(f->srv, &st0), 0);
        int fds_before = tu_count_fds();
        unsigned log0 = logbuf.n;
        int life[2];
        assert_int_equal(pipe2(life, O_CLOEXEC), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                flood_child(life[1]);
        close(life[1]);
        /* The well-behaved client keeps opening while the flood goes on; every
         * one of its opens is answered. */
        bool gone = false;
        unsigned served = 0;
        for (int i = 0; i < 100000 && !gone; i++) {
                good_open(f, "good");
                served++;
                struct pollfd p = { .fd = life[0], .events = POLLIN };
                gone = poll(&p, 1, 0) == 1;
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        close(life[0]);
        char why[64];
        if (!gone || !WIFEXITED(status) || WEXITSTATUS(status) != HC_OK)
                fail_msg("flooding client %s", tu_describe_status(gone ? status : -1, why, sizeof(why)));
        serve_idle(f->srv);
        assert_one_log_line(log0, pid, getuid(), "client that never reads its replies");
        assert_int_equal(lsashm_server_stats(f->srv, &st1), 0);
        assert_int_equal(st1.connections, st0.connections);
        assert_int_equal(st1.dropped, st0.dropped + 1);
        assert_int_equal(st1.views, st0.views);
        assert_int_equal(tu_count_fds(), fds_before);
        good_open(f, "good");
        print_message("  kernel room %d packets, queue limit %d, %u opens served meanwhile, "
                      "slowest dispatch %" PRId64 " us\n", room, QUEUE_LIMIT, served, max_dispatch_ns / 1000);
}


/* Opens "victim" `views` times (reading each reply), reports 'r', and stops
 * reading until the parent says 'g'; then counts the notices that arrived
 * before the server hung up. */
static void hoarder_child(int life, int go, unsigned views)
{
        tu_close_fds_except(life, go);
        int s = raw_connect();
        if (s < 0)
                _exit(HC_SETUP);
        set_timeouts(s, 10);
        if (raw_hello(s) < 0)
                _exit(HC_SETUP);
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        for (unsigned i = 0; i < views; i++) {
                if (tu_send_fds(s, buf, enc_open(buf, i + 1, 0, "victim"), NULL, 0, 0) < 0)
                        _exit(HC_SETUP);
                int nfds = 0;
                ssize_t n = recv_discard(s, buf, sizeof(buf), 0, &nfds);
                struct wire_message m;
                if (n <= 0 || wire_decode(buf, (size_t)n, 0, &m) < 0 || m.type != WIRE_OPEN_REPLY ||
                    m.open_reply.status != 0 || nfds != 1)
                        _exit(HC_SETUP);
        }
        if (!write_byte(life, 'r'))
                _exit(HC_SETUP);
        char c;
        if (tu_read_byte(go, 30000, &c) != 1)
                _exit(HC_SETUP);
        unsigned notices = 0;
        if (wait_hangup(s, 10000, &notices) != 1)
                _exit(HC_NO_HANGUP);
        if (notices == 0 || notices >= views)
                _exit(HC_FDS_KEPT);
        _exit(HC_OK);
}

static void test_never_reads_notices(void **state)
{
        struct fixture *f = *state;
        int room = kernel_room();
        assert_true(room > 0);
        /* More notices than the kernel and the server's queue hold together. */
        unsigned views = (unsigned)room + QUEUE_LIMIT + 64;
        struct lsashm_server_stats st0, st1;
        assert_int_equal(lsashm_server_stats(f->srv, &st0), 0);
        int fds_before = tu_count_fds();
        unsigned log0 = logbuf.n;
        int life[2], go[2];
        assert_int_equal(pipe2(life, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                hoarder_child(life[1], go[0], views);
        close(life[1]);
        close(go[0]);
        assert_true(serve_until(f->srv, life[0], POLLIN, STEP_MS));
        char c = 0;
        assert_int_equal(tu_read_byte(life[0], 0, &c), 1);
        assert_int_equal(c, 'r');
        assert_int_equal(lsashm_server_stats(f->srv, &st1), 0);
        assert_int_equal(st1.views, st0.views + views);

        /* Every view is revoked at once; the hoarder cannot take them all. */
        int64_t t0 = now_ns();
        assert_int_equal(lsashm_server_unpublish(f->srv, "victim"), 0);
        int64_t took = now_ns() - t0;
        if (took > PROMPT_NS)
                fail_msg("unpublish took %" PRId64 " ms", took / 1000000);
        assert_int_equal(lsashm_server_stats(f->srv, &st1), 0);
        assert_one_log_line(log0, pid, getuid(), "client that never reads its notices");
        assert_int_equal(st1.dropped, st0.dropped + 1);
        assert_int_equal(st1.connections, st0.connections);
        assert_int_equal(st1.views, st0.views);
        good_open(f, "good");

        assert_true(write_byte(go[1], 'g'));
        assert_true(serve_until(f->srv, life[0], POLLIN, STEP_MS));
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        close(life[0]);
        close(go[1]);
        char why[64];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != HC_OK)
                fail_msg("hoarding client %s (2: not disconnected, 3: got no notice or all of them)",
                         tu_describe_status(status, why, sizeof(why)));
        serve_idle(f->srv);
        assert_int_equal(tu_count_fds(), fds_before);
        good_open(f, "good");
}


/* Sends n OPENs without reading, reports 'r', waits for 'g', then reads every
 * reply: in request order, each with exactly one descriptor. */
static void slow_reader_child(int life, int go, unsigned n)
{
        tu_close_fds_except(life, go);
        int s = raw_connect();
        if (s < 0)
                _exit(HC_SETUP);
        set_timeouts(s, 10);
        if (raw_hello(s) < 0)
                _exit(HC_SETUP);
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        for (unsigned i = 0; i < n; i++)
                if (tu_send_fds(s, buf, enc_open(buf, i + 1, 0, "good"), NULL, 0, 0) < 0)
                        _exit(HC_SETUP);
        char c;
        if (!write_byte(life, 'r') || tu_read_byte(go, 30000, &c) != 1)
                _exit(HC_SETUP);
        for (unsigned i = 0; i < n; i++) {
                int fd = -1;
                ssize_t len = fdpass_recv(s, buf, sizeof(buf), &fd, true, false);
                struct wire_message m;
                struct stat st;
                if (len <= 0 || wire_decode(buf, (size_t)len, 0, &m) < 0 || m.type != WIRE_OPEN_REPLY ||
                    m.open_reply.request != i + 1 || m.open_reply.status != 0 || fd < 0 || fstat(fd, &st) < 0 ||
                    !S_ISREG(st.st_mode) || (uint64_t)st.st_size < m.open_reply.size)
                        _exit(HC_FDS_KEPT);
                close(fd);
                if (tu_send_fds(s, buf, enc_close(buf, m.open_reply.view), NULL, 0, 0) < 0)
                        _exit(HC_SEND);
        }
        _exit(HC_OK);
}

/* A client that reads late, but before its queue overflows, loses nothing
 * and is not dropped; the descriptors queued for it are closed once sent. */
static void test_slow_reader_served(void **state)
{
        struct fixture *f = *state;
        int room = kernel_room();
        assert_true(room > 0);
        /* At most 4 replies with a descriptor may wait in the server. */
        unsigned n = (unsigned)room + 2;
        struct lsashm_server_stats st0, st1;
        assert_int_equal(lsashm_server_stats(f->srv, &st0), 0);
        int fds_before = tu_count_fds();
        unsigned log0 = logbuf.n;
        int life[2], go[2];
        assert_int_equal(pipe2(life, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                slow_reader_child(life[1], go[0], n);
        close(life[1]);
        close(go[0]);
        assert_true(serve_until(f->srv, life[0], POLLIN, STEP_MS));
        char c = 0;
        assert_int_equal(tu_read_byte(life[0], 0, &c), 1);
        serve_idle(f->srv);
        assert_int_equal(lsashm_server_stats(f->srv, &st1), 0);
        assert_int_equal(st1.views, st0.views + n);
        assert_int_equal(st1.dropped, st0.dropped);
        /* The replies the kernel had no room for wait in the server, each
         * with its descriptor. */
        int held = tu_count_fds() - fds_before;
        assert_true(held >= (int)(n - (unsigned)room));
        good_open(f, "good");

        assert_true(write_byte(go[1], 'g'));
        assert_true(serve_until(f->srv, life[0], POLLIN, STEP_MS));
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        close(life[0]);
        close(go[1]);
        char why[64];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != HC_OK)
                fail_msg("slow reader %s (3: a reply lost, out of order or without its descriptor)",
                         tu_describe_status(status, why, sizeof(why)));
        serve_idle(f->srv);
        assert_int_equal(lsashm_server_stats(f->srv, &st1), 0);
        assert_int_equal(st1.dropped, st0.dropped);
        assert_int_equal(st1.connections, st0.connections);
        assert_int_equal(st1.views, st0.views);
        if (logbuf.n != log0) {
                dump_log(log0);
                fail_msg("a client that only read late was logged");
        }
        assert_int_equal(tu_count_fds(), fds_before);
        good_open(f, "good");
}

/* ---- 3: a thousand clients die at random points -------------------------- */

#define DYING_CLIENTS 1000
#define WARMUP_CLIENTS 200
#define BATCH 50
#define RSS_MARGIN_KIB 512L

enum dying_kind { D_RAW, D_LIBRARY, D_CHURN, D_FLOOD, D_KINDS };
static const int dying_stages[D_KINDS] = { 6, 4, 2, 2 };

static void progress(int fd, char c)
{
        if (!write_byte(fd, c))
                _exit(101);
}

_Noreturn static void park(void)
{
        for (;;)
                pause();
}

/* A client process that runs one of the scripts below and reports each stage
 * it reaches on prog; the parent SIGKILLs it after some stage. */
static void dying_client(enum dying_kind kind, int prog, int room)
{
        tu_close_fds_except(prog, -1);
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        switch (kind) {
        case D_RAW: {
                int s = raw_connect();
                CHILD_CHECK(s >= 0);
                progress(prog, '1'); /* connected, no hello */
                CHILD_CHECK(tu_send_fds(s, buf, enc_hello(buf, WIRE_VERSION, 0), NULL, 0, 0) == 0);
                progress(prog, '2'); /* hello reply unread */
                CHILD_CHECK(recv_discard(s, buf, sizeof(buf), 0, NULL) > 0);
                progress(prog, '3');
                CHILD_CHECK(tu_send_fds(s, buf, enc_open(buf, 1, 0, "s"), NULL, 0, 0) == 0);
                progress(prog, '4'); /* open reply (with its fd) unread */
                int fd = -1;
                ssize_t n = fdpass_recv(s, buf, sizeof(buf), &fd, true, false);
                CHILD_CHECK(n > 0 && fd >= 0);
                volatile uint8_t *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
                CHILD_CHECK(p != MAP_FAILED);
                close(fd);
                (void)p[0];
                progress(prog, '5'); /* holding a view */
                /* The server drops a peer that leaves this many replies with
                 * descriptors unread: later sends may fail, as intended. */
                for (uint32_t i = 0; i < 24; i++)
                        (void)tu_send_fds(s, buf, enc_open(buf, i + 2, (i & 1) ? WIRE_OPEN_READONLY : 0,
                                                        (i % 3) ? "s" : (i % 2) ? "r" : "nothing"),
                                       NULL, 0, 0);
                progress(prog, '6'); /* 24 replies unread, most with fds */
                park();
        }
        case D_LIBRARY: {
                lsashm_client_t *c = NULL;
                CHILD_CHECK(lsashm_client_connect(sock_path, &c) == 0);
                progress(prog, '1');
                lsashm_view_t *v = NULL, *w = NULL;
                CHILD_CHECK(lsashm_client_open(c, "s", &v) == 0);
                progress(prog, '2');
                CHILD_CHECK(lsashm_client_open_readonly(c, "r", &w) == 0);
                progress(prog, '3');
                volatile uint64_t sum = 0;
                for (int pass = 0; pass < 50; pass++) {
                        for (size_t off = 0; off < lsashm_view_size(v); off += 64)
                                sum += *(const volatile uint8_t *)lsashm_view_ptr(v, off, 1);
                        for (size_t off = 0; off < lsashm_view_size(w); off += 64)
                                sum += *(const volatile uint8_t *)lsashm_view_ptr(w, off, 1);
                        CHILD_CHECK(lsashm_view_state(v) == 0);
                        if (pass == 0)
                                progress(prog, '4'); /* reading its views */
                }
                CHILD_CHECK(sum == 0); /* nobody wrote the sections */
                park();
        }
        case D_CHURN: {
                lsashm_client_t *c = NULL;
                CHILD_CHECK(lsashm_client_connect(sock_path, &c) == 0);
                progress(prog, '1');
                for (int i = 0; i < 100; i++) {
                        lsashm_view_t *v = NULL;
                        CHILD_CHECK(lsashm_client_open(c, (i & 1) ? "r" : "s", &v) == 0);
                        if (i & 2)
                                lsashm_view_close(v);
                        if (i == 0)
                                progress(prog, '2'); /* somewhere in an open or a close */
                }
                park();
        }
        case D_FLOOD: {
                int s = raw_connect();
                CHILD_CHECK(s >= 0);
                CHILD_CHECK(raw_hello(s) == 0);
                progress(prog, '1');
                /* More replies than the kernel holds: the server queues the
                 * rest, each with a descriptor. */
                for (int i = 0; i < room + 40; i++)
                        if (tu_send_fds(s, buf, enc_open(buf, (uint32_t)i + 1, 0, "s"), NULL, 0, 0) < 0)
                                break;
                progress(prog, '2');
                park();
        }
        default:
                _exit(102);
        }
}

/* The server process: serves until told 'q'; on 's' dispatches until idle and
 * writes its stats. Exits through exit() so LeakSanitizer checks it. */
static void server_process(int cmd, int rep)
{
        tu_close_fds_except(cmd, rep);
        static const struct lsashm_rule rw = { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ_WRITE };
        static const struct lsashm_rule ro = { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ };
        struct lsashm_section_config sc = { .max_size = 64 * 1024, .initial_size = 64 * 1024, .name = "hostile-dying" };
        lsashm_section_t *s1 = NULL, *s2 = NULL;
        CHILD_CHECK(lsashm_section_create(&sc, &s1) == 0);
        sc.flags = LSASHM_SECTION_READERS_ONLY;
        CHILD_CHECK(lsashm_section_create(&sc, &s2) == 0);
        struct lsashm_server_config cfg = {
                .path = sock_path, .listen_fd = -1, .log = capture_log,
                .limits = { .connections_per_uid = 2000, .connections = 4096, .views_per_connection = 1024,
                            .queued_per_connection = 128 },
        };
        lsashm_server_t *srv = NULL;
        CHILD_CHECK(lsashm_server_create(&cfg, &srv) == 0);
        CHILD_CHECK(lsashm_server_publish(srv, "s", s1, &(struct lsashm_policy){ &rw, 1 }) == 0);
        CHILD_CHECK(lsashm_server_publish(srv, "r", s2, &(struct lsashm_policy){ &ro, 1 }) == 0);
        CHILD_CHECK(write_byte(rep, 'R'));
        for (;;) {
                struct pollfd p[2] = { { .fd = lsashm_server_fd(srv), .events = POLLIN },
                                       { .fd = cmd, .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        CHILD_CHECK(errno == EINTR);
                        continue;
                }
                if (p[0].revents)
                        CHILD_CHECK(lsashm_server_dispatch(srv) >= 0);
                if (!p[1].revents)
                        continue;
                char c = 0;
                if (read(cmd, &c, 1) != 1 || c == 'q')
                        break;
                if (c == 's') {
                        for (;;) {
                                struct pollfd q = { .fd = lsashm_server_fd(srv), .events = POLLIN };
                                if (poll(&q, 1, 0) <= 0)
                                        break;
                                CHILD_CHECK(lsashm_server_dispatch(srv) >= 0);
                        }
                        struct lsashm_server_stats st;
                        CHILD_CHECK(lsashm_server_stats(srv, &st) == 0);
                        CHILD_CHECK(write(rep, &st, sizeof(st)) == (ssize_t)sizeof(st));
                }
        }
        lsashm_server_destroy(srv);
        CHILD_CHECK(lsashm_section_delete(s1) == 0);
        CHILD_CHECK(lsashm_section_delete(s2) == 0);
        exit(0);
}

static pid_t g_server_pid = -1; /* killed by the teardown if a test failed */

struct server_proc {
        pid_t pid;
        int cmd, rep;
};

static void server_snapshot(struct server_proc *sp, struct lsashm_server_stats *st, int *fds, long *rss_kib,
                            int *memfd_maps, int *maps)
{
        assert_true(write_byte(sp->cmd, 's'));
        struct pollfd p = { .fd = sp->rep, .events = POLLIN };
        assert_int_equal(poll(&p, 1, STEP_MS), 1);
        assert_int_equal(read(sp->rep, st, sizeof(*st)), (ssize_t)sizeof(*st));
        /* The server now sits idle in poll: its /proc entries are stable. */
        *fds = tu_proc_fd_count(sp->pid);
        *rss_kib = proc_rss_kib(sp->pid);
        *memfd_maps = proc_maps_count(sp->pid, "memfd:");
        *maps = proc_maps_count(sp->pid, NULL);
        assert_true(*fds > 0 && *rss_kib > 0 && *memfd_maps >= 0 && *maps > 0);
}

struct round_result {
        unsigned per_kind[D_KINDS];
        unsigned per_stage[8];
};

/* On a failure: no child outlives the test. */
static void kill_batch(const pid_t *pids, unsigned m)
{
        for (unsigned i = 0; i < m; i++)
                if (pids[i] > 0)
                        kill(pids[i], SIGKILL);
        for (unsigned i = 0; i < m; i++)
                if (pids[i] > 0)
                        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                                ;
}

static void run_dying_round(unsigned n, struct tu_rng *rng, int room, struct round_result *res)
{
        for (unsigned b = 0; b < n; b += BATCH) {
                unsigned m = n - b < BATCH ? n - b : BATCH;
                pid_t pids[BATCH];
                int prog[BATCH], stage[BATCH];
                enum dying_kind kinds[BATCH];
                for (unsigned i = 0; i < m; i++) {
                        /* Floods are heavier; one in ten. */
                        uint64_t k = tu_rng_range(rng, 0, 9);
                        kinds[i] = k < 4 ? D_RAW : k < 7 ? D_LIBRARY : k < 9 ? D_CHURN : D_FLOOD;
                        stage[i] = (int)tu_rng_range(rng, 0, (uint64_t)dying_stages[kinds[i]]);
                        res->per_kind[kinds[i]]++;
                        res->per_stage[stage[i]]++;
                        int p[2];
                        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                        pids[i] = tu_fork();
                        assert_true(pids[i] >= 0);
                        if (pids[i] == 0)
                                dying_client(kinds[i], p[1], room);
                        close(p[1]);
                        prog[i] = p[0];
                        if (stage[i] == 0)
                                kill(pids[i], SIGKILL); /* wherever it is */
                }
                for (unsigned i = 0; i < m; i++) {
                        for (int s = 0; s < stage[i]; s++) {
                                char c;
                                if (tu_read_byte(prog[i], STEP_MS, &c) != 1) {
                                        kill(pids[i], SIGKILL);
                                        int status;
                                        waitpid(pids[i], &status, 0);
                                        pids[i] = -1;
                                        kill_batch(pids, m);
                                        char why[64];
                                        fail_msg("dying client (kind %d) stopped before stage %d: %s", kinds[i],
                                                 s + 1, tu_describe_status(status, why, sizeof(why)));
                                }
                        }
                        kill(pids[i], SIGKILL);
                }
                for (unsigned i = 0; i < m; i++) {
                        int status;
                        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
                                ;
                        close(prog[i]);
                        pids[i] = -1;
                        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
                                kill_batch(pids, m);
                                char why[64];
                                fail_msg("dying client (kind %d, stage %d) %s", kinds[i], stage[i],
                                         tu_describe_status(status, why, sizeof(why)));
                        }
                }
        }
}

static bool built_with_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
        return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
        return true;
#else
        return false;
#endif
#else
        return false;
#endif
}

static void test_thousand_dying_clients(void **state)
{
        (void)state;
        int fds0 = tu_count_fds();
        int room = kernel_room();
        assert_true(room > 0);
        int cmd[2], rep[2];
        assert_int_equal(pipe2(cmd, O_CLOEXEC), 0);
        assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
        struct server_proc sp = { .pid = tu_fork() };
        assert_true(sp.pid >= 0);
        if (sp.pid == 0)
                server_process(cmd[0], rep[1]);
        g_server_pid = sp.pid;
        close(cmd[0]);
        close(rep[1]);
        sp.cmd = cmd[1];
        sp.rep = rep[0];
        char c = 0;
        assert_int_equal(tu_read_byte(sp.rep, STEP_MS, &c), 1);
        assert_int_equal(c, 'R');

        struct tu_rng rng = { UINT64_C(0x5eed0fdead) };
        struct round_result res;
        memset(&res, 0, sizeof(res));
        int64_t t0 = now_ns();
        run_dying_round(WARMUP_CLIENTS, &rng, room, &res);
        struct lsashm_server_stats st0, st1;
        int fds_base, fds_end, memfd_base, memfd_end, maps_base, maps_end;
        long rss_base, rss_end;
        server_snapshot(&sp, &st0, &fds_base, &rss_base, &memfd_base, &maps_base);
        assert_int_equal(st0.connections, 0);
        assert_int_equal(st0.views, 0);

        memset(&res, 0, sizeof(res));
        run_dying_round(DYING_CLIENTS, &rng, room, &res);
        server_snapshot(&sp, &st1, &fds_end, &rss_end, &memfd_end, &maps_end);
        int64_t took = now_ns() - t0;
        print_message("  %u clients (raw %u, library %u, churn %u, flood %u) in %.1f s; "
                      "accepted %" PRIu64 ", dropped %" PRIu64 "\n",
                      DYING_CLIENTS, res.per_kind[D_RAW], res.per_kind[D_LIBRARY], res.per_kind[D_CHURN],
                      res.per_kind[D_FLOOD], (double)took / 1e9, st1.accepted - st0.accepted, st1.dropped);
        print_message("  server: fds %d -> %d, RSS %ld -> %ld KiB, memfd mappings %d -> %d, mappings %d -> %d\n",
                      fds_base, fds_end, rss_base, rss_end, memfd_base, memfd_end, maps_base, maps_end);

        assert_true(st1.accepted - st0.accepted >= DYING_CLIENTS - res.per_stage[0]);
        assert_int_equal(st1.connections, 0);
        assert_int_equal(st1.views, 0);
        assert_int_equal(fds_end, fds_base);
        assert_int_equal(memfd_end, memfd_base);
        /* ASan keeps freed memory in quarantine instead of reusing it, so
         * its RSS grows with every allocation made; LeakSanitizer checks the
         * server process at its exit instead. */
        long margin = built_with_asan() ? 16 * 1024L : RSS_MARGIN_KIB;
        if (rss_end > rss_base + margin)
                fail_msg("server RSS grew from %ld to %ld KiB", rss_base, rss_end);

        assert_true(write_byte(sp.cmd, 'q'));
        bool timed_out;
        int status = tu_wait(sp.pid, 30, &timed_out);
        char why[64];
        g_server_pid = -1;
        if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("server process %s", tu_describe_status(status, why, sizeof(why)));
        close(sp.cmd);
        close(sp.rep);
        assert_int_equal(tu_count_fds(), fds0);
}

/* ---- 5, 6: hostile and dying servers ------------------------------------ */

#define FAKE_NAME "lsashm-hostile-fake"
#define FAKE_MAP "memfd:" FAKE_NAME
#define FAKE_SIZE 8192u
#define FAKE_ROOT 128u
#define FAKE_TEXT "fake!"

static int fake_listen(void)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        strcpy(addr.sun_path, sock_path);
        unlink(sock_path);
        int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        assert_true(s >= 0);
        assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof(addr)), 0);
        assert_int_equal(listen(s, 8), 0);
        return s;
}

static int fake_memfd(unsigned seals, bool allow_sealing)
{
        int fd = memfd_create(FAKE_NAME, MFD_CLOEXEC | (allow_sealing ? MFD_ALLOW_SEALING : 0));
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, FAKE_SIZE), 0);
        assert_int_equal(pwrite(fd, FAKE_TEXT, sizeof(FAKE_TEXT), FAKE_ROOT), (ssize_t)sizeof(FAKE_TEXT));
        if (seals)
                assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
        return fd;
}

static int reopen(int fd, int flags)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        int r = open(path, flags | O_CLOEXEC);
        assert_true(r >= 0);
        return r;
}

/* Wait for one packet on conn; its length, 0 at hangup, -1 on timeout. */
static ssize_t fake_recv(int conn, uint8_t *buf, size_t cap)
{
        struct pollfd p = { .fd = conn, .events = POLLIN };
        if (poll(&p, 1, STEP_MS) != 1)
                return -1;
        ssize_t n = recv_discard(conn, buf, cap, MSG_DONTWAIT, NULL);
        return n < 0 ? (n == -ECONNRESET ? 0 : -1) : n;
}

static int fake_accept(int lfd)
{
        struct pollfd p = { .fd = lfd, .events = POLLIN };
        if (poll(&p, 1, STEP_MS) != 1)
                return -1;
        return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

static void fake_hello_reply(int conn, uint16_t version)
{
        struct wire_message m = { .type = WIRE_HELLO_REPLY };
        m.hello_reply.version = version;
        m.hello_reply.max_views = 16;
        uint8_t buf[WIRE_MAX_MESSAGE];
        (void)tu_send_fds(conn, buf, wire_encode(&m, buf), NULL, 0, 0);
}

/* Read the client's OPEN; its request id, or 0 when none came. */
static uint32_t fake_read_open(int conn)
{
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        ssize_t n = fake_recv(conn, buf, sizeof(buf));
        struct wire_message m;
        if (n <= 0 || wire_decode(buf, (size_t)n, 1, &m) < 0 || m.type != WIRE_OPEN)
                return 0;
        return m.open.request;
}

struct reply_spec {
        int32_t status;
        uint32_t access;
        uint64_t size, root;
        uint32_t seals;
        uint32_t request;
        uint32_t view;
        int fds[2];
        int nfds;
};

static void fake_send_reply(int conn, const struct reply_spec *r)
{
        uint8_t buf[WIRE_MAX_MESSAGE];
        /* wire_encode does not validate, so any status or access goes. */
        struct wire_message m = { .type = WIRE_OPEN_REPLY };
        m.open_reply.request = r->request;
        m.open_reply.status = r->status;
        m.open_reply.view = r->view;
        m.open_reply.access = r->access;
        m.open_reply.size = r->size;
        m.open_reply.root = r->root;
        m.open_reply.seals = r->seals;
        (void)tu_send_fds(conn, buf, wire_encode(&m, buf), r->fds, r->nfds, 0);
}

/* A correct reply for a read-write view of a fresh sealed memfd. */
static struct reply_spec good_reply(uint32_t request, int *memfd)
{
        *memfd = fake_memfd(REQUIRED_SEALS, true);
        return (struct reply_spec){ .status = 0, .access = LSASHM_ACCESS_READ_WRITE, .size = FAKE_SIZE,
                                    .root = FAKE_ROOT, .seals = REQUIRED_SEALS, .request = request, .view = 1,
                                    .fds = { *memfd }, .nfds = 1 };
}

enum hello_kind {
        HK_OK, HK_VERSION, HK_FEATURES, HK_RESERVED, HK_FD, HK_WRONG_TYPE, HK_GARBAGE, HK_EMPTY, HK_EMPTY_FD,
        HK_HANGUP, HK_HANGUP_AT_ONCE,
};

enum reply_kind {
        RK_OK_RW, RK_OK_RO, RK_OK_RO_FUTURE_WRITE, RK_OK_STATUS_EACCES, RK_OK_SMALLER_SIZE,
        RK_NO_FD, RK_PIPE, RK_SOCKET, RK_DEV_ZERO, RK_DISK_FILE, RK_UNSEALED, RK_UNSEALED_ANNOUNCED,
        RK_SEALS_MORE, RK_SEALS_LESS, RK_SIZE_TOO_BIG, RK_SIZE_0, RK_SIZE_HUGE, RK_ROOT_PAST_SIZE,
        RK_ROOT_HUGE, RK_RW_ON_RDONLY, RK_RO_ON_RDWR, RK_RW_FUTURE_WRITE, RK_STATUS_POSITIVE,
        RK_STATUS_ERROR_WITH_FD, RK_STATUS_HUGE, RK_WRONG_REQUEST, RK_TWO_FDS, RK_ACCESS_NONE, RK_ACCESS_3,
        RK_SHORT, RK_OVERSIZED, RK_HELLO_REPLY, RK_CLIENT_TYPE, RK_NOTICE_WITH_FD, RK_RESERVED,
        RK_EMPTY, RK_EMPTY_FD, RK_O_PATH, RK_RW_WRITE_SEALED, RK_HANGUP,
};

#define ANY_ERROR INT32_MIN

struct client_case {
        const char *name;
        enum hello_kind hello;
        enum reply_kind reply;
        int want_connect; /* 0, -errno, or ANY_ERROR */
        int want_open;
};

static bool rc_matches(int got, int want)
{
        return want == ANY_ERROR ? got < 0 : got == want;
}

#define CCHECK(k, cond, ...)                                                                            \
        do {                                                                                             \
                if (!(cond)) {                                                                           \
                        fprintf(stderr, "client child (%s) line %d: %s: ", (k)->name, __LINE__, #cond); \
                        fprintf(stderr, __VA_ARGS__);                                                    \
                        fputc('\n', stderr);                                                             \
                        fflush(stderr);                                                                  \
                        _exit(100);                                                                      \
                }                                                                                        \
        } while (0)

static void client_child(const struct client_case *k)
{
        tu_close_fds_except(-1, -1);
        signal(SIGPIPE, SIG_DFL); /* a SIGPIPE must kill us, visibly */
        int base = tu_count_fds();
        lsashm_client_t *c = NULL;
        int r = lsashm_client_connect(sock_path, &c);
        CCHECK(k, rc_matches(r, k->want_connect), "connect returned %d (%s)", r, strerror(-r));
        if (r < 0) {
                CCHECK(k, c == NULL, "ret set on failure");
                CCHECK(k, tu_count_fds() == base, "%d descriptors leaked", tu_count_fds() - base);
                CCHECK(k, maps_count(FAKE_MAP) == 0, "something mapped");
                _exit(0);
        }
        lsashm_view_t *v = NULL;
        r = lsashm_client_open(c, "sec", &v);
        CCHECK(k, rc_matches(r, k->want_open), "open returned %d (%s)", r, strerror(-r));
        if (r == 0) {
                CCHECK(k, maps_count(FAKE_MAP) == 1, "the view is not mapped");
                const char *text = lsashm_view_ptr(v, lsashm_view_root(v), sizeof(FAKE_TEXT));
                CCHECK(k, text && memcmp(text, FAKE_TEXT, sizeof(FAKE_TEXT)) == 0, "wrong data");
                CCHECK(k, lsashm_view_state(v) == 0, "stale");
                CCHECK(k, tu_count_fds() == base + 1, "a descriptor kept per view");
                lsashm_view_close(v);
        } else {
                CCHECK(k, v == NULL, "ret set on failure");
                CCHECK(k, tu_count_fds() == base + 1, "%d descriptors leaked", tu_count_fds() - base - 1);
        }
        CCHECK(k, maps_count(FAKE_MAP) == 0, "a mapping of the fake memfd is left");
        lsashm_client_close(c);
        CCHECK(k, tu_count_fds() == base, "%d descriptors leaked after close", tu_count_fds() - base);
        _exit(0);
}

/* The fake server's side of one client case. Descriptors it makes are put
 * in keep[] for the caller to close once the client is done. */
static void fake_serve(int conn, const struct client_case *k, int *keep, int *n_keep)
{
        uint8_t buf[4096];
        if (k->hello == HK_HANGUP_AT_ONCE)
                return;
        if (fake_recv(conn, buf, sizeof(buf)) <= 0)
                return;
        switch (k->hello) {
        case HK_OK:
                fake_hello_reply(conn, WIRE_VERSION);
                break;
        case HK_VERSION:
                fake_hello_reply(conn, WIRE_VERSION + 1);
                return;
        case HK_FEATURES:
        case HK_RESERVED: {
                struct wire_message m = { .type = WIRE_HELLO_REPLY };
                m.hello_reply.version = WIRE_VERSION;
                m.hello_reply.max_views = 16;
                if (k->hello == HK_FEATURES)
                        m.hello_reply.features = 1u << 7; /* a feature the client never offered */
                size_t len = wire_encode(&m, buf);
                if (k->hello == HK_RESERVED)
                        buf[len - 1] = 1;
                (void)tu_send_fds(conn, buf, len, NULL, 0, 0);
                return;
        }
        case HK_EMPTY:
                (void)tu_send_fds(conn, buf, 0, NULL, 0, 0);
                return;
        case HK_EMPTY_FD: {
                int fd = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS, true);
                (void)tu_send_fds(conn, buf, 0, &fd, 1, 0);
                return;
        }
        case HK_FD: {
                struct wire_message m = { .type = WIRE_HELLO_REPLY };
                m.hello_reply.version = WIRE_VERSION;
                int fd = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS, true);
                (void)tu_send_fds(conn, buf, wire_encode(&m, buf), &fd, 1, 0);
                return;
        }
        case HK_WRONG_TYPE: {
                int memfd;
                struct reply_spec r = good_reply(1, &memfd);
                keep[(*n_keep)++] = memfd;
                r.nfds = 0;
                fake_send_reply(conn, &r);
                return;
        }
        case HK_GARBAGE:
                memset(buf, 0x5a, 24);
                (void)tu_send_fds(conn, buf, 24, NULL, 0, 0);
                return;
        default:
                return; /* HK_HANGUP */
        }
        uint32_t request = fake_read_open(conn);
        if (request == 0 || k->reply == RK_HANGUP)
                return;
        int memfd;
        struct reply_spec r = good_reply(request, &memfd);
        keep[(*n_keep)++] = memfd;
        switch (k->reply) {
        case RK_OK_RW:
                break;
        case RK_OK_RO:
                r.access = LSASHM_ACCESS_READ;
                r.fds[0] = keep[(*n_keep)++] = reopen(memfd, O_RDONLY);
                break;
        case RK_OK_RO_FUTURE_WRITE:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS | F_SEAL_FUTURE_WRITE, true);
                r.fds[0] = keep[(*n_keep)++] = reopen(r.fds[0], O_RDONLY);
                r.access = LSASHM_ACCESS_READ;
                r.seals = REQUIRED_SEALS | F_SEAL_FUTURE_WRITE;
                break;
        case RK_OK_STATUS_EACCES:
                r.status = -EACCES;
                r.nfds = 0;
                break;
        case RK_OK_SMALLER_SIZE:
                r.size = FAKE_SIZE / 2;
                break;
        case RK_NO_FD:
                r.nfds = 0;
                break;
        case RK_PIPE: {
                int p[2];
                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                keep[(*n_keep)++] = p[0];
                keep[(*n_keep)++] = p[1];
                r.fds[0] = p[0];
                break;
        }
        case RK_SOCKET: {
                int sv[2];
                assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
                keep[(*n_keep)++] = sv[0];
                keep[(*n_keep)++] = sv[1];
                r.fds[0] = sv[0];
                break;
        }
        case RK_DEV_ZERO:
                r.fds[0] = keep[(*n_keep)++] = open("/dev/zero", O_RDWR | O_CLOEXEC);
                assert_true(r.fds[0] >= 0);
                break;
        case RK_DISK_FILE: {
                char path[160];
                snprintf(path, sizeof(path), "%s/file", sock_dir);
                int fd = keep[(*n_keep)++] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                unlink(path);
                assert_int_equal(ftruncate(fd, FAKE_SIZE), 0);
                r.fds[0] = fd;
                break;
        }
        case RK_UNSEALED:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(0, false);
                break;
        case RK_UNSEALED_ANNOUNCED:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(0, true);
                r.seals = 0;
                break;
        case RK_SEALS_MORE:
                r.seals = REQUIRED_SEALS | F_SEAL_WRITE;
                break;
        case RK_SEALS_LESS:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS | F_SEAL_FUTURE_WRITE, true);
                r.fds[0] = keep[(*n_keep)++] = reopen(r.fds[0], O_RDONLY);
                r.access = LSASHM_ACCESS_READ;
                break;
        case RK_SIZE_TOO_BIG:
                r.size = FAKE_SIZE + 4096;
                break;
        case RK_SIZE_0:
                r.size = 0;
                r.root = 0;
                break;
        case RK_SIZE_HUGE:
                r.size = UINT64_MAX;
                break;
        case RK_ROOT_PAST_SIZE:
                r.root = FAKE_SIZE + 1;
                break;
        case RK_ROOT_HUGE:
                r.root = UINT64_MAX;
                break;
        case RK_RW_ON_RDONLY:
                r.fds[0] = keep[(*n_keep)++] = reopen(memfd, O_RDONLY);
                break;
        case RK_RO_ON_RDWR:
                r.access = LSASHM_ACCESS_READ;
                break;
        case RK_RW_FUTURE_WRITE:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS | F_SEAL_FUTURE_WRITE, true);
                r.seals = REQUIRED_SEALS | F_SEAL_FUTURE_WRITE;
                break;
        case RK_STATUS_POSITIVE:
                r.status = 5;
                break;
        case RK_STATUS_ERROR_WITH_FD:
                r.status = -EACCES;
                break;
        case RK_STATUS_HUGE:
                r.status = -100000;
                r.nfds = 0;
                break;
        case RK_WRONG_REQUEST:
                r.request = request + 1;
                break;
        case RK_TWO_FDS:
                r.fds[1] = memfd;
                r.nfds = 2;
                break;
        case RK_ACCESS_NONE:
                r.access = LSASHM_ACCESS_NONE;
                break;
        case RK_ACCESS_3:
                r.access = 3;
                break;
        case RK_SHORT:
                buf[0] = WIRE_OPEN_REPLY;
                (void)tu_send_fds(conn, buf, 3, &memfd, 1, 0);
                return;
        case RK_OVERSIZED: {
                struct wire_message m = { .type = WIRE_OPEN_REPLY };
                m.open_reply.request = request;
                m.open_reply.access = LSASHM_ACCESS_READ_WRITE;
                m.open_reply.size = FAKE_SIZE;
                m.open_reply.seals = REQUIRED_SEALS;
                memset(buf, 0, sizeof(buf));
                wire_encode(&m, buf);
                put32le(buf + 4, 600);
                (void)tu_send_fds(conn, buf, 600, &memfd, 1, 0);
                return;
        }
        case RK_HELLO_REPLY:
                fake_hello_reply(conn, WIRE_VERSION);
                return;
        case RK_CLIENT_TYPE:
                (void)tu_send_fds(conn, buf, enc_open(buf, request, 0, "sec"), &memfd, 1, 0);
                return;
        case RK_NOTICE_WITH_FD: {
                struct wire_message m = { .type = WIRE_REVOKED };
                m.revoked.view = 1;
                (void)tu_send_fds(conn, buf, wire_encode(&m, buf), &memfd, 1, 0);
                break; /* then the good reply */
        }
        case RK_RESERVED: {
                struct wire_message m = { .type = WIRE_OPEN_REPLY };
                m.open_reply = (struct wire_open_reply){ .request = request, .access = LSASHM_ACCESS_READ_WRITE,
                                                         .size = FAKE_SIZE, .root = FAKE_ROOT,
                                                         .seals = REQUIRED_SEALS, .view = 1 };
                size_t len = wire_encode(&m, buf);
                buf[len - 1] = 1;
                (void)tu_send_fds(conn, buf, len, &memfd, 1, 0);
                return;
        }
        case RK_EMPTY:
                (void)tu_send_fds(conn, buf, 0, NULL, 0, 0);
                return;
        case RK_EMPTY_FD:
                (void)tu_send_fds(conn, buf, 0, &memfd, 1, 0);
                return;
        case RK_O_PATH:
                r.fds[0] = keep[(*n_keep)++] = reopen(memfd, O_PATH);
                break;
        case RK_RW_WRITE_SEALED:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS | F_SEAL_WRITE, true);
                r.seals = REQUIRED_SEALS | F_SEAL_WRITE;
                break;
        case RK_HANGUP:
                return;
        }
        fake_send_reply(conn, &r);
}

/* Runs one case; false (with the reason printed) when the client misbehaved. */
static bool run_client_case(const struct client_case *k)
{
        int fds0 = tu_count_fds();
        int lfd = fake_listen();
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                client_child(k);
        int keep[8], n_keep = 0;
        int conn = fake_accept(lfd);
        if (conn >= 0)
                fake_serve(conn, k, keep, &n_keep);
        if (conn >= 0 && (k->hello == HK_HANGUP || k->hello == HK_HANGUP_AT_ONCE || k->reply == RK_HANGUP)) {
                close(conn);
                conn = -1;
        }
        bool timed_out;
        int status = tu_wait(pid, 30, &timed_out);
        if (conn >= 0)
                close(conn);
        for (int i = 0; i < n_keep; i++)
                close(keep[i]);
        close(lfd);
        unlink(sock_path);
        char why[64];
        bool ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok)
                print_message("  case \"%s\": client %s\n", k->name, tu_describe_status(status, why, sizeof(why)));
        assert_int_equal(tu_count_fds(), fds0);
        return ok;
}

static void test_client_refuses_hostile_replies(void **state)
{
        (void)state;
        static const struct client_case cases[] = {
                /* controls: the fake server can do it right */
                { "valid read-write reply", HK_OK, RK_OK_RW, 0, 0 },
                { "valid read-only reply", HK_OK, RK_OK_RO, 0, 0 },
                { "valid read-only reply, future-write sealed", HK_OK, RK_OK_RO_FUTURE_WRITE, 0, 0 },
                { "valid reply, size below the file's", HK_OK, RK_OK_SMALLER_SIZE, 0, 0 },
                { "valid refusal", HK_OK, RK_OK_STATUS_EACCES, 0, -EACCES },
                /* hellos */
                { "HELLO_REPLY with an unknown version", HK_VERSION, RK_OK_RW, -EPROTO, 0 },
                { "HELLO_REPLY with a descriptor", HK_FD, RK_OK_RW, -EPROTO, 0 },
                { "OPEN_REPLY instead of HELLO_REPLY", HK_WRONG_TYPE, RK_OK_RW, -EPROTO, 0 },
                { "garbage instead of HELLO_REPLY", HK_GARBAGE, RK_OK_RW, -EPROTO, 0 },
                { "HELLO_REPLY with nonzero reserved bytes", HK_RESERVED, RK_OK_RW, -EPROTO, 0 },
                { "HELLO_REPLY with a feature bit the client never offered", HK_FEATURES, RK_OK_RW, -EPROTO, 0 },
                { "empty packet instead of HELLO_REPLY", HK_EMPTY, RK_OK_RW, -EPROTO, 0 },
                { "empty packet with a descriptor instead of HELLO_REPLY", HK_EMPTY_FD, RK_OK_RW, -EPROTO, 0 },
                /* replies */
                { "status 0 without a descriptor", HK_OK, RK_NO_FD, 0, -EPROTO },
                { "a pipe", HK_OK, RK_PIPE, 0, -EPROTO },
                { "a socket", HK_OK, RK_SOCKET, 0, -EPROTO },
                { "/dev/zero", HK_OK, RK_DEV_ZERO, 0, -EPROTO },
                { "a regular file, not a memfd", HK_OK, RK_DISK_FILE, 0, -EPROTO },
                { "a memfd without sealing", HK_OK, RK_UNSEALED, 0, -EPROTO },
                { "a memfd without seals, announced so", HK_OK, RK_UNSEALED_ANNOUNCED, 0, -EPROTO },
                { "announced seals the memfd lacks", HK_OK, RK_SEALS_MORE, 0, -EPROTO },
                { "seals the announcement lacks", HK_OK, RK_SEALS_LESS, 0, -EPROTO },
                { "size larger than the file", HK_OK, RK_SIZE_TOO_BIG, 0, -EPROTO },
                { "size 0", HK_OK, RK_SIZE_0, 0, -EPROTO },
                { "size 2^64-1", HK_OK, RK_SIZE_HUGE, 0, -EPROTO },
                { "root past the size", HK_OK, RK_ROOT_PAST_SIZE, 0, -EPROTO },
                { "root 2^64-1", HK_OK, RK_ROOT_HUGE, 0, -EPROTO },
                { "read-write announced, O_RDONLY descriptor", HK_OK, RK_RW_ON_RDONLY, 0, -EPROTO },
                { "read-only announced, O_RDWR descriptor", HK_OK, RK_RO_ON_RDWR, 0, -EPROTO },
                { "read-write announced, future-write sealed", HK_OK, RK_RW_FUTURE_WRITE, 0, -EPROTO },
                { "status > 0", HK_OK, RK_STATUS_POSITIVE, 0, -EPROTO },
                { "an error status with a descriptor", HK_OK, RK_STATUS_ERROR_WITH_FD, 0, -EPROTO },
                { "status -100000", HK_OK, RK_STATUS_HUGE, 0, -EPROTO },
                { "mismatched request id", HK_OK, RK_WRONG_REQUEST, 0, -EPROTO },
                { "two descriptors", HK_OK, RK_TWO_FDS, 0, -EPROTO },
                { "access NONE with status 0", HK_OK, RK_ACCESS_NONE, 0, -EPROTO },
                { "access 3", HK_OK, RK_ACCESS_3, 0, -EPROTO },
                { "3-byte reply with a descriptor", HK_OK, RK_SHORT, 0, -EPROTO },
                { "600-byte reply with a descriptor", HK_OK, RK_OVERSIZED, 0, -EPROTO },
                { "HELLO_REPLY instead of OPEN_REPLY", HK_OK, RK_HELLO_REPLY, 0, -EPROTO },
                { "a client's OPEN with a descriptor", HK_OK, RK_CLIENT_TYPE, 0, -EPROTO },
                { "a notice carrying a descriptor", HK_OK, RK_NOTICE_WITH_FD, 0, -EPROTO },
                { "nonzero reserved bytes", HK_OK, RK_RESERVED, 0, -EPROTO },
                { "empty packet instead of OPEN_REPLY", HK_OK, RK_EMPTY, 0, -EPROTO },
                { "empty packet with a descriptor instead of OPEN_REPLY", HK_OK, RK_EMPTY_FD, 0, -EPROTO },
                { "an O_PATH descriptor of the memfd", HK_OK, RK_O_PATH, 0, -EPROTO },
                { "read-write announced, write-sealed memfd", HK_OK, RK_RW_WRITE_SEALED, 0, -EPROTO },
                /* servers that go away */
                { "server hangs up at once", HK_HANGUP_AT_ONCE, RK_OK_RW, -ECONNRESET, 0 },
                { "server hangs up after reading HELLO", HK_HANGUP, RK_OK_RW, -ECONNRESET, 0 },
                { "server hangs up after reading OPEN", HK_OK, RK_HANGUP, 0, -ECONNRESET },
        };
        int fds0 = tu_count_fds();
        unsigned failed = 0;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                failed += !run_client_case(&cases[i]);
        assert_int_equal(tu_count_fds(), fds0);
        if (failed)
                fail_msg("%u of %zu hostile replies were not refused as they should be", failed,
                         sizeof(cases) / sizeof(cases[0]));
}

/* A client that opened a good view, then sees its server die. */
enum death_kind {
        DK_KILLED_MID_OPEN,   /* the server process is SIGKILLed after reading the second OPEN */
        DK_GONE_BEFORE_CLOSE, /* the server hangs up; the client closes its view, then opens */
        DK_UNSOLICITED,       /* the server sends a reply nobody asked for, with a descriptor */
};

static void death_child(enum death_kind kind, int sync)
{
        tu_close_fds_except(sync, -1);
        signal(SIGPIPE, SIG_DFL);
        int base = tu_count_fds();
        lsashm_client_t *c = NULL;
        CHILD_CHECK(lsashm_client_connect(sock_path, &c) == 0);
        lsashm_view_t *v = NULL, *w = NULL;
        CHILD_CHECK(lsashm_client_open(c, "first", &v) == 0);
        const char *text = lsashm_view_ptr(v, lsashm_view_root(v), sizeof(FAKE_TEXT));
        CHILD_CHECK(text && memcmp(text, FAKE_TEXT, sizeof(FAKE_TEXT)) == 0);
        CHILD_CHECK(maps_count(FAKE_MAP) == 1);
        switch (kind) {
        case DK_KILLED_MID_OPEN: {
                int r = lsashm_client_open(c, "second", &w);
                if (r != -ECONNRESET)
                        fprintf(stderr, "open after the server died: %d\n", r);
                CHILD_CHECK(r == -ECONNRESET);
                CHILD_CHECK(w == NULL);
                CHILD_CHECK(lsashm_view_state(v) == -ESTALE);
                /* The mapping stays valid. */
                CHILD_CHECK(memcmp(text, FAKE_TEXT, sizeof(FAKE_TEXT)) == 0);
                CHILD_CHECK(lsashm_client_open(c, "third", &w) == -ECONNRESET);
                CHILD_CHECK(lsashm_client_dispatch(c) == -ECONNRESET);
                break;
        }
        case DK_GONE_BEFORE_CLOSE: {
                char b;
                CHILD_CHECK(write_byte(sync, 'o'));
                CHILD_CHECK(tu_read_byte(sync, 30000, &b) == 1); /* the server has hung up */
                /* Closing sends CLOSE into a dead socket: no SIGPIPE. */
                lsashm_view_close(v);
                v = NULL;
                int r = lsashm_client_open(c, "second", &w);
                if (r != -ECONNRESET)
                        fprintf(stderr, "open after the server hung up: %d\n", r);
                CHILD_CHECK(r == -ECONNRESET);
                CHILD_CHECK(lsashm_client_dispatch(c) == -ECONNRESET);
                break;
        }
        case DK_UNSOLICITED: {
                struct pollfd p = { .fd = lsashm_client_fd(c), .events = POLLIN };
                CHILD_CHECK(poll(&p, 1, 30000) == 1);
                CHILD_CHECK(lsashm_client_dispatch(c) == -EPROTO);
                CHILD_CHECK(tu_count_fds() == base + 1);
                CHILD_CHECK(maps_count(FAKE_MAP) == 1);
                CHILD_CHECK(lsashm_view_state(v) == -ESTALE);
                CHILD_CHECK(memcmp(text, FAKE_TEXT, sizeof(FAKE_TEXT)) == 0);
                break;
        }
        }
        CHILD_CHECK(tu_count_fds() == base + 1);
        if (v)
                lsashm_view_close(v);
        CHILD_CHECK(maps_count(FAKE_MAP) == 0);
        lsashm_client_close(c);
        CHILD_CHECK(tu_count_fds() == base);
        _exit(0);
}

/* Fake server process for DK_KILLED_MID_OPEN: answers the hello and the
 * first open, reads the second open, reports 'k' and waits to be killed. */
static void doomed_server(int lfd, int report)
{
        tu_close_fds_except(lfd, report);
        int conn = fake_accept(lfd);
        CHILD_CHECK(conn >= 0);
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        CHILD_CHECK(fake_recv(conn, buf, sizeof(buf)) > 0);
        fake_hello_reply(conn, WIRE_VERSION);
        uint32_t request = fake_read_open(conn);
        CHILD_CHECK(request != 0);
        int memfd = memfd_create(FAKE_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        CHILD_CHECK(memfd >= 0 && ftruncate(memfd, FAKE_SIZE) == 0);
        CHILD_CHECK(pwrite(memfd, FAKE_TEXT, sizeof(FAKE_TEXT), FAKE_ROOT) == (ssize_t)sizeof(FAKE_TEXT));
        CHILD_CHECK(fcntl(memfd, F_ADD_SEALS, REQUIRED_SEALS) == 0);
        struct reply_spec r = { .status = 0, .access = LSASHM_ACCESS_READ_WRITE, .size = FAKE_SIZE,
                                .root = FAKE_ROOT, .seals = REQUIRED_SEALS, .request = request, .view = 1,
                                .fds = { memfd }, .nfds = 1 };
        fake_send_reply(conn, &r);
        CHILD_CHECK(fake_read_open(conn) != 0);
        CHILD_CHECK(write_byte(report, 'k'));
        park();
}

static void run_death(enum death_kind kind)
{
        int fds0 = tu_count_fds();
        int lfd = fake_listen();
        int sync[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                death_child(kind, sync[1]);
        close(sync[1]);
        int memfd = -1, conn = -1;
        if (kind == DK_KILLED_MID_OPEN) {
                /* A real server process, killed while the client waits for
                 * the answer to its second open. */
                int report[2];
                assert_int_equal(pipe2(report, O_CLOEXEC), 0);
                pid_t server = tu_fork();
                assert_true(server >= 0);
                if (server == 0)
                        doomed_server(lfd, report[1]);
                close(report[1]);
                char c = 0;
                int got = tu_read_byte(report[0], STEP_MS, &c);
                kill(server, SIGKILL);
                int status;
                while (waitpid(server, &status, 0) < 0 && errno == EINTR)
                        ;
                close(report[0]);
                if (got != 1) {
                        kill(pid, SIGKILL);
                        char why[64];
                        fail_msg("fake server process %s", tu_describe_status(status, why, sizeof(why)));
                }
        } else {
                conn = fake_accept(lfd);
                assert_true(conn >= 0);
                uint8_t buf[WIRE_MAX_MESSAGE + 1];
                assert_true(fake_recv(conn, buf, sizeof(buf)) > 0);
                fake_hello_reply(conn, WIRE_VERSION);
                uint32_t request = fake_read_open(conn);
                assert_true(request != 0);
                struct reply_spec r = good_reply(request, &memfd);
                fake_send_reply(conn, &r);
                if (kind == DK_GONE_BEFORE_CLOSE) {
                        char c;
                        assert_int_equal(tu_read_byte(sync[0], STEP_MS, &c), 1);
                        close(conn);
                        conn = -1;
                        assert_true(write_byte(sync[0], 'g'));
                } else {
                        r.request = request + 1;
                        r.view = 2;
                        fake_send_reply(conn, &r);
                }
        }
        bool timed_out;
        int status = tu_wait(pid, 30, &timed_out);
        if (conn >= 0)
                close(conn);
        if (memfd >= 0)
                close(memfd);
        close(sync[0]);
        close(lfd);
        unlink(sock_path);
        char why[64];
        if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("death case %d: client %s", kind, tu_describe_status(status, why, sizeof(why)));
        assert_int_equal(tu_count_fds(), fds0);
}

static void test_server_dies_mid_open(void **state)
{
        (void)state;
        run_death(DK_KILLED_MID_OPEN);
}

static void test_server_gone_no_sigpipe(void **state)
{
        (void)state;
        run_death(DK_GONE_BEFORE_CLOSE);
}

static void test_unsolicited_reply(void **state)
{
        (void)state;
        run_death(DK_UNSOLICITED);
}

/* ---- setup -------------------------------------------------------------- */

static int group_setup(void **state)
{
        (void)state;
        strcpy(sock_dir, "/tmp/lsashm-hostile-XXXXXX");
        if (!mkdtemp(sock_dir))
                return -1;
        snprintf(sock_path, sizeof(sock_path), "%s/sock", sock_dir);
        return 0;
}

static int group_teardown(void **state)
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

int main(void)
{
        /* A thousand clients in flight, each with a pipe and a socket. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        /* Writes to children that died early fail with EPIPE instead. */
        signal(SIGPIPE, SIG_IGN);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_descriptors_refused, setup_default, teardown_fixture),
                cmocka_unit_test_setup_teardown(test_malformed_refused, setup_default, teardown_fixture),
                cmocka_unit_test_setup_teardown(test_empty_packet_refused, setup_default, teardown_fixture),
                cmocka_unit_test_setup_teardown(test_never_reads_opens, setup_small_queue, teardown_fixture),
                cmocka_unit_test_setup_teardown(test_never_reads_notices, setup_small_queue, teardown_fixture),
                cmocka_unit_test_setup_teardown(test_slow_reader_served, setup_small_queue, teardown_fixture),
                cmocka_unit_test(test_thousand_dying_clients),
                cmocka_unit_test(test_client_refuses_hostile_replies),
                cmocka_unit_test(test_server_dies_mid_open),
                cmocka_unit_test(test_server_gone_no_sigpipe),
                cmocka_unit_test(test_unsolicited_reply),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
