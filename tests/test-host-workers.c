/* SPDX-License-Identifier: MIT */
/*
 * The package host's worker pool, in this process, with real client
 * processes (the fixture: tests/host-fixture.h).
 *
 * A package call that blocks delays only its own client; GetClientInfo
 * answers each call for its own client while calls run at once; one
 * connection's requests are still answered in order; a client that leaves
 * during its call is let go once the call is over; submit buffers past
 * 64 KiB travel in sealed memfds, and every way such a memfd can be wrong
 * is refused without harm.
 */

#include "host-fixture.h"
#include "host-raw.h"

#define SLOW_MS 2000u

/* The fixture keeps 64 connections per uid; the crowd is all root. */
static int workers_setup(void **state)
{
        int r = setup(state);
        g_host->cs.cfg.per_uid = 4 * CROWD;
        g_host->cfg.max_submit = 1u << 20;
        return r;
}

static void child_slow_package(void *arg, int index)
{
        (void)arg;
        (void)index;
        uint32_t quiet = crowd_p99();

        int done[2];
        CHECK(pipe2(done, O_CLOEXEC) == 0);
        pid_t slow = tu_fork();
        CHECK(slow >= 0);
        if (slow == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                HANDLE h = c_untrusted();
                ULONG id = c_lookup(h, TP_NAME_OK);
                uint64_t t0 = now_us();
                struct res r = c_msg(h, id, TpSleep, SLOW_MS, 0, 0, 0);
                uint64_t took = now_us() - t0;
                c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
                CHECK(took >= (SLOW_MS - 50) * 1000u);
                CHECK(write(done[1], &took, sizeof(took)) == (ssize_t)sizeof(took));
                _exit(0);
        }
        close(done[1]);
        int64_t end = tu_now_ms() + STEP_MS;
        while (!log_has_line("sleeping " TP_NAME_OK "\n") && tu_now_ms() < end)
                tu_sleep_ms(2);
        CHECK(log_has_line("sleeping " TP_NAME_OK "\n"));
        uint32_t loaded = crowd_p99();
        uint64_t took;
        CHECK(tu_read_all(done[0], &took, sizeof(took)));
        close(done[0]);
        CHECK(tu_exited_ok(tu_wait(slow, 60, NULL)));
        fprintf(stderr, "child: p99 of %d clients' calls: %u us quiet, %u us while one call sleeps %u ms\n", CROWD,
                quiet, loaded, SLOW_MS);
        /* One thread serving all, the sleeping call held every other for
         * up to 2 s: the loaded p99 was the sleep (1.9 s measured). */
        CHECK(crowd_p99_unharmed(quiet, loaded, SLOW_MS));
}

static void test_workers_slow_call_stalls_no_one_else(void **state)
{
        (void)state;
        unlink(g_log_path);
        expect_client_ok(child_slow_package, NULL);
}

/* ================= GetClientInfo is per call ================= */

#define INFO_ROUNDS 300

