/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the package host tests (tests/test-host-*.c): the package
 * host (src/host), in the test's process, with real client processes.
 *
 * One host serves a whole test program: created in the group setup with
 * every variant of the test package (tests/packages) offered to it,
 * destroyed by the group teardown (test-host-load destroys it in its last
 * test, which checks that everything the packages held went with it).
 * Client scenarios run in forked children that use only the ntsecapi.h
 * client API against $LSASHM_SOCKET, while this process runs host_dispatch
 * in a poll loop until they exit (run_clients). A child cannot run cmocka's
 * assertions: it checks with CHECK_* and reports through its exit status.
 * It can ask this process about the host's state through a pipe (ask():
 * client buffers of a pid, connections, sections, a mailbox between
 * children), answered between two dispatches, so the answer reflects every
 * request the child has had answered.
 *
 * SIGPIPE keeps its default action here: a host that wrote to a dead client
 * without MSG_NOSIGNAL would kill the test.
 *
 * Header-only, included once by each test program; its functions are
 * static inline so that a program need not use all of them.
 */
#ifndef LSASHM_TESTS_HOST_FIXTURE_H
#define LSASHM_TESTS_HOST_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host-internal.h"
#include "lsa/lsa-wire.h"
#include "lsashm/ntsecapi.h"
#include "lsashm/section.h"
#include "packages/test-package-protocol.h"
#include "share/fdpass.h"
#include "test-util.h"

#ifndef TEST_PACKAGE_DIR
#error "TEST_PACKAGE_DIR: where tests/packages built test-pkg-*.so"
#endif

/* How long any one scenario may take before it is called a hang. Generous:
 * sanitizer builds on a busy machine. */
#define SCENARIO_MS 60000
#define STEP_MS 20000

#define NOBODY 65534u
#define LOGON_GID 4242u
#define ADMIN_GID 4243u

static struct host *g_host;
static char g_dir[64];
static char g_sock[100]; /* fits sockaddr_un.sun_path */
static char g_log_path[128];
static int g_fds_before_host;

/* ---- the host's log ---- */

#define LOG_KEEP 512
static char g_log[LOG_KEEP][512];
static unsigned g_nlog; /* lines ever logged */

static inline void log_capture(void *ctx, const char *line)
{
        (void)ctx;
        snprintf(g_log[g_nlog % LOG_KEEP], sizeof(g_log[0]), "%s", line);
        g_nlog++;
        if (getenv("TEST_HOST_VERBOSE"))
                fprintf(stderr, "host: %s\n", line);
}

/* Lines logged since line `since` that contain every needle given (NULL
 * ends the list). */
static inline unsigned log_count_since(unsigned since, const char *needle, const char *needle2)
{
        unsigned n = 0;
        if (g_nlog > LOG_KEEP && since < g_nlog - LOG_KEEP)
                since = g_nlog - LOG_KEEP;
        for (unsigned i = since; i < g_nlog; i++) {
                const char *l = g_log[i % LOG_KEEP];
                if (strstr(l, needle) && (!needle2 || strstr(l, needle2)))
                        n++;
        }
        return n;
}

static inline void log_dump_since(unsigned since)
{
        if (g_nlog > LOG_KEEP && since < g_nlog - LOG_KEEP)
                since = g_nlog - LOG_KEEP;
        for (unsigned i = since; i < g_nlog; i++)
                print_message("  host log: %s\n", g_log[i % LOG_KEEP]);
}



/* ---- driving the host ---- */

/* Serve whatever is ready, waiting up to ms for something to be. */
static inline void pump(int ms)
{
        struct pollfd p = { .fd = host_fd(g_host), .events = POLLIN };
        if (poll(&p, 1, ms) > 0)
                host_dispatch(g_host);
}

/* Serve until nothing has been ready for idle_ms (at most a few seconds). */
static inline void pump_idle(int idle_ms)
{
        int64_t end = tu_now_ms() + 5000;
        while (tu_now_ms() < end) {
                struct pollfd p = { .fd = host_fd(g_host), .events = POLLIN };
                if (poll(&p, 1, idle_ms) <= 0)
                        return;
                host_dispatch(g_host);
        }
}

