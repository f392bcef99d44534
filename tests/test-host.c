/* SPDX-License-Identifier: MIT */
/*
 * The package host (src/host), in this process, with real client processes.
 *
 * One host serves the whole run: created in the group setup with every
 * variant of the test package (tests/packages) offered to it, destroyed by
 * the last test, which checks that everything the packages held went with
 * it. Client scenarios run in forked children that use only the ntsecapi.h
 * client API against $LSASHM_SOCKET, while this process runs host_dispatch
 * in a poll loop until they exit (run_clients). A child cannot run cmocka's
 * assertions: it checks with CHECK_* and reports through its exit status.
 * It can ask this process about the host's state through a pipe (ask():
 * client buffers of a pid, connections, sections, a mailbox between
 * children), answered between two dispatches, so the answer reflects every
 * request the child has had answered.
 *
 * Hostile clients (malformed packets, descriptors, requests out of order)
 * are raw sockets in this process: each is dropped alone, no descriptor
 * leaks, and the next client is served.
 *
 * SIGPIPE keeps its default action here: a host that wrote to a dead client
 * without MSG_NOSIGNAL would kill the test.
 */
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

static void log_capture(void *ctx, const char *line)
{
        (void)ctx;
        snprintf(g_log[g_nlog % LOG_KEEP], sizeof(g_log[0]), "%s", line);
        g_nlog++;
        if (getenv("TEST_HOST_VERBOSE"))
                fprintf(stderr, "host: %s\n", line);
}

/* Lines logged since line `since` that contain every needle given (NULL
 * ends the list). */
static unsigned log_count_since(unsigned since, const char *needle, const char *needle2)
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

static void log_dump_since(unsigned since)
{
        if (g_nlog > LOG_KEEP && since < g_nlog - LOG_KEEP)
                since = g_nlog - LOG_KEEP;
        for (unsigned i = since; i < g_nlog; i++)
                print_message("  host log: %s\n", g_log[i % LOG_KEEP]);
}



/* ---- driving the host ---- */

/* Serve whatever is ready, waiting up to ms for something to be. */
static void pump(int ms)
{
        struct pollfd p = { .fd = host_fd(g_host), .events = POLLIN };
        if (poll(&p, 1, ms) > 0)
                host_dispatch(g_host);
}

/* Serve until nothing has been ready for idle_ms (at most a few seconds). */
static void pump_idle(int idle_ms)
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

static char *host_report_text(int json);
static bool json_balanced(const char *text);

static uint64_t report_check(void)
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

static uint64_t answer(uint32_t code, uint64_t arg)
{
        struct host *h = g_host;
        uint64_t n = 0;
        switch (code) {
        case Q_BUFFERS:
                for (struct conn_peer *p = h->cs.peers; p; p = p->next)
                        if ((uint64_t)p->pid == arg)
                                n += ((struct host_conn *)p)->nbuffers;
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
                for (struct conn_peer *p = h->cs.peers; p; p = p->next)
                        if ((uint64_t)p->pid == arg)
                                n += ((struct host_conn *)p)->nmaps;
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



static uint64_t ask(uint32_t code, uint64_t arg)
{
        struct query q = { .code = code, .arg = arg };
        uint64_t a = 0;
        CHECK(tu_write_all(g_query_fd, &q, sizeof(q)));
        CHECK(tu_read_all(g_answer_fd, &a, sizeof(a)));
        return a;
}

/* Ask until the answer is want (the host serves hang-ups, and the FREE and
 * UNMAP notices, asynchronously); returns the last answer. */
static uint64_t ask_until(uint32_t code, uint64_t arg, uint64_t want)
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

static HANDLE c_untrusted(void)
{
        HANDLE h = NULL;
        NTSTATUS st = LsaConnectUntrusted(&h);
        CHECK_ST(st, STATUS_SUCCESS);
        CHECK(h != NULL);
        return h;
}

static NTSTATUS c_logon_status(HANDLE *ret)
{
        CHAR name[] = "test-host";
        LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
        LSA_OPERATIONAL_MODE mode = 0;
        *ret = NULL;
        return LsaRegisterLogonProcess(&s, ret, &mode);
}

static HANDLE c_logon(void)
{
        HANDLE h;
        CHECK_ST(c_logon_status(&h), STATUS_SUCCESS);
        CHECK(h != NULL);
        return h;
}

static NTSTATUS c_lookup_status(HANDLE h, const char *name, size_t len, ULONG *ret)
{
        LSA_STRING s = { (USHORT)len, (USHORT)len, (PCHAR)(uintptr_t)name };
        *ret = 0xFFFFFFFFu;
        return LsaLookupAuthenticationPackage(h, &s, ret);
}

static ULONG c_lookup(HANDLE h, const char *name)
{
        ULONG id;
        CHECK_ST(c_lookup_status(h, name, strlen(name), &id), STATUS_SUCCESS);
        return id;
}

static struct res c_call(HANDLE h, ULONG pkg, const void *submit, ULONG len)
{
        struct res r = { .st = 0x12345678, .proto = 0x12345678, .buf = (PVOID)(uintptr_t)1, .len = 0xFFFFFFFFu };
        r.st = LsaCallAuthenticationPackage(h, pkg, (PVOID)(uintptr_t)submit, len, &r.buf, &r.len, &r.proto);
        return r;
}

static TP_REQUEST tp_req(ULONG type, ULONG arg, ULONG length, ULONG flags, ULONGLONG addr)
{
        TP_REQUEST m = { .MessageType = type, .Arg = arg, .Length = length, .Flags = flags, .Addr = addr };
        return m;
}

static struct res c_msg(HANDLE h, ULONG pkg, ULONG type, ULONG arg, ULONG length, ULONG flags, ULONGLONG addr)
{
        TP_REQUEST m = tp_req(type, arg, length, flags, addr);
        return c_call(h, pkg, &m, sizeof(m));
}

/* A call that must succeed at both levels and return at least min bytes. */
static PVOID c_expect_buffer(struct res r, ULONG min)
{
        CHECK_ST(r.st, STATUS_SUCCESS);
        CHECK_ST(r.proto, STATUS_SUCCESS);
        CHECK(r.buf != NULL);
        CHECK(r.len >= min);
        return r.buf;
}

/* A call whose outcome is a status and no buffer. */
static void c_expect_no_buffer(struct res r, NTSTATUS st, NTSTATUS proto)
{
        CHECK_ST(r.st, st);
        CHECK_ST(r.proto, proto);
        CHECK(r.buf == NULL);
        CHECK_EQ(r.len, 0);
}

static void c_free(PVOID buf)
{
        CHECK_ST(LsaFreeReturnBuffer(buf), STATUS_SUCCESS);
}

/* Does writing one byte at p kill a process? Tried in a grandchild. */
static bool write_faults(volatile UCHAR *p)
{
        pid_t pid = tu_fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                *p = 0x42;
                _exit(0);
        }
        int status = tu_wait(pid, 20, NULL);
        return status != -1 && WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}

/* ---- running children against the host ---- */

struct creds {
        uid_t uid;
        gid_t gid;
        int ngroups;
        gid_t groups[4];
};

typedef void (*client_fn)(void *arg, int index);

struct kid {
        pid_t pid;
        int q, a;     /* queries from it, answers to it */
        bool q_open;
        bool done;
        int status;
};

#define MAX_KIDS 16

static void close_fds_except(int keep1, int keep2)
{
        int lo = keep1 < keep2 ? keep1 : keep2, hi = keep1 < keep2 ? keep2 : keep1;
        if (lo > 3)
                close_range(3, (unsigned)lo - 1, 0);
        if (hi > lo + 1)
                close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
        close_range((unsigned)hi + 1, ~0u, 0);
}

static void become(const struct creds *cr)
{
        CHECK(setgroups((size_t)cr->ngroups, cr->groups) == 0);
        CHECK(setresgid(cr->gid, cr->gid, cr->gid) == 0);
        CHECK(setresuid(cr->uid, cr->uid, cr->uid) == 0);
        /* Changing uids made us undumpable, which closes /proc/self to us:
         * the sanitizers and tu_maps_perms read it. */
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* Run fn(arg, i) in n children (with creds cr, if given) while this process
 * serves the host; returns when all have exited (or were killed after
 * SCENARIO_MS), their wait statuses in statuses[]. */
static void run_clients(client_fn fn, void *arg, int n, const struct creds *cr, int *statuses)
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
                        close_fds_except(q[1], a[0]);
                        if (cr)
                                become(cr);
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

static void expect_clients_ok(client_fn fn, void *arg, int n, const struct creds *cr)
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

static void expect_client_ok(client_fn fn, void *arg)
{
        expect_clients_ok(fn, arg, 1, NULL);
}

static const struct creds nobody = { .uid = NOBODY, .gid = NOBODY };

/* ---- the host's own report ---- */

static char *host_report_text(int json)
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
static long report_connections(void)
{
        char *json = host_report_text(1);
        const char *t = strstr(json, "\"totals\":{");
        const char *c = t ? strstr(t, "\"connections\":") : NULL;
        long n = c ? strtol(c + strlen("\"connections\":"), NULL, 10) : -1;
        free(json);
        return n;
}

/* Braces and brackets balance outside strings, and every string ends. */
static bool json_balanced(const char *text)
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

static int group_setup(void **state)
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

static int group_teardown(void **state)
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
static int setup(void **state)
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

/* ================= loading ================= */

static void test_host_load_package_variants(void **state)
{
        (void)state;
        for (size_t i = 0; i < NVARIANTS; i++) {
                if (variants[i].loads && variants[i].result != 0)
                        fail_msg("%s: host_load_package returned %d, expected 0", variants[i].file,
                                 variants[i].result);
                if (!variants[i].loads && variants[i].result >= 0)
                        fail_msg("%s: host_load_package returned %d, expected a refusal", variants[i].file,
                                 variants[i].result);
                /* Each refusal is logged once, with the library's path. */
                if (!variants[i].loads) {
                        unsigned n = log_count_since(0, variants[i].file, "not loaded");
                        if (n != 1) {
                                log_dump_since(0);
                                fail_msg("%s: %u log lines say it was not loaded, expected 1", variants[i].file, n);
                        }
                }
        }
        assert_int_equal(host_package_count(g_host), 4);

        /* The package that failed SpInitialize had made a section: the host
         * deleted it. */
        FILE *f = fopen(g_log_path, "re");
        assert_non_null(f);
        char line[256];
        void *base = NULL;
        unsigned dup_shutdowns = 0;
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "initfail-section TestInitFails %p", &base) == 1)
                        continue;
                /* dupname initialised fully before its name was found taken:
                 * the host let it shut down. */
                if (strcmp(line, "shutdown TestPkg\n") == 0)
                        dup_shutdowns++;
        }
        fclose(f);
        assert_non_null(base);
        struct lsashm_section_stats st;
        assert_true(lsashm_shared_memory_stats(base, &st) < 0);
        assert_int_equal(dup_shutdowns, 1);

        /* One host per process: the table has no context argument. */
        struct host_config cfg = { .socket_path = "/nonexistent/x", .listen_fd = -1 };
        struct host *second = NULL;
        assert_int_equal(host_create(&cfg, &second), -EBUSY);
        assert_null(second);
}