static void child_client_info(void *arg, int index)
{
        (void)arg;
        if (index == 1)
                tu_become(&nobody);
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        for (int i = 0; i < INFO_ROUNDS; i++) {
                struct res r = c_msg(h, id, TpClientInfo, 0, 0, 0, 0);
                TP_CLIENT_INFO_REPLY ci;
                memcpy(&ci, c_expect_buffer(r, sizeof(ci)), sizeof(ci));
                c_free(r.buf);
                CHECK_ST(ci.ClientInfoStatus, STATUS_SUCCESS);
                CHECK_EQ(ci.ProcessID, (ULONG)getpid());
                /* Root is SYSTEM_LUID; another uid has a LUID of its own. */
                CHECK(getuid() == 0 ? ci.LogonIdLow == 0x3e7 : ci.LogonIdLow != 0 && ci.LogonIdLow != 0x3e7);
                CHECK_EQ(ci.ThreadID, (ULONG)gettid());
                CHECK(ci.CallInfoOk);
                CHECK_EQ(ci.CallProcessId, (ULONG)getpid());
                CHECK(ci.Restricted);
        }
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

/* Two clients of different uids call at once, on different workers: each
 * call sees its own client. */
static void test_workers_client_info_per_call(void **state)
{
        (void)state;
        expect_clients_ok(child_client_info, NULL, 4, NULL);
}

/* ================= a client that leaves during its call ================= */

static void child_leaves_mid_call(void *arg, int index)
{
        (void)arg;
        (void)index;
        uint64_t dropped = ask(Q_DROPPED, 0);
        pid_t gc = tu_fork();
        CHECK(gc >= 0);
        if (gc == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                HANDLE h = c_untrusted();
                ULONG id = c_lookup(h, TP_NAME_OK);
                c_msg(h, id, TpSleep, 3000, 0, 0, 0);
                _exit(0);
        }
        int64_t end = tu_now_ms() + STEP_MS;
        while (!log_has_line("sleeping " TP_NAME_OK "\n") && tu_now_ms() < end)
                tu_sleep_ms(2);
        CHECK(log_has_line("sleeping " TP_NAME_OK "\n"));
        kill(gc, SIGKILL);
        CHECK(tu_wait(gc, 20, NULL) != -1);
        /* The call goes on and holds its connection, with the buffer it
         * allocated; the host answers others meanwhile. */
        CHECK_EQ(ask(Q_CONNS, 0), 1);
        CHECK_EQ(ask(Q_BUFFERS, (uint64_t)gc), 1);
        uint64_t t0 = now_us();
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        c_free(c_expect_buffer(c_msg(h, id, TpEcho, 0, 0, 0, 0), sizeof(TP_REQUEST)));
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        uint64_t took = now_us() - t0;
        CHECK(took < 1500000u); /* not behind the 3 s call */
        /* Once the call is over: its reply goes nowhere, and everything
         * the connection held is released. */
        end = tu_now_ms() + STEP_MS;
        while (ask(Q_CONNS, 0) != 0 && tu_now_ms() < end)
                tu_sleep_ms(20);
        CHECK_EQ(ask(Q_CONNS, 0), 0);
        CHECK_EQ(ask(Q_BUFFERS, (uint64_t)gc), 0);
        CHECK_EQ(ask(Q_DROPPED, 0), dropped + 1);
}

static void test_workers_client_leaves_mid_call(void **state)
{
        (void)state;
        unlink(g_log_path);
        int fds = tu_count_fds();
        expect_client_ok(child_leaves_mid_call, NULL);
        assert_int_equal(g_host->cs.n, 0);
        assert_int_equal(tu_count_fds(), fds);
}

/* ================= raw clients: order, and memfds ================= */

/* Connected untrusted, TestPkg looked up: its id. */
static int raw_client(uint32_t *ret_id)
{
        int s = tu_seqpacket_connect(g_sock, SOCK_NONBLOCK);
        assert_true(s >= 0);
        struct lsa_wire_message m = { .type = LSA_WIRE_CONNECT };
        m.connect.mode = LSA_WIRE_MODE_UNTRUSTED;
        m.connect.reply_base = 0x7f0000000000ull;
        m.connect.reply_size = 16u << 20;
        raw_send(s, &m, -1);
        struct lsa_wire_message r = raw_reply(s);
        assert_int_equal(r.type, LSA_WIRE_CONNECT_REPLY);
        assert_int_equal(r.connect_reply.status, STATUS_SUCCESS);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP };
        m.lookup.name_len = (uint8_t)strlen(TP_NAME_OK);
        memcpy(m.lookup.name, TP_NAME_OK, m.lookup.name_len);
        raw_send(s, &m, -1);
        r = raw_reply(s);
        assert_int_equal(r.type, LSA_WIRE_LOOKUP_REPLY);
        assert_int_equal(r.lookup_reply.status, STATUS_SUCCESS);
        *ret_id = r.lookup_reply.package;
        return s;
}

