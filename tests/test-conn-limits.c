/* SPDX-License-Identifier: MIT */
/*
 * The connection skeleton both servers share (src/share/conn.c), driven
 * through each server with real processes under other uids:
 *   - a crowd of unprivileged uids, each up to its own limit, cannot take the
 *     slots kept for root and the privileged groups; when even those are
 *     full, an unprivileged peer that has not said its first message gives
 *     way to a privileged one;
 *   - a connection that never says HELLO is dropped at the deadline, and
 *     the server's descriptor wakes for it;
 *   - the lines a client can cause are rate-limited, with a count of those
 *     left out.
 * Needs root (other uids); exits 77 without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host-internal.h"
#include "lsashm/ntsecapi.h"
#include "lsashm/share.h"
#include "share/wire.h"
#include "test-util.h"

#define CROWD_UID 41000u      /* the crowd's uids: CROWD_UID, CROWD_UID + 1, ... */
#define OUTSIDER_UID 41800u   /* one more unprivileged uid */
#define PRIV_GID 41900u       /* the privileged group */
#define MEMBER_UID 41950u     /* a member of it (primary group) */
#define PER_UID 64            /* both servers' default per-uid limit */
#define RESERVED 32u          /* both servers' default reserved slots */
#define WAIT_MS 120000        /* generous: the machine may be loaded */

static char g_dir[48], g_sock[96];
static struct host *g_host;
static lsashm_server_t *g_srv;

/* ---- the log ---- */

#define LOG_KEEP 4096
static struct {
        char lines[LOG_KEEP][200];
        unsigned n;
} logbook;

static void capture(void *ctx, const char *line)
{
        (void)ctx;
        if (logbook.n < LOG_KEEP)
                snprintf(logbook.lines[logbook.n], sizeof(logbook.lines[0]), "%s", line);
        logbook.n++;
}

static unsigned log_count(unsigned from, const char *needle)
{
        unsigned n = 0;
        for (unsigned i = from; i < logbook.n && i < LOG_KEEP; i++)
                n += strstr(logbook.lines[i], needle) != NULL;
        return n;
}

static const char *log_find(unsigned from, const char *needle)
{
        for (unsigned i = from; i < logbook.n && i < LOG_KEEP; i++)
                if (strstr(logbook.lines[i], needle))
                        return logbook.lines[i];
        return NULL;
}

/* ---- serving whichever server this test runs ---- */

static int server_fd(void)
{
        return g_host ? host_fd(g_host) : lsashm_server_fd(g_srv);
}

/* Wait up to ms for the server's descriptor, then serve what is ready. */
static void pump(int ms)
{
        struct pollfd p = { .fd = server_fd(), .events = POLLIN };
        (void)poll(&p, 1, ms);
        if (g_host)
                host_dispatch(g_host);
        else
                lsashm_server_dispatch(g_srv);
}

static uint64_t open_now(void)
{
        if (g_host)
                return g_host->cs.n;
        struct lsashm_server_stats st;
        lsashm_server_stats(g_srv, &st);
        return st.connections;
}

static uint64_t refused_so_far(void)
{
        if (g_host)
                return g_host->cs.refused;
        struct lsashm_server_stats st;
        lsashm_server_stats(g_srv, &st);
        return st.refused;
}

static uint64_t dropped_so_far(void)
{
        if (g_host)
                return g_host->cs.dropped;
        struct lsashm_server_stats st;
        lsashm_server_stats(g_srv, &st);
        return st.dropped;
}

static void pump_until_settled(uint64_t seen)
{
        int64_t end = tu_now_ms() + WAIT_MS;
        while (open_now() + refused_so_far() < seen) {
                if (tu_now_ms() > end)
                        fail_msg("the server saw %llu connections of %llu",
                                 (unsigned long long)(open_now() + refused_so_far()), (unsigned long long)seen);
                pump(10);
        }
        pump(0);
}

/* ---- processes ---- */

static void become(uid_t uid, gid_t gid)
{
        tu_become(&(struct tu_creds){ .uid = uid, .gid = gid });
}

static int connect_with(int flags)
{
        return tu_seqpacket_connect(g_sock, flags);
}