static void child_info(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG ids[2] = { c_lookup(h, TP_NAME_OK), c_lookup(h, TP_NAME_PEER) };
        CHECK(ids[0] != ids[1]);
        ULONGLONG section_ids[4];
        for (int i = 0; i < 2; i++) {
                struct res r = c_msg(h, ids[i], TpInfo, 0, 0, 0, 0);
                TP_INFO_REPLY info;
                memcpy(&info, c_expect_buffer(r, sizeof(info)), sizeof(info));
                CHECK_EQ(info.MessageType, TpInfo);
                CHECK_EQ(info.LsaModeInitCalls, 1);
                CHECK_EQ(info.InitializePackageCalls, 1);
                CHECK_EQ(info.SpInitializeCalls, 1);
                CHECK(info.GetInfoCalls >= 1);
                CHECK_EQ(info.LsaVersion, SECPKG_INTERFACE_VERSION);
                CHECK_EQ(info.PackageId, ids[i]);
                CHECK_EQ(info.InitPackageId, ids[i]);
                CHECK(info.ParametersNonNull);
                CHECK(info.TableNonNull);
                CHECK(info.InitPackageTableIsFull);
                CHECK(info.DomainNameOk);
                CHECK_EQ(info.NullMembers, 0);
                CHECK_EQ(info.FirstNullMember, 0);
                CHECK(info.SharedId != 0 && info.PrivateId != 0);
                section_ids[2 * i] = info.SharedId;
                section_ids[2 * i + 1] = info.PrivateId;
                c_free(r.buf);
        }
        for (int i = 0; i < 4; i++)
                for (int j = i + 1; j < 4; j++)
                        CHECK(section_ids[i] != section_ids[j]);
}

static void test_host_packages_initialized_once(void **state)
{
        (void)state;
        expect_client_ok(child_info, NULL);
}

/* A package built for interface version 1 hands a 27-member table that ends
 * at an unreadable page: the host copies only what exists. */
static void child_v1(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE hs[2] = { c_logon(), c_untrusted() };
        for (int i = 0; i < 2; i++) {
                ULONG id = c_lookup(hs[i], TP_NAME_V1);
                struct res r = c_msg(hs[i], id, TpClientInfo, 0, 0, 0, 0);
                TP_CLIENT_INFO_REPLY ci;
                memcpy(&ci, c_expect_buffer(r, sizeof(ci)), sizeof(ci));
                CHECK_EQ(ci.Entry, i == 0 ? TP_ENTRY_CALL : TP_ENTRY_UNTRUSTED);
                c_free(r.buf);
        }
}

static void test_host_v1_package_table_not_overread(void **state)
{
        (void)state;
        expect_client_ok(child_v1, NULL);
}

/* ================= lookups and routing ================= */

static void child_lookup(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK), other;
        /* Without regard to case, as on Windows. */
        CHECK_EQ(c_lookup(h, "testpkg"), id);
        CHECK_EQ(c_lookup(h, "TESTPKG"), id);
        CHECK_ST(c_lookup_status(h, "NoSuchPackage", 13, &other), STATUS_NO_SUCH_PACKAGE);
        /* Refused or failed packages are not there. */
        CHECK_ST(c_lookup_status(h, "TestInitFails", 13, &other), STATUS_NO_SUCH_PACKAGE);
        CHECK_ST(c_lookup_status(h, "TestNeverLoads", 14, &other), STATUS_NO_SUCH_PACKAGE);
        /* 127 bytes reach the host; 128 do not. */
        char name[129];
        memset(name, 'n', sizeof(name));
        CHECK_ST(c_lookup_status(h, name, 127, &other), STATUS_NO_SUCH_PACKAGE);
        CHECK_ST(c_lookup_status(h, name, 128, &other), STATUS_NAME_TOO_LONG);
        /* A package id nobody has: both levels say so. */
        struct res r = c_msg(h, 9999, TpEcho, 0, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_NO_SUCH_PACKAGE, STATUS_NO_SUCH_PACKAGE);
        /* The connection is still good. */
        r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
        c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
}

static void test_host_lookup_names(void **state)
{
        (void)state;
        expect_client_ok(child_lookup, NULL);
}

static TP_CLIENT_INFO_REPLY c_client_info(HANDLE h, ULONG id)
{
        TP_CLIENT_INFO_REPLY ci;
        struct res r = c_msg(h, id, TpClientInfo, 0, 0, 0, 0);
        memcpy(&ci, c_expect_buffer(r, sizeof(ci)), sizeof(ci));
        c_free(r.buf);
        CHECK_EQ(ci.MessageType, TpClientInfo);
        CHECK_ST(ci.ClientInfoStatus, STATUS_SUCCESS);
        return ci;
}

static void child_routing(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE u = c_untrusted(), t = c_logon();
        ULONG id = c_lookup(u, TP_NAME_OK);

        TP_CLIENT_INFO_REPLY ci = c_client_info(u, id);
        CHECK_EQ(ci.Entry, TP_ENTRY_UNTRUSTED);
        CHECK(!ci.HasTcbPrivilege);
        CHECK(ci.Restricted);
        CHECK_EQ(ci.ProcessID, getpid());
        CHECK_EQ(ci.ThreadID, gettid());
        CHECK_EQ(ci.LogonIdLow, getuid());
        CHECK(ci.CallInfoOk);
        CHECK_EQ(ci.CallProcessId, getpid());
        CHECK_EQ(ci.CallAttributes & SECPKG_CALL_IS_TCB, 0);
        CHECK(ci.CallCount >= 1);

        ci = c_client_info(t, id);
        CHECK_EQ(ci.Entry, TP_ENTRY_CALL);
        CHECK(ci.HasTcbPrivilege);
        CHECK(!ci.Restricted);
        CHECK_EQ(ci.ProcessID, getpid());
        CHECK(ci.CallInfoOk);
        CHECK(ci.CallAttributes & SECPKG_CALL_IS_TCB);

        /* A package without CallPackageUntrusted: untrusted callers are
         * refused at both levels, trusted ones served. */
        ULONG nu = c_lookup(u, TP_NAME_NO_UNTRUSTED);
        struct res r = c_msg(u, nu, TpEcho, 0, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_NOT_SUPPORTED, STATUS_NOT_SUPPORTED);
        ci = c_client_info(t, nu);
        CHECK_EQ(ci.Entry, TP_ENTRY_CALL);
        /* The refusal left the untrusted connection usable. */
        ci = c_client_info(u, id);
        CHECK_EQ(ci.Entry, TP_ENTRY_UNTRUSTED);
        CHECK_ST(LsaDeregisterLogonProcess(u), STATUS_SUCCESS);
        CHECK_ST(LsaDeregisterLogonProcess(t), STATUS_SUCCESS);
        CHECK_ST(LsaDeregisterLogonProcess(t), STATUS_INVALID_HANDLE);
}

static void test_host_trusted_and_untrusted_routing(void **state)
{
        (void)state;
        expect_client_ok(child_routing, NULL);
}

/* arg: NULL, or a struct logon_expect. */
struct logon_expect {
        NTSTATUS logon;
};

static void child_logon_as(void *arg, int index)
{
        (void)index;
        const struct logon_expect *e = arg;
        HANDLE h;
        CHECK_ST(c_logon_status(&h), e->logon);
        if (e->logon == STATUS_SUCCESS) {
                TP_CLIENT_INFO_REPLY ci = c_client_info(h, c_lookup(h, TP_NAME_OK));
                CHECK_EQ(ci.Entry, TP_ENTRY_CALL);
                CHECK(ci.HasTcbPrivilege);
                CHECK_EQ(ci.LogonIdLow, getuid());
        } else {
                CHECK(h == NULL);
        }
        /* Anyone may connect untrusted. */
        HANDLE u = c_untrusted();
        TP_CLIENT_INFO_REPLY ci = c_client_info(u, c_lookup(u, TP_NAME_OK));
        CHECK_EQ(ci.Entry, TP_ENTRY_UNTRUSTED);
        CHECK_EQ(ci.LogonIdLow, getuid());
}

static void test_host_logon_process_refused_for_nobody(void **state)
{
        (void)state;
        struct logon_expect refused = { STATUS_PORT_CONNECTION_REFUSED };
        unsigned since = g_nlog;
        expect_clients_ok(child_logon_as, &refused, 1, &nobody);
        assert_int_equal(log_count_since(since, "refused logon process", NULL), 1);
        /* With a logon group that nobody is not in: still refused. */
        g_host->cfg.logon_gid = LOGON_GID;
        struct creds other_group = { .uid = NOBODY, .gid = NOBODY, .ngroups = 1, .groups = { LOGON_GID + 7 } };
        expect_clients_ok(child_logon_as, &refused, 1, &other_group);
}

static void test_host_logon_group_allowed(void **state)
{
        (void)state;
        struct logon_expect ok = { STATUS_SUCCESS };
        g_host->cfg.logon_gid = LOGON_GID;
        /* A supplementary group... */
        struct creds supplementary = { .uid = NOBODY, .gid = NOBODY, .ngroups = 1, .groups = { LOGON_GID } };
        expect_clients_ok(child_logon_as, &ok, 1, &supplementary);
        /* ...or the primary one. */
        struct creds primary = { .uid = NOBODY, .gid = LOGON_GID };
        expect_clients_ok(child_logon_as, &ok, 1, &primary);
}

/* ================= calls, statuses, client buffers ================= */

static void child_two_level(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        pid_t me = getpid();

        /* Delivered and handled. */
        struct {
                TP_REQUEST m;
                UCHAR data[100];
        } echo;
        echo.m = tp_req(TpEcho, 1, 2, 3, 4);
        for (size_t i = 0; i < sizeof(echo.data); i++)
                echo.data[i] = (UCHAR)(i * 3);
        struct res r = c_call(h, id, &echo, sizeof(echo));
        c_expect_buffer(r, sizeof(echo));
        CHECK_EQ(r.len, sizeof(echo));
        CHECK(memcmp(r.buf, &echo, sizeof(echo)) == 0);
        c_free(r.buf);

        /* Delivered, refused by the package: the call succeeds. */
        r = c_msg(h, id, 0xBADu, 0, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_INVALID_PARAMETER);
        r = c_call(h, id, "ab", 2);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_INVALID_PARAMETER);
        r = c_call(h, id, NULL, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_INVALID_PARAMETER);

        /* The call itself fails, with a buffer allocated and returned: the
         * host frees it and hands none. */
        r = c_msg(h, id, TpFailureStatus, (ULONG)STATUS_LOGON_FAILURE, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_LOGON_FAILURE, STATUS_LOGON_FAILURE);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);

        /* Only the package's answer fails: the buffer comes along, as on
         * Windows, and is the client's to free. */
        r = c_msg(h, id, TpFailureStatus, (ULONG)STATUS_LOGON_FAILURE, 0, TP_FLAG_PROTOCOL_ONLY, 0);
        CHECK_ST(r.st, STATUS_SUCCESS);
        CHECK_ST(r.proto, STATUS_LOGON_FAILURE);
        CHECK(r.buf != NULL);
        CHECK_EQ(r.len, sizeof(TP_REQUEST));
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        c_free(r.buf);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);

        /* The largest submit buffer the wire carries, and one byte more. */
        size_t big = LSA_WIRE_MAX_SUBMIT;
        UCHAR *b = malloc(big + 1);
        CHECK(b != NULL);
        for (size_t i = 0; i < big + 1; i++)
                b[i] = (UCHAR)(i ^ (i >> 8));
        TP_REQUEST m = tp_req(TpEcho, 0, 0, 0, 0);
        memcpy(b, &m, sizeof(m));
        r = c_call(h, id, b, (ULONG)big);
        c_expect_buffer(r, (ULONG)big);
        CHECK_EQ(r.len, big);
        CHECK(memcmp(r.buf, b, big) == 0);
        c_free(r.buf);
        r = c_call(h, id, b, (ULONG)big + 1);
        c_expect_no_buffer(r, STATUS_INVALID_BUFFER_SIZE, STATUS_INVALID_BUFFER_SIZE);
        free(b);
        /* Nothing above broke the connection. */
        r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
        c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
}