static struct lsa_wire_message raw_call_msg(uint32_t id, const TP_REQUEST *req, uint32_t length)
{
        struct lsa_wire_message m = { .type = LSA_WIRE_CALL };
        m.call.package = id;
        m.call.submit_base = 0x10000;
        m.call.length = length;
        m.call.data = length <= LSA_WIRE_MAX_SUBMIT ? (const uint8_t *)req : NULL;
        return m;
}

/* A worker changes them under the connection's lock. */
static unsigned nbuffers_of(struct host_conn *c)
{
        pthread_mutex_lock(&c->lock);
        unsigned n = c->nbuffers;
        pthread_mutex_unlock(&c->lock);
        return n;
}

static struct host_conn *only_conn(void)
{
        assert_int_equal(g_host->cs.n, 1);
        return (struct host_conn *)g_host->cs.peers;
}

/* Requests are answered in the order they came, a FREE sent behind a call
 * is not handled before the call is answered, and a LOOKUP behind it is
 * answered after it. */
static void test_workers_one_connection_in_order(void **state)
{
        (void)state;
        uint32_t id;
        int s = raw_client(&id);
        TP_REQUEST echo = tp_req(TpEcho, 0, 0, 0, 0);
        struct lsa_wire_message m = raw_call_msg(id, &echo, sizeof(echo));
        raw_send(s, &m, -1);
        struct lsa_wire_message r = raw_reply(s);
        assert_int_equal(r.type, LSA_WIRE_CALL_REPLY);
        assert_int_equal(r.call_reply.status, STATUS_SUCCESS);
        assert_true(r.call_reply.flags & LSA_WIRE_REPLY_HAS_BUFFER);
        uint64_t first = r.call_reply.return_offset;
        struct host_conn *c = only_conn();
        assert_int_equal(nbuffers_of(c), 1);

        /* CALL (sleeps), FREE of the first buffer, LOOKUP: at once. */
        TP_REQUEST sleep = tp_req(TpSleep, 400, 0, 0, 0);
        m = raw_call_msg(id, &sleep, sizeof(sleep));
        raw_send(s, &m, -1);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_FREE };
        m.free.offset = first;
        raw_send(s, &m, -1);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP };
        m.lookup.name_len = (uint8_t)strlen(TP_NAME_PEER);
        memcpy(m.lookup.name, TP_NAME_PEER, m.lookup.name_len);
        raw_send(s, &m, -1);
        /* While the call runs, the FREE waits behind it. */
        int64_t end = tu_now_ms() + 200;
        while (tu_now_ms() < end)
                pump(5);
        pthread_mutex_lock(&c->lock);
        unsigned during = c->nbuffers;
        pthread_mutex_unlock(&c->lock);
        assert_int_equal(during, 2); /* the first buffer, and the sleeping call's */
        r = raw_reply(s);
        assert_int_equal(r.type, LSA_WIRE_CALL_REPLY);
        assert_int_equal(r.call_reply.status, STATUS_SUCCESS);
        r = raw_reply(s);
        assert_int_equal(r.type, LSA_WIRE_LOOKUP_REPLY);
        assert_int_equal(r.lookup_reply.status, STATUS_SUCCESS);
        /* The FREE, answered nothing, was served between the two. */
        pthread_mutex_lock(&c->lock);
        unsigned after = c->nbuffers;
        pthread_mutex_unlock(&c->lock);
        assert_int_equal(after, 1);
        close(s);
        pump_idle(20);
        assert_int_equal(g_host->cs.n, 0);
}

/* A memfd that is not sealed against every change, or not of the size the
 * call says, is refused (STATUS_INVALID_PARAMETER) and nothing else
 * happens: the connection goes on. A good one reaches the package. */