/* ---- questions children ask the host's process ---- */

enum query_code {
        Q_BUFFERS = 1,  /* client buffers of the connections of pid arg */
        Q_CONNS,        /* connections */
        Q_DROPPED,      /* clients dropped so far */
        Q_SECTIONS,     /* sections the packages hold */
        Q_MAPPINGS,     /* clients mapping section id arg; UINT64_MAX if no such section */
        Q_CONN_MAPS,    /* distinct sections mapped by the connections of pid arg */
        Q_PUT,          /* mailbox = arg */
        Q_GET,          /* mailbox */
        Q_HOST_PID,
        Q_REPORT_CHECK, /* 1 if both reports show the odd logon name escaped (below) */
        Q_LOGON_SESSIONS, /* logon sessions the host has */
        Q_SESSIONS_REPORT, /* write `lsashm sessions` text and JSON to g_dir/sessions.{txt,json}; 1 */
};

struct query {
        uint32_t code;
        uint32_t pad;
        uint64_t arg;
};

static uint64_t g_mailbox;

/* A logon process name with everything a report must not pass through raw. */
/* Quotes, a backslash, control characters, a C1 control sequence (CSI as
 * UTF-8), a right-to-left override and a byte that is no UTF-8 at all. */
#define ODD_NAME "a\"b\\c\nd\x01" "e{]" "\xc2\x9b" "2J" "\xe2\x80\xae" "\xff"
#define ODD_NAME_JSON "\"name\":\"a\\\"b\\\\c\\u000ad\\u0001e{]\\u00c2\\u009b2J\\u00e2\\u0080\\u00ae\\u00ff\""
#define ODD_NAME_TEXT "a\"b\\c?d?e{]??2J????"

static inline char *host_report_text(int json);
static inline bool json_balanced(const char *text);

static inline uint64_t report_check(void)
{
        char *json = host_report_text(1), *text = host_report_text(0);
        bool ok = json_balanced(json) && strstr(json, ODD_NAME_JSON) && strstr(text, ODD_NAME_TEXT) &&
                  !strstr(text, "c\nd");
        if (!ok)
                fprintf(stderr, "reports:\n%s\n%s\n", json, text);
        free(json);
        free(text);
        return ok;
}

/* The sessions reports into files a child can read. */
static inline uint64_t sessions_report_files(void)
{
        for (int json = 0; json < 2; json++) {
                int fd = -1;
                uint64_t len = 0;
                if (host_report_sessions(g_host, json, &fd, &len) < 0)
                        return 0;
                char path[128], *text = calloc(1, (size_t)len + 1);
                snprintf(path, sizeof(path), "%s/sessions.%s", g_dir, json ? "json" : "txt");
                FILE *f = fopen(path, "we");
                bool ok = text && f && pread(fd, text, (size_t)len, 0) == (ssize_t)len &&
                          fwrite(text, 1, (size_t)len, f) == (size_t)len;
                if (f)
                        fclose(f);
                free(text);
                close(fd);
                if (!ok)
                        return 0;
        }
        return 1;
}

static inline uint64_t answer(uint32_t code, uint64_t arg)
{
        struct host *h = g_host;
        uint64_t n = 0;
        switch (code) {
        case Q_BUFFERS:
                for (struct conn_peer *p = h->cs.peers; p; p = p->next) {
                        if ((uint64_t)p->pid != arg)
                                continue;
                        /* A worker may be running its call: the report's lock. */
                        struct host_conn *c = (struct host_conn *)p;
                        pthread_mutex_lock(&c->lock);
                        n += c->nbuffers;
                        pthread_mutex_unlock(&c->lock);
                }
                return n;
        case Q_CONNS:
                return h->cs.n;
        case Q_DROPPED:
                return h->cs.dropped;
        case Q_SECTIONS:
                pthread_mutex_lock(&h->sections_lock);
                n = h->nsections;
                pthread_mutex_unlock(&h->sections_lock);
                return n;
        case Q_MAPPINGS:
                n = UINT64_MAX;
                pthread_mutex_lock(&h->sections_lock);
                for (struct host_section *s = h->sections; s; s = s->next)
                        if (s->id == arg)
                                n = s->mappings;
                pthread_mutex_unlock(&h->sections_lock);
                return n;
        case Q_CONN_MAPS:
                /* A worker changes a connection's table under this. */
                pthread_mutex_lock(&h->sections_lock);
                for (struct conn_peer *p = h->cs.peers; p; p = p->next)
                        if ((uint64_t)p->pid == arg)
                                n += ((struct host_conn *)p)->nmaps;
                pthread_mutex_unlock(&h->sections_lock);
                return n;
        case Q_PUT:
                g_mailbox = arg;
                return 0;
        case Q_GET:
                return g_mailbox;
        case Q_HOST_PID:
                return (uint64_t)getpid();
        case Q_REPORT_CHECK:
                return report_check();
        case Q_LOGON_SESSIONS:
                return host_sessions_count();
        case Q_SESSIONS_REPORT:
                return sessions_report_files();
        default:
                return UINT64_MAX - 1;
        }
}