static void test_host_two_level_status(void **state)
{
        (void)state;
        uint64_t dropped = g_host->cs.dropped;
        expect_client_ok(child_two_level, NULL);
        assert_int_equal(g_host->cs.dropped, dropped);
}

static void child_embedded(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        pid_t me = getpid();

        struct res r = c_msg(h, id, TpEmbed, 0, 0, 0, 0);
        const UCHAR *buf = c_expect_buffer(r, sizeof(TP_EMBED_REPLY));
        const TP_EMBED_REPLY *e = (const TP_EMBED_REPLY *)(const void *)buf;
        const UCHAR *end = buf + r.len;
        CHECK_EQ(e->MessageType, TpEmbed);
        CHECK(e->Self == r.buf);
        CHECK_EQ(e->Text.Length, strlen(TP_EMBED_TEXT));
        CHECK((const UCHAR *)e->Text.Buffer >= buf && (const UCHAR *)e->Text.Buffer + e->Text.Length <= end);
        CHECK(memcmp(e->Text.Buffer, TP_EMBED_TEXT, e->Text.Length) == 0);
        CHECK_EQ(e->Count, 4);
        CHECK((const UCHAR *)e->Numbers >= buf && (const UCHAR *)(e->Numbers + 4) <= end);
        CHECK_EQ(e->Numbers[0], 1);
        CHECK_EQ(e->Numbers[3], 0xDEADBEEFu);
        /* The client's view of its buffers is read-only. */
        char perms[5];
        CHECK(tu_maps_perms(r.buf, perms));
        CHECK(perms[0] == 'r' && perms[1] == '-' && perms[3] == 's');
        CHECK(write_faults((volatile UCHAR *)r.buf));
        /* Interior pointers are not return buffers. */
        CHECK_ST(LsaFreeReturnBuffer((PUCHAR)r.buf + 1), STATUS_INVALID_PARAMETER);
        c_free(r.buf);
        CHECK_ST(LsaFreeReturnBuffer(r.buf), STATUS_INVALID_PARAMETER);

        /* Two buffers, one group: the returned one points to the other. */
        r = c_msg(h, id, TpMulti, 0, 0, 0, 0);
        TP_MULTI_REPLY mr;
        memcpy(&mr, c_expect_buffer(r, sizeof(mr)), sizeof(mr));
        CHECK_EQ(mr.MessageType, TpMulti);
        CHECK_EQ(mr.OtherLength, sizeof(TP_MULTI_TEXT));
        CHECK(mr.Other != NULL && (PVOID)mr.Other != r.buf);
        CHECK(memcmp(mr.Other, TP_MULTI_TEXT, sizeof(TP_MULTI_TEXT)) == 0);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 2), 2);
        /* The other buffer is not a return buffer of its own. */
        CHECK_ST(LsaFreeReturnBuffer(mr.Other), STATUS_INVALID_PARAMETER);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 2), 2);
        c_free(r.buf);
        /* Freeing the return buffer released the whole group, wiped. */
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);
        CHECK(tu_all_zero(mr.Other, mr.OtherLength));
        CHECK(tu_all_zero(r.buf, r.len));

        /* A buffer still held when the connection ends: the host wipes the
         * reply section, and the client can still read (zeros) and free it. */
        r = c_msg(h, id, TpEcho, 0x5EC, 0, 0, 0);
        c_expect_buffer(r, sizeof(TP_REQUEST));
        CHECK(!tu_all_zero(r.buf, r.len));
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_CONNS, 0, 0), 0);
        CHECK(tu_all_zero(r.buf, r.len));
        c_free(r.buf);
}

static void test_host_return_buffers_embedded_pointers_and_groups(void **state)
{
        (void)state;
        expect_client_ok(child_embedded, NULL);
}

static TP_ALLOC_REPLY c_alloc_until_full(HANDLE h, ULONG id, ULONG chunk, ULONG flags, PVOID *ret_buf)
{
        struct res r = c_msg(h, id, TpAllocUntilFull, 0, chunk, flags, 0);
        TP_ALLOC_REPLY a;
        memcpy(&a, c_expect_buffer(r, sizeof(a)), sizeof(a));
        CHECK_EQ(a.MessageType, TpAllocUntilFull);
        *ret_buf = r.buf;
        return a;
}

static void child_buffers_released(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        pid_t me = getpid();
        PVOID buf;

        /* The reply section fills up (the default cap is 1 MiB)... */
        TP_ALLOC_REPLY a = c_alloc_until_full(h, id, 4096, 0, &buf);
        CHECK(a.Count > 16 && a.Count < 1024 * 1024 / 4096);
        CHECK_ST(a.Final, STATUS_NO_MEMORY);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, a.Count + 1), a.Count + 1);
        /* ...and a full section may refuse, but does not break, a call. */
        struct res r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
        if (r.st == STATUS_SUCCESS)
                c_free(r.buf);
        else
                c_expect_no_buffer(r, STATUS_NO_MEMORY, STATUS_SUCCESS);
        c_free(buf);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);
        /* All of it came back. */
        TP_ALLOC_REPLY again = c_alloc_until_full(h, id, 4096, 0, &buf);
        CHECK_EQ(again.Count, a.Count);
        c_free(buf);

        /* FreeClientBuffer during the call gives them back at once. */
        a = c_alloc_until_full(h, id, 4096, TP_FLAG_FREE_CHUNKS, &buf);
        CHECK_EQ(a.FreeFailures, 0);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        c_free(buf);

        /* Small chunks hit the count limit instead. */
        a = c_alloc_until_full(h, id, 16, TP_FLAG_FREE_CHUNKS, &buf);
        CHECK_EQ(a.Count, HOST_MAX_CLIENT_BUFFERS - 1);
        CHECK_ST(a.Final, STATUS_NO_MEMORY);
        CHECK_EQ(a.FreeFailures, 0);
        c_free(buf);
        /* Larger than the whole section. */
        a = c_alloc_until_full(h, id, 2u << 20, 0, &buf);
        CHECK_EQ(a.Count, 0);
        CHECK_ST(a.Final, STATUS_NO_MEMORY);
        c_free(buf);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);
}

static void test_host_client_buffers_released(void **state)
{
        (void)state;
        expect_client_ok(child_buffers_released, NULL);
}

static void child_garbage_return(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        pid_t me = getpid();
        uint64_t dropped = ask(Q_DROPPED, 0);

        /* A live return buffer from an earlier call, the client's. */
        struct res keep = c_msg(h, id, TpEcho, 7, 0, 0, 0);
        c_expect_buffer(keep, sizeof(TP_REQUEST));
        UCHAR stack_bytes[32] = { 0 };
        const ULONGLONG outside[] = {
                0,                                      /* the package's own memory */
                (ULONGLONG)(uintptr_t)keep.buf,         /* another call's buffer */
                (ULONGLONG)(uintptr_t)stack_bytes,      /* nowhere near the reply region */
                (ULONGLONG)(uintptr_t)keep.buf + 8192,  /* the region, no buffer there */
        };
        for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
                struct res r = c_msg(h, id, TpReturnAddress, 0, 16, 0, outside[i]);
                c_expect_no_buffer(r, STATUS_INTERNAL_ERROR, STATUS_INTERNAL_ERROR);
                CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        }
        /* A buffer of the call, but longer than it is. */
        const ULONG lengths[] = { 65, 4096, 0xFFFFFFF0u, 0xFFFFFFFFu };
        for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
                struct res r = c_msg(h, id, TpReturnHuge, 0, lengths[i], 0, 0);
                c_expect_no_buffer(r, STATUS_INTERNAL_ERROR, STATUS_INTERNAL_ERROR);
                CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        }
        /* Its exact length is fine; no length means no buffer. */
        struct res r = c_msg(h, id, TpReturnHuge, 0, 64, 0, 0);
        c_expect_buffer(r, 64);
        CHECK_EQ(r.len, 64);
        c_free(r.buf);
        r = c_msg(h, id, TpReturnHuge, 0, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        /* The earlier buffer is intact, and the connection still serves. */
        TP_REQUEST m = tp_req(TpEcho, 7, 0, 0, 0);
        CHECK(memcmp(keep.buf, &m, sizeof(m)) == 0);
        c_free(keep.buf);
        r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
        c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
        CHECK_EQ(ask(Q_DROPPED, 0), dropped);
}

static void test_host_package_garbage_return_refused(void **state)
{
        (void)state;
        unsigned since = g_nlog;
        expect_client_ok(child_garbage_return, NULL);
        assert_int_equal(log_count_since(since, "outside its client buffers", NULL), 8);
}

static void child_copy_to(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        struct res keep = c_msg(h, id, TpEcho, 9, 0, 0, 0);
        c_expect_buffer(keep, sizeof(TP_REQUEST));
        UCHAR stack_bytes[32] = { 0 };

        /* Inside the call's own 16-byte buffer... */
        struct res r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        /* ...past its end, */
        r = c_msg(h, id, TpCopyToOutside, 0, 16, 0, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        /* into a buffer the client holds from an earlier call, */
        r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, (ULONGLONG)(uintptr_t)keep.buf);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        /* into the client's stack, the reply region's unallocated part. */
        r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, (ULONGLONG)(uintptr_t)stack_bytes);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, (ULONGLONG)(uintptr_t)keep.buf + 65536);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, UINT64_MAX - 3);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        TP_REQUEST m = tp_req(TpEcho, 9, 0, 0, 0);
        CHECK(memcmp(keep.buf, &m, sizeof(m)) == 0);
        CHECK(tu_all_zero(stack_bytes, sizeof(stack_bytes)));
        c_free(keep.buf);
}

static void test_host_copy_to_client_checked(void **state)
{
        (void)state;
        expect_client_ok(child_copy_to, NULL);
}

static void child_copy_from(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        struct {
                TP_REQUEST m;
                UCHAR data[100];
        } s;
        const ULONG total = sizeof(s);
        for (size_t i = 0; i < sizeof(s.data); i++)
                s.data[i] = (UCHAR)(0x80 + i);

        /* The whole submit buffer, and its data part, by ClientBufferBase. */
        s.m = tp_req(TpCopyFromSubmit, 0, total, 0, 0);
        struct res r = c_call(h, id, &s, total);
        c_expect_buffer(r, total);
        CHECK(memcmp(r.buf, &s, total) == 0);
        c_free(r.buf);
        s.m = tp_req(TpCopyFromSubmit, sizeof(TP_REQUEST), sizeof(s.data), 0, 0);
        r = c_call(h, id, &s, total);
        c_expect_buffer(r, sizeof(s.data));
        CHECK(memcmp(r.buf, s.data, sizeof(s.data)) == 0);
        struct res keep = r;
        /* One byte past it, and starting at its end. */
        s.m = tp_req(TpCopyFromSubmit, 0, total + 1, 0, 0);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        s.m = tp_req(TpCopyFromSubmit, total, 1, 0, 0);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        s.m = tp_req(TpCopyFromSubmit, total, 0, 0, 0);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        /* A live buffer of the connection may be read back... */
        s.m = tp_req(TpCopyFromSubmit, 0, sizeof(s.data), 0, (ULONGLONG)(uintptr_t)keep.buf);
        r = c_call(h, id, &s, total);
        c_expect_buffer(r, sizeof(s.data));
        CHECK(memcmp(r.buf, s.data, sizeof(s.data)) == 0);
        c_free(r.buf);
        /* ...not past its end, nor once freed, nor other client memory. */
        s.m = tp_req(TpCopyFromSubmit, 0, sizeof(s.data) + 64, 0, (ULONGLONG)(uintptr_t)keep.buf);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        c_free(keep.buf);
        s.m = tp_req(TpCopyFromSubmit, 0, 16, 0, (ULONGLONG)(uintptr_t)keep.buf);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        UCHAR secret[16];
        memcpy(secret, "not for the host", sizeof(secret));
        s.m = tp_req(TpCopyFromSubmit, 0, sizeof(secret), 0, (ULONGLONG)(uintptr_t)secret);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
}