static void test_workers_memfd_checked(void **state)
{
        (void)state;
        const uint32_t size = LSA_WIRE_MAX_SUBMIT + 1;
        TP_REQUEST dig = tp_req(TpDigest, 0, 0, 0, 0);
        uint32_t id;
        int s = raw_client(&id);
        unsigned since = g_nlog;
        for (int how = MEMFD_UNSEALED; how <= MEMFD_GOOD; how++) {
                int fd = make_memfd(&dig, sizeof(dig), size, (enum bad_memfd)how);
                struct lsa_wire_message m = raw_call_msg(id, &dig, size);
                raw_send(s, &m, fd);
                close(fd);
                struct lsa_wire_message r = raw_reply(s);
                assert_int_equal(r.type, LSA_WIRE_CALL_REPLY);
                if (how != MEMFD_GOOD) {
                        assert_int_equal(r.call_reply.status, STATUS_INVALID_PARAMETER);
                        assert_int_equal(r.call_reply.flags & LSA_WIRE_REPLY_HAS_BUFFER, 0);
                } else {
                        assert_int_equal(r.call_reply.status, STATUS_SUCCESS);
                        assert_true(r.call_reply.flags & LSA_WIRE_REPLY_HAS_BUFFER);
                }
        }
        assert_int_equal(log_count_since(since, "memfd", NULL), MEMFD_GOOD);
        /* Past max-submit-size: refused before anything is mapped. */
        g_host->cfg.max_submit = 128u * 1024u;
        int fd = make_memfd(&dig, sizeof(dig), 128u * 1024u + 1, MEMFD_GOOD);
        struct lsa_wire_message m = raw_call_msg(id, &dig, 128u * 1024u + 1);
        raw_send(s, &m, fd);
        close(fd);
        struct lsa_wire_message r = raw_reply(s);
        assert_int_equal(r.call_reply.status, STATUS_INVALID_BUFFER_SIZE);
        g_host->cfg.max_submit = 1u << 20;
        close(s);
        pump_idle(20);
        assert_int_equal(g_host->cs.n, 0);
}

/* A large call without its memfd, and a small one with a descriptor, break
 * the protocol: dropped. */
static void test_workers_memfd_protocol(void **state)
{
        (void)state;
        TP_REQUEST dig = tp_req(TpDigest, 0, 0, 0, 0);
        uint32_t id;
        uint64_t dropped = g_host->cs.dropped;
        int s = raw_client(&id);
        struct lsa_wire_message m = raw_call_msg(id, &dig, LSA_WIRE_MAX_SUBMIT + 1);
        raw_send(s, &m, -1);
        raw_expect_hangup(s);
        close(s);
        s = raw_client(&id);
        int fd = make_memfd(&dig, sizeof(dig), sizeof(dig), MEMFD_GOOD);
        m = raw_call_msg(id, &dig, sizeof(dig));
        raw_send(s, &m, fd);
        close(fd);
        raw_expect_hangup(s);
        close(s);
        pump_idle(20);
        assert_int_equal(g_host->cs.dropped, dropped + 2);
        assert_int_equal(g_host->cs.n, 0);
}

/* ================= the client API: large submit buffers ================= */

static void digest_call(HANDLE h, ULONG id, ULONG len, NTSTATUS want)
{
        UCHAR *buf = malloc(len);
        CHECK(buf != NULL);
        for (ULONG i = 0; i < len; i++)
                buf[i] = (UCHAR)(i * 31u + 7u);
        TP_REQUEST dig = tp_req(TpDigest, 0, 0, 0, 0);
        memcpy(buf, &dig, sizeof(dig));
        ULONGLONG digest = tp_digest(buf, len);
        UCHAR last = buf[len - 1];
        struct res r = c_call(h, id, buf, len);
        if (want != STATUS_SUCCESS) {
                c_expect_no_buffer(r, want, want);
        } else {
                TP_DIGEST_REPLY d;
                memcpy(&d, c_expect_buffer(r, sizeof(d)), sizeof(d));
                c_free(r.buf);
                CHECK_EQ(d.Length, len);
                CHECK(d.Digest == digest);
                CHECK(d.Writable); /* its own copy ... */
        }
        CHECK(buf[len - 1] == last); /* ... not ours */
        free(buf);
}

