/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the sharing access tests (tests/test-share-access-*.c):
 * sharing sections across real processes. The owner's server runs in the
 * test's process, driven by lsashm_server_dispatch() whenever its fd polls
 * readable, while forked children (some dropping to other uids, some
 * exec'ing a fresh image) act as clients and report back through pipes.
 *
 * Header-only, included once by each test program; its functions are
 * static inline so that a program need not use all of them.
 */
#ifndef LSASHM_TESTS_SHARE_ACCESS_FIXTURE_H
#define LSASHM_TESTS_SHARE_ACCESS_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/falloc.h>
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
#include <sys/prctl.h>
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

#define KiB ((uint64_t)1024)
#define TIMEOUT_MS 10000
#define MAX_CHILDREN 16
#define MAX_SECTIONS 16

/* Descriptors every child has, whatever it inherited: the rest are closed,
 * so that no child holds the owner's memfd or another client's socket. */
#define CHILD_IN 3   /* parent -> child */
#define CHILD_OUT 4  /* child -> parent (stdout of exec'd examples) */
#define CHILD_KEEP 5 /* one extra descriptor, e.g. the executable */

/* ---- state of the running test, cleaned up by teardown even on failure ---- */

static struct {
        char dir[64];
        char path[128];
        lsashm_server_t *srv;
        lsashm_section_t *sections[MAX_SECTIONS];
        pid_t pids[MAX_CHILDREN];
        int fds_before;
} T;

static struct {
        unsigned lines;
        char last[512];
} logbook;

static inline void log_line(void *ctx, const char *line)
{
        (void)ctx;
        logbook.lines++;
        snprintf(logbook.last, sizeof(logbook.last), "%s", line);
}

static inline int setup(void **state)
{
        (void)state;
        memset(&T, 0, sizeof(T));
        memset(&logbook, 0, sizeof(logbook));
        T.fds_before = tu_count_fds();
        return 0;
}

static inline int teardown(void **state)
{
        (void)state;
        for (int i = 0; i < MAX_CHILDREN; i++)
                if (T.pids[i] > 0) {
                        kill(T.pids[i], SIGKILL);
                        while (waitpid(T.pids[i], NULL, 0) < 0 && errno == EINTR)
                                ;
                        T.pids[i] = 0;
                }
        if (T.srv)
                lsashm_server_destroy(T.srv);
        T.srv = NULL;
        for (int i = 0; i < MAX_SECTIONS; i++)
                if (T.sections[i])
                        lsashm_section_delete(T.sections[i]);
        if (T.path[0])
                unlink(T.path);
        if (T.dir[0])
                rmdir(T.dir);
        return 0;
}

static inline bool am_root(void)
{
        if (geteuid() == 0)
                return true;
        print_message("skipping: this test runs clients as other uids (setresuid), which needs root\n");
        return false;
}

static inline uint64_t ms_since(const struct timespec *start)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (uint64_t)(now.tv_sec - start->tv_sec) * 1000 + (uint64_t)((now.tv_nsec - start->tv_nsec) / 1000000);
}

/* ---- server and sections ---- */

static inline void server_start(const struct lsashm_server_limits *limits, uint32_t mode)
{
        snprintf(T.dir, sizeof(T.dir), "/tmp/lsashm-share-XXXXXX");
        assert_non_null(mkdtemp(T.dir));
        /* Other uids must reach the socket; they may not list the directory. */
        assert_int_equal(chmod(T.dir, 0711), 0);
        snprintf(T.path, sizeof(T.path), "%s/lsashm.sock", T.dir);
        struct lsashm_server_config cfg = { .path = T.path, .mode = mode, .listen_fd = -1, .log = log_line };
        if (limits)
                cfg.limits = *limits;
        assert_int_equal(lsashm_server_create(&cfg, &T.srv), 0);
}

/* Destroy the server: the socket file must be gone with it. */
static inline void server_stop(void)
{
        lsashm_server_destroy(T.srv);
        T.srv = NULL;
        struct stat st;
        assert_int_equal(lstat(T.path, &st), -1);
        assert_int_equal(errno, ENOENT);
        assert_int_equal(rmdir(T.dir), 0);
        T.dir[0] = T.path[0] = '\0';
}

static inline lsashm_section_t *section_make(uint64_t max, uint64_t initial, uint32_t flags)
{
        struct lsashm_section_config cfg = { .max_size = max, .initial_size = initial, .flags = flags,
                                             .name = "share-access" };
        lsashm_section_t *s = NULL;
        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        for (int i = 0; i < MAX_SECTIONS; i++)
                if (!T.sections[i]) {
                        T.sections[i] = s;
                        return s;
                }
        fail_msg("too many sections");
        return NULL;
}

