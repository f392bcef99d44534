/* SPDX-License-Identifier: MIT */
/*
 * The package host, in this process, with real client processes (the
 * fixture: tests/host-fixture.h).
 *
 * Clients that die or misbehave: a client killed in its call, malformed
 * packets and descriptors, silent and non-reading clients, many at once,
 * connection limits, the log's rate limit and the status report.
 *
 * Hostile clients (malformed packets, descriptors, requests out of order)
 * are raw sockets in this process: each is dropped alone, no descriptor
 * leaks, and the next client is served.
 */

#include "host-fixture.h"

/* ================= clients that die, clients that misbehave ================= */

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
        int s = tu_seqpacket_connect(g_sock, SOCK_NONBLOCK);
        assert_true(s >= 0);
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
        int s = tu_seqpacket_connect(g_sock, 0);
        CHECK(s >= 0);
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
        struct tu_creds admin = { .uid = NOBODY, .gid = NOBODY, .ngroups = 1, .groups = { ADMIN_GID } };
        expect_clients_ok(child_admin_refused, (void *)1, 1, &admin);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_host_client_dies_mid_call, setup),
                cmocka_unit_test_setup(test_host_malformed_clients_dropped, setup),
                cmocka_unit_test_setup(test_host_client_log_rate_limited, setup),
                cmocka_unit_test_setup(test_host_silent_connection_dropped, setup),
                cmocka_unit_test_setup(test_host_client_not_reading_dropped, setup),
                cmocka_unit_test_setup(test_host_many_clients_at_once, setup),
                cmocka_unit_test_setup(test_host_connection_limits, setup),
                cmocka_unit_test_setup(test_host_status_report, setup),
        };
        if (!host_fixture_root("test-host-clients"))
                return 77;
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