static void test_host_copy_from_client_checked(void **state)
{
        (void)state;
        expect_client_ok(child_copy_from, NULL);
}

/* ================= sections ================= */

static TP_SECTION_REPLY c_section(HANDLE h, ULONG id, ULONG type)
{
        TP_SECTION_REPLY s;
        struct res r = c_msg(h, id, type, 0, 0, 0, 0);
        memcpy(&s, c_expect_buffer(r, sizeof(s)), sizeof(s));
        c_free(r.buf);
        CHECK_EQ(s.MessageType, type);
        CHECK(s.SectionId != 0);
        return s;
}

static void check_pattern(const UCHAR *view, ULONG size, const TP_SECTION_REPLY *s)
{
        CHECK((uint64_t)s->PatternOffset + TP_PATTERN_LENGTH <= size);
        for (ULONG i = 0; i < TP_PATTERN_LENGTH; i++)
                if (view[s->PatternOffset + i] != TP_PATTERN(s->Seed, i)) {
                        fprintf(stderr, "child: pattern byte %u of section %llx is 0x%02x\n", (unsigned)i,
                                (unsigned long long)s->SectionId, view[s->PatternOffset + i]);
                        CHECK(!"pattern intact");
                }
}

static void child_section_creator(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE a = c_untrusted(), b = c_untrusted();
        ULONG id = c_lookup(a, TP_NAME_OK);
        TP_SECTION_REPLY s = c_section(a, id, TpMakeSection);
        ask(Q_PUT, s.SectionId);

        PVOID view = NULL;
        ULONG size = 0;
        CHECK_ST(LsashmMapSection(a, s.SectionId, &view, &size), STATUS_SUCCESS);
        CHECK(view != NULL && size >= TP_SECTION_SIZE);
        char perms[5];
        CHECK(tu_maps_perms(view, perms));
        CHECK(perms[0] == 'r' && perms[1] == 'w' && perms[3] == 's');
        check_pattern(view, size, &s);
        CHECK_EQ(ask_until(Q_MAPPINGS, s.SectionId, 1), 1);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 1), 1);
        /* The creator's write reaches the package. */
        memcpy((PUCHAR)view + 1000, "written by the client", 21);
        struct res r = c_msg(a, id, TpReadSection, 1000, 21, 0, s.SectionId);
        c_expect_buffer(r, 21);
        CHECK(memcmp(r.buf, "written by the client", 21) == 0);
        c_free(r.buf);
        /* Another connection of the same process is another client. */
        PVOID v2 = (PVOID)(uintptr_t)1;
        ULONG size2 = 7;
        CHECK_ST(LsashmMapSection(b, s.SectionId, &v2, &size2), STATUS_ACCESS_DENIED);
        CHECK(v2 == NULL && size2 == 0);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
        CHECK_ST(LsashmUnmapSection(view), STATUS_NOT_MAPPED_VIEW);
        CHECK_EQ(ask_until(Q_MAPPINGS, s.SectionId, 0), 0);
        /* Mapped twice: one view each, the host counts both. */
        PVOID v3, v4;
        CHECK_ST(LsashmMapSection(a, s.SectionId, &v3, &size), STATUS_SUCCESS);
        CHECK_ST(LsashmMapSection(a, s.SectionId, &v4, &size), STATUS_SUCCESS);
        CHECK(v3 != v4);
        CHECK_EQ(ask_until(Q_MAPPINGS, s.SectionId, 2), 2);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 1), 1);
        /* A client's mappings end with its connection. */
        CHECK_ST(LsaDeregisterLogonProcess(a), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_MAPPINGS, s.SectionId, 0), 0);
        /* The views stay readable, and remain the client's to unmap. */
        check_pattern(v3, size, &s);
        CHECK_ST(LsashmUnmapSection(v3), STATUS_SUCCESS);
        CHECK_ST(LsashmUnmapSection(v4), STATUS_SUCCESS);
}

static void child_section_stranger(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONGLONG sid = ask(Q_GET, 0);
        CHECK(sid != 0);
        PVOID view;
        ULONG size;
        CHECK_ST(LsashmMapSection(h, sid, &view, &size), STATUS_ACCESS_DENIED);
        HANDLE t = c_logon();
        CHECK_ST(LsashmMapSection(t, sid, &view, &size), STATUS_ACCESS_DENIED);
}

static void test_host_section_creator_maps_read_write(void **state)
{
        (void)state;
        g_mailbox = 0;
        expect_client_ok(child_section_creator, NULL);
        /* The creator's connections are gone; no other connection, trusted
         * or not, gets the section. */
        expect_client_ok(child_section_stranger, NULL);
}

static void child_section_shared(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        TP_SECTION_REPLY s = c_section(h, id, TpShareSection);
        CHECK_ST(s.ShareStatus, STATUS_SUCCESS);
        PVOID view;
        ULONG size;
        CHECK_ST(LsashmMapSection(h, s.SectionId, &view, &size), STATUS_SUCCESS);
        check_pattern(view, size, &s);
        char perms[5];
        CHECK(tu_maps_perms(view, perms));
        CHECK(perms[0] == 'r' && perms[1] == '-' && perms[3] == 's');
        /* Read-only for good: no write, no mprotect to writable. */
        CHECK(write_faults((volatile UCHAR *)view + s.PatternOffset));
        CHECK(mprotect(view, size, PROT_READ | PROT_WRITE) < 0);
        check_pattern(view, size, &s);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
}

static void test_host_section_shared_read_only(void **state)
{
        (void)state;
        expect_client_ok(child_section_shared, NULL);
        expect_clients_ok(child_section_shared, NULL, 1, &nobody);
}

static void child_section_private(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE u = c_untrusted(), t = c_logon();
        ULONG id = c_lookup(u, TP_NAME_OK);
        TP_SECTION_REPLY s = c_section(u, id, TpPrivateSection);
        PVOID view = NULL;
        ULONG size = 0;
        /* Made outside any client's call, not shared: nobody's. */
        CHECK_ST(LsashmMapSection(u, s.SectionId, &view, &size), STATUS_ACCESS_DENIED);
        CHECK_ST(LsashmMapSection(t, s.SectionId, &view, &size), STATUS_ACCESS_DENIED);
        /* Ids nobody was given. */
        CHECK_ST(LsashmMapSection(u, s.SectionId ^ 0x5A5A5A5A5A5A5A5Aull, &view, &size), STATUS_NOT_FOUND);
        CHECK_ST(LsashmMapSection(u, 0x123456789ull, &view, &size), STATUS_NOT_FOUND);
        CHECK_ST(LsashmMapSection(u, 0, &view, &size), STATUS_INVALID_PARAMETER);
        CHECK_ST(LsashmMapSection((HANDLE)&view, s.SectionId, &view, &size), STATUS_INVALID_HANDLE);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 0), 0);

        /* LsashmShareSection from a package: its own sections only. */
        ULONG peer = c_lookup(u, TP_NAME_PEER);
        struct res r = c_msg(t, peer, TpInfo, 0, 0, 0, 0);
        TP_INFO_REPLY pi;
        memcpy(&pi, c_expect_buffer(r, sizeof(pi)), sizeof(pi));
        c_free(r.buf);
        r = c_msg(u, id, TpShareBase, LSASHM_SHARE_READ, 0, 0, pi.PrivateHostBase);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_DENIED);
        CHECK_ST(LsashmMapSection(u, pi.PrivateId, &view, &size), STATUS_ACCESS_DENIED);
        r = c_msg(u, id, TpShareBase, 3, 0, 0, pi.PrivateHostBase);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_INVALID_PARAMETER);
        r = c_msg(u, id, TpShareBase, LSASHM_SHARE_READ, 0, 0, 0x10000);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_NOT_FOUND);
        r = c_msg(u, id, TpShareBase, LSASHM_SHARE_READ, 0, 0, pi.PrivateHostBase + 16);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_NOT_FOUND);
}

static void test_host_section_private_and_unknown(void **state)
{
        (void)state;
        expect_client_ok(child_section_private, NULL);
}

static void child_section_delete(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        uint64_t sections = ask(Q_SECTIONS, 0);
        TP_SECTION_REPLY s = c_section(h, id, TpMakeSection);
        CHECK_EQ(ask(Q_SECTIONS, 0), sections + 1);
        PVOID view;
        ULONG size;
        CHECK_ST(LsashmMapSection(h, s.SectionId, &view, &size), STATUS_SUCCESS);
        memset((PUCHAR)view + 2000, 0xEE, 64);
        struct res r = c_msg(h, id, TpDeleteSection, 0, 0, 0, s.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        CHECK_EQ(ask(Q_SECTIONS, 0), sections);
        /* The view outlives the section, wiped. */
        CHECK(tu_all_zero(view, size));
        PVOID v2;
        CHECK_ST(LsashmMapSection(h, s.SectionId, &v2, &size), STATUS_NOT_FOUND);
        r = c_msg(h, id, TpReadSection, 0, 16, 0, s.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_NOT_FOUND);
        r = c_msg(h, id, TpDeleteSection, 0, 0, 0, s.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_NOT_FOUND);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 0), 0);
        /* A new section never gets the old id. */
        TP_SECTION_REPLY s2 = c_section(h, id, TpMakeSection);
        CHECK(s2.SectionId != s.SectionId);
        r = c_msg(h, id, TpDeleteSection, 0, 0, 0, s2.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
}

static void test_host_section_delete(void **state)
{
        (void)state;
        expect_client_ok(child_section_delete, NULL);
}

/* A package that deletes a section behind the host's back (the exported
 * LsaDeleteSharedMemory, not the table's member) leaves the host a stale
 * record. The next section often gets the same base: the old id must not
 * lead there, nor must its creator's right to write. */
