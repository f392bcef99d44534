/* SPDX-License-Identifier: MIT */
/*
 * Sharing sections across real processes: the owner's server runs in this
 * process, driven by lsashm_server_dispatch() whenever its fd polls readable,
 * while forked children (some dropping to other uids, some exec'ing a fresh
 * image) act as clients and report back through pipes.
 *
 *   policy        default deny, uid / gid / supplementary-group / anyone
 *                 rules, widest access wins, unknown names, read-only opens,
 *                 the view accessors and their bounds
 *   read-only     a client of another uid holding a read-only descriptor
 *                 tries every route to write; a readers-only section resists
 *                 even root reopening it for writing
 *   revocation    unpublish and delete: notices, -ESTALE, mappings that stay
 *                 valid and read zeros after a delete
 *   limits        connections per uid, views per connection, queued messages
 *   lifecycle     counters, clients that exit or are SIGKILLed at any step,
 *                 destroy leaving no descriptor and no socket behind
 *   example       lsashm-example-publisher and lsashm-example-reader, as root
 *                 and as another uid
 *
 * Run as "--attack-readonly ..." this program is the exec'd client of the
 * read-only test, not a test suite.
 */
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

static void log_line(void *ctx, const char *line)
{
        (void)ctx;
        logbook.lines++;
        snprintf(logbook.last, sizeof(logbook.last), "%s", line);
}

static int setup(void **state)
{
        (void)state;
        memset(&T, 0, sizeof(T));
        memset(&logbook, 0, sizeof(logbook));
        T.fds_before = tu_count_fds();
        return 0;
}

static int teardown(void **state)
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

static bool am_root(void)
{
        if (geteuid() == 0)
                return true;
        print_message("skipping: this test runs clients as other uids (setresuid), which needs root\n");
        return false;
}

static uint64_t ms_since(const struct timespec *start)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (uint64_t)(now.tv_sec - start->tv_sec) * 1000 + (uint64_t)((now.tv_nsec - start->tv_nsec) / 1000000);
}

/* ---- server and sections ---- */

static void server_start(const struct lsashm_server_limits *limits, uint32_t mode)
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
static void server_stop(void)
{
        lsashm_server_destroy(T.srv);
        T.srv = NULL;
        struct stat st;
        assert_int_equal(lstat(T.path, &st), -1);
        assert_int_equal(errno, ENOENT);
        assert_int_equal(rmdir(T.dir), 0);
        T.dir[0] = T.path[0] = '\0';
}

static lsashm_section_t *section_make(uint64_t max, uint64_t initial, uint32_t flags)
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