static inline void section_drop(lsashm_section_t *s)
{
        for (int i = 0; i < MAX_SECTIONS; i++)
                if (T.sections[i] == s)
                        T.sections[i] = NULL;
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* A block holding text, NUL included; its offset in *ret_off. */
static inline char *put_text(lsashm_section_t *s, const char *text, uint64_t *ret_off)
{
        void *p = NULL;
        assert_int_equal(lsashm_section_alloc(s, strlen(text) + 1, &p), 0);
        memcpy(p, text, strlen(text) + 1);
        assert_int_equal(lsashm_section_offset(s, p, ret_off), 0);
        return p;
}

/* Publish s as name with the given rules, its root at a block holding text. */
static inline uint64_t publish_text(const char *name, lsashm_section_t *s, const struct lsashm_rule *rules, size_t n,
                             const char *text)
{
        uint64_t off;
        put_text(s, text, &off);
        struct lsashm_policy policy = { .rules = rules, .n_rules = n };
        assert_int_equal(lsashm_server_publish(T.srv, name, s, &policy), 0);
        assert_int_equal(lsashm_server_set_root(T.srv, name, off), 0);
        return off;
}

static inline struct lsashm_server_stats stats(void)
{
        struct lsashm_server_stats st;
        assert_int_equal(lsashm_server_stats(T.srv, &st), 0);
        return st;
}

/* ---- driving the server ---- */

/* One round: wait up to timeout_ms for the server to have work, do it. */
static inline void serve_round(int timeout_ms)
{
        struct pollfd p = { .fd = lsashm_server_fd(T.srv), .events = POLLIN };
        int n = poll(&p, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
                return;
        assert_true(n >= 0);
        if (n > 0)
                assert_true(lsashm_server_dispatch(T.srv) >= 0);
}

/* Serve until fd polls readable (or hung up); false after TIMEOUT_MS. */
static inline bool serve_until_readable(int fd)
{
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                uint64_t spent = ms_since(&start);
                if (spent >= TIMEOUT_MS)
                        return false;
                struct pollfd p[2] = {
                        { .fd = fd, .events = POLLIN },
                        { .fd = T.srv ? lsashm_server_fd(T.srv) : -1, .events = POLLIN },
                };
                int n = poll(p, 2, (int)(TIMEOUT_MS - spent));
                if (n < 0 && errno == EINTR)
                        continue;
                assert_true(n >= 0);
                if (p[1].revents & POLLIN)
                        assert_true(lsashm_server_dispatch(T.srv) >= 0);
                if (p[0].revents)
                        return true;
        }
}

/* Serve until cond holds; fail after TIMEOUT_MS. No sleeping: each round
 * waits on the server's own fd. */
#define SERVE_UNTIL(cond)                                                          \
        do {                                                                       \
                struct timespec start_;                                            \
                clock_gettime(CLOCK_MONOTONIC, &start_);                           \
                while (!(cond)) {                                                  \
                        if (ms_since(&start_) > TIMEOUT_MS)                        \
                                fail_msg("timed out waiting for %s", #cond);       \
                        serve_round(20);                                           \
                }                                                                  \
        } while (0)

/* Handle everything already pending (e.g. hang-ups of clients that exited). */
static inline void serve_pending(void)
{
        for (int i = 0; i < 1000; i++) {
                struct pollfd p = { .fd = lsashm_server_fd(T.srv), .events = POLLIN };
                if (poll(&p, 1, 0) <= 0)
                        return;
                assert_true(lsashm_server_dispatch(T.srv) >= 0);
        }
        fail_msg("the server never ran out of work");
}

/* ---- children ---- */

struct ident {
        const char *what;
        bool drop;
        uid_t uid;
        gid_t gid;
        size_t n_groups;
        gid_t groups[2];
};

/* The owner's own uid, whatever it is: needs no privilege. */
static const struct ident AS_OWNER = { "the owner's uid", false, 0, 0, 0, { 0 } };
/* The rest need root to become. */
static const struct ident AS_ROOT = { "root", true, 0, 0, 0, { 0 } };
static const struct ident AS_NOBODY = { "uid 65534", true, 65534, 65534, 0, { 0 } };
static const struct ident AS_USER = { "uid 12345 gid 12345", true, 12345, 12345, 0, { 0 } };
static const struct ident AS_USER_SUPP = { "uid 12345 gid 12345 groups 4242", true, 12345, 12345, 1, { 4242 } };

struct child {
        pid_t pid;
        int to;   /* write: parent -> child */
        int from; /* read: child -> parent */
        int slot;
};

typedef int (*child_fn)(void *arg);



/* In a child: report to the parent / wait for its go-ahead. */
#define CHILD_SEND(v) CHILD_CHECK(tu_write_all(CHILD_OUT, &(v), sizeof(v)))
#define CHILD_WAIT()                                    \
        do {                                            \
                char go_;                               \
                CHILD_CHECK(tu_read_all(CHILD_IN, &go_, 1));  \
        } while (0)

static inline void become(const struct ident *id)
{
        if (!id || !id->drop)
                return;
        struct tu_creds cr = { .uid = id->uid, .gid = id->gid, .ngroups = (int)id->n_groups };
        memcpy(cr.groups, id->groups, id->n_groups * sizeof(gid_t));
        tu_become(&cr);
}

/*
 * Fork a child that becomes id and runs fn(arg); it exits with fn's result.
 * It keeps only stdin/out/err, CHILD_IN, CHILD_OUT and (keep_fd >= 0)
 * CHILD_KEEP: no inherited section or socket.
 */
static inline struct child child_start(const struct ident *id, child_fn fn, void *arg, int keep_fd)
{
        int down[2], up[2];
        assert_int_equal(pipe2(down, O_CLOEXEC), 0);
        assert_int_equal(pipe2(up, O_CLOEXEC), 0);
        int slot = 0;
        while (slot < MAX_CHILDREN && T.pids[slot])
                slot++;
        assert_true(slot < MAX_CHILDREN);
        pid_t parent = getpid();
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int in = fcntl(down[0], F_DUPFD, 64), out = fcntl(up[1], F_DUPFD, 64);
                int keep = keep_fd >= 0 ? fcntl(keep_fd, F_DUPFD, 64) : -1;
                CHILD_CHECK(in >= 0 && out >= 0 && (keep_fd < 0 || keep >= 0));
                CHILD_CHECK(dup2(in, CHILD_IN) == CHILD_IN && dup2(out, CHILD_OUT) == CHILD_OUT);
                if (keep >= 0)
                        CHILD_CHECK(dup2(keep, CHILD_KEEP) == CHILD_KEEP);
                CHILD_CHECK(close_range(keep >= 0 ? CHILD_KEEP + 1 : CHILD_KEEP, ~0u, 0) == 0);
                become(id);
                /* Changing credentials clears both; set them afterwards. A
                 * child must never outlive a test run that failed. */
                CHILD_CHECK(prctl(PR_SET_DUMPABLE, 1) == 0);
                CHILD_CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL) == 0);
                if (getppid() != parent)
                        _exit(99);
                _exit(fn(arg));
        }
        close(down[0]);
        close(up[1]);
        T.pids[slot] = pid;
        return (struct child){ .pid = pid, .to = down[1], .from = up[0], .slot = slot };
}

