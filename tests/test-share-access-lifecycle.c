/* SPDX-License-Identifier: MIT */
/*
 * Sharing sections across real processes (the fixture:
 * tests/share-access-fixture.h).
 *
 * Lifecycle: counters, clients that exit or are SIGKILLed at any step,
 * destroy leaving no descriptor and no socket behind, the socket's mode;
 * and lsashm-example-publisher and lsashm-example-reader, as root and as
 * another uid ($LSASHM_PUBLISHER, $LSASHM_READER).
 */

#include "share-access-fixture.h"

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
                /* The first OPEN the server read (stage 2's, read after the
                 * kill) made a2's read-only descriptor, which the server
                 * keeps while a2 is published. */
                assert_int_equal(tu_count_fds(), server_fds + (i >= 2));
        }
        server_fds++;
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

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_stats_deaths_and_destroy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
                cmocka_unit_test_setup_teardown(test_example_pair, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