/* ---- in children: no cmocka, checks that exit ---- */

static int g_query_fd = -1, g_answer_fd = -1;

#define CHECK(cond) CHILD_CHECK(cond)

#define CHECK_EQ(a, b)                                                                                   \
        do {                                                                                             \
                unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);           \
                if (a_ != b_) {                                                                          \
                        fprintf(stderr, "child %d: %s:%d: %s is %llu (0x%llx), expected %s (0x%llx)\n", \
                                (int)getpid(), __FILE__, __LINE__, #a, a_, a_, #b, b_);                  \
                        fflush(stderr);                                                                  \
                        _exit(100);                                                                      \
                }                                                                                        \
        } while (0)

/* NTSTATUS values, compared and shown as the 32-bit numbers Windows uses. */
#define CHECK_ST(a, b)                                                                               \
        do {                                                                                         \
                uint32_t a_ = (uint32_t)(a), b_ = (uint32_t)(b);                                     \
                if (a_ != b_) {                                                                      \
                        fprintf(stderr, "child %d: %s:%d: %s is 0x%08X, expected %s (0x%08X)\n",     \
                                (int)getpid(), __FILE__, __LINE__, #a, (unsigned)a_, #b, (unsigned)b_); \
                        fflush(stderr);                                                              \
                        _exit(100);                                                                  \
                }                                                                                    \
        } while (0)



static inline uint64_t ask(uint32_t code, uint64_t arg)
{
        struct query q = { .code = code, .arg = arg };
        uint64_t a = 0;
        CHECK(tu_write_all(g_query_fd, &q, sizeof(q)));
        CHECK(tu_read_all(g_answer_fd, &a, sizeof(a)));
        return a;
}

/* Ask until the answer is want (the host serves hang-ups, and the FREE and
 * UNMAP notices, asynchronously); returns the last answer. */
static inline uint64_t ask_until(uint32_t code, uint64_t arg, uint64_t want)
{
        int64_t end = tu_now_ms() + STEP_MS;
        uint64_t a;
        while ((a = ask(code, arg)) != want && tu_now_ms() < end)
                tu_sleep_ms(5);
        return a;
}

/* ---- the client API, as a child uses it ---- */

struct res {
        NTSTATUS st;
        NTSTATUS proto;
        PVOID buf;
        ULONG len;
};

static inline HANDLE c_untrusted(void)
{
        HANDLE h = NULL;
        NTSTATUS st = LsaConnectUntrusted(&h);
        CHECK_ST(st, STATUS_SUCCESS);
        CHECK(h != NULL);
        return h;
}

static inline NTSTATUS c_logon_status(HANDLE *ret)
{
        CHAR name[] = "test-host";
        LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
        LSA_OPERATIONAL_MODE mode = 0;
        *ret = NULL;
        return LsaRegisterLogonProcess(&s, ret, &mode);
}

static inline HANDLE c_logon(void)
{
        HANDLE h;
        CHECK_ST(c_logon_status(&h), STATUS_SUCCESS);
        CHECK(h != NULL);
        return h;
}

static inline NTSTATUS c_lookup_status(HANDLE h, const char *name, size_t len, ULONG *ret)
{
        LSA_STRING s = { (USHORT)len, (USHORT)len, (PCHAR)(uintptr_t)name };
        *ret = 0xFFFFFFFFu;
        return LsaLookupAuthenticationPackage(h, &s, ret);
}

static inline ULONG c_lookup(HANDLE h, const char *name)
{
        ULONG id;
        CHECK_ST(c_lookup_status(h, name, strlen(name), &id), STATUS_SUCCESS);
        return id;
}

static inline struct res c_call(HANDLE h, ULONG pkg, const void *submit, ULONG len)
{
        struct res r = { .st = 0x12345678, .proto = 0x12345678, .buf = (PVOID)(uintptr_t)1, .len = 0xFFFFFFFFu };
        r.st = LsaCallAuthenticationPackage(h, pkg, (PVOID)(uintptr_t)submit, len, &r.buf, &r.len, &r.proto);
        return r;
}

static inline TP_REQUEST tp_req(ULONG type, ULONG arg, ULONG length, ULONG flags, ULONGLONG addr)
{
        TP_REQUEST m = { .MessageType = type, .Arg = arg, .Length = length, .Flags = flags, .Addr = addr };
        return m;
}

static inline struct res c_msg(HANDLE h, ULONG pkg, ULONG type, ULONG arg, ULONG length, ULONG flags, ULONGLONG addr)
{
        TP_REQUEST m = tp_req(type, arg, length, flags, addr);
        return c_call(h, pkg, &m, sizeof(m));
}

/* A call that must succeed at both levels and return at least min bytes. */
static inline PVOID c_expect_buffer(struct res r, ULONG min)
{
        CHECK_ST(r.st, STATUS_SUCCESS);
        CHECK_ST(r.proto, STATUS_SUCCESS);
        CHECK(r.buf != NULL);
        CHECK(r.len >= min);
        return r.buf;
}

/* A call whose outcome is a status and no buffer. */
static inline void c_expect_no_buffer(struct res r, NTSTATUS st, NTSTATUS proto)
{
        CHECK_ST(r.st, st);
        CHECK_ST(r.proto, proto);
        CHECK(r.buf == NULL);
        CHECK_EQ(r.len, 0);
}

static inline void c_free(PVOID buf)
{
        CHECK_ST(LsaFreeReturnBuffer(buf), STATUS_SUCCESS);
}

/* LsaFreeReturnBuffer holds its frees back for h's next request: one that
 * sends them at once (a lookup), for a test that looks at the host's side. */
static inline void c_flush_frees(HANDLE h)
{
        c_lookup(h, TP_NAME_OK);
}

static inline void c_free_now(HANDLE h, PVOID buf)
{
        c_free(buf);
        c_flush_frees(h);
}

static inline void write_one_byte(void *p)
{
        *(volatile UCHAR *)p = 0x42;
}

/* Does writing one byte at p kill a process? Tried in a grandchild. */
static inline bool write_faults(volatile UCHAR *p)
{
        char why[96];
        int status = tu_run_child(write_one_byte, (void *)(uintptr_t)p, NULL, 20, why, sizeof(why));
        return status != -1 && WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}

/* ---- running children against the host ---- */

typedef void (*client_fn)(void *arg, int index);

struct kid {
        pid_t pid;
        int q, a;     /* queries from it, answers to it */
        bool q_open;
        bool done;
        int status;
};

#define MAX_KIDS 16

/* Run fn(arg, i) in n children (with creds cr, if given) while this process
 * serves the host; returns when all have exited (or were killed after
 * SCENARIO_MS), their wait statuses in statuses[]. */
static inline void run_clients(client_fn fn, void *arg, int n, const struct tu_creds *cr, int *statuses)
{
        struct kid kids[MAX_KIDS];
        assert_true(n > 0 && n <= MAX_KIDS);
        memset(kids, 0, sizeof(kids));
        for (int i = 0; i < n; i++) {
                int q[2], a[2];
                assert_int_equal(pipe2(q, O_CLOEXEC), 0);
                assert_int_equal(pipe2(a, O_CLOEXEC), 0);
                pid_t pid = tu_fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                        g_query_fd = q[1];
                        g_answer_fd = a[0];
                        /* Nothing of the host's (its sockets, other clients'
                         * connections) may live on in a client. */
                        tu_close_fds_except(q[1], a[0]);
                        if (cr)
                                tu_become(cr);
                        fn(arg, i);
                        _exit(0);
                }
                close(q[1]);
                close(a[0]);
                kids[i] = (struct kid){ .pid = pid, .q = q[0], .a = a[1], .q_open = true };
        }
        int64_t deadline = tu_now_ms() + SCENARIO_MS;
        int alive = n;
        while (alive > 0) {
                struct pollfd p[1 + MAX_KIDS];
                int who[1 + MAX_KIDS];
                int np = 0;
                p[np++] = (struct pollfd){ .fd = host_fd(g_host), .events = POLLIN };
                for (int i = 0; i < n; i++) {
                        if (kids[i].q_open) {
                                who[np] = i;
                                p[np++] = (struct pollfd){ .fd = kids[i].q, .events = POLLIN };
                        }
                }
                if (poll(p, (nfds_t)np, 5) > 0) {
                        if (p[0].revents)
                                host_dispatch(g_host);
                        for (int j = 1; j < np; j++) {
                                if (!p[j].revents)
                                        continue;
                                struct kid *k = &kids[who[j]];
                                struct query q;
                                if (!tu_read_all(k->q, &q, sizeof(q))) {
                                        k->q_open = false;
                                        continue;
                                }
                                /* Everything the child sent before asking
                                 * (FREE and UNMAP get no reply) is served
                                 * first: the answer reflects it. */
                                pump_idle(0);
                                uint64_t ans = answer(q.code, q.arg);
                                if (!tu_write_all(k->a, &ans, sizeof(ans)))
                                        k->q_open = false;
                        }
                }
                for (int i = 0; i < n; i++) {
                        if (kids[i].done)
                                continue;
                        int status;
                        if (waitpid(kids[i].pid, &status, WNOHANG) == kids[i].pid) {
                                kids[i].done = true;
                                kids[i].status = status;
                                alive--;
                        }
                }
                if (alive > 0 && tu_now_ms() > deadline) {
                        for (int i = 0; i < n; i++) {
                                if (kids[i].done)
                                        continue;
                                kill(kids[i].pid, SIGKILL);
                                waitpid(kids[i].pid, NULL, 0);
                                kids[i].done = true;
                                kids[i].status = -1;
                        }
                        alive = 0;
                }
        }
        for (int i = 0; i < n; i++) {
                close(kids[i].q);
                close(kids[i].a);
                statuses[i] = kids[i].status;
        }
        /* The children's hang-ups: served before the test looks. */
        pump_idle(20);
}