static void section_drop(lsashm_section_t *s)
{
        for (int i = 0; i < MAX_SECTIONS; i++)
                if (T.sections[i] == s)
                        T.sections[i] = NULL;
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* A block holding text, NUL included; its offset in *ret_off. */
static char *put_text(lsashm_section_t *s, const char *text, uint64_t *ret_off)
{
        void *p = NULL;
        assert_int_equal(lsashm_section_alloc(s, strlen(text) + 1, &p), 0);
        memcpy(p, text, strlen(text) + 1);
        assert_int_equal(lsashm_section_offset(s, p, ret_off), 0);
        return p;
}

/* Publish s as name with the given rules, its root at a block holding text. */
static uint64_t publish_text(const char *name, lsashm_section_t *s, const struct lsashm_rule *rules, size_t n,
                             const char *text)
{
        uint64_t off;
        put_text(s, text, &off);
        struct lsashm_policy policy = { .rules = rules, .n_rules = n };
        assert_int_equal(lsashm_server_publish(T.srv, name, s, &policy), 0);
        assert_int_equal(lsashm_server_set_root(T.srv, name, off), 0);
        return off;
}

static struct lsashm_server_stats stats(void)
{
        struct lsashm_server_stats st;
        assert_int_equal(lsashm_server_stats(T.srv, &st), 0);
        return st;
}

/* ---- driving the server ---- */

/* One round: wait up to timeout_ms for the server to have work, do it. */
static void serve_round(int timeout_ms)
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
static bool serve_until_readable(int fd)
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
static void serve_pending(void)
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

static void become(const struct ident *id)
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
static struct child child_start(const struct ident *id, child_fn fn, void *arg, int keep_fd)
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

static void child_go(struct child *c)
{
        assert_true(tu_write_all(c->to, "g", 1));
}

/* Wait for the child (serving meanwhile); it must exit with status 0. */
static void child_finish(struct child *c)
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
static void child_get(struct child *c, void *buf, size_t len)
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
static void child_kill(struct child *c)
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

/* ---- speaking the protocol by hand ---- */

static int raw_connect(const char *path)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int raw_send(int fd, const struct wire_message *m, bool nonblocking)
{
        uint8_t buf[WIRE_MAX_MESSAGE];
        return fdpass_send(fd, buf, wire_encode(m, buf), -1, nonblocking);
}

static int raw_hello(int fd)
{
        struct wire_message m = { .type = WIRE_HELLO };
        m.hello.version = WIRE_VERSION;
        m.hello.features = WIRE_FEATURES;
        return raw_send(fd, &m, false);
}

static int raw_open(int fd, uint32_t request, uint32_t flags, const char *name, bool nonblocking)
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
static int raw_recv(int fd, struct wire_message *m, int *ret_fd, bool nonblocking)
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
static int raw_fetch(const char *path, const char *name, uint32_t flags, int *ret_sock,
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
static int raw_connect_served(void)
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
static int raw_open_served(int sock, uint32_t request, const char *name)
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

/* ======================================================================
 * 1. Policy and the view accessors
 * ====================================================================== */

#define W LSASHM_ACCESS_READ_WRITE
#define R LSASHM_ACCESS_READ
#define NONE LSASHM_ACCESS_NONE

static const struct lsashm_rule rules_uid_ro[] = { { LSASHM_RULE_UID, 65534, R } };
static const struct lsashm_rule rules_uid_rw[] = { { LSASHM_RULE_UID, 65534, W } };
static const struct lsashm_rule rules_gid_primary[] = { { LSASHM_RULE_GID, 12345, R } };
static const struct lsashm_rule rules_gid_supp[] = { { LSASHM_RULE_GID, 4242, W } };
static const struct lsashm_rule rules_anyone[] = { { LSASHM_RULE_ANYONE, 0, R } };
static const struct lsashm_rule rules_widest[] = {
        { LSASHM_RULE_UID, 12345, R },
        { LSASHM_RULE_GID, 4242, W },
        { LSASHM_RULE_ANYONE, 0, R },
        { LSASHM_RULE_UID, 65534, NONE }, /* NONE grants nothing; it takes nothing away */
};
static const struct lsashm_rule rules_none[] = { { LSASHM_RULE_UID, 65534, NONE }, { LSASHM_RULE_ANYONE, 0, NONE } };

static const struct {
        const char *name;
        const struct lsashm_rule *rules;
        size_t n;
} policies[] = {
        { "deny", NULL, 0 },
        { "uid-ro", rules_uid_ro, 1 },
        { "uid-rw", rules_uid_rw, 1 },
        { "gid-primary", rules_gid_primary, 1 },
        { "gid-supp", rules_gid_supp, 1 },
        { "anyone", rules_anyone, 1 },
        { "widest", rules_widest, 4 },
        { "none-rules", rules_none, 2 },
        { "nosuch", NULL, 0 }, /* never published */
};
#define N_POLICIES (sizeof(policies) / sizeof(policies[0]))

#define EA (-EACCES)
#define EN (-ENOENT)
/* What each identity gets: -errno, or the access granted. */
static const struct {
        const struct ident *who;
        int expect[N_POLICIES];
} policy_table[] = {
        /*                       deny uid-ro uid-rw gid-p gid-s anyone widest none nosuch */
        { &AS_NOBODY, { EA, R, W, EA, EA, R, R, EA, EN } },
        { &AS_USER_SUPP, { EA, EA, EA, R, W, R, W, EA, EN } },
        { &AS_USER, { EA, EA, EA, R, EA, R, R, EA, EN } },
        { &AS_ROOT, { EA, EA, EA, EA, EA, R, R, EA, EN } },
};

struct open_report {
        int32_t r;           /* lsashm_client_open */
        int32_t writable;    /* lsashm_view_writable */
        int32_t mut_ok;      /* ptr_mut non-NULL exactly when writable */
        int32_t maps_ok;     /* /proc/self/maps shows r--s or rw-s accordingly */
        int32_t text_ok;     /* the text at the root offset is the one published */
        int32_t state;       /* lsashm_view_state */
        int32_t ro_r;        /* lsashm_client_open_readonly */
        int32_t ro_writable;
        int32_t ro_mut_null;
        int32_t ro_maps_ok;
        uint64_t size, root;
};

static void expected_text(const char *name, char *buf, size_t len)
{
        snprintf(buf, len, "section %s says hello", name);
}

static int policy_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        struct open_report rep[N_POLICIES];
        memset(rep, 0, sizeof(rep));
        for (size_t i = 0; i < N_POLICIES; i++) {
                struct open_report *o = &rep[i];
                lsashm_view_t *v = NULL;
                o->r = lsashm_client_open(c, policies[i].name, &v);
                if (o->r == 0) {
                        char text[128], perms[5];
                        expected_text(policies[i].name, text, sizeof(text));
                        o->writable = lsashm_view_writable(v);
                        o->size = lsashm_view_size(v);
                        o->root = lsashm_view_root(v);
                        o->mut_ok = (lsashm_view_ptr_mut(v, o->root, 1) != NULL) == o->writable;
                        const void *base = lsashm_view_ptr(v, 0, 1);
                        o->maps_ok = base && tu_maps_perms(base, perms) &&
                                     strcmp(perms, o->writable ? "rw-s" : "r--s") == 0;
                        const char *t = lsashm_view_ptr(v, o->root, strlen(text) + 1);
                        o->text_ok = t && strcmp(t, text) == 0;
                        o->state = lsashm_view_state(v);
                        lsashm_view_t *ro = NULL;
                        o->ro_r = lsashm_client_open_readonly(c, policies[i].name, &ro);
                        if (o->ro_r == 0) {
                                o->ro_writable = lsashm_view_writable(ro);
                                o->ro_mut_null = lsashm_view_ptr_mut(ro, 0, 1) == NULL;
                                o->ro_maps_ok = tu_maps_perms(lsashm_view_ptr(ro, 0, 1), perms) &&
                                                strcmp(perms, "r--s") == 0;
                                lsashm_view_close(ro);
                        }
                        lsashm_view_close(v);
                } else {
                        o->ro_r = lsashm_client_open_readonly(c, policies[i].name, &v);
                        CHILD_CHECK(o->ro_r != 0);
                }
        }
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_policy(void **state)
{
        (void)state;
        if (!am_root())
                skip();
        server_start(NULL, 0);
        const uint64_t page = tu_page_size();
        uint64_t roots[N_POLICIES];
        for (size_t i = 0; i + 1 < N_POLICIES; i++) {
                lsashm_section_t *s = section_make(64 * KiB, 8 * KiB, 0);
                char text[128];
                expected_text(policies[i].name, text, sizeof(text));
                roots[i] = publish_text(policies[i].name, s, policies[i].rules, policies[i].n, text);
        }
        assert_int_equal(stats().published, N_POLICIES - 1);

        uint64_t denied = 0;
        for (size_t k = 0; k < sizeof(policy_table) / sizeof(policy_table[0]); k++) {
                const struct ident *who = policy_table[k].who;
                struct child c = child_start(who, policy_child, NULL, -1);
                struct open_report rep[N_POLICIES];
                child_get(&c, rep, sizeof(rep));
                child_finish(&c);
                for (size_t i = 0; i < N_POLICIES; i++) {
                        const struct open_report *o = &rep[i];
                        int want = policy_table[k].expect[i];
                        int got = o->r < 0 ? o->r : o->writable ? W : R;
                        if (got != want)
                                fail_msg("%s opening %s: got %d, expected %d", who->what, policies[i].name, got,
                                         want);
                        if (want == EA)
                                denied += 2; /* the open and the read-only open */
                        if (want < 0) {
                                assert_int_equal(o->ro_r, want);
                                continue;
                        }
                        /* committed size, root as set, data as written: a
                         * writable view commits the whole section first, and
                         * every view opened after that sees all of it */
                        if (want == W)
                                assert_int_equal(o->size, 64 * KiB);
                        else
                                assert_true(o->size == (8 * KiB < page ? page : 8 * KiB) ||
                                            o->size == 64 * KiB);
                        assert_int_equal(o->root, roots[i]);
                        assert_true(o->text_ok);
                        assert_true(o->mut_ok);
                        assert_true(o->maps_ok);
                        assert_int_equal(o->state, 0);
                        /* read-only on request, even where read-write is allowed */
                        assert_int_equal(o->ro_r, 0);
                        assert_false(o->ro_writable);
                        assert_true(o->ro_mut_null);
                        assert_true(o->ro_maps_ok);
                }
        }
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.denied, denied);
        assert_int_equal(st.accepted, 4);
        assert_int_equal(st.connections, 0);
        assert_int_equal(st.views, 0);
        assert_int_equal(st.dropped, 0);
        assert_int_equal(st.refused, 0);

        server_stop();
        for (int i = 0; i < MAX_SECTIONS; i++)
                if (T.sections[i])
                        section_drop(T.sections[i]);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* The accessors, bounds and root offsets, with a root client. */
struct accessor_report {
        int32_t connect_r, open_r, rw_r, ro_r;
        uint64_t size, root, grown_size;
        int32_t text_ok;
        int32_t bounds_ok[16];
        int32_t null_ok;
        int32_t ro_writable, ro_mut_null, rw_writable, rw_mut_ok;
};

static int accessor_child(void *arg)
{
        (void)arg;
        struct accessor_report rep;
        memset(&rep, 0, sizeof(rep));
        lsashm_client_t *c;
        rep.connect_r = lsashm_client_connect(T.path, &c);
        CHILD_CHECK(rep.connect_r == 0);
        lsashm_view_t *v = NULL, *rw = NULL, *ro = NULL;
        rep.open_r = lsashm_client_open(c, "acc", &v);
        CHILD_CHECK(rep.open_r == 0);
        size_t size = lsashm_view_size(v);
        rep.size = size;
        rep.root = lsashm_view_root(v);
        const char *text = lsashm_view_ptr(v, rep.root, 6);
        rep.text_ok = text && memcmp(text, "hello", 6) == 0;
        const uint8_t *base = lsashm_view_ptr(v, 0, 1);
        int k = 0;
        rep.bounds_ok[k++] = base != NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 0, size) == base;                 /* end == size */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, size - 1, 1) == base + size - 1;  /* last byte */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 1, size) == NULL;                 /* end == size + 1 */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 0, size + 1) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, size, 1) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, UINT64_MAX, 1) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, UINT64_MAX, 0) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 0, SIZE_MAX) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 16, SIZE_MAX - 8) == NULL;        /* wraps to 8 */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, UINT64_MAX, SIZE_MAX) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, (uint64_t)1 << 63, (size_t)1 << 63) == NULL; /* wraps to 0 */
        rep.bounds_ok[k++] = lsashm_view_ptr_mut(v, 0, 1) == NULL;               /* a read-only view */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, size - 16, 16) == base + size - 16;
        rep.null_ok = lsashm_view_ptr(NULL, 0, 1) == NULL && lsashm_view_ptr_mut(NULL, 0, 1) == NULL &&
                      lsashm_view_size(NULL) == 0 && lsashm_view_root(NULL) == 0 && !lsashm_view_writable(NULL) &&
                      lsashm_view_state(NULL) == -EINVAL;

        rep.rw_r = lsashm_client_open(c, "acc-rw", &rw);
        CHILD_CHECK(rep.rw_r == 0);
        rep.rw_writable = lsashm_view_writable(rw);
        char *w = lsashm_view_ptr_mut(rw, lsashm_view_root(rw), 32);
        rep.rw_mut_ok = w != NULL && lsashm_view_ptr_mut(rw, lsashm_view_size(rw), 1) == NULL;
        if (w)
                memcpy(w, "written by the client", 22);
        rep.ro_r = lsashm_client_open_readonly(c, "acc-rw", &ro);
        CHILD_CHECK(rep.ro_r == 0);
        rep.ro_writable = lsashm_view_writable(ro);
        rep.ro_mut_null = lsashm_view_ptr_mut(ro, 0, 1) == NULL;
        CHILD_SEND(rep);

        /* The owner grows the section; a new view sees the new committed size. */
        CHILD_WAIT();
        lsashm_view_t *v2 = NULL;
        CHILD_CHECK(lsashm_client_open(c, "acc", &v2) == 0);
        uint64_t grown = lsashm_view_size(v2);
        CHILD_CHECK(lsashm_view_size(v) == size); /* the old view keeps its size */
        CHILD_SEND(grown);
        lsashm_view_close(v2);
        lsashm_view_close(ro);
        lsashm_view_close(rw);
        lsashm_view_close(v);
        lsashm_client_close(c);
        return 0;
}