static void child_large_submit(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        digest_call(h, id, LSA_WIRE_MAX_SUBMIT, STATUS_SUCCESS);
        digest_call(h, id, LSA_WIRE_MAX_SUBMIT + 1, STATUS_SUCCESS);
        digest_call(h, id, 1u << 20, STATUS_SUCCESS);
        digest_call(h, id, (1u << 20) + 1, STATUS_INVALID_BUFFER_SIZE);
        /* The connection is as good as before. */
        digest_call(h, id, 3u << 18, STATUS_SUCCESS);
        /* Past anything a host may allow: refused before sending. */
        PVOID ret = NULL;
        ULONG ret_len = 0;
        NTSTATUS proto = 0;
        CHECK_ST(LsaCallAuthenticationPackage(h, id, &ret, LSA_WIRE_MAX_SUBMIT_MEMFD + 1u, &ret, &ret_len, &proto),
                 STATUS_INVALID_BUFFER_SIZE);
        /* An unreadable buffer: the client library says so, nothing is sent. */
        void *none = mmap(NULL, 2 * LSA_WIRE_MAX_SUBMIT, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(none != MAP_FAILED);
        CHECK_ST(LsaCallAuthenticationPackage(h, id, none, 2 * LSA_WIRE_MAX_SUBMIT, &ret, &ret_len, &proto),
                 STATUS_ACCESS_VIOLATION);
        CHECK_ST(proto, STATUS_ACCESS_VIOLATION);
        munmap(none, 2 * LSA_WIRE_MAX_SUBMIT);
        digest_call(h, id, LSA_WIRE_MAX_SUBMIT + 1, STATUS_SUCCESS);
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

static void test_workers_large_submit(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        expect_client_ok(child_large_submit, NULL);
        assert_int_equal(g_host->cs.n, 0);
        assert_int_equal(tu_count_fds(), fds);
}

/* The codec: a CALL past 64 KiB carries no bytes (they are in its memfd),
 * and says so; one with bytes, or past 256 MiB, is malformed. */
static void test_workers_wire_large_call(void **state)
{
        (void)state;
        static uint8_t buf[LSA_WIRE_MAX_MESSAGE];
        struct lsa_wire_message m = { .type = LSA_WIRE_CALL }, d;
        m.call.package = 3;
        m.call.submit_base = 0x10000;
        m.call.length = LSA_WIRE_MAX_SUBMIT + 1;
        size_t len = lsa_wire_encode(&m, buf);
        assert_int_equal(len, LSA_WIRE_HEADER_SIZE + 20);
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), 0);
        assert_int_equal(d.call.length, LSA_WIRE_MAX_SUBMIT + 1);
        assert_null(d.call.data);
        assert_true(lsa_wire_carries_fd(&d));
        /* The same with one byte inline: malformed. */
        buf[len] = 0;
        buf[4] = (uint8_t)(len + 1);
        assert_int_equal(lsa_wire_decode(buf, len + 1, 1, &d), -EBADMSG);
        /* Past what any host takes. */
        m.call.length = LSA_WIRE_MAX_SUBMIT_MEMFD + 1;
        assert_int_equal(lsa_wire_encode(&m, buf), 0);
        m.call.length = LSA_WIRE_MAX_SUBMIT_MEMFD;
        len = lsa_wire_encode(&m, buf);
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), 0);
        buf[LSA_WIRE_HEADER_SIZE + 16] = 1; /* length's low byte: 256 MiB + 1 */
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), -EBADMSG);
        /* Inline: no descriptor. */
        uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        m.call.length = sizeof(data);
        m.call.data = data;
        len = lsa_wire_encode(&m, buf);
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), 0);
        assert_false(lsa_wire_carries_fd(&d));
        assert_memory_equal(d.call.data, data, sizeof(data));
        struct lsa_wire_message f = { .type = LSA_WIRE_FREE };
        assert_false(lsa_wire_carries_fd(&f));
}