static inline void child_go(struct child *c)
{
        assert_true(tu_write_all(c->to, "g", 1));
}

/* Wait for the child (serving meanwhile); it must exit with status 0. */
static inline void child_finish(struct child *c)
{
        char junk;
        for (;;) {
                if (!serve_until_readable(c->from))
                        fail_msg("child %d did not finish", (int)c->pid);
                ssize_t n = read(c->from, &junk, 1);
                if (n == 0)
                        break;
                if (n < 0 && errno != EINTR)
                        break;
                if (n > 0)
                        fail_msg("child %d sent more than expected", (int)c->pid);
        }
        int status = tu_wait(c->pid, 10, NULL);
        T.pids[c->slot] = 0;
        close(c->to);
        close(c->from);
        char why[64];
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("child %d %s", (int)c->pid, tu_describe_status(status, why, sizeof(why)));
        if (T.srv)
                serve_pending();
}

/* Receive a report of len bytes from the child, serving meanwhile. */
static inline void child_get(struct child *c, void *buf, size_t len)
{
        char *p = buf;
        while (len) {
                if (!serve_until_readable(c->from))
                        fail_msg("no report from child %d", (int)c->pid);
                ssize_t n = read(c->from, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        char why[64];
                        int status = tu_wait(c->pid, 10, NULL);
                        T.pids[c->slot] = 0;
                        fail_msg("child %d stopped before reporting: %s", (int)c->pid,
                                 tu_describe_status(status, why, sizeof(why)));
                }
                p += n;
                len -= (size_t)n;
        }
}

/* Kill the child now and reap it. */
static inline void child_kill(struct child *c)
{
        assert_int_equal(kill(c->pid, SIGKILL), 0);
        int status;
        while (waitpid(c->pid, &status, 0) < 0)
                assert_int_equal(errno, EINTR);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        T.pids[c->slot] = 0;
        close(c->to);
        close(c->from);
}

/* In a child: exec this program (or another) from the descriptor CHILD_KEEP,
 * so that no path has to be reachable by the uid it runs as. */