static void child_section_stale_id(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE a = c_untrusted(), b = c_untrusted();
        ULONG id = c_lookup(a, TP_NAME_OK);
        TP_SECTION_REPLY s1 = c_section(a, id, TpMakeSection);
        struct res r = c_msg(a, id, TpDeleteSection, 0, 0, TP_FLAG_DIRECT, s1.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        TP_SECTION_REPLY s2 = c_section(b, id, TpMakeSection);
        CHECK(s2.SectionId != s1.SectionId);
        PVOID view = NULL;
        ULONG size = 0;
        CHECK_ST(LsashmMapSection(a, s1.SectionId, &view, &size), STATUS_NOT_FOUND);
        CHECK_ST(LsashmMapSection(a, s2.SectionId, &view, &size), STATUS_ACCESS_DENIED);
        CHECK_ST(LsashmMapSection(b, s1.SectionId, &view, &size), STATUS_NOT_FOUND);
        CHECK_ST(LsashmMapSection(b, s2.SectionId, &view, &size), STATUS_SUCCESS);
        check_pattern(view, size, &s2);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
        r = c_msg(b, id, TpDeleteSection, 0, 0, 0, s2.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
}

static void test_host_section_stale_id_refused(void **state)
{
        (void)state;
        expect_client_ok(child_section_stale_id, NULL);
}

static void child_section_map_limit(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        ULONGLONG ids[HOST_MAX_MAPPINGS + 1];
        PVOID views[HOST_MAX_MAPPINGS + 1];
        ULONG size;
        for (unsigned i = 0; i <= HOST_MAX_MAPPINGS; i++)
                ids[i] = c_section(h, id, TpMakeSection).SectionId;
        for (unsigned i = 0; i < HOST_MAX_MAPPINGS; i++)
                CHECK_ST(LsashmMapSection(h, ids[i], &views[i], &size), STATUS_SUCCESS);
        CHECK_ST(LsashmMapSection(h, ids[HOST_MAX_MAPPINGS], &views[HOST_MAX_MAPPINGS], &size),
                 STATUS_INSUFFICIENT_RESOURCES);
        /* Another view of a section already mapped is no new section. */
        PVOID again;
        CHECK_ST(LsashmMapSection(h, ids[0], &again, &size), STATUS_SUCCESS);
        CHECK_ST(LsashmUnmapSection(again), STATUS_SUCCESS);
        /* One unmapped makes room. */
        CHECK_ST(LsashmUnmapSection(views[0]), STATUS_SUCCESS);
        CHECK_ST(LsashmMapSection(h, ids[HOST_MAX_MAPPINGS], &views[0], &size), STATUS_SUCCESS);
        for (unsigned i = 0; i < HOST_MAX_MAPPINGS; i++)
                CHECK_ST(LsashmUnmapSection(views[i]), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 0), 0);
        for (unsigned i = 0; i <= HOST_MAX_MAPPINGS; i++) {
                struct res r = c_msg(h, id, TpDeleteSection, 0, 0, 0, ids[i]);
                c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        }
}

static void test_host_section_map_limit(void **state)
{
        (void)state;
        expect_client_ok(child_section_map_limit, NULL);
}

/* ================= the rest of the function table ================= */

/* A TpCallPeer message to name, wrapping inner. */
static size_t peer_msg(UCHAR *out, const char *name, const void *inner, size_t inner_len, ULONG flags)
{
        TP_REQUEST m = tp_req(TpCallPeer, (ULONG)strlen(name), (ULONG)inner_len, flags, 0);
        memcpy(out, &m, sizeof(m));
        memcpy(out + sizeof(m), name, strlen(name));
        memcpy(out + sizeof(m) + strlen(name), inner, inner_len);
        return sizeof(m) + strlen(name) + inner_len;
}

static void child_call_peer(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        UCHAR msg[4096];
        TP_PEER_REPLY pr;

        /* An echo through the peer comes back whole. */
        struct {
                TP_REQUEST m;
                UCHAR data[40];
        } echo;
        echo.m = tp_req(TpEcho, 5, 0, 0, 0);
        memset(echo.data, 0x77, sizeof(echo.data));
        size_t n = peer_msg(msg, TP_NAME_PEER, &echo, sizeof(echo), 0);
        struct res r = c_call(h, id, msg, (ULONG)n);
        c_expect_buffer(r, sizeof(pr));
        memcpy(&pr, r.buf, sizeof(pr));
        CHECK_ST(pr.CallStatus, STATUS_SUCCESS);
        CHECK_ST(pr.ProtocolStatus, STATUS_SUCCESS);
        CHECK_EQ(pr.ReturnLength, sizeof(echo));
        CHECK_EQ(r.len, sizeof(pr) + sizeof(echo));
        CHECK(memcmp((PUCHAR)r.buf + sizeof(pr), &echo, sizeof(echo)) == 0);
        c_free(r.buf);

        /* Who the peer sees calling: the client being served (this
         * untrusted process), in process and recursive; by either entry
         * point, the name matched without regard to case. */
        TP_REQUEST ci = tp_req(TpClientInfo, 0, 0, 0, 0);
        for (int pass = 0; pass < 2; pass++) {
                n = peer_msg(msg, pass ? "testpeer" : TP_NAME_PEER, &ci, sizeof(ci), pass ? TP_FLAG_PASSTHROUGH : 0);
                r = c_call(h, id, msg, (ULONG)n);
                c_expect_buffer(r, sizeof(pr) + sizeof(TP_CLIENT_INFO_REPLY));
                memcpy(&pr, r.buf, sizeof(pr));
                CHECK_ST(pr.CallStatus, STATUS_SUCCESS);
                TP_CLIENT_INFO_REPLY info;
                memcpy(&info, (PUCHAR)r.buf + sizeof(pr), sizeof(info));
                c_free(r.buf);
                CHECK_EQ(info.Entry, pass ? TP_ENTRY_PASSTHROUGH : TP_ENTRY_CALL);
                CHECK(!info.HasTcbPrivilege);
                CHECK_EQ(info.ProcessID, getpid());
                CHECK(info.CallInfoOk);
                CHECK(info.CallAttributes & SECPKG_CALL_IN_PROC);
                CHECK(info.CallAttributes & SECPKG_CALL_RECURSIVE);
        }

        /* Nobody of that name. */
        n = peer_msg(msg, "NoSuchPeer", &echo, sizeof(echo), 0);
        r = c_call(h, id, msg, (ULONG)n);
        c_expect_buffer(r, sizeof(pr));
        memcpy(&pr, r.buf, sizeof(pr));
        CHECK_ST(pr.CallStatus, STATUS_NO_SUCH_PACKAGE);
        CHECK_EQ(pr.ReturnLength, 0);
        c_free(r.buf);

        /* The callee fails its call: its status comes back to the caller. */
        TP_REQUEST fail = tp_req(TpFailureStatus, (ULONG)STATUS_LOGON_FAILURE, 0, 0, 0);
        n = peer_msg(msg, TP_NAME_PEER, &fail, sizeof(fail), 0);
        r = c_call(h, id, msg, (ULONG)n);
        c_expect_buffer(r, sizeof(pr));
        memcpy(&pr, r.buf, sizeof(pr));
        CHECK_ST(pr.CallStatus, STATUS_LOGON_FAILURE);
        CHECK_ST(pr.ProtocolStatus, STATUS_LOGON_FAILURE);
        /* ...and the buffer it allocated before failing is freed by the
         * host, not handed to the caller. */
        CHECK_EQ(pr.ReturnLength, 0);
        c_free(r.buf);

        /* The callee returns memory that is not its client buffer (here, an
         * address it made up) or a length past it: refused, nothing handed
         * to the caller, whose FreeReturnBuffer would free() it. */
        TP_REQUEST garbage[] = { tp_req(TpReturnAddress, 0, 16, 0, 0x1000), tp_req(TpReturnHuge, 0, 1u << 20, 0, 0) };
        for (size_t g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++) {
                n = peer_msg(msg, TP_NAME_PEER, &garbage[g], sizeof(garbage[g]), 0);
                r = c_call(h, id, msg, (ULONG)n);
                c_expect_buffer(r, sizeof(pr));
                memcpy(&pr, r.buf, sizeof(pr));
                CHECK_ST(pr.CallStatus, STATUS_INTERNAL_ERROR);
                CHECK_EQ(pr.ReturnLength, 0);
                c_free(r.buf);
        }

        /* Nested calls, TestPkg -> TestPeer -> TestPkg -> ..., six deep:
         * the host refuses the one past its depth limit, and each level
         * above hands the refusal back up. */
        enum { LEVELS = 6 };
        UCHAR levels[LEVELS + 1][1024];
        size_t lens[LEVELS + 1];
        TP_REQUEST innermost = tp_req(TpEcho, 0, 0, 0, 0);
        memcpy(levels[LEVELS], &innermost, sizeof(innermost));
        lens[LEVELS] = sizeof(innermost);
        for (int l = LEVELS - 1; l >= 0; l--)
                lens[l] = peer_msg(levels[l], l % 2 ? TP_NAME_OK : TP_NAME_PEER, levels[l + 1], lens[l + 1], 0);
        r = c_call(h, id, levels[0], (ULONG)lens[0]);
        const UCHAR *p = c_expect_buffer(r, sizeof(pr));
        ULONG left = r.len;
        int depth = 0;
        for (;;) {
                CHECK(left >= sizeof(pr));
                memcpy(&pr, p, sizeof(pr));
                CHECK_EQ(pr.MessageType, TpCallPeer);
                if (pr.CallStatus != STATUS_SUCCESS)
                        break;
                /* Each level returns exactly the reply of the one below. */
                CHECK_EQ(pr.ReturnLength, left - sizeof(pr));
                p += sizeof(pr);
                left -= (ULONG)sizeof(pr);
                depth++;
                CHECK(depth < LEVELS);
        }
        CHECK_ST(pr.CallStatus, STATUS_INSUFFICIENT_RESOURCES);
        CHECK_EQ(pr.ReturnLength, 0);
        /* HOST_MAX_CALL_DEPTH counts the client's call too. */
        CHECK_EQ(depth, HOST_MAX_CALL_DEPTH - 1);
        c_free(r.buf);
}

static void test_host_package_to_package_calls(void **state)
{
        (void)state;
        expect_client_ok(child_call_peer, NULL);
}

static void child_table_members(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG id = c_lookup(h, TP_NAME_OK);
        const ULONG lengths[] = { 1, 7, 8, 16, 17, 100, 4096 };
        for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
                struct res r = c_msg(h, id, TpProtect, 0, lengths[i], 0, 0);
                c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        }
        const ULONGLONG luids[] = { 0x0000123400000042ull, 0, 0xFFFFFFFFFFFFFFFFull };
        for (size_t i = 0; i < sizeof(luids) / sizeof(luids[0]); i++) {
                struct res r = c_msg(h, id, TpLogonSessions, 0, 0, 0, luids[i]);
                TP_LOGON_REPLY lr;
                memcpy(&lr, c_expect_buffer(r, sizeof(lr)), sizeof(lr));
                c_free(r.buf);
                CHECK_ST(lr.Create, STATUS_SUCCESS);
                CHECK_ST(lr.CreateAgain, STATUS_LOGON_SESSION_COLLISION);
                CHECK_ST(lr.Delete, STATUS_SUCCESS);
                CHECK_ST(lr.DeleteAgain, STATUS_NO_SUCH_LOGON_SESSION);
                /* The one real delete told the package (LsaApLogonTerminated),
                 * with the session's LUID; the refused one did not. */
                CHECK_EQ(lr.Terminated, 1);
                CHECK_EQ(lr.TerminatedLuid.LowPart, (ULONG)luids[i]);
                CHECK_EQ((ULONG)lr.TerminatedLuid.HighPart, (ULONG)(luids[i] >> 32));
        }
}

static void test_host_protect_memory_and_logon_sessions(void **state)
{
        (void)state;
        expect_client_ok(child_table_members, NULL);
}

/*
 * A PLSA_CLIENT_REQUEST kept from a finished call is refused in any later
 * call (STATUS_INVALID_PARAMETER), on the same connection or another. Found
 * as a bug: the request was &call->self with the call on the host's stack,
 * so the next call down the same path had the same address and the stale
 * request resolved to it, reaching another client's buffers.
 */
