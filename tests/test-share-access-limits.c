/* SPDX-License-Identifier: MIT */
/*
 * Sharing sections across real processes (the fixture:
 * tests/share-access-fixture.h).
 *
 * Limits at the edge: connections per uid, views per connection, queued
 * messages.
 */

#include "share-access-fixture.h"

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
        /* and the publication's read-only descriptor, made at the first open */
        if (most_fds - base_fds > QUEUE + 1)
                fail_msg("the server held %d more descriptors for a client that never reads", most_fds - base_fds);
        assert_int_equal(tu_count_fds(), without_victim + 2); /* just our end, and the read-only descriptor */

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
        assert_int_equal(tu_count_fds(), without_victim + 1); /* the read-only descriptor stays */

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

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_limit_connections_per_uid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limit_views_per_connection, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limit_queued_per_connection, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