static int raw_connect(void)
{
        return connect_with(0);
}

/* The server's own process must never block in connect: it is the one
 * that would accept. -1 while the backlog is full. */
static int raw_connect_nb(void)
{
        int s = connect_with(SOCK_NONBLOCK);
        if (s >= 0)
                fcntl(s, F_SETFL, 0);
        return s;
}

/* Serve until the server has n connections open. */
static void settle_open(uint64_t n)
{
        int64_t end = tu_now_ms() + WAIT_MS;
        while (open_now() != n) {
                if (tu_now_ms() > end)
                        fail_msg("%llu connections open, expected %llu", (unsigned long long)open_now(),
                                 (unsigned long long)n);
                pump(10);
        }
}

/* Run fn in a child as uid/gid while this process serves; its exit status. */
static int run_as(uid_t uid, gid_t gid, int (*fn)(void))
{
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                become(uid, gid);
                _exit(fn());
        }
        int status = 0;
        int64_t end = tu_now_ms() + WAIT_MS;
        while (waitpid(pid, &status, WNOHANG) != pid) {
                if (tu_now_ms() > end) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        fail_msg("client uid %u did not finish", (unsigned)uid);
                }
                pump(5);
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* n uids, each holding per_uid idle connections (never a first message)
 * until crowd_end. */
struct crowd {
        pid_t pids[128];
        int n;
        int go; /* closing it lets them go */
};

static struct crowd *g_crowd; /* killed by teardown if a test fails */

static void crowd_start(struct crowd *c, int n, int per_uid)
{
        int ready[2], go[2];
        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        c->n = 0;
        g_crowd = c;
        for (int i = 0; i < n; i++) {
                pid_t pid = tu_fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        close(ready[0]);
                        close(go[1]);
                        become(CROWD_UID + (uid_t)i, CROWD_UID + (gid_t)i);
                        for (int k = 0; k < per_uid; k++)
                                CHILD_CHECK(raw_connect() >= 0);
                        CHILD_CHECK(write(ready[1], "r", 1) == 1);
                        char b;
                        (void)!read(go[0], &b, 1); /* EOF: the test is over */
                        _exit(0);
                }
                c->pids[c->n++] = pid;
        }
        close(ready[1]);
        close(go[0]);
        c->go = go[1];
        /* Their connects block while the backlog is full: serve meanwhile. */
        fcntl(ready[0], F_SETFL, O_NONBLOCK);
        int done = 0;
        int64_t end = tu_now_ms() + WAIT_MS;
        while (done < n) {
                char b[128];
                ssize_t got = read(ready[0], b, sizeof(b));
                if (got > 0)
                        done += (int)got;
                if (tu_now_ms() > end)
                        fail_msg("%d of %d crowd members connected", done, n);
                pump(5);
        }
        close(ready[0]);
}