static void child_stale_request(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE a = c_untrusted(), b = c_untrusted();
        ULONG id = c_lookup(a, TP_NAME_OK);
        TP_STALE_REPLY s[2];
        for (int other_conn = 0; other_conn < 2; other_conn++) {
                struct res r = c_msg(a, id, TpStaleRequest, 0, 0, 0, 0);
                c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
                r = c_msg(other_conn ? b : a, id, TpStaleRequest, 1, 0, 0, 0);
                memcpy(&s[other_conn], c_expect_buffer(r, sizeof(s[0])), sizeof(s[0]));
                c_free(r.buf);
                if (s[other_conn].SameAsCurrent || s[other_conn].StaleAllocate != STATUS_INVALID_PARAMETER)
                        fprintf(stderr,
                                "child: a ClientRequest kept from a finished call, used in a call on %s "
                                "connection: %s the new call's; AllocateClientBuffer 0x%08X, "
                                "CopyToClientBuffer 0x%08X\n",
                                other_conn ? "another" : "the same",
                                s[other_conn].SameAsCurrent ? "equals" : "differs from",
                                (unsigned)s[other_conn].StaleAllocate, (unsigned)s[other_conn].StaleCopyTo);
        }
        for (int i = 0; i < 2; i++) {
                CHECK_ST(s[i].ForgedAllocate, STATUS_INVALID_PARAMETER);
                CHECK_ST(s[i].StaleAllocate, STATUS_INVALID_PARAMETER);
                CHECK(!s[i].StaleGotBuffer);
                CHECK_ST(s[i].StaleCopyTo, STATUS_INVALID_PARAMETER);
        }
}

static void test_host_stale_client_request_refused(void **state)
{
        (void)state;
        expect_client_ok(child_stale_request, NULL);
}

/* ================= clients that die, clients that misbehave ================= */

static bool log_has_line(const char *line)
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

static void child_dies_mid_call(void *arg, int index)
{
        (void)arg;
        (void)index;
        int ready[2];
        CHECK(pipe2(ready, O_CLOEXEC) == 0);
        pid_t gc = tu_fork();
        CHECK(gc >= 0);
        if (gc == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                HANDLE h = c_untrusted();
                ULONG id = c_lookup(h, TP_NAME_OK);
                CHECK(tu_pipe_send(ready[1]));
                c_msg(h, id, TpSleep, 300, 0, 0, 0);
                _exit(0);
        }
        close(ready[1]);
        CHECK(tu_pipe_recv(ready[0]));
        close(ready[0]);
        /* Kill it once the package is inside the call (and not ask() the
         * host's process meanwhile: it is busy in that call). */
        int64_t end = tu_now_ms() + STEP_MS;
        while (!log_has_line("sleeping " TP_NAME_OK "\n") && tu_now_ms() < end)
                tu_sleep_ms(2);
        CHECK(log_has_line("sleeping " TP_NAME_OK "\n"));
        kill(gc, SIGKILL);
        int status = tu_wait(gc, 20, NULL);
        if (status == -1 || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
                char why[96];
                fprintf(stderr, "child: the client that should have died in its call %s\n",
                        tu_describe_status(status, why, sizeof(why)));
                CHECK(!"client killed in its call");
        }
        ask(Q_PUT, (uint64_t)gc);
        /* The host finished the call, could not answer, let go of it all. */
        CHECK_EQ(ask_until(Q_CONNS, 0, 0), 0);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)gc, 0), 0);
        /* And serves the next client as ever. */
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        struct res r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
        c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
}

static void test_host_client_dies_mid_call(void **state)
{
        (void)state;
        unlink(g_log_path);
        int fds = tu_count_fds();
        uint64_t dropped = g_host->cs.dropped;
        unsigned since = g_nlog;
        expect_client_ok(child_dies_mid_call, NULL);
        assert_int_equal(g_host->cs.n, 0);
        assert_int_equal(report_connections(), 0);
        assert_int_equal(tu_count_fds(), fds);
        /* Its reply could not be sent: dropped, with one line naming it. */
        char pid[32];
        snprintf(pid, sizeof(pid), "pid %d ", (int)g_mailbox);
        assert_int_equal(g_host->cs.dropped, dropped + 1);
        assert_int_equal(log_count_since(since, "dropped client", pid), 1);
}

/* ---- raw clients in this process ---- */

static uint8_t g_pkt[LSA_WIRE_MAX_MESSAGE + 256];

static int raw_connect(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g_sock);
        int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        assert_true(s >= 0);
        assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
        return s;
}

static void raw_send(int s, const void *buf, size_t len, const int *fds, int nfds)
{
        assert_int_equal(tu_send_fds(s, buf, len, fds, nfds, 0), 0);
}

static void raw_send_msg(int s, const struct lsa_wire_message *m)
{
        size_t len = lsa_wire_encode(m, g_pkt);
        assert_true(len > 0);
        raw_send(s, g_pkt, len, NULL, 0);
}

static struct lsa_wire_message raw_connect_msg(uint32_t mode)
{
        struct lsa_wire_message m = { .type = LSA_WIRE_CONNECT };
        m.connect.mode = mode;
        if (mode != LSA_WIRE_MODE_ADMIN) {
                m.connect.reply_base = 0x7f0000000000ull;
                m.connect.reply_size = LSA_WIRE_REPLY_MIN;
        }
        return m;
}

/* The next reply on s, serving the host meanwhile; its fd (or -1) in *fd. */
static struct lsa_wire_message raw_reply(int s, int *fd)
{
        int64_t end = tu_now_ms() + STEP_MS;
        for (;;) {
                int got = -1;
                ssize_t n = fdpass_recv(s, g_pkt, sizeof(g_pkt), &got, true, true);
                if (n > 0) {
                        struct lsa_wire_message m;
                        assert_int_equal(lsa_wire_decode(g_pkt, (size_t)n, 0, &m), 0);
                        if (fd)
                                *fd = got;
                        else if (got >= 0)
                                close(got);
                        return m;
                }
                assert_int_equal(n, -EAGAIN);
                assert_true(tu_now_ms() < end);
                pump(5);
        }
}

static void raw_connect_ok(int s, uint32_t mode)
{
        struct lsa_wire_message m = raw_connect_msg(mode);
        raw_send_msg(s, &m);
        struct lsa_wire_message r = raw_reply(s, NULL);
        assert_int_equal(r.type, LSA_WIRE_CONNECT_REPLY);
        assert_int_equal(r.connect_reply.status, STATUS_SUCCESS);
}

/* Serve the host until it hangs up on s; any packet before that is an
 * error (the host answers nothing to a client it drops). */
static void raw_expect_hangup(int s)
{
        int64_t end = tu_now_ms() + STEP_MS;
        for (;;) {
                int got = -1;
                ssize_t n = fdpass_recv(s, g_pkt, sizeof(g_pkt), &got, true, true);
                if (n == 0 || n == -ECONNRESET)
                        return;
                if (n > 0) {
                        if (got >= 0)
                                close(got);
                        fail_msg("the host answered (%zd bytes) instead of hanging up", n);
                }
                assert_int_equal(n, -EAGAIN);
                if (tu_now_ms() > end)
                        fail_msg("the host did not hang up");
                pump(5);
        }
}

enum malformed {
        BAD_GARBAGE,
        BAD_CALL_BEFORE_CONNECT,
        BAD_LOOKUP_BEFORE_CONNECT,
        BAD_SECOND_CONNECT,
        BAD_TRUNCATED,
        BAD_HEADER_ONLY_PART,
        BAD_LENGTH_TOO_LONG,
        BAD_WRONG_VERSION,
        BAD_FD_ATTACHED,
        BAD_FD_ATTACHED_LATER,
        BAD_TWO_FDS,
        BAD_EMPTY,
        BAD_OVERSIZED,
        BAD_REPLY_TYPE,
        BAD_UNKNOWN_TYPE,
        BAD_UNKNOWN_MODE,
        BAD_RESERVED_NONZERO,
        BAD_REPLY_BASE_ZERO,
        BAD_REPLY_SIZE_SMALL,
        BAD_LOOKUP_EMPTY_NAME,
        BAD_CALL_LENGTH_MISMATCH,
        BAD_UNTRUSTED_STATUS,
        BAD_ADMIN_CALL,
        BAD_UNTRUSTED_NAME, /* only a logon process has a name */
        BAD_ADMIN_NAME,
        BAD_COUNT
};

static void send_malformed(int s, enum malformed which)
{
        struct lsa_wire_message m;
        size_t len;
        int pipefd[2];
        switch (which) {
        case BAD_GARBAGE: {
                struct tu_rng rng = { 0x9E3779B97F4A7C15ull };
                tu_rng_fill(&rng, g_pkt, 40);
                raw_send(s, g_pkt, 40, NULL, 0);
                return;
        }
        case BAD_CALL_BEFORE_CONNECT:
                m = (struct lsa_wire_message){ .type = LSA_WIRE_CALL };
                m.call.package = 0;
                raw_send_msg(s, &m);
                return;
        case BAD_LOOKUP_BEFORE_CONNECT:
                m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP };
                m.lookup.name_len = 7;
                memcpy(m.lookup.name, TP_NAME_OK, 7);
                raw_send_msg(s, &m);
                return;
        case BAD_SECOND_CONNECT:
                raw_connect_ok(s, LSA_WIRE_MODE_UNTRUSTED);
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                raw_send_msg(s, &m);
                return;
        case BAD_TRUNCATED:
                raw_connect_ok(s, LSA_WIRE_MODE_UNTRUSTED);
                m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP };
                m.lookup.name_len = 7;
                memcpy(m.lookup.name, TP_NAME_OK, 7);
                len = lsa_wire_encode(&m, g_pkt);
                raw_send(s, g_pkt, len - 3, NULL, 0);
                return;
        case BAD_HEADER_ONLY_PART:
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                lsa_wire_encode(&m, g_pkt);
                raw_send(s, g_pkt, 4, NULL, 0);
                return;
        case BAD_LENGTH_TOO_LONG:
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                len = lsa_wire_encode(&m, g_pkt);
                g_pkt[4] = (uint8_t)(len + 1);
                raw_send(s, g_pkt, len, NULL, 0);
                return;
        case BAD_WRONG_VERSION:
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                len = lsa_wire_encode(&m, g_pkt);
                g_pkt[0] = 2;
                raw_send(s, g_pkt, len, NULL, 0);
                return;
        case BAD_FD_ATTACHED:
        case BAD_TWO_FDS:
        case BAD_FD_ATTACHED_LATER:
                if (which == BAD_FD_ATTACHED_LATER)
                        raw_connect_ok(s, LSA_WIRE_MODE_UNTRUSTED);
                assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
                if (which == BAD_FD_ATTACHED_LATER) {
                        m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP };
                        m.lookup.name_len = 7;
                        memcpy(m.lookup.name, TP_NAME_OK, 7);
                } else {
                        m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                }
                len = lsa_wire_encode(&m, g_pkt);
                raw_send(s, g_pkt, len, pipefd, which == BAD_TWO_FDS ? 2 : 1);
                close(pipefd[0]);
                close(pipefd[1]);
                return;
        case BAD_EMPTY:
                raw_send(s, g_pkt, 0, NULL, 0);
                return;
        case BAD_OVERSIZED:
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                lsa_wire_encode(&m, g_pkt);
                raw_send(s, g_pkt, LSA_WIRE_MAX_MESSAGE + 100, NULL, 0);
                return;
        case BAD_REPLY_TYPE:
                m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP_REPLY };
                raw_send_msg(s, &m);
                return;
        case BAD_UNKNOWN_TYPE:
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                len = lsa_wire_encode(&m, g_pkt);
                g_pkt[2] = 99;
                raw_send(s, g_pkt, len, NULL, 0);
                return;
        case BAD_UNKNOWN_MODE:
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                m.connect.mode = 3;
                len = lsa_wire_encode(&m, g_pkt);
                raw_send(s, g_pkt, len, NULL, 0);
                return;
        case BAD_RESERVED_NONZERO:
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                len = lsa_wire_encode(&m, g_pkt);
                g_pkt[LSA_WIRE_HEADER_SIZE + 4] = 1;
                raw_send(s, g_pkt, len, NULL, 0);
                return;
        case BAD_REPLY_BASE_ZERO:
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                m.connect.reply_base = 0;
                raw_send_msg(s, &m);
                return;
        case BAD_REPLY_SIZE_SMALL:
                m = raw_connect_msg(LSA_WIRE_MODE_UNTRUSTED);
                m.connect.reply_size = LSA_WIRE_REPLY_MIN - LSA_WIRE_REPLY_ALIGN;
                raw_send_msg(s, &m);
                return;
        case BAD_LOOKUP_EMPTY_NAME:
                raw_connect_ok(s, LSA_WIRE_MODE_UNTRUSTED);
                m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP };
                m.lookup.name_len = 0;
                raw_send_msg(s, &m);
                return;
        case BAD_CALL_LENGTH_MISMATCH: {
                raw_connect_ok(s, LSA_WIRE_MODE_UNTRUSTED);
                TP_REQUEST req = tp_req(TpEcho, 0, 0, 0, 0);
                m = (struct lsa_wire_message){ .type = LSA_WIRE_CALL };
                m.call.submit_base = 0x1000;
                m.call.length = sizeof(req);
                m.call.data = (const uint8_t *)&req;
                len = lsa_wire_encode(&m, g_pkt);
                /* The length field says 4 bytes more than follow. */
                g_pkt[LSA_WIRE_HEADER_SIZE + 16] = (uint8_t)(sizeof(req) + 4);
                raw_send(s, g_pkt, len, NULL, 0);
                return;
        }
        case BAD_UNTRUSTED_STATUS:
                raw_connect_ok(s, LSA_WIRE_MODE_UNTRUSTED);
                m = (struct lsa_wire_message){ .type = LSA_WIRE_STATUS };
                raw_send_msg(s, &m);
                return;
        case BAD_ADMIN_CALL:
                raw_connect_ok(s, LSA_WIRE_MODE_ADMIN);
                m = (struct lsa_wire_message){ .type = LSA_WIRE_CALL };
                raw_send_msg(s, &m);
                return;
        case BAD_UNTRUSTED_NAME:
        case BAD_ADMIN_NAME:
                m = raw_connect_msg(which == BAD_ADMIN_NAME ? LSA_WIRE_MODE_ADMIN : LSA_WIRE_MODE_UNTRUSTED);
                m.connect.name_len = 4;
                memcpy(m.connect.name, "\xc2\x9b" "2J", 4);
                raw_send_msg(s, &m);
                return;
        case BAD_COUNT:
                break;
        }
        fail();
}

