/* SPDX-License-Identifier: MIT */
/*
 * Hostile and dying peers of the sharing protocol, with real processes
 * (the fixture: tests/share-hostile-fixture.h).
 *
 * Clients that never read (their queue of replies and notices is bounded
 * and they are dropped) and a slow reader that is still served.
 */

#include "share-hostile-fixture.h"

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

int main(void)
{
        share_hostile_prepare();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_never_reads_opens, setup_small_queue, teardown_fixture),
                cmocka_unit_test_setup_teardown(test_never_reads_notices, setup_small_queue, teardown_fixture),
                cmocka_unit_test_setup_teardown(test_slow_reader_served, setup_small_queue, teardown_fixture),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