static inline void expect_clients_ok(client_fn fn, void *arg, int n, const struct tu_creds *cr)
{
        int statuses[MAX_KIDS];
        unsigned since = g_nlog;
        run_clients(fn, arg, n, cr, statuses);
        for (int i = 0; i < n; i++) {
                char why[96];
                if (statuses[i] != -1 && WIFEXITED(statuses[i]) && WEXITSTATUS(statuses[i]) == 0)
                        continue;
                log_dump_since(since);
                fail_msg("client %d of %d %s", i, n, tu_describe_status(statuses[i], why, sizeof(why)));
        }
}

static inline void expect_client_ok(client_fn fn, void *arg)
{
        expect_clients_ok(fn, arg, 1, NULL);
}

static const struct tu_creds nobody = { .uid = NOBODY, .gid = NOBODY };

/* ---- the host's own report ---- */

static inline char *host_report_text(int json)
{
        int fd = -1;
        uint64_t len = 0;
        assert_int_equal(host_report(g_host, json, &fd, &len), 0);
        char *text = calloc(1, (size_t)len + 1);
        assert_non_null(text);
        assert_int_equal(pread(fd, text, (size_t)len, 0), (ssize_t)len);
        close(fd);
        return text;
}

/* totals.connections from the JSON report. */
static inline long report_connections(void)
{
        char *json = host_report_text(1);
        const char *t = strstr(json, "\"totals\":{");
        const char *c = t ? strstr(t, "\"connections\":") : NULL;
        long n = c ? strtol(c + strlen("\"connections\":"), NULL, 10) : -1;
        free(json);
        return n;
}