static void child_echo(void *arg, int index)
{
        (void)arg;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        for (int i = 0; i < 20; i++) {
                struct {
                        TP_REQUEST m;
                        UCHAR data[512];
                } e;
                ULONG n = (ULONG)sizeof(e.m) + (ULONG)((i * 37 + index * 11) % 512);
                e.m = tp_req(TpEcho, (ULONG)index, (ULONG)i, 0, 0);
                memset(e.data, index + i, sizeof(e.data));
                struct res r = c_call(h, id, &e, n);
                c_expect_buffer(r, n);
                CHECK_EQ(r.len, n);
                CHECK(memcmp(r.buf, &e, n) == 0);
                c_free(r.buf);
        }
}

/* Lines about clients are what a hostile client causes at will: a burst of
 * drops logs at most a burst of lines, and the next line says how many
 * were left out. */
static void test_host_client_log_rate_limited(void **state)
{
        (void)state;
        unsigned since = g_nlog;
        g_host->cs.log_tokens = 20;
        g_host->cs.log_second = (uint64_t)(tu_now_ms() / 1000);
        for (int i = 0; i < 60; i++) {
                int s = raw_connect();
                send_malformed(s, BAD_GARBAGE);
                raw_expect_hangup(s);
                close(s);
        }
        unsigned lines = log_count_since(since, "dropped client", NULL);
        if (lines < 20 || lines > 22)
                fail_msg("60 drops in a burst logged %u lines, expected about 20", lines);
        /* A second later, lines flow again, led by the count left out. */
        tu_sleep_ms(1100);
        since = g_nlog;
        int s = raw_connect();
        send_malformed(s, BAD_GARBAGE);
        raw_expect_hangup(s);
        close(s);
        assert_int_equal(log_count_since(since, "lines about clients left out", NULL), 1);
        assert_int_equal(log_count_since(since, "dropped client", NULL), 1);
}

/* A connection that never sends CONNECT is dropped after the deadline, and
 * a good one that did is not. raw_expect_hangup keeps dispatching, which
 * is when the deadline is looked at. */
static void test_host_silent_connection_dropped(void **state)
{
        (void)state;
        g_host->cs.cfg.handshake_ms = 200;
        int good = raw_connect();
        raw_connect_ok(good, LSA_WIRE_MODE_UNTRUSTED);
        unsigned since = g_nlog;
        int64_t start = tu_now_ms();
        int silent = raw_connect();
        pump(5);
        assert_int_equal(g_host->cs.n, 2);
        /* Nothing arrives for the host: dispatch on a timer, as host_run does. */
        char b;
        ssize_t n;
        while ((n = recv(silent, &b, 1, MSG_DONTWAIT)) < 0 && errno == EAGAIN && tu_now_ms() - start < 3000) {
                host_dispatch(g_host);
                tu_sleep_ms(10);
        }
        assert_int_equal(n, 0);
        assert_true(tu_now_ms() - start >= 200);
        close(silent);
        assert_int_equal(log_count_since(since, "sent no CONNECT in time", NULL), 1);
        assert_int_equal(g_host->cs.n, 1);
        assert_int_equal(g_host->cs.n_unhandshaken, 0);
        close(good);
        pump_idle(5);
        assert_int_equal(g_host->cs.n, 0);
}

static void test_host_malformed_clients_dropped(void **state)
{
        (void)state;
        /* A well-behaved client connected all along. */
        int good = raw_connect();
        raw_connect_ok(good, LSA_WIRE_MODE_UNTRUSTED);
        for (int which = 0; which < BAD_COUNT; which++) {
                int fds = tu_count_fds();
                uint64_t dropped = g_host->cs.dropped;
                unsigned since = g_nlog;
                /* Each case's own line (the rate limit has its own test). */
                g_host->cs.log_tokens = 1;
                int s = raw_connect();
                send_malformed(s, (enum malformed)which);
                raw_expect_hangup(s);
                close(s);
                pump_idle(5);
                if (g_host->cs.dropped != dropped + 1 || log_count_since(since, "dropped client", NULL) != 1) {
                        log_dump_since(since);
                        fail_msg("case %d: dropped %" PRIu64 " clients, expected 1", which,
                                 g_host->cs.dropped - dropped);
                }
                assert_int_equal(g_host->cs.n, 1);
                if (tu_count_fds() != fds)
                        fail_msg("case %d: %d descriptors before, %d after", which, fds, tu_count_fds());
                /* The good client is still served. */
                struct lsa_wire_message m = { .type = LSA_WIRE_LOOKUP };
                m.lookup.name_len = 7;
                memcpy(m.lookup.name, TP_NAME_OK, 7);
                raw_send_msg(good, &m);
                struct lsa_wire_message r = raw_reply(good, NULL);
                assert_int_equal(r.type, LSA_WIRE_LOOKUP_REPLY);
                assert_int_equal(r.lookup_reply.status, STATUS_SUCCESS);
        }
        close(good);
        pump_idle(5);
        /* And so is a new one. */
        expect_client_ok(child_echo, NULL);
}

/* A client that sends requests and never reads the replies: once its
 * queue is full the host drops it rather than wait. */
static void test_host_client_not_reading_dropped(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        uint64_t dropped = g_host->cs.dropped;
        unsigned since = g_nlog;
        int s = raw_connect();
        raw_connect_ok(s, LSA_WIRE_MODE_UNTRUSTED);
        struct lsa_wire_message m = { .type = LSA_WIRE_LOOKUP };
        m.lookup.name_len = 7;
        memcpy(m.lookup.name, TP_NAME_OK, 7);
        size_t len = lsa_wire_encode(&m, g_pkt);
        int64_t end = tu_now_ms() + STEP_MS;
        unsigned sent = 0;
        while (g_host->cs.dropped == dropped) {
                ssize_t n = send(s, g_pkt, len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n == (ssize_t)len)
                        sent++;
                else if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
                        break;
                else
                        assert_true(n < 0 && errno == EAGAIN);
                pump(0);
                if (tu_now_ms() > end)
                        fail_msg("never dropped after %u requests", sent);
        }
        pump_idle(5);
        assert_int_equal(g_host->cs.dropped, dropped + 1);
        assert_int_equal(log_count_since(since, "not reading its replies", NULL), 1);
        assert_int_equal(g_host->cs.n, 0);
        /* What it was sent is still there, then the end. */
        for (;;) {
                int got = -1;
                ssize_t n = fdpass_recv(s, g_pkt, sizeof(g_pkt), &got, false, false);
                if (n <= 0)
                        break;
        }
        close(s);
        assert_int_equal(tu_count_fds(), fds);
        expect_client_ok(child_echo, NULL);
}

static void test_host_many_clients_at_once(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        expect_clients_ok(child_echo, NULL, 8, NULL);
        assert_int_equal(g_host->cs.n, 0);
        assert_int_equal(tu_count_fds(), fds);
}

/* ================= limits ================= */

static void test_host_connection_limits(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        g_host->cs.cfg.per_uid = 3;
        int s[3];
        for (int i = 0; i < 3; i++) {
                s[i] = raw_connect();
                raw_connect_ok(s[i], LSA_WIRE_MODE_UNTRUSTED);
        }
        assert_int_equal(g_host->cs.n, 3);
        /* The fourth of this uid is refused at accept, with a log line. */
        unsigned since = g_nlog;
        int extra = raw_connect();
        raw_expect_hangup(extra);
        close(extra);
        assert_int_equal(log_count_since(since, "too many connections", NULL), 1);
        assert_int_equal(g_host->cs.n, 3);
        /* Another uid is not counted against this one. */
        expect_clients_ok(child_echo, NULL, 1, &nobody);
        /* One closes: room for one more. */
        close(s[0]);
        pump_idle(5);
        assert_int_equal(g_host->cs.n, 2);
        s[0] = raw_connect();
        raw_connect_ok(s[0], LSA_WIRE_MODE_UNTRUSTED);
        /* The limit for everyone. */
        g_host->cs.cfg.per_uid = 64;
        g_host->cs.cfg.total = 3;
        since = g_nlog;
        extra = raw_connect();
        raw_expect_hangup(extra);
        close(extra);
        assert_int_equal(log_count_since(since, "too many connections", NULL), 1);
        for (int i = 0; i < 3; i++)
                close(s[i]);
        pump_idle(5);
        g_host->cs.cfg.total = 1024;
        assert_int_equal(g_host->cs.n, 0);
        assert_int_equal(tu_count_fds(), fds);
        expect_client_ok(child_echo, NULL);
}

/* ================= the status report ================= */