/* The codec: the frees trailer of CALL and FREE, 1 to 16 offsets after
 * everything else; a count of 0 or past 16, or a count the bytes do not
 * match, is malformed. */
static void test_workers_wire_frees(void **state)
{
        (void)state;
        static uint8_t buf[LSA_WIRE_MAX_MESSAGE];
        uint8_t data[3] = { 7, 8, 9 };
        struct lsa_wire_message m = { .type = LSA_WIRE_CALL }, d;
        m.call.package = 3;
        m.call.length = sizeof(data);
        m.call.data = data;
        m.call.frees.n = LSA_WIRE_MAX_FREES;
        for (unsigned i = 0; i < LSA_WIRE_MAX_FREES; i++)
                m.call.frees.offset[i] = 4096u * i + 1;
        size_t len = lsa_wire_encode(&m, buf);
        assert_int_equal(len, LSA_WIRE_HEADER_SIZE + 20 + sizeof(data) + 4 + 8 * LSA_WIRE_MAX_FREES);
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), 0);
        assert_memory_equal(d.call.data, data, sizeof(data));
        assert_int_equal(d.call.frees.n, LSA_WIRE_MAX_FREES);
        assert_memory_equal(d.call.frees.offset, m.call.frees.offset, sizeof(m.call.frees.offset));
        /* One offset short of its count, or one more. */
        buf[4] = (uint8_t)(len - 8);
        assert_int_equal(lsa_wire_decode(buf, len - 8, 1, &d), -EBADMSG);
        m.call.frees.n = LSA_WIRE_MAX_FREES + 1;
        assert_int_equal(lsa_wire_encode(&m, buf), 0);
        /* A count of 0 is no trailer: malformed when sent. */
        m.call.frees.n = 1;
        len = lsa_wire_encode(&m, buf);
        size_t count_at = LSA_WIRE_HEADER_SIZE + 20 + sizeof(data);
        buf[count_at] = 0;
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), -EBADMSG);
        buf[count_at] = 17;
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), -EBADMSG);
        buf[count_at] = 2;
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), -EBADMSG);
        /* None: the message as it always was. */
        m.call.frees.n = 0;
        len = lsa_wire_encode(&m, buf);
        assert_int_equal(len, count_at);
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), 0);
        assert_int_equal(d.call.frees.n, 0);
        /* FREE: its offset, then more. */
        struct lsa_wire_message f = { .type = LSA_WIRE_FREE };
        f.free.offset = 8192;
        len = lsa_wire_encode(&f, buf);
        assert_int_equal(len, LSA_WIRE_HEADER_SIZE + 8);
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), 0);
        assert_int_equal(d.free.more.n, 0);
        f.free.more.n = 2;
        f.free.more.offset[0] = 1;
        f.free.more.offset[1] = 2;
        len = lsa_wire_encode(&f, buf);
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), 0);
        assert_int_equal(d.free.offset, 8192);
        assert_int_equal(d.free.more.n, 2);
        assert_int_equal(d.free.more.offset[1], 2);
        buf[4] = (uint8_t)(len - 1);
        assert_int_equal(lsa_wire_decode(buf, len - 1, 1, &d), -EBADMSG);
}

/* Frees a CALL carries are applied before it runs: the buffer is gone and
 * its room serves the call. Forged ones (interior, unknown, past the
 * region) free nothing and harm nothing: the call is answered, the
 * connection goes on. */