/* Braces and brackets balance outside strings, and every string ends. */
static inline bool json_balanced(const char *text)
{
        int depth = 0;
        bool in_string = false;
        for (const char *p = text; *p; p++) {
                if (in_string) {
                        if ((unsigned char)*p < 0x20)
                                return false;
                        if (*p == '\\' && p[1])
                                p++;
                        else if (*p == '"')
                                in_string = false;
                } else if (*p == '"') {
                        in_string = true;
                } else if (*p == '{' || *p == '[') {
                        depth++;
                } else if ((*p == '}' || *p == ']') && --depth < 0) {
                        return false;
                }
        }
        return depth == 0 && !in_string;
}

/* ================= the group: one host, every variant offered ================= */

struct variant {
        const char *file;
        bool loads;
        int result;
};

static struct variant variants[] = {
        { "test-pkg-ok.so", true, 1 },
        { "test-pkg-peer.so", true, 1 },
        { "test-pkg-dupname.so", false, 1 },
        { "test-pkg-no-untrusted.so", true, 1 },
        { "test-pkg-v1.so", true, 1 },
        { "test-pkg-noinit-symbol.so", false, 1 },
        { "test-pkg-init-fails.so", false, 1 },
        { "test-pkg-lsamode-fails.so", false, 1 },
        { "test-pkg-bad-version.so", false, 1 },
        { "test-pkg-does-not-exist.so", false, 1 },
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

static inline int group_setup(void **state)
{
        (void)state;
        g_fds_before_host = tu_count_fds();
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-test-host-XXXXXX");
        if (!mkdtemp(g_dir))
                return -1;
        /* Clients running as nobody must reach the socket. */
        chmod(g_dir, 0755);
        snprintf(g_sock, sizeof(g_sock), "%s/lsashm.sock", g_dir);
        snprintf(g_log_path, sizeof(g_log_path), "%s/packages.log", g_dir);
        setenv("LSASHM_SOCKET", g_sock, 1);
        setenv(TP_LOG_ENV, g_log_path, 1);
        struct host_config cfg = {
                .socket_path = g_sock,
                .listen_fd = -1,
                .socket_mode = 0666,
                .logon_gid = (gid_t)-1,
                .admin_gid = (gid_t)-1,
                .log = log_capture,
        };
        if (host_create(&cfg, &g_host) < 0)
                return -1;
        for (size_t i = 0; i < NVARIANTS; i++) {
                char path[512];
                snprintf(path, sizeof(path), "%s/%s", TEST_PACKAGE_DIR, variants[i].file);
                variants[i].result = host_load_package(g_host, path);
        }
        return 0;
}

static inline int group_teardown(void **state)
{
        (void)state;
        if (g_host)
                host_destroy(g_host);
        g_host = NULL;
        unlink(g_log_path);
        unlink(g_sock);
        rmdir(g_dir);
        return 0;
}

/* Every test starts with no client connected and the default limits. */
static inline int setup(void **state)
{
        (void)state;
        if (!g_host)
                return -1;
        pump_idle(5);
        g_host->cfg.logon_gid = (gid_t)-1;
        g_host->cfg.admin_gid = (gid_t)-1;
        g_host->cs.cfg.total = 1024;
        g_host->cs.cfg.per_uid = 64;
        g_host->cs.cfg.handshake_ms = 10000;
        /* A full allowance of lines about clients: tests count them. */
        g_host->cs.log_tokens = 20;
        g_host->cs.log_suppressed = 0;
        return g_host->cs.n == 0 ? 0 : -1;
}

static inline bool log_has_line(const char *line)
{
        FILE *f = fopen(g_log_path, "re");
        char buf[256];
        bool found = false;
        if (!f)
                return false;
        while (!found && fgets(buf, sizeof(buf), f))
                found = strcmp(buf, line) == 0;
        fclose(f);
        return found;
}

static inline TP_SECTION_REPLY c_section(HANDLE h, ULONG id, ULONG type)
{
        TP_SECTION_REPLY s;
        struct res r = c_msg(h, id, type, 0, 0, 0, 0);
        memcpy(&s, c_expect_buffer(r, sizeof(s)), sizeof(s));
        c_free(r.buf);
        CHECK_EQ(s.MessageType, type);
        CHECK(s.SectionId != 0);
        return s;
}

static inline void check_pattern(const UCHAR *view, ULONG size, const TP_SECTION_REPLY *s)
{
        CHECK((uint64_t)s->PatternOffset + TP_PATTERN_LENGTH <= size);
        for (ULONG i = 0; i < TP_PATTERN_LENGTH; i++)
                if (view[s->PatternOffset + i] != TP_PATTERN(s->Seed, i)) {
                        fprintf(stderr, "child: pattern byte %u of section %llx is 0x%02x\n", (unsigned)i,
                                (unsigned long long)s->SectionId, view[s->PatternOffset + i]);
                        CHECK(!"pattern intact");
                }
}

/* ================= latency under load: a crowd of clients ================= */

/* Clients at once in the latency test, and the calls each makes. */
#define CROWD      100
#define CALLS_EACH 5

static inline uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

/* CROWD processes, each connected and looked up before a common start,
 * then CALLS_EACH echo calls; the 99th percentile of their latencies, us. */
static inline uint32_t crowd_p99(void)
{
        int ready[2], go[2], res[2];
        CHECK(pipe2(ready, O_CLOEXEC) == 0 && pipe2(go, O_CLOEXEC) == 0 && pipe2(res, O_CLOEXEC) == 0);
        pid_t kids[CROWD];
        for (int i = 0; i < CROWD; i++) {
                kids[i] = tu_fork();
                CHECK(kids[i] >= 0);
                if (kids[i] == 0) {
                        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                        close(go[1]);
                        HANDLE h = c_untrusted();
                        ULONG id = c_lookup(h, TP_NAME_OK);
                        CHECK(tu_pipe_send(ready[1]));
                        char b;
                        CHECK(read(go[0], &b, 1) == 0); /* the start: every writer closed */
                        uint32_t lat[CALLS_EACH];
                        for (int k = 0; k < CALLS_EACH; k++) {
                                uint64_t t0 = now_us();
                                struct res r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
                                lat[k] = (uint32_t)(now_us() - t0);
                                c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
                        }
                        CHECK(write(res[1], lat, sizeof(lat)) == (ssize_t)sizeof(lat));
                        _exit(0);
                }
        }
        close(ready[1]);
        close(go[0]);
        close(res[1]);
        for (int i = 0; i < CROWD; i++)
                CHECK(tu_pipe_recv(ready[0]));
        close(go[1]); /* go */
        static uint32_t lat[CROWD * CALLS_EACH];
        CHECK(tu_read_all(res[0], lat, sizeof(lat)));
        for (int i = 0; i < CROWD; i++)
                CHECK(tu_exited_ok(tu_wait(kids[i], 60, NULL)));
        close(ready[0]);
        close(res[0]);
        qsort(lat, CROWD * CALLS_EACH, sizeof(lat[0]), cmp_u32);
        return lat[(CROWD * CALLS_EACH * 99 + 99) / 100 - 1];
}

/* Is a p99 measured while something slow runs (loaded) no worse than 2x
 * the quiet one, with a margin for a loaded 2-CPU machine (where a quiet
 * p99 of 20 ms may be 150 ms the next second), and well under the slow
 * thing's slow_ms (what one thread serving all would give)? */
static inline bool crowd_p99_unharmed(uint32_t quiet, uint32_t loaded, uint32_t slow_ms)
{
        return loaded < 2 * quiet + 250000u && loaded < slow_ms * 1000u / 2;
}

/* The host tests need root: logon processes, the admin report and clients
 * of other uids; without it the host cannot be tested as deployed. */
static inline bool host_fixture_root(const char *program)
{
        if (geteuid() == 0)
                return true;
        printf("%s: skipped: needs root (setresuid to nobody, logon processes)\n", program);
        return false;
}

#endif