static void test_view_accessors(void **state)
{
        (void)state;
        server_start(NULL, 0);
        const uint64_t page = tu_page_size();
        lsashm_section_t *s = section_make(64 * KiB, 8 * KiB, 0);
        lsashm_section_t *srw = section_make(16 * KiB, 4 * KiB, 0);
        uint64_t off;
        put_text(s, "padding before the root", &off);
        uint64_t root = publish_text("acc", s, rules_anyone, 1, "hello");
        assert_true(root > 0);
        static const struct lsashm_rule anyone_rw[] = { { LSASHM_RULE_ANYONE, 0, W } };
        uint64_t rw_root = publish_text("acc-rw", srw, anyone_rw, 1, "client writes here........................");

        /* roots: inside the section, or -ERANGE; unknown names -ENOENT */
        struct lsashm_section_stats ss;
        assert_int_equal(lsashm_section_stats(s, &ss), 0);
        assert_int_equal(lsashm_server_set_root(T.srv, "acc", ss.reserved), -ERANGE);
        assert_int_equal(lsashm_server_set_root(T.srv, "acc", UINT64_MAX), -ERANGE);
        assert_int_equal(lsashm_server_set_root(T.srv, "nosuch", 0), -ENOENT);
        assert_int_equal(lsashm_server_set_root(T.srv, "acc", root), 0);

        struct child c = child_start(&AS_OWNER, accessor_child, NULL, -1);
        struct accessor_report rep;
        child_get(&c, &rep, sizeof(rep));
        assert_int_equal(rep.size, ss.committed);
        assert_int_equal(rep.size, tu_round_up(8 * KiB, page));
        assert_int_equal(rep.root, root);
        assert_true(rep.text_ok);
        for (int i = 0; i < 14; i++)
                if (!rep.bounds_ok[i])
                        fail_msg("bounds check %d failed", i);
        assert_true(rep.null_ok);
        assert_true(rep.rw_writable);
        assert_true(rep.rw_mut_ok);
        assert_false(rep.ro_writable);
        assert_true(rep.ro_mut_null);
        /* what the read-write client wrote, the owner reads */
        const char *seen = lsashm_section_ptr(srw, rw_root, 22);
        assert_non_null(seen);
        assert_string_equal(seen, "written by the client");
        assert_int_equal(lsashm_section_check(srw), 0);

        /* grow: the committed size a new view gets follows the section */
        void *big = NULL;
        assert_int_equal(lsashm_section_alloc(s, 20 * KiB, &big), 0);
        assert_int_equal(lsashm_section_stats(s, &ss), 0);
        assert_true(ss.committed > rep.size);
        child_go(&c);
        uint64_t grown;
        child_get(&c, &grown, sizeof(grown));
        assert_int_equal(grown, ss.committed);
        child_finish(&c);

        assert_int_equal(stats().views, 0);
        server_stop();
        section_drop(s);
        section_drop(srw);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/*
 * lsashm_server_set_root() accepts any offset inside the section (its
 * reserved size), so a client opening it must get a working view, not a
 * protocol error that also poisons its other views.
 */
struct far_root_report {
        int32_t first_r, far_r, first_state_after, far_root_inside;
};

static int far_root_child(void *arg)
{
        (void)arg;
        struct far_root_report rep = { 0 };
        lsashm_client_t *c;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        lsashm_view_t *first = NULL, *far = NULL;
        rep.first_r = lsashm_client_open(c, "near", &first);
        rep.far_r = lsashm_client_open(c, "far", &far);
        rep.first_state_after = first ? lsashm_view_state(first) : -1;
        if (far)
                rep.far_root_inside = lsashm_view_root(far) <= lsashm_view_size(far);
        lsashm_view_close(far);
        lsashm_view_close(first);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_root_beyond_committed(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *near = section_make(64 * KiB, 4 * KiB, 0);
        lsashm_section_t *far = section_make(64 * KiB, 4 * KiB, 0);
        publish_text("near", near, rules_anyone, 1, "near");
        publish_text("far", far, rules_anyone, 1, "far");
        /* 32 KiB is inside the section (64 KiB reserved) but not committed yet */
        int r = lsashm_server_set_root(T.srv, "far", 32 * KiB);
        assert_true(r == 0 || r == -ERANGE);
        struct child c = child_start(&AS_OWNER, far_root_child, NULL, -1);
        struct far_root_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);
        assert_int_equal(rep.first_r, 0);
        if (r == 0) {
                if (rep.far_r != 0)
                        fail_msg("set_root(32 KiB) in a 64 KiB section with 4 KiB committed was accepted, but "
                                 "opening it fails with %d (%s)",
                                 rep.far_r, strerror(-rep.far_r));
                assert_true(rep.far_root_inside);
        }
        /* whatever happened to "far", the client's other view is untouched */
        assert_int_equal(rep.first_state_after, 0);
        server_stop();
        section_drop(near);
        section_drop(far);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ======================================================================
 * 2. A read-only client cannot write
 * ====================================================================== */

/* Each field: 0 when the call succeeded, else the errno it failed with. */
struct attack_report {
        int32_t fetch;          /* getting the descriptor: 0 or -errno */
        int32_t uid, accmode, st_uid, st_mode;
        int32_t read_ok;        /* the canary, read through a PROT_READ mapping */
        int32_t mmap_shared_write;
        int32_t mprotect_write;
        int32_t reopen_rdwr;    /* /proc/self/fd/N, O_RDWR */
        int32_t reopen_rdonly;  /* /proc/self/fd/N, O_RDONLY: the mode forbids that too */
        int32_t reopen_control; /* /proc/self/fd/OUR_MEMFD: reopening as such works */
        int32_t fchmod;
        int32_t write;
        int32_t pwrite;
        int32_t ftruncate;
        int32_t fallocate;
        int32_t punch_hole;
        int32_t add_seals;
        int32_t setfl_then_mmap;
        int32_t reopen_owner;   /* /proc/OWNER/fd/MEMFD, O_RDWR */
        int32_t owner_mem;      /* /proc/OWNER/mem, O_RDWR */
        int32_t private_write;  /* a MAP_PRIVATE copy may be written: it reaches nobody */
};

static int32_t outcome(bool ok)
{
        return ok ? 0 : (errno ? errno : -1);
}

/* argv: SOCKET NAME TEXT OWNER_PID OWNER_MEMFD; reports on CHILD_OUT. */
static int attack_readonly(char **argv)
{
        const char *path = argv[0], *name = argv[1], *text = argv[2];
        struct attack_report rep;
        memset(&rep, 0xff, sizeof(rep));
        rep.uid = (int32_t)getuid();
        int sock = -1, fd = -1;
        struct wire_open_reply reply;
        rep.fetch = raw_fetch(path, name, 0, &sock, &reply, &fd);
        if (rep.fetch == 0 && (reply.status != 0 || reply.access != LSASHM_ACCESS_READ || fd < 0))
                rep.fetch = reply.status ? reply.status : -EPROTO;
        if (rep.fetch < 0)
                return tu_write_all(CHILD_OUT, &rep, sizeof(rep)) ? 0 : 1;
        size_t size = (size_t)reply.size;
        struct stat st = { 0 };
        if (fstat(fd, &st) == 0) {
                rep.st_uid = (int32_t)st.st_uid;
                rep.st_mode = (int32_t)(st.st_mode & 07777);
        }
        rep.accmode = fcntl(fd, F_GETFL) & O_ACCMODE;

        char *ro = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
        rep.read_ok = ro != MAP_FAILED && reply.root < size && strnlen(ro + reply.root, size - reply.root) ==
                      strlen(text) && strcmp(ro + reply.root, text) == 0;

        errno = 0;
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        rep.mmap_shared_write = outcome(p != MAP_FAILED);
        if (p != MAP_FAILED)
                munmap(p, size);
        errno = 0;
        rep.mprotect_write = ro == MAP_FAILED ? -1 : outcome(mprotect(ro, size, PROT_READ | PROT_WRITE) == 0);

        char proc[96];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        errno = 0;
        int r = open(proc, O_RDWR | O_CLOEXEC);
        rep.reopen_rdwr = outcome(r >= 0);
        if (r >= 0)
                close(r);
        errno = 0;
        r = open(proc, O_RDONLY | O_CLOEXEC);
        rep.reopen_rdonly = outcome(r >= 0);
        if (r >= 0)
                close(r);
        /* control: a memfd of our own, as private as the section's (0600),
         * reopens for writing through the same path */
        int own = memfd_create("attacker", MFD_CLOEXEC);
        if (own >= 0 && fchmod(own, 0600) == 0) {
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", own);
                errno = 0;
                r = open(proc, O_RDWR | O_CLOEXEC);
                rep.reopen_control = outcome(r >= 0);
                if (r >= 0)
                        close(r);
        }
        if (own >= 0)
                close(own);

        errno = 0;
        rep.fchmod = outcome(fchmod(fd, 0666) == 0);
        errno = 0;
        rep.write = outcome(write(fd, "X", 1) == 1);
        errno = 0;
        rep.pwrite = outcome(pwrite(fd, "X", 1, (off_t)reply.root) == 1);
        errno = 0;
        rep.ftruncate = outcome(ftruncate(fd, st.st_size) == 0);
        errno = 0;
        rep.fallocate = outcome(fallocate(fd, 0, 0, (off_t)size) == 0);
        errno = 0;
        rep.punch_hole = outcome(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size) == 0);
        errno = 0;
        rep.add_seals = outcome(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
        (void)fcntl(fd, F_SETFL, O_RDWR); /* cannot change the access mode */
        errno = 0;
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        rep.setfl_then_mmap = outcome(p != MAP_FAILED);
        if (p != MAP_FAILED)
                munmap(p, size);

        snprintf(proc, sizeof(proc), "/proc/%s/fd/%s", argv[3], argv[4]);
        errno = 0;
        r = open(proc, O_RDWR | O_CLOEXEC);
        rep.reopen_owner = outcome(r >= 0);
        if (r >= 0)
                close(r);
        snprintf(proc, sizeof(proc), "/proc/%s/mem", argv[3]);
        errno = 0;
        r = open(proc, O_RDWR | O_CLOEXEC);
        rep.owner_mem = outcome(r >= 0);
        if (r >= 0)
                close(r);

        errno = 0;
        char *q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        rep.private_write = outcome(q != MAP_FAILED);
        if (q != MAP_FAILED) {
                memset(q, 'X', size);
                munmap(q, size);
        }
        if (ro != MAP_FAILED)
                munmap(ro, size);
        close(fd);
        close(sock);
        return tu_write_all(CHILD_OUT, &rep, sizeof(rep)) ? 0 : 1;
}

/* In a child: exec this program (or another) from the descriptor CHILD_KEEP,
 * so that no path has to be reachable by the uid it runs as. */
static int exec_child(void *arg)
{
        char **argv = arg;
        CHILD_CHECK(fcntl(CHILD_KEEP, F_SETFD, FD_CLOEXEC) == 0);
        fexecve(CHILD_KEEP, argv, environ);
        fprintf(stderr, "child %d: fexecve %s: %s\n", (int)getpid(), argv[0], strerror(errno));
        return errno == EACCES ? 77 : 127;
}

static void test_readonly_other_uid_cannot_write(void **state)
{
        (void)state;
        if (!am_root())
                skip();
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(64 * KiB, 16 * KiB, 0);
        static char canary[] = "canary: the owner's data, not to be changed";
        static char name[] = "ro";
        static const struct lsashm_rule nobody_reads[] = { { LSASHM_RULE_UID, 65534, R } };
        uint64_t root = publish_text("ro", s, nobody_reads, 1, canary);
        for (int i = 0; i < 8; i++) { /* some heap structure worth checking */
                uint64_t off;
                put_text(s, "filler block", &off);
        }
        /* Handing out the owner's own descriptor commits the whole section:
         * before the snapshot, which must see nothing change after. */
        const int owner_fd = lsashm_section_fd(s);
        assert_true(owner_fd >= 0);
        struct lsashm_section_stats before;
        assert_int_equal(lsashm_section_stats(s, &before), 0);
        const uint8_t *base = lsashm_section_base(s);
        uint8_t *snapshot = malloc(before.committed);
        assert_non_null(snapshot);
        memcpy(snapshot, base, before.committed);

        int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        assert_true(exe >= 0);
        char pid_s[16], fd_s[16];
        snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
        snprintf(fd_s, sizeof(fd_s), "%d", owner_fd);
        char *argv[] = { "test-share-access", "--attack-readonly", T.path, name, canary, pid_s, fd_s, NULL };
        struct child c = child_start(&AS_NOBODY, exec_child, argv, exe);
        close(exe);
        struct attack_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);

        assert_int_equal(rep.fetch, 0);
        assert_int_equal(rep.uid, 65534);
        assert_int_equal(rep.accmode, O_RDONLY);
        assert_int_equal(rep.st_uid, 0);
        assert_int_equal(rep.st_mode, 0600);
        assert_true(rep.read_ok);
        assert_int_equal(rep.mmap_shared_write, EACCES);
        assert_int_equal(rep.mprotect_write, EACCES);
        assert_int_equal(rep.reopen_rdwr, EACCES);
        assert_int_equal(rep.reopen_rdonly, EACCES);
        assert_int_equal(rep.reopen_control, 0); /* so the refusals above are the memfd's mode */
        assert_int_equal(rep.fchmod, EPERM);
        assert_int_equal(rep.write, EBADF);
        assert_int_equal(rep.pwrite, EBADF);
        assert_true(rep.ftruncate == EINVAL || rep.ftruncate == EBADF || rep.ftruncate == EPERM);
        assert_int_equal(rep.fallocate, EBADF);
        assert_int_equal(rep.punch_hole, EBADF);
        assert_int_equal(rep.add_seals, EPERM);
        assert_int_equal(rep.setfl_then_mmap, EACCES);
        assert_int_equal(rep.reopen_owner, EACCES);
        assert_int_equal(rep.owner_mem, EACCES);
        assert_int_equal(rep.private_write, 0);

        /* the owner's heap and every committed byte are as they were */
        assert_int_equal(lsashm_section_check(s), 0);
        struct lsashm_section_stats after;
        assert_int_equal(lsashm_section_stats(s, &after), 0);
        assert_int_equal(after.committed, before.committed);
        assert_int_equal(after.live_blocks, before.live_blocks);
        assert_int_equal(after.in_use, before.in_use);
        assert_memory_equal(base, snapshot, before.committed);
        assert_string_equal((const char *)base + root, canary);
        free(snapshot);

        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* A readers-only section: even root, reopening the descriptor O_RDWR, cannot
 * write it. */
struct sealed_report {
        int32_t fetch, seals, reopen_rdwr, mmap_shared_write, write, pwrite, punch_hole, mprotect_write;
        int32_t lib_open, lib_writable;
};

static int sealed_child(void *arg)
{
        (void)arg;
        struct sealed_report rep;
        memset(&rep, 0xff, sizeof(rep));
        int sock = -1, fd = -1;
        struct wire_open_reply reply;
        rep.fetch = raw_fetch(T.path, "sealed", 0, &sock, &reply, &fd);
        if (rep.fetch == 0 && (reply.status != 0 || fd < 0))
                rep.fetch = reply.status ? reply.status : -EPROTO;
        if (rep.fetch == 0) {
                size_t size = (size_t)reply.size;
                rep.seals = fcntl(fd, F_GET_SEALS);
                char proc[64];
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                errno = 0;
                int rw = open(proc, O_RDWR | O_CLOEXEC);
                rep.reopen_rdwr = outcome(rw >= 0);
                if (rw >= 0) {
                        errno = 0;
                        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
                        rep.mmap_shared_write = outcome(p != MAP_FAILED);
                        if (p != MAP_FAILED)
                                munmap(p, size);
                        errno = 0;
                        rep.write = outcome(write(rw, "X", 1) == 1);
                        errno = 0;
                        rep.pwrite = outcome(pwrite(rw, "X", 1, (off_t)reply.root) == 1);
                        errno = 0;
                        rep.punch_hole = outcome(
                                fallocate(rw, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size) == 0);
                        p = mmap(NULL, size, PROT_READ, MAP_SHARED, rw, 0);
                        errno = 0;
                        rep.mprotect_write =
                                p == MAP_FAILED ? -1 : outcome(mprotect(p, size, PROT_READ | PROT_WRITE) == 0);
                        if (p != MAP_FAILED)
                                munmap(p, size);
                        close(rw);
                }
                close(fd);
                close(sock);
        }
        /* and through the library: a read-only view */
        lsashm_client_t *c;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        lsashm_view_t *v = NULL;
        rep.lib_open = lsashm_client_open(c, "sealed", &v);
        rep.lib_writable = lsashm_view_writable(v);
        lsashm_view_close(v);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_readers_only_same_uid(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(64 * KiB, 8 * KiB, LSASHM_SECTION_READERS_ONLY);
        const char *canary = "sealed canary";
        uint64_t root = publish_text("sealed", s, rules_anyone, 1, canary);
        struct child c = child_start(&AS_OWNER, sealed_child, NULL, -1);
        struct sealed_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);
        assert_int_equal(rep.fetch, 0);
        assert_true(rep.seals & F_SEAL_FUTURE_WRITE);
        assert_int_equal(rep.reopen_rdwr, 0); /* root may reopen it for writing ... */
        assert_int_equal(rep.mmap_shared_write, EPERM); /* ... and still cannot write */
        assert_int_equal(rep.write, EPERM);
        assert_int_equal(rep.pwrite, EPERM);
        assert_int_equal(rep.punch_hole, EPERM);
        assert_int_equal(rep.mprotect_write, EACCES);
        assert_int_equal(rep.lib_open, 0);
        assert_false(rep.lib_writable);
        /* the owner's data is intact, and its own mapping still writes */
        assert_string_equal((const char *)lsashm_section_ptr(s, root, strlen(canary) + 1), canary);
        assert_int_equal(lsashm_section_check(s), 0);
        uint64_t off;
        char *p = put_text(s, "the owner still writes", &off);
        assert_string_equal(p, "the owner still writes");
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/*
 * A readers-only section published with a read-write rule: F_SEAL_FUTURE_WRITE
 * means no client can ever map it writable, so the open must give a read-only
 * view (or be refused); it must not fail as a protocol error that marks every
 * other view of the connection stale.
 */
struct sealed_rw_report {
        int32_t other_r, r, writable, other_state;
};

static int sealed_rw_child(void *arg)
{
        (void)arg;
        struct sealed_rw_report rep = { 0 };
        lsashm_client_t *c;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        lsashm_view_t *other = NULL, *v = NULL;
        rep.other_r = lsashm_client_open(c, "plain", &other);
        rep.r = lsashm_client_open(c, "sealed-rw", &v);
        rep.writable = lsashm_view_writable(v);
        rep.other_state = other ? lsashm_view_state(other) : -1;
        lsashm_view_close(v);
        lsashm_view_close(other);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_readers_only_with_rw_rule(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *plain = section_make(16 * KiB, 4 * KiB, 0);
        lsashm_section_t *sealed = section_make(16 * KiB, 4 * KiB, LSASHM_SECTION_READERS_ONLY);
        static const struct lsashm_rule anyone_rw[] = { { LSASHM_RULE_ANYONE, 0, W } };
        publish_text("plain", plain, rules_anyone, 1, "plain");
        publish_text("sealed-rw", sealed, anyone_rw, 1, "sealed");
        struct child c = child_start(&AS_OWNER, sealed_rw_child, NULL, -1);
        struct sealed_rw_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);
        assert_int_equal(rep.other_r, 0);
        if (rep.r != 0 && rep.r != -EACCES)
                fail_msg("opening a readers-only section with a read-write rule: %d (%s)", rep.r, strerror(-rep.r));
        if (rep.r == 0)
                assert_false(rep.writable);
        assert_int_equal(rep.other_state, 0);
        server_stop();
        section_drop(plain);
        section_drop(sealed);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ======================================================================
 * 3. Revocation
 * ====================================================================== */

struct revoke_report {
        int32_t polled_a, state_a, state_other, polled_b, dispatch_b, state_b, state_b_again;
        int32_t reopen, other_still_opens;
        uint64_t size, nonzero;
        int32_t canary_intact;
};

static const char *revoke_canary = "revocation canary";

static int revoke_child(void *arg)
{
        (void)arg;
        lsashm_client_t *a, *b;
        lsashm_view_t *va, *vb, *vo;
        CHILD_CHECK(lsashm_client_connect(T.path, &a) == 0);
        CHILD_CHECK(lsashm_client_connect(T.path, &b) == 0);
        CHILD_CHECK(lsashm_client_open(a, "rev", &va) == 0);
        CHILD_CHECK(lsashm_client_open(b, "rev", &vb) == 0);
        CHILD_CHECK(lsashm_client_open(a, "other", &vo) == 0);
        CHILD_CHECK(lsashm_view_state(va) == 0 && lsashm_view_state(vb) == 0);
        const char *t = lsashm_view_ptr(va, lsashm_view_root(va), strlen(revoke_canary) + 1);
        CHILD_CHECK(t && strcmp(t, revoke_canary) == 0);
        char ready = 'r';
        CHILD_SEND(ready);

        CHILD_WAIT(); /* the owner has unpublished or deleted "rev" */
        struct revoke_report rep;
        memset(&rep, 0, sizeof(rep));
        /* a: the fd polls readable; view_state reads the notice itself */
        struct pollfd p = { .fd = lsashm_client_fd(a), .events = POLLIN };
        rep.polled_a = poll(&p, 1, TIMEOUT_MS) == 1 && (p.revents & POLLIN);
        rep.state_a = lsashm_view_state(va);
        rep.state_other = lsashm_view_state(vo);
        /* b: explicit dispatch */
        p.fd = lsashm_client_fd(b);
        rep.polled_b = poll(&p, 1, TIMEOUT_MS) == 1 && (p.revents & POLLIN);
        rep.dispatch_b = lsashm_client_dispatch(b);
        rep.state_b = lsashm_view_state(vb);
        rep.state_b_again = lsashm_client_dispatch(b); /* nothing left */
        /* the whole mapping still reads, no SIGBUS */
        rep.size = lsashm_view_size(va);
        const uint8_t *m = lsashm_view_ptr(va, 0, rep.size);
        CHILD_CHECK(m != NULL);
        for (size_t i = 0; i < rep.size; i++)
                rep.nonzero += m[i] != 0;
        const char *c = lsashm_view_ptr(va, lsashm_view_root(va), strlen(revoke_canary) + 1);
        rep.canary_intact = c && strcmp(c, revoke_canary) == 0;
        lsashm_view_t *again = NULL;
        rep.reopen = lsashm_client_open(a, "rev", &again);
        lsashm_view_t *o2 = NULL;
        rep.other_still_opens = lsashm_client_open(b, "other", &o2);
        lsashm_view_close(o2);
        lsashm_view_close(again);
        lsashm_view_close(va);
        lsashm_view_close(vb);
        lsashm_view_close(vo);
        lsashm_client_close(a);
        lsashm_client_close(b);
        CHILD_SEND(rep);
        return 0;
}

static void revocation(bool by_delete)
{
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(64 * KiB, 16 * KiB, 0);
        lsashm_section_t *other = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("rev", s, rules_anyone, 1, revoke_canary);
        publish_text("other", other, rules_anyone, 1, "other");
        struct child c = child_start(&AS_OWNER, revoke_child, NULL, -1);
        char ready;
        child_get(&c, &ready, 1);
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.views, 3);
        assert_int_equal(st.published, 2);
        assert_int_equal(st.revocations, 0);

        if (by_delete) {
                /* the server learns through its watcher, revokes on its next dispatch */
                section_drop(s);
        } else {
                assert_int_equal(lsashm_server_unpublish(T.srv, "rev"), 0);
                assert_int_equal(lsashm_server_unpublish(T.srv, "rev"), -ENOENT);
                st = stats();
                assert_int_equal(st.revocations, 2);
                assert_int_equal(st.views, 1);
                assert_int_equal(st.published, 1);
        }
        child_go(&c);
        struct revoke_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);

        assert_true(rep.polled_a);
        assert_int_equal(rep.state_a, -ESTALE);
        assert_int_equal(rep.state_other, 0);
        assert_true(rep.polled_b);
        assert_true(rep.dispatch_b >= 1);
        assert_int_equal(rep.state_b, -ESTALE);
        assert_int_equal(rep.state_b_again, 0);
        assert_true(rep.size >= 16 * KiB);
        if (by_delete) {
                assert_int_equal(rep.nonzero, 0); /* wiped: zeros where the canary was */
                assert_false(rep.canary_intact);
        } else {
                assert_true(rep.canary_intact); /* unpublished, not deleted: data stays */
        }
        assert_int_equal(rep.reopen, -ENOENT);
        assert_int_equal(rep.other_still_opens, 0);

        st = stats();
        assert_int_equal(st.revocations, 2);
        assert_int_equal(st.published, 1);
        assert_int_equal(st.views, 0);
        assert_int_equal(st.connections, 0);
        assert_int_equal(st.dropped, 0);
        server_stop();
        if (!by_delete)
                section_drop(s);
        section_drop(other);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

static void test_revoke_unpublish(void **state)
{
        (void)state;
        revocation(false);
}

static void test_revoke_delete(void **state)
{
        (void)state;
        revocation(true);
}

/*
 * One section published under two names. Unpublishing one name revokes the
 * views opened through it, not those opened through the other; deleting the
 * section then revokes those and unpublishes the other name too.
 */
static int alias_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        lsashm_view_t *va, *vb;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        CHILD_CHECK(lsashm_client_open(c, "alpha", &va) == 0);
        CHILD_CHECK(lsashm_client_open(c, "beta", &vb) == 0);
        char ready = 'r';
        CHILD_SEND(ready);
        CHILD_WAIT(); /* "alpha" unpublished */
        struct pollfd p = { .fd = lsashm_client_fd(c), .events = POLLIN };
        int32_t rep[4];
        rep[0] = poll(&p, 1, TIMEOUT_MS) == 1; /* alpha's notice */
        rep[1] = lsashm_view_state(va);
        rep[2] = lsashm_view_state(vb);
        CHILD_SEND(rep);
        CHILD_WAIT(); /* the section deleted */
        if (rep[2] == 0)
                rep[0] = poll(&p, 1, 2000) == 1; /* due at once: don't hang if it never comes */
        rep[3] = lsashm_view_state(vb);
        lsashm_view_close(va);
        lsashm_view_close(vb);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_revoke_aliases(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        struct lsashm_policy policy = { .rules = rules_anyone, .n_rules = 1 };
        assert_int_equal(lsashm_server_publish(T.srv, "alpha", s, &policy), 0);
        assert_int_equal(lsashm_server_publish(T.srv, "beta", s, &policy), 0);
        assert_int_equal(lsashm_server_publish(T.srv, "beta", s, &policy), -EEXIST);
        struct child c = child_start(&AS_OWNER, alias_child, NULL, -1);
        char ready;
        child_get(&c, &ready, 1);
        assert_int_equal(lsashm_server_unpublish(T.srv, "alpha"), 0);
        assert_int_equal(stats().published, 1);
        child_go(&c);
        int32_t rep[4];
        child_get(&c, rep, sizeof(rep));
        section_drop(s);
        child_go(&c);
        int32_t rep2[4];
        child_get(&c, rep2, sizeof(rep2));
        child_finish(&c);
        struct lsashm_server_stats st = stats();
        assert_true(rep[0]);
        assert_int_equal(rep[1], -ESTALE);
        if (rep[2] != 0)
                fail_msg("unpublishing \"alpha\" revoked a view opened as \"beta\" (state %d, %" PRIu64
                         " revocations)", rep[2], st.revocations);
        if (rep2[3] != -ESTALE || st.published != 0)
                fail_msg("section deleted while published as \"beta\" (after \"alpha\" was unpublished): view "
                         "state %d, published %" PRIu64 ", revocations %" PRIu64,
                         rep2[3], st.published, st.revocations);
        assert_int_equal(st.revocations, 2);
        assert_int_equal(st.views, 0);
        server_stop();
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ======================================================================
 * 4. Limits at the edge
 * ====================================================================== */

struct per_uid_report {
        int32_t r1, r2, r3;
};

static int per_uid_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c1 = NULL, *c2 = NULL, *c3 = NULL, *c4 = NULL;
        struct per_uid_report rep;
        rep.r1 = lsashm_client_connect(T.path, &c1);
        rep.r2 = lsashm_client_connect(T.path, &c2);
        rep.r3 = lsashm_client_connect(T.path, &c3);
        CHILD_SEND(rep);
        CHILD_WAIT();
        lsashm_client_close(c1);
        char closed = 'c';
        CHILD_SEND(closed);
        CHILD_WAIT(); /* the server has seen it go */
        int32_t r4[2];
        r4[0] = lsashm_client_connect(T.path, &c4);
        lsashm_view_t *v = NULL;
        r4[1] = c4 ? lsashm_client_open(c4, "lim", &v) : -1;
        lsashm_view_close(v);
        lsashm_client_close(c4);
        lsashm_client_close(c3);
        lsashm_client_close(c2);
        CHILD_SEND(r4);
        return 0;
}

static void test_limit_connections_per_uid(void **state)
{
        (void)state;
        if (!am_root())
                skip();
        struct lsashm_server_limits lim = { .connections_per_uid = 2 };
        server_start(&lim, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("lim", s, rules_anyone, 1, "lim");
        struct child c = child_start(&AS_NOBODY, per_uid_child, NULL, -1);
        struct per_uid_report rep;
        child_get(&c, &rep, sizeof(rep));
        assert_int_equal(rep.r1, 0);
        assert_int_equal(rep.r2, 0);
        if (rep.r3 >= 0)
                fail_msg("a third connection of uid 65534 was accepted with a limit of 2");
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.connections, 2);
        assert_int_equal(st.refused, 1);
        assert_int_equal(st.accepted, 2);
        assert_non_null(strstr(logbook.last, "uid 65534"));

        /* another uid still connects, and is served */
        int root_sock = raw_connect_served();
        assert_int_equal(raw_open_served(root_sock, 1, "lim"), 0);
        assert_int_equal(stats().connections, 3);

        child_go(&c);
        char closed;
        child_get(&c, &closed, 1);
        SERVE_UNTIL(stats().connections == 2);
        child_go(&c);
        int32_t r4[2];
        child_get(&c, r4, sizeof(r4));
        assert_int_equal(r4[0], 0); /* one went, so one more may come */
        assert_int_equal(r4[1], 0);
        child_finish(&c);
        close(root_sock);
        serve_pending();
        st = stats();
        assert_int_equal(st.accepted, 4);
        assert_int_equal(st.refused, 1);
        assert_int_equal(st.connections, 0);
        assert_int_equal(st.views, 0);
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

static int per_view_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c1, *c2;
        lsashm_view_t *v[4] = { 0 }, *w[3] = { 0 };
        int32_t rep[8];
        CHILD_CHECK(lsashm_client_connect(T.path, &c1) == 0);
        CHILD_CHECK(lsashm_client_connect(T.path, &c2) == 0);
        rep[0] = lsashm_client_open(c1, "lim", &v[0]);
        rep[1] = lsashm_client_open_readonly(c1, "lim", &v[1]);
        rep[2] = lsashm_client_open(c1, "lim", &v[2]);          /* one too many */
        lsashm_view_close(v[0]);
        rep[3] = lsashm_client_open(c1, "lim", &v[3]);          /* room again */
        rep[4] = lsashm_client_open(c2, "lim", &w[0]);          /* per connection */
        rep[5] = lsashm_client_open(c2, "lim", &w[1]);
        rep[6] = lsashm_client_open(c2, "lim", &w[2]);
        rep[7] = lsashm_view_state(v[1]);                       /* the refusal hurt nothing */
        CHILD_SEND(rep);
        CHILD_WAIT();
        lsashm_view_close(v[1]);
        lsashm_view_close(v[3]);
        lsashm_view_close(w[0]);
        lsashm_view_close(w[1]);
        lsashm_client_close(c1);
        lsashm_client_close(c2);
        return 0;
}

static void test_limit_views_per_connection(void **state)
{
        (void)state;
        struct lsashm_server_limits lim = { .views_per_connection = 2 };
        server_start(&lim, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("lim", s, rules_anyone, 1, "lim");
        struct child c = child_start(&AS_OWNER, per_view_child, NULL, -1);
        int32_t rep[8];
        child_get(&c, rep, sizeof(rep));
        assert_int_equal(rep[0], 0);
        assert_int_equal(rep[1], 0);
        assert_int_equal(rep[2], -EMFILE);
        assert_int_equal(rep[3], 0);
        assert_int_equal(rep[4], 0);
        assert_int_equal(rep[5], 0);
        assert_int_equal(rep[6], -EMFILE);
        assert_int_equal(rep[7], 0);
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.views, 4);
        assert_int_equal(st.connections, 2);
        assert_int_equal(st.denied, 0); /* a limit, not the policy */
        assert_int_equal(st.dropped, 0);
        child_go(&c);
        child_finish(&c);
        st = stats();
        assert_int_equal(st.views, 0);
        assert_int_equal(st.connections, 0);
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/*
 * A client that sends OPEN after OPEN and never reads the replies: once the
 * socket is full the server queues at most queued_per_connection replies
 * (each holding a descriptor), then drops the client. Another client is
 * served all along; the server never holds more than the queue's worth of
 * descriptors.
 */
static void test_limit_queued_per_connection(void **state)
{
        (void)state;
        enum { QUEUE = 4, MAX_REQUESTS = 50000 };
        struct lsashm_server_limits lim = { .queued_per_connection = QUEUE, .views_per_connection = 1000000 };
        server_start(&lim, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("q", s, rules_anyone, 1, "queue");

        int other = raw_connect_served();
        /* the server runs in this process: its end of the victim's
         * connection (and pidfd) count too */
        int without_victim = tu_count_fds();
        int victim = raw_connect_served();
        int tiny = 1;
        assert_int_equal(setsockopt(victim, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)), 0);
        int base_fds = tu_count_fds();
        int most_fds = base_fds;
        uint32_t sent = 0, other_requests = 0;
        for (;;) {
                if (stats().dropped == 1)
                        break;
                if (sent >= MAX_REQUESTS)
                        fail_msg("%u requests never read, and the client is still connected", sent);
                int r = raw_open(victim, sent + 1, 0, "q", true);
                if (r == -EAGAIN) {
                        /* our send queue is full: the server has plenty to read */
                        serve_round(TIMEOUT_MS);
                        continue;
                }
                if (r < 0) {
                        /* the server may have dropped us between two checks */
                        assert_true(r == -EPIPE || r == -ECONNRESET);
                        serve_pending();
                        break;
                }
                sent++;
                if (sent % 16 == 0) {
                        serve_round(0);
                        int n = tu_count_fds();
                        if (n > most_fds)
                                most_fds = n;
                }
                if (sent % 64 == 0 && stats().dropped == 0) {
                        /* never stalled: the other client is answered meanwhile */
                        other_requests++;
                        assert_int_equal(raw_open_served(other, other_requests, "q"), 0);
                }
        }
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.dropped, 1);
        assert_non_null(strstr(logbook.last, "queued"));
        assert_int_equal(st.connections, 1);
        assert_int_equal(st.views, other_requests); /* the victim's went with it */
        /* at most the queue's worth of descriptors was ever held for it */
        if (most_fds - base_fds > QUEUE)
                fail_msg("the server held %d more descriptors for a client that never reads", most_fds - base_fds);
        assert_int_equal(tu_count_fds(), without_victim + 1); /* just our end is left */

        /* What did arrive is well-formed and in order, then the end. The
         * server closed with our requests unread, so the first receive may
         * report ECONNRESET before the packets that were delivered. */
        uint32_t got = 0, resets = 0;
        for (;;) {
                uint8_t buf[WIRE_MAX_MESSAGE + 1];
                int fd = -1;
                ssize_t n = fdpass_recv(victim, buf, sizeof(buf), &fd, true, true);
                if (n == -ECONNRESET && resets++ == 0)
                        continue;
                if (n == 0)
                        break;
                assert_true(n > 0);
                struct wire_message m;
                assert_int_equal(wire_decode(buf, (size_t)n, 0, &m), 0);
                assert_int_equal(m.type, WIRE_OPEN_REPLY);
                assert_int_equal(m.open_reply.request, got + 1);
                assert_int_equal(m.open_reply.status, 0);
                assert_true(fd >= 0);
                close(fd);
                got++;
        }
        assert_true(got >= 1);
        assert_true(got < sent);
        close(victim);
        assert_int_equal(tu_count_fds(), without_victim);

        /* and the server goes on */
        other_requests++;
        assert_int_equal(raw_open_served(other, other_requests, "q"), 0);
        int late = raw_connect_served();
        assert_int_equal(raw_open_served(late, 1, "q"), 0);
        close(late);
        close(other);
        serve_pending();
        st = stats();
        assert_int_equal(st.connections, 0);
        assert_int_equal(st.views, 0);
        assert_int_equal(st.dropped, 1);
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ======================================================================
 * 5. Counters, clients that die, destroy
 * ====================================================================== */

static int open_then_exit_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        lsashm_view_t *v, *d = NULL;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        CHILD_CHECK(lsashm_client_open(c, "a", &v) == 0);
        CHILD_CHECK(lsashm_client_open(c, "b", &d) == -EACCES);
        char ready = 'r';
        CHILD_SEND(ready);
        CHILD_WAIT();
        /* "a" has been unpublished */
        CHILD_CHECK(lsashm_view_state(v) == -ESTALE);
        CHILD_SEND(ready);
        CHILD_WAIT();
        _exit(0); /* no close: the server sees the hang-up */
}

/* Stages a raw client reaches before it is killed. */
enum stage { CONNECTED, GREETED, OPEN_SENT };

static int raw_stage_child(void *arg)
{
        enum stage stage = *(enum stage *)arg;
        int sock = raw_connect(T.path);
        CHILD_CHECK(sock >= 0);
        if (stage >= GREETED) {
                struct wire_message m;
                CHILD_CHECK(raw_hello(sock) == 0);
                CHILD_CHECK(raw_recv(sock, &m, NULL, false) == 0 && m.type == WIRE_HELLO_REPLY);
        }
        char ready = 'r';
        CHILD_SEND(ready);
        if (stage >= OPEN_SENT) {
                CHILD_WAIT();
                CHILD_CHECK(raw_open(sock, 1, 0, "a2", false) == 0);
                CHILD_SEND(ready);
        }
        for (;;)
                pause();
}

static int lib_open_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        lsashm_view_t *v;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        char ready = 'r';
        CHILD_SEND(ready);
        CHILD_WAIT();
        (void)lsashm_client_open(c, "a2", &v); /* killed in here */
        _exit(1);
}

static int server_gone_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        lsashm_view_t *v;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        CHILD_CHECK(lsashm_client_open(c, "a2", &v) == 0);
        char ready = 'r';
        CHILD_SEND(ready);
        CHILD_WAIT(); /* the server has been destroyed */
        int32_t rep[4];
        struct pollfd p = { .fd = lsashm_client_fd(c), .events = POLLIN };
        rep[0] = poll(&p, 1, TIMEOUT_MS);
        rep[1] = lsashm_view_state(v);
        rep[2] = lsashm_client_dispatch(c);
        lsashm_view_t *w = NULL;
        rep[3] = lsashm_client_open(c, "a2", &w);
        const char *t = lsashm_view_ptr(v, lsashm_view_root(v), 3);
        CHILD_CHECK(t && strcmp(t, "a2") == 0); /* the section lives on; so does the mapping */
        lsashm_view_close(v);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_stats_deaths_and_destroy(void **state)
{
        (void)state;
        server_start(NULL, 0);
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.connections + st.views + st.published + st.accepted + st.refused + st.dropped +
                                 st.denied + st.revocations,
                         0);
        lsashm_section_t *sa = section_make(16 * KiB, 4 * KiB, 0);
        lsashm_section_t *sb = section_make(16 * KiB, 4 * KiB, 0);
        lsashm_section_t *sa2 = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("a", sa, rules_anyone, 1, "a");
        publish_text("b", sb, NULL, 0, "b"); /* nobody */
        publish_text("a2", sa2, rules_anyone, 1, "a2");
        assert_int_equal(stats().published, 3);
        int server_fds = tu_count_fds();

        /* a client that opens, is revoked, and exits without closing */
        struct child c = child_start(&AS_OWNER, open_then_exit_child, NULL, -1);
        char ready;
        child_get(&c, &ready, 1);
        st = stats();
        assert_int_equal(st.connections, 1);
        assert_int_equal(st.views, 1);
        assert_int_equal(st.denied, 1);
        assert_int_equal(st.accepted, 1);
        assert_int_equal(lsashm_server_unpublish(T.srv, "a"), 0);
        st = stats();
        assert_int_equal(st.views, 0);
        assert_int_equal(st.published, 2);
        assert_int_equal(st.revocations, 1);
        child_go(&c);
        child_get(&c, &ready, 1);
        child_go(&c);
        child_finish(&c);
        st = stats();
        assert_int_equal(st.connections, 0);
        assert_int_equal(st.dropped, 0); /* a hang-up is no protocol error */
        assert_int_equal(tu_count_fds(), server_fds);

        /* raw clients SIGKILLed: accepted but never greeted; greeted; with an
         * OPEN the server has not read yet; with its reply (and its fd) in
         * flight, never received */
        static enum stage stages[] = { CONNECTED, GREETED, OPEN_SENT, OPEN_SENT };
        for (size_t i = 0; i < 4; i++) {
                c = child_start(&AS_OWNER, raw_stage_child, &stages[i], -1);
                child_get(&c, &ready, 1);
                SERVE_UNTIL(stats().connections == 1);
                if (stages[i] == OPEN_SENT) {
                        child_go(&c);
                        /* not serving: the OPEN stays unread in the server's socket */
                        assert_true(tu_read_all(c.from, &ready, 1));
                }
                if (i == 3) /* served: its reply, and the fd, in flight */
                        SERVE_UNTIL(stats().views == 1);
                child_kill(&c);
                serve_pending();
                st = stats();
                assert_int_equal(st.connections, 0);
                assert_int_equal(st.views, 0);
                assert_int_equal(tu_count_fds(), server_fds);
        }
        /* a library client SIGKILLed while blocked in lsashm_client_open: its
         * OPEN is in the server's socket, not read yet */
        c = child_start(&AS_OWNER, lib_open_child, NULL, -1);
        child_get(&c, &ready, 1);
        SERVE_UNTIL(stats().connections == 1);
        serve_pending();
        child_go(&c);
        /* not serving: wait for the OPEN to arrive, and leave it unread */
        struct pollfd p = { .fd = lsashm_server_fd(T.srv), .events = POLLIN };
        assert_int_equal(poll(&p, 1, TIMEOUT_MS), 1);
        child_kill(&c);
        serve_pending();
        st = stats();
        assert_int_equal(st.connections, 0);
        assert_int_equal(st.views, 0);
        assert_int_equal(tu_count_fds(), server_fds);
        assert_int_equal(st.accepted, 6);

        /* still serving; then destroyed under a client holding a view */
        c = child_start(&AS_OWNER, server_gone_child, NULL, -1);
        child_get(&c, &ready, 1);
        st = stats();
        assert_int_equal(st.connections, 1);
        assert_int_equal(st.views, 1);
        server_stop(); /* no fd left, socket unlinked */
        child_go(&c);
        int32_t rep[4];
        child_get(&c, rep, sizeof(rep));
        child_finish(&c);
        assert_int_equal(rep[0], 1);
        assert_int_equal(rep[1], -ESTALE);
        assert_int_equal(rep[2], -ECONNRESET);
        assert_int_equal(rep[3], -ECONNRESET);

        /* destroy unpublishes but does not delete: the sections are ours */
        assert_int_equal(lsashm_section_check(sb), 0);
        assert_int_equal(lsashm_section_check(sa2), 0);
        section_drop(sa);
        section_drop(sb);
        section_drop(sa2);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* The socket's mode is the first gate. */
static int connect_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c = NULL;
        int32_t r = lsashm_client_connect(T.path, &c);
        lsashm_client_close(c);
        CHILD_SEND(r);
        return 0;
}

static void test_socket_mode(void **state)
{
        (void)state;
        if (!am_root())
                skip();
        static const uint32_t modes[] = { 0, 0600 };
        for (size_t i = 0; i < 2; i++) {
                server_start(NULL, modes[i]);
                struct stat st;
                assert_int_equal(lstat(T.path, &st), 0);
                assert_true(S_ISSOCK(st.st_mode));
                assert_int_equal(st.st_mode & 07777, modes[i] ? modes[i] : 0666);
                int32_t r;
                struct child c = child_start(&AS_NOBODY, connect_child, NULL, -1);
                child_get(&c, &r, sizeof(r));
                child_finish(&c);
                assert_int_equal(r, modes[i] ? -EACCES : 0);
                c = child_start(&AS_ROOT, connect_child, NULL, -1);
                child_get(&c, &r, sizeof(r));
                child_finish(&c);
                assert_int_equal(r, 0);
                server_stop();
        }
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ======================================================================
 * 6. The example publisher and reader
 * ====================================================================== */

/* Read from fd until EOF (or a newline when line), without serving. */
static size_t read_output(int fd, char *buf, size_t cap, bool line)
{
        size_t len = 0;
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (len + 1 < cap) {
                uint64_t spent = ms_since(&start);
                if (spent >= TIMEOUT_MS)
                        fail_msg("no output after %d ms (got \"%.*s\")", TIMEOUT_MS, (int)len, buf);
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n = poll(&p, 1, (int)(TIMEOUT_MS - spent));
                if (n < 0 && errno == EINTR)
                        continue;
                assert_true(n >= 0);
                if (n == 0)
                        continue;
                ssize_t got = read(fd, buf + len, line ? 1 : cap - 1 - len);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        break;
                len += (size_t)got;
                if (line && buf[len - 1] == '\n')
                        break;
        }
        buf[len] = '\0';
        return len;
}

/* An exec'd child whose stdout is the pipe to us. */
static int exec_to_stdout_child(void *arg)
{
        CHILD_CHECK(dup2(CHILD_OUT, STDOUT_FILENO) == STDOUT_FILENO);
        return exec_child(arg);
}

static void run_reader(const struct ident *who, int exe, char *name, const char *expect)
{
        char *argv[] = { "lsashm-example-reader", T.path, name, NULL };
        char out[512];
        struct child c = child_start(who, exec_to_stdout_child, argv, exe);
        read_output(c.from, out, sizeof(out), false);
        int status = tu_wait(c.pid, 10, NULL);
        T.pids[c.slot] = 0;
        close(c.to);
        close(c.from);
        char why[64];
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
                print_message("skipping: %s cannot execute the reader (build tree not accessible)\n", who->what);
                skip();
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("reader as %s %s, printed \"%s\"", who->what, tu_describe_status(status, why, sizeof(why)),
                         out);
        char want[256];
        snprintf(want, sizeof(want), "%s\n", expect);
        assert_string_equal(out, want);
}

static void test_example_pair(void **state)
{
        (void)state;
        const char *publisher = getenv("LSASHM_PUBLISHER"), *reader = getenv("LSASHM_READER");
        if (!publisher || !reader || !*publisher || !*reader) {
                print_message("skipping: LSASHM_PUBLISHER and LSASHM_READER are not set (run through ctest)\n");
                skip();
        }
        bool root = geteuid() == 0;
        snprintf(T.dir, sizeof(T.dir), "/tmp/lsashm-share-XXXXXX");
        assert_non_null(mkdtemp(T.dir));
        assert_int_equal(chmod(T.dir, 0711), 0);
        snprintf(T.path, sizeof(T.path), "%s/example.sock", T.dir);
        static char text[] = "Hello from the publisher: 42 bytes & more!";
        static char name[] = "greeting";

        int pub_exe = open(publisher, O_RDONLY | O_CLOEXEC);
        int rd_exe = open(reader, O_RDONLY | O_CLOEXEC);
        assert_true(pub_exe >= 0);
        assert_true(rd_exe >= 0);
        char *pargv[] = { "lsashm-example-publisher", T.path, name, text, NULL };
        struct child pub = child_start(&AS_OWNER, exec_to_stdout_child, pargv, pub_exe);
        close(pub_exe);
        char line[64];
        read_output(pub.from, line, sizeof(line), true);
        assert_string_equal(line, "ready\n");
        struct stat st;
        assert_int_equal(lstat(T.path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));

        run_reader(&AS_OWNER, rd_exe, name, text);
        if (root) {
                run_reader(&AS_NOBODY, rd_exe, name, text);
                run_reader(&AS_USER_SUPP, rd_exe, name, text);
        } else {
                print_message("not root: the reader runs only as the publisher's own uid\n");
        }
        close(rd_exe);

        assert_int_equal(kill(pub.pid, SIGTERM), 0);
        int status = tu_wait(pub.pid, 10, NULL);
        T.pids[pub.slot] = 0;
        char why[64];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("publisher after SIGTERM: %s", tu_describe_status(status, why, sizeof(why)));
        char rest[64];
        read_output(pub.from, rest, sizeof(rest), false);
        assert_string_equal(rest, "");
        close(pub.to);
        close(pub.from);
        assert_int_equal(lstat(T.path, &st), -1);
        assert_int_equal(errno, ENOENT);
        assert_int_equal(rmdir(T.dir), 0);
        T.dir[0] = T.path[0] = '\0';
        assert_int_equal(tu_count_fds(), T.fds_before);
}

int main(int argc, char **argv)
{
        if (argc == 7 && strcmp(argv[1], "--attack-readonly") == 0)
                return attack_readonly(argv + 2);
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_view_accessors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_root_beyond_committed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_readonly_other_uid_cannot_write, setup, teardown),
                cmocka_unit_test_setup_teardown(test_readers_only_same_uid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_readers_only_with_rw_rule, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoke_unpublish, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoke_delete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoke_aliases, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limit_connections_per_uid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limit_views_per_connection, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limit_queued_per_connection, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stats_deaths_and_destroy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
                cmocka_unit_test_setup_teardown(test_example_pair, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