static void test_workers_frees_ride_on_call(void **state)
{
        (void)state;
        uint32_t id;
        int s = raw_client(&id);
        TP_REQUEST echo = tp_req(TpEcho, 0, 0, 0, 0);
        struct lsa_wire_message m = raw_call_msg(id, &echo, sizeof(echo));
        raw_send(s, &m, -1);
        struct lsa_wire_message r = raw_reply(s);
        assert_int_equal(r.call_reply.status, STATUS_SUCCESS);
        assert_true(r.call_reply.flags & LSA_WIRE_REPLY_HAS_BUFFER);
        uint64_t first = r.call_reply.return_offset;
        struct host_conn *c = only_conn();
        assert_int_equal(nbuffers_of(c), 1);

        m.call.frees.n = 1;
        m.call.frees.offset[0] = first;
        raw_send(s, &m, -1);
        r = raw_reply(s);
        assert_int_equal(r.call_reply.status, STATUS_SUCCESS);
        assert_true(r.call_reply.flags & LSA_WIRE_REPLY_HAS_BUFFER);
        /* Freed first, so the same room served the call. */
        assert_int_equal(r.call_reply.return_offset, first);
        assert_int_equal(nbuffers_of(c), 1);

        m.call.frees.n = 4;
        m.call.frees.offset[0] = first + 1;          /* interior */
        m.call.frees.offset[1] = first + (1u << 20); /* no buffer there */
        m.call.frees.offset[2] = UINT64_MAX;         /* past everything */
        m.call.frees.offset[3] = first + 4096;       /* next page: nothing */
        raw_send(s, &m, -1);
        r = raw_reply(s);
        assert_int_equal(r.call_reply.status, STATUS_SUCCESS);
        assert_int_not_equal(r.call_reply.return_offset, first);
        assert_int_equal(nbuffers_of(c), 2);
        /* The same offset twice: the second frees nothing. */
        m.call.frees.n = 2;
        m.call.frees.offset[0] = first;
        m.call.frees.offset[1] = first;
        raw_send(s, &m, -1);
        r = raw_reply(s);
        assert_int_equal(r.call_reply.status, STATUS_SUCCESS);
        assert_int_equal(nbuffers_of(c), 2);
        /* FREE with more: every one released. */
        uint64_t second = r.call_reply.return_offset;
        m.call.frees.n = 0;
        raw_send(s, &m, -1);
        r = raw_reply(s);
        assert_int_equal(nbuffers_of(c), 3);
        struct lsa_wire_message f = { .type = LSA_WIRE_FREE };
        f.free.offset = r.call_reply.return_offset;
        f.free.more.n = 2;
        f.free.more.offset[0] = second;
        f.free.more.offset[1] = 12345;
        raw_send(s, &f, -1);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP };
        m.lookup.name_len = (uint8_t)strlen(TP_NAME_OK);
        memcpy(m.lookup.name, TP_NAME_OK, m.lookup.name_len);
        raw_send(s, &m, -1);
        r = raw_reply(s);
        assert_int_equal(r.type, LSA_WIRE_LOOKUP_REPLY);
        assert_int_equal(r.lookup_reply.status, STATUS_SUCCESS);
        assert_int_equal(nbuffers_of(c), 1);
        assert_int_equal(g_host->cs.dropped, 0);
        close(s);
        pump_idle(20);
        assert_int_equal(g_host->cs.n, 0);
}

int main(void)
{
        if (!host_fixture_root("test-host-workers"))
                return 0;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_workers_wire_large_call),
                cmocka_unit_test(test_workers_wire_frees),
                cmocka_unit_test_setup(test_workers_frees_ride_on_call, workers_setup),
                cmocka_unit_test_setup(test_workers_one_connection_in_order, workers_setup),
                cmocka_unit_test_setup(test_workers_memfd_checked, workers_setup),
                cmocka_unit_test_setup(test_workers_memfd_protocol, workers_setup),
                cmocka_unit_test_setup(test_workers_large_submit, workers_setup),
                cmocka_unit_test_setup(test_workers_client_info_per_call, workers_setup),
                cmocka_unit_test_setup(test_workers_client_leaves_mid_call, workers_setup),
                cmocka_unit_test_setup(test_workers_slow_call_stalls_no_one_else, workers_setup),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