static inline int exec_child(void *arg)
{
        char **argv = arg;
        CHILD_CHECK(fcntl(CHILD_KEEP, F_SETFD, FD_CLOEXEC) == 0);
        fexecve(CHILD_KEEP, argv, environ);
        fprintf(stderr, "child %d: fexecve %s: %s\n", (int)getpid(), argv[0], strerror(errno));
        return errno == EACCES ? 77 : 127;
}

/* ---- speaking the protocol by hand ---- */

static inline int raw_connect(const char *path)
{
        return tu_seqpacket_connect(path, 0);
}

static inline int raw_send(int fd, const struct wire_message *m, bool nonblocking)
{
        uint8_t buf[WIRE_MAX_MESSAGE];
        return fdpass_send(fd, buf, wire_encode(m, buf), -1, nonblocking);
}

static inline int raw_hello(int fd)
{
        struct wire_message m = { .type = WIRE_HELLO };
        m.hello.version = WIRE_VERSION;
        m.hello.features = WIRE_FEATURES;
        return raw_send(fd, &m, false);
}

static inline int raw_open(int fd, uint32_t request, uint32_t flags, const char *name, bool nonblocking)
{
        struct wire_message m = { .type = WIRE_OPEN };
        m.open.request = request;
        m.open.flags = flags;
        m.open.name_len = (uint8_t)strlen(name);
        memcpy(m.open.name, name, m.open.name_len);
        return raw_send(fd, &m, nonblocking);
}

/* One message from the server: 0, -EAGAIN, -ECONNRESET at end of stream,
 * or another -errno. Its descriptor, if any, in *ret_fd (else closed). */
static inline int raw_recv(int fd, struct wire_message *m, int *ret_fd, bool nonblocking)
{
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        int got = -1;
        ssize_t n = fdpass_recv(fd, buf, sizeof(buf), &got, true, nonblocking);
        if (n == 0)
                return -ECONNRESET;
        if (n < 0)
                return (int)n;
        int r = wire_decode(buf, (size_t)n, 0, m);
        if (r < 0 || !ret_fd) {
                if (got >= 0)
                        close(got);
                got = -1;
        }
        if (ret_fd)
                *ret_fd = got;
        return r;
}

/* Blocking: connect, hello, open name; the reply and its descriptor. */
static inline int raw_fetch(const char *path, const char *name, uint32_t flags, int *ret_sock,
                     struct wire_open_reply *ret_reply, int *ret_fd)
{
        int sock = raw_connect(path);
        if (sock < 0)
                return sock;
        struct wire_message m;
        int r = raw_hello(sock);
        if (r == 0)
                r = raw_recv(sock, &m, NULL, false);
        if (r == 0 && m.type != WIRE_HELLO_REPLY)
                r = -EPROTO;
        if (r == 0)
                r = raw_open(sock, 1, flags, name, false);
        if (r == 0)
                r = raw_recv(sock, &m, ret_fd, false);
        if (r == 0 && m.type != WIRE_OPEN_REPLY)
                r = -EPROTO;
        if (r < 0) {
                close(sock);
                return r;
        }
        *ret_sock = sock;
        *ret_reply = m.open_reply;
        return 0;
}

/* In this process: connect and greet, serving until the reply is in. */
static inline int raw_connect_served(void)
{
        int fd = raw_connect(T.path);
        assert_true(fd >= 0);
        assert_int_equal(raw_hello(fd), 0);
        assert_true(serve_until_readable(fd));
        struct wire_message m;
        assert_int_equal(raw_recv(fd, &m, NULL, true), 0);
        assert_int_equal(m.type, WIRE_HELLO_REPLY);
        return fd;
}

/* In this process: one OPEN round trip; the status, the fd closed. */
static inline int raw_open_served(int sock, uint32_t request, const char *name)
{
        assert_int_equal(raw_open(sock, request, 0, name, false), 0);
        assert_true(serve_until_readable(sock));
        struct wire_message m;
        int fd = -1;
        assert_int_equal(raw_recv(sock, &m, &fd, true), 0);
        assert_int_equal(m.type, WIRE_OPEN_REPLY);
        assert_int_equal(m.open_reply.request, request);
        assert_int_equal(m.open_reply.status == 0, fd >= 0);
        if (fd >= 0)
                close(fd);
        return m.open_reply.status;
}


/* Access rights in rule tables. */
#define W LSASHM_ACCESS_READ_WRITE
#define R LSASHM_ACCESS_READ
#define NONE LSASHM_ACCESS_NONE

static const struct lsashm_rule rules_anyone[] = { { LSASHM_RULE_ANYONE, 0, R } };

#endif