static void crowd_end(struct crowd *c)
{
        g_crowd = NULL;
        close(c->go);
        for (int i = 0; i < c->n; i++) {
                int st = tu_wait(c->pids[i], 60, NULL);
                assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
        (void)state;
        if (geteuid() != 0) {
                print_message("needs root (other uids)\n");
                exit(77);
        }
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-test-conn-XXXXXX");
        if (!mkdtemp(g_dir))
                return -1;
        chmod(g_dir, 0755); /* the crowd must reach the socket */
        snprintf(g_sock, sizeof(g_sock), "%s/s.sock", g_dir);
        setenv("LSASHM_SOCKET", g_sock, 1);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        rmdir(g_dir);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        if (g_crowd) {
                for (int i = 0; i < g_crowd->n; i++) {
                        kill(g_crowd->pids[i], SIGKILL);
                        waitpid(g_crowd->pids[i], NULL, 0);
                }
                close(g_crowd->go);
                g_crowd = NULL;
        }
        host_destroy(g_host);
        g_host = NULL;
        lsashm_server_destroy(g_srv);
        g_srv = NULL;
        return 0;
}

static void host_up(uint32_t connect_timeout_ms)
{
        struct host_config cfg = {
                .socket_path = g_sock,
                .listen_fd = -1,
                .socket_mode = 0666,
                .logon_gid = PRIV_GID,
                .admin_gid = (gid_t)-1,
                .connect_timeout_ms = connect_timeout_ms,
                .log = capture,
        };
        logbook.n = 0;
        assert_int_equal(host_create(&cfg, &g_host), 0);
}

static lsashm_section_t *g_section;

static void share_up(uint32_t hello_timeout_ms, uint32_t log_burst)
{
        static const uint32_t privileged[] = { PRIV_GID };
        static const struct lsashm_rule anyone = { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ };
        struct lsashm_server_config cfg = {
                .path = g_sock,
                .mode = 0666,
                .listen_fd = -1,
                .log = capture,
                .hello_timeout_ms = hello_timeout_ms,
                .privileged_gids = privileged,
                .n_privileged_gids = 1,
                .client_log_burst = log_burst,
        };
        logbook.n = 0;
        assert_int_equal(lsashm_server_create(&cfg, &g_srv), 0);
        if (!g_section) {
                struct lsashm_section_config sc = { .max_size = 64 * 1024, .initial_size = 64 * 1024 };
                assert_int_equal(lsashm_section_create(&sc, &g_section), 0);
                void *p;
                assert_int_equal(lsashm_section_alloc(g_section, 64, &p), 0);
        }
        assert_int_equal(lsashm_server_publish(g_srv, "pub", g_section, &(struct lsashm_policy){ &anyone, 1 }), 0);
}

/* ---- what the clients do ---- */

static int logon_process(void)
{
        CHAR name[] = "conn-limits";
        LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
        LSA_OPERATIONAL_MODE mode = 0;
        HANDLE h = NULL;
        NTSTATUS st = LsaRegisterLogonProcess(&s, &h, &mode);
        if (st != STATUS_SUCCESS) {
                fprintf(stderr, "uid %u: LsaRegisterLogonProcess: 0x%08x\n", (unsigned)getuid(), (unsigned)st);
                return 1;
        }
        LsaDeregisterLogonProcess(h);
        return 0;
}

static int untrusted_refused(void)
{
        HANDLE h = NULL;
        NTSTATUS st = LsaConnectUntrusted(&h);
        if (st == STATUS_SUCCESS) {
                LsaDeregisterLogonProcess(h);
                return 1;
        }
        return 0;
}

static int share_open(void)
{
        lsashm_client_t *c = NULL;
        lsashm_view_t *v = NULL;
        int r = lsashm_client_connect(g_sock, &c);
        if (r == 0)
                r = lsashm_client_open(c, "pub", &v);
        if (r < 0)
                fprintf(stderr, "uid %u: connect/open: %s\n", (unsigned)getuid(), strerror(-r));
        lsashm_view_close(v);
        lsashm_client_close(c);
        return r < 0;
}

static int share_refused(void)
{
        lsashm_client_t *c = NULL;
        int r = lsashm_client_connect(g_sock, &c);
        lsashm_client_close(c);
        return r == 0;
}

/* ---- reserved slots ---- */

/*
 * The crowd takes every slot open to all: total - reserved. Then root and a
 * group member still get in, an outsider does not; root's own idle
 * connections fill the reserved slots, and a privileged client still gets in
 * by taking the slot of an unprivileged one that never said its first
 * message.
 */
static void reserved_slots(uint32_t total, int uids, int (*privileged_fn)(void), int (*outsider_fn)(void))
{
        struct crowd crowd;
        crowd_start(&crowd, uids, PER_UID);
        pump_until_settled((uint64_t)uids * PER_UID);
        assert_int_equal(open_now(), total - RESERVED);
        assert_int_equal(refused_so_far(), (uint64_t)uids * PER_UID - (total - RESERVED));

        assert_int_equal(run_as(0, 0, privileged_fn), 0);
        assert_int_equal(run_as(MEMBER_UID, PRIV_GID, privileged_fn), 0);
        assert_int_equal(run_as(OUTSIDER_UID, OUTSIDER_UID, outsider_fn), 0);
        settle_open(total - RESERVED);

        int mine[RESERVED];
        for (unsigned i = 0; i < RESERVED; i++) {
                while ((mine[i] = raw_connect_nb()) < 0)
                        pump(5);
        }
        settle_open(total);
        tu_sleep_ms(1100); /* the crowd's refusals used up the log's burst */
        uint64_t dropped = dropped_so_far();
        unsigned since = logbook.n;
        assert_int_equal(run_as(0, 0, privileged_fn), 0);
        settle_open(total - 1);
        assert_int_equal(dropped_so_far(), dropped + 1);
        const char *line = log_find(since, "slot taken by a privileged client");
        assert_non_null(line);
        char uid_word[32];
        snprintf(uid_word, sizeof(uid_word), "uid %u", CROWD_UID / 100);
        assert_non_null(strstr(line, uid_word)); /* one of the crowd's */

        for (unsigned i = 0; i < RESERVED; i++)
                close(mine[i]);
        crowd_end(&crowd);
        int64_t end = tu_now_ms() + WAIT_MS;
        while (open_now() && tu_now_ms() < end)
                pump(10);
        assert_int_equal(open_now(), 0);
}

/* 17 uids x 64 connections once filled lsashmd's 1,024 slots: root's
 * LsaRegisterLogonProcess got STATUS_PORT_DISCONNECTED. */
static void test_conn_host_reserved_slots(void **state)
{
        (void)state;
        host_up(WAIT_MS); /* the crowd stays idle past the default deadline */
        reserved_slots(1024, 17, logon_process, untrusted_refused);
}

/* 65 uids x 64 connections once filled a sharing server's 4,096 slots. */
static void test_conn_share_reserved_slots(void **state)
{
        (void)state;
        share_up(WAIT_MS, 0);
        reserved_slots(4096, 65, share_open, share_refused);
}

/* ---- the handshake deadline ---- */

static int hello(int s)
{
        struct wire_message m = { .type = WIRE_HELLO };
        m.hello.version = WIRE_VERSION;
        m.hello.features = WIRE_FEATURES;
        uint8_t buf[WIRE_MAX_MESSAGE];
        size_t len = wire_encode(&m, buf);
        return send(s, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Wait on the server's descriptor alone, as an event loop would, until s is
 * hung up on; how long that took. */
static int64_t until_hangup(int s, int64_t limit_ms)
{
        int64_t start = tu_now_ms();
        for (;;) {
                char b[64];
                ssize_t n = recv(s, b, sizeof(b), MSG_DONTWAIT);
                if (n == 0)
                        return tu_now_ms() - start;
                if (tu_now_ms() - start > limit_ms)
                        return -1;
                pump(5000);
        }
}

/* A connection that never says HELLO was kept for ever. Now it is dropped
 * at the deadline, and the server's descriptor wakes for it: a loop that
 * polls it with a long timeout does not wait that timeout out. */
static void test_conn_share_silent_connection_dropped(void **state)
{
        (void)state;
        share_up(300, 0);
        int good = raw_connect();
        assert_true(good >= 0);
        assert_int_equal(hello(good), 0);
        int silent = raw_connect();
        assert_true(silent >= 0);
        pump(0);
        pump(0);
        assert_int_equal(open_now(), 2);
        unsigned since = logbook.n;
        int64_t took = until_hangup(silent, 20000);
        assert_true(took >= 0);
        print_message("  silent connection dropped after %lld ms (deadline 300 ms)\n", (long long)took);
        assert_true(took < 4000); /* not the 5 s poll timeout */
        assert_int_equal(log_count(since, "sent no HELLO in time"), 1);
        assert_int_equal(dropped_so_far(), 1);
        assert_int_equal(open_now(), 1);
        /* The one that said HELLO is still there, past the deadline. */
        tu_sleep_ms(400);
        pump(0);
        assert_int_equal(open_now(), 1);
        char b;
        assert_true(recv(good, &b, 1, MSG_DONTWAIT) != 0);
        close(silent);
        close(good);
}

/* The same for lsashmd: host_fd wakes for the CONNECT deadline. */
static void test_conn_host_deadline_wakes_fd(void **state)
{
        (void)state;
        host_up(300);
        int silent = raw_connect();
        assert_true(silent >= 0);
        pump(0);
        unsigned since = logbook.n;
        int64_t took = until_hangup(silent, 20000);
        assert_true(took >= 0);
        assert_true(took < 4000);
        assert_int_equal(log_count(since, "sent no CONNECT in time"), 1);
        close(silent);
}

/* ---- the rate-limited log ---- */

static int connect_close_loop(void)
{
        int64_t end = tu_now_ms() + 1500;
        while (tu_now_ms() < end) {
                int s = raw_connect();
                if (s >= 0)
                        close(s);
        }
        return 0;
}

/* One process looping connect/close (and another sending garbage) once
 * wrote a line per connection: 27 MB of log in 5 s. Now a burst of 20,
 * then one a second, and a count of what was left out. */
static void test_conn_share_log_rate_limited(void **state)
{
        (void)state;
        share_up(0, 0);
        int64_t start = tu_now_ms();
        pid_t looper = tu_fork();
        assert_true(looper >= 0);
        if (looper == 0) {
                become(OUTSIDER_UID, OUTSIDER_UID);
                _exit(connect_close_loop());
        }
        unsigned bad = 0;
        bool looping = true;
        while (looping || bad < 200) {
                if (looping && waitpid(looper, NULL, WNOHANG) == looper)
                        looping = false;
                int s = raw_connect_nb();
                if (s >= 0) {
                        static const uint8_t garbage[16] = { 0xff, 0xfe, 0xfd };
                        (void)send(s, garbage, sizeof(garbage), MSG_NOSIGNAL);
                        bad++;
                }
                pump(0);
                if (s >= 0)
                        close(s);
                pump(0);
                assert_true(tu_now_ms() - start < WAIT_MS);
        }
        for (int i = 0; i < 20; i++)
                pump(5);
        int64_t took = tu_now_ms() - start;
        unsigned lines = logbook.n;
        print_message("  %u bad clients and a connect/close loop in %lld ms: %u log lines, %llu dropped\n", bad,
                      (long long)took, lines, (unsigned long long)dropped_so_far());
        assert_true(dropped_so_far() >= 200);
        /* 20 at once, then one a second (and the lines saying how many were
         * left out). */
        unsigned bound = 20 + 2 * (unsigned)(took / 1000 + 2);
        if (lines > bound)
                fail_msg("%u log lines in %lld ms, expected at most %u", lines, (long long)took, bound);

        /* Lines flow again a second later, led by the count left out. */
        tu_sleep_ms(1100);
        unsigned since = logbook.n;
        int s = raw_connect();
        assert_true(s >= 0);
        static const uint8_t garbage[16] = { 0xff };
        assert_int_equal(send(s, garbage, sizeof(garbage), MSG_NOSIGNAL), (ssize_t)sizeof(garbage));
        for (int i = 0; i < 20 && log_count(since, "dropped client") == 0; i++)
                pump(10);
        close(s);
        assert_int_equal(log_count(since, "dropped client"), 1);
        const char *left = log_find(since, "lines about clients left out");
        assert_non_null(left);
        print_message("  then: \"%s\"\n", left);
        assert_true(strtoul(left + 1, NULL, 10) > 0);
        /* Every refusal and every drop is either a line or counted in one. */
        assert_true(logbook.n < LOG_KEEP);
        uint64_t accounted = 0;
        for (unsigned i = 0; i < logbook.n; i++)
                accounted += strstr(logbook.lines[i], "left out") ? strtoul(logbook.lines[i] + 1, NULL, 10)
                                                                  : strstr(logbook.lines[i], "client pid") != NULL;
        assert_int_equal(accounted, dropped_so_far() + refused_so_far());
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_conn_host_reserved_slots, teardown),
                cmocka_unit_test_teardown(test_conn_share_reserved_slots, teardown),
                cmocka_unit_test_teardown(test_conn_share_silent_connection_dropped, teardown),
                cmocka_unit_test_teardown(test_conn_host_deadline_wakes_fd, teardown),
                cmocka_unit_test_teardown(test_conn_share_log_rate_limited, teardown),
        };
        int r = cmocka_run_group_tests(tests, group_setup, group_teardown);
        if (g_section)
                lsashm_section_delete(g_section);
        return r;
}