static char *raw_status(int s, uint32_t format)
{
        struct lsa_wire_message m = { .type = LSA_WIRE_STATUS };
        m.status.format = format;
        raw_send_msg(s, &m);
        int fd = -1;
        struct lsa_wire_message r = raw_reply(s, &fd);
        assert_int_equal(r.type, LSA_WIRE_STATUS_REPLY);
        assert_int_equal(r.status_reply.status, STATUS_SUCCESS);
        assert_true(fd >= 0);
        /* Sealed: the admin client cannot be handed a report that changes. */
        int seals = fcntl(fd, F_GET_SEALS);
        assert_true(seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SHRINK));
        char *text = calloc(1, (size_t)r.status_reply.length + 1);
        assert_non_null(text);
        assert_int_equal(pread(fd, text, (size_t)r.status_reply.length, 0), (ssize_t)r.status_reply.length);
        close(fd);
        return text;
}

static void child_admin_refused(void *arg, int index)
{
        (void)index;
        NTSTATUS want = arg ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g_sock);
        int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        CHECK(s >= 0);
        CHECK(connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        struct lsa_wire_message m = { .type = LSA_WIRE_CONNECT }, r;
        m.connect.mode = LSA_WIRE_MODE_ADMIN;
        size_t len = lsa_wire_encode(&m, g_pkt);
        CHECK(fdpass_send(s, g_pkt, len, -1, false) == 0);
        int fd = -1;
        ssize_t n = fdpass_recv(s, g_pkt, sizeof(g_pkt), &fd, false, false);
        CHECK(n > 0);
        CHECK(lsa_wire_decode(g_pkt, (size_t)n, 0, &r) == 0);
        CHECK_EQ(r.type, LSA_WIRE_CONNECT_REPLY);
        CHECK_ST(r.connect_reply.status, want);
        if (want != STATUS_SUCCESS) {
                /* Then the host hangs up. */
                n = fdpass_recv(s, g_pkt, sizeof(g_pkt), &fd, false, false);
                CHECK(n == 0 || n == -ECONNRESET);
        } else {
                m = (struct lsa_wire_message){ .type = LSA_WIRE_STATUS };
                len = lsa_wire_encode(&m, g_pkt);
                CHECK(fdpass_send(s, g_pkt, len, -1, false) == 0);
                n = fdpass_recv(s, g_pkt, sizeof(g_pkt), &fd, true, false);
                CHECK(n > 0 && lsa_wire_decode(g_pkt, (size_t)n, 0, &r) == 0);
                CHECK_ST(r.status_reply.status, STATUS_SUCCESS);
                CHECK(fd >= 0);
                close(fd);
        }
        close(s);
}

/* A logon process names itself with quotes, a newline, a control
 * character and brackets: the reports show it escaped, never raw. */
static void child_odd_name(void *arg, int index)
{
        (void)arg;
        (void)index;
        CHAR name[] = ODD_NAME;
        LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
        LSA_OPERATIONAL_MODE mode;
        HANDLE h;
        CHECK_ST(LsaRegisterLogonProcess(&s, &h, &mode), STATUS_SUCCESS);
        CHECK_EQ(ask(Q_REPORT_CHECK, 0), 1);
}

static void test_host_status_report(void **state)
{
        (void)state;
        expect_client_ok(child_odd_name, NULL);
        int s = raw_connect();
        raw_connect_ok(s, LSA_WIRE_MODE_ADMIN);
        char *text = raw_status(s, LSA_WIRE_STATUS_TEXT);
        assert_non_null(strstr(text, "Packages: 4"));
        assert_non_null(strstr(text, TP_NAME_OK));
        assert_non_null(strstr(text, TP_NAME_PEER));
        assert_non_null(strstr(text, "admin"));
        free(text);
        char *json = raw_status(s, LSA_WIRE_STATUS_JSON);
        assert_true(json[0] == '{');
        assert_true(json_balanced(json));
        assert_non_null(strstr(json, "\"packages\":["));
        assert_non_null(strstr(json, "\"name\":\"" TP_NAME_OK "\""));
        assert_non_null(strstr(json, "\"sections\":["));
        assert_non_null(strstr(json, "\"connections\":["));
        assert_non_null(strstr(json, "\"totals\":{"));
        free(json);
        close(s);
        pump_idle(5);
        /* Not for nobody, unless in the admin group. */
        unsigned since = g_nlog;
        expect_clients_ok(child_admin_refused, NULL, 1, &nobody);
        assert_int_equal(log_count_since(since, "refused admin connection", NULL), 1);
        g_host->cfg.admin_gid = ADMIN_GID;
        struct creds admin = { .uid = NOBODY, .gid = NOBODY, .ngroups = 1, .groups = { ADMIN_GID } };
        expect_clients_ok(child_admin_refused, (void *)1, 1, &admin);
}

/* ================= the same library offered twice ================= */

static void child_still_initialized_once(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG id = c_lookup(h, TP_NAME_OK);
        struct res r = c_msg(h, id, TpInfo, 0, 0, 0, 0);
        TP_INFO_REPLY info;
        memcpy(&info, c_expect_buffer(r, sizeof(info)), sizeof(info));
        c_free(r.buf);
        if (info.SpInitializeCalls != 1)
                fprintf(stderr, "child: the live package saw SpLsaModeInitialize %u times, InitializePackage %u, "
                                "SpInitialize %u; its shared section id is now %llx\n",
                        (unsigned)info.LsaModeInitCalls, (unsigned)info.InitializePackageCalls,
                        (unsigned)info.SpInitializeCalls, (unsigned long long)info.SharedId);
        CHECK_EQ(info.LsaModeInitCalls, 1);
        CHECK_EQ(info.InitializePackageCalls, 1);
        CHECK_EQ(info.SpInitializeCalls, 1);
        /* Its sections are the ones it made, alive and intact. */
        TP_SECTION_REPLY sr = c_section(h, id, TpShareSection);
        PVOID view;
        ULONG size;
        CHECK_ST(LsashmMapSection(h, sr.SectionId, &view, &size), STATUS_SUCCESS);
        check_pattern(view, size, &sr);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
}

/*
 * host_load_package() of a library already loaded (one package listed
 * twice) is refused before any call into the library. Found as a bug: the
 * second load ran SpLsaModeInitialize, InitializePackage and SpInitialize on
 * the live package again, then Shutdown when the name turned out to be
 * taken, and deleted the sections the second SpInitialize had made, which
 * the live package then held. Run last but one: if it comes back, the live
 * package is left broken.
 */
static void test_host_same_library_twice_refused(void **state)
{
        (void)state;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", TEST_PACKAGE_DIR, "test-pkg-ok.so");
        unlink(g_log_path);
        unsigned before = host_package_count(g_host);
        assert_true(host_load_package(g_host, path) < 0);
        assert_int_equal(host_package_count(g_host), before);
        bool shut_down = log_has_line("shutdown " TP_NAME_OK "\n");
        expect_client_ok(child_still_initialized_once, NULL);
        assert_false(shut_down);
}

/* ================= the end: everything goes with the host ================= */

static void test_host_destroy_releases_everything(void **state)
{
        (void)state;
        /* Sections of every package, and one made during a call and mapped
         * by nobody now, are recorded by their host addresses. */
        struct host *h = g_host;
        void *bases[HOST_MAX_SECTIONS];
        unsigned n = 0;
        pthread_mutex_lock(&h->sections_lock);
        for (struct host_section *s = h->sections; s && n < HOST_MAX_SECTIONS; s = s->next)
                bases[n++] = s->base;
        pthread_mutex_unlock(&h->sections_lock);
        assert_true(n >= 8); /* two per package, and those tests left behind */
        struct lsashm_section_stats st;
        for (unsigned i = 0; i < n; i++)
                assert_int_equal(lsashm_shared_memory_stats(bases[i], &st), 0);
        unlink(g_log_path);

        host_destroy(g_host);
        g_host = NULL;
        for (unsigned i = 0; i < n; i++)
                if (lsashm_shared_memory_stats(bases[i], &st) >= 0)
                        fail_msg("section %u of %u (%p) outlived the host", i, n, bases[i]);
        /* Every package was shut down, once. */
        const char *lines[] = { "shutdown " TP_NAME_OK "\n", "shutdown " TP_NAME_PEER "\n",
                                "shutdown " TP_NAME_NO_UNTRUSTED "\n", "shutdown " TP_NAME_V1 "\n" };
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
                if (!log_has_line(lines[i]))
                        fail_msg("no \"%.*s\" from the packages", (int)strlen(lines[i]) - 1, lines[i]);
        /* The socket is gone, and every descriptor the host had. */
        struct stat sb;
        assert_int_equal(lstat(g_sock, &sb), -1);
        assert_int_equal(tu_count_fds(), g_fds_before_host);
        /* A new host may be made once the old one is gone. */
        struct host_config cfg = { .socket_path = g_sock, .listen_fd = -1, .log = log_capture };
        assert_int_equal(host_create(&cfg, &g_host), 0);
        host_destroy(g_host);
        g_host = NULL;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_host_load_package_variants, setup),
                cmocka_unit_test_setup(test_host_packages_initialized_once, setup),
                cmocka_unit_test_setup(test_host_v1_package_table_not_overread, setup),
                cmocka_unit_test_setup(test_host_lookup_names, setup),
                cmocka_unit_test_setup(test_host_trusted_and_untrusted_routing, setup),
                cmocka_unit_test_setup(test_host_logon_process_refused_for_nobody, setup),
                cmocka_unit_test_setup(test_host_logon_group_allowed, setup),
                cmocka_unit_test_setup(test_host_two_level_status, setup),
                cmocka_unit_test_setup(test_host_return_buffers_embedded_pointers_and_groups, setup),
                cmocka_unit_test_setup(test_host_client_buffers_released, setup),
                cmocka_unit_test_setup(test_host_package_garbage_return_refused, setup),
                cmocka_unit_test_setup(test_host_copy_to_client_checked, setup),
                cmocka_unit_test_setup(test_host_copy_from_client_checked, setup),
                cmocka_unit_test_setup(test_host_section_creator_maps_read_write, setup),
                cmocka_unit_test_setup(test_host_section_shared_read_only, setup),
                cmocka_unit_test_setup(test_host_section_private_and_unknown, setup),
                cmocka_unit_test_setup(test_host_section_delete, setup),
                cmocka_unit_test_setup(test_host_section_stale_id_refused, setup),
                cmocka_unit_test_setup(test_host_section_map_limit, setup),
                cmocka_unit_test_setup(test_host_package_to_package_calls, setup),
                cmocka_unit_test_setup(test_host_protect_memory_and_logon_sessions, setup),
                cmocka_unit_test_setup(test_host_stale_client_request_refused, setup),
                cmocka_unit_test_setup(test_host_client_dies_mid_call, setup),
                cmocka_unit_test_setup(test_host_malformed_clients_dropped, setup),
                cmocka_unit_test_setup(test_host_client_log_rate_limited, setup),
                cmocka_unit_test_setup(test_host_silent_connection_dropped, setup),
                cmocka_unit_test_setup(test_host_client_not_reading_dropped, setup),
                cmocka_unit_test_setup(test_host_many_clients_at_once, setup),
                cmocka_unit_test_setup(test_host_connection_limits, setup),
                cmocka_unit_test_setup(test_host_status_report, setup),
                cmocka_unit_test_setup(test_host_same_library_twice_refused, setup),
                cmocka_unit_test_setup(test_host_destroy_releases_everything, setup),
        };
        if (geteuid() != 0) {
                /* Logon processes, the admin report and the uid tests need
                 * root; without it the host cannot be tested as deployed. */
                printf("test-host: skipped: needs root (setresuid to nobody, logon processes)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
