/* SPDX-License-Identifier: MIT */
/*
 * Hostile and dying peers of the sharing protocol, with real processes
 * (the fixture: tests/share-hostile-fixture.h).
 *
 * A thousand clients, in a forked server's face, die at random points: the
 * server is back at its baseline (descriptors, mappings, RSS) afterwards.
 */

#include "share-hostile-fixture.h"

/* ---- 3: a thousand clients die at random points -------------------------- */

#define DYING_CLIENTS 1000
#define WARMUP_CLIENTS 200
#define BATCH 50
#define RSS_MARGIN_KIB 512L

enum dying_kind { D_RAW, D_LIBRARY, D_CHURN, D_FLOOD, D_KINDS };
static const int dying_stages[D_KINDS] = { 6, 4, 2, 2 };

static void progress(int fd, char c)
{
        if (!write_byte(fd, c))
                _exit(101);
}

/* A client process that runs one of the scripts below and reports each stage
 * it reaches on prog; the parent SIGKILLs it after some stage. */
static void dying_client(enum dying_kind kind, int prog, int room)
{
        tu_close_fds_except(prog, -1);
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        switch (kind) {
        case D_RAW: {
                int s = raw_connect();
                CHILD_CHECK(s >= 0);
                progress(prog, '1'); /* connected, no hello */
                CHILD_CHECK(tu_send_fds(s, buf, enc_hello(buf, WIRE_VERSION, 0), NULL, 0, 0) == 0);
                progress(prog, '2'); /* hello reply unread */
                CHILD_CHECK(recv_discard(s, buf, sizeof(buf), 0, NULL) > 0);
                progress(prog, '3');
                CHILD_CHECK(tu_send_fds(s, buf, enc_open(buf, 1, 0, "s"), NULL, 0, 0) == 0);
                progress(prog, '4'); /* open reply (with its fd) unread */
                int fd = -1;
                ssize_t n = fdpass_recv(s, buf, sizeof(buf), &fd, true, false);
                CHILD_CHECK(n > 0 && fd >= 0);
                volatile uint8_t *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
                CHILD_CHECK(p != MAP_FAILED);
                close(fd);
                (void)p[0];
                progress(prog, '5'); /* holding a view */
                /* The server drops a peer that leaves this many replies with
                 * descriptors unread: later sends may fail, as intended. */
                for (uint32_t i = 0; i < 24; i++)
                        (void)tu_send_fds(s, buf, enc_open(buf, i + 2, (i & 1) ? WIRE_OPEN_READONLY : 0,
                                                        (i % 3) ? "s" : (i % 2) ? "r" : "nothing"),
                                       NULL, 0, 0);
                progress(prog, '6'); /* 24 replies unread, most with fds */
                park();
        }
        case D_LIBRARY: {
                lsashm_client_t *c = NULL;
                CHILD_CHECK(lsashm_client_connect(sock_path, &c) == 0);
                progress(prog, '1');
                lsashm_view_t *v = NULL, *w = NULL;
                CHILD_CHECK(lsashm_client_open(c, "s", &v) == 0);
                progress(prog, '2');
                CHILD_CHECK(lsashm_client_open_readonly(c, "r", &w) == 0);
                progress(prog, '3');
                volatile uint64_t sum = 0;
                for (int pass = 0; pass < 50; pass++) {
                        for (size_t off = 0; off < lsashm_view_size(v); off += 64)
                                sum += *(const volatile uint8_t *)lsashm_view_ptr(v, off, 1);
                        for (size_t off = 0; off < lsashm_view_size(w); off += 64)
                                sum += *(const volatile uint8_t *)lsashm_view_ptr(w, off, 1);
                        CHILD_CHECK(lsashm_view_state(v) == 0);
                        if (pass == 0)
                                progress(prog, '4'); /* reading its views */
                }
                CHILD_CHECK(sum == 0); /* nobody wrote the sections */
                park();
        }
        case D_CHURN: {
                lsashm_client_t *c = NULL;
                CHILD_CHECK(lsashm_client_connect(sock_path, &c) == 0);
                progress(prog, '1');
                for (int i = 0; i < 100; i++) {
                        lsashm_view_t *v = NULL;
                        CHILD_CHECK(lsashm_client_open(c, (i & 1) ? "r" : "s", &v) == 0);
                        if (i & 2)
                                lsashm_view_close(v);
                        if (i == 0)
                                progress(prog, '2'); /* somewhere in an open or a close */
                }
                park();
        }
        case D_FLOOD: {
                int s = raw_connect();
                CHILD_CHECK(s >= 0);
                CHILD_CHECK(raw_hello(s) == 0);
                progress(prog, '1');
                /* More replies than the kernel holds: the server queues the
                 * rest, each with a descriptor. */
                for (int i = 0; i < room + 40; i++)
                        if (tu_send_fds(s, buf, enc_open(buf, (uint32_t)i + 1, 0, "s"), NULL, 0, 0) < 0)
                                break;
                progress(prog, '2');
                park();
        }
        default:
                _exit(102);
        }
}

/* The server process: serves until told 'q'; on 's' dispatches until idle and
 * writes its stats. Exits through exit() so LeakSanitizer checks it. */
static void server_process(int cmd, int rep)
{
        tu_close_fds_except(cmd, rep);
        static const struct lsashm_rule rw = { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ_WRITE };
        static const struct lsashm_rule ro = { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ };
        struct lsashm_section_config sc = { .max_size = 64 * 1024, .initial_size = 64 * 1024, .name = "hostile-dying" };
        lsashm_section_t *s1 = NULL, *s2 = NULL;
        CHILD_CHECK(lsashm_section_create(&sc, &s1) == 0);
        sc.flags = LSASHM_SECTION_READERS_ONLY;
        CHILD_CHECK(lsashm_section_create(&sc, &s2) == 0);
        struct lsashm_server_config cfg = {
                .path = sock_path, .listen_fd = -1, .log = capture_log,
                .limits = { .connections_per_uid = 2000, .connections = 4096, .views_per_connection = 1024,
                            .queued_per_connection = 128 },
        };
        lsashm_server_t *srv = NULL;
        CHILD_CHECK(lsashm_server_create(&cfg, &srv) == 0);
        CHILD_CHECK(lsashm_server_publish(srv, "s", s1, &(struct lsashm_policy){ &rw, 1 }) == 0);
        CHILD_CHECK(lsashm_server_publish(srv, "r", s2, &(struct lsashm_policy){ &ro, 1 }) == 0);
        CHILD_CHECK(write_byte(rep, 'R'));
        for (;;) {
                struct pollfd p[2] = { { .fd = lsashm_server_fd(srv), .events = POLLIN },
                                       { .fd = cmd, .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        CHILD_CHECK(errno == EINTR);
                        continue;
                }
                if (p[0].revents)
                        CHILD_CHECK(lsashm_server_dispatch(srv) >= 0);
                if (!p[1].revents)
                        continue;
                char c = 0;
                if (read(cmd, &c, 1) != 1 || c == 'q')
                        break;
                if (c == 's') {
                        for (;;) {
                                struct pollfd q = { .fd = lsashm_server_fd(srv), .events = POLLIN };
                                if (poll(&q, 1, 0) <= 0)
                                        break;
                                CHILD_CHECK(lsashm_server_dispatch(srv) >= 0);
                        }
                        struct lsashm_server_stats st;
                        CHILD_CHECK(lsashm_server_stats(srv, &st) == 0);
                        CHILD_CHECK(write(rep, &st, sizeof(st)) == (ssize_t)sizeof(st));
                }
        }
        lsashm_server_destroy(srv);
        CHILD_CHECK(lsashm_section_delete(s1) == 0);
        CHILD_CHECK(lsashm_section_delete(s2) == 0);
        exit(0);
}


struct server_proc {
        pid_t pid;
        int cmd, rep;
};

static void server_snapshot(struct server_proc *sp, struct lsashm_server_stats *st, int *fds, long *rss_kib,
                            int *memfd_maps, int *maps)
{
        assert_true(write_byte(sp->cmd, 's'));
        struct pollfd p = { .fd = sp->rep, .events = POLLIN };
        assert_int_equal(poll(&p, 1, STEP_MS), 1);
        assert_int_equal(read(sp->rep, st, sizeof(*st)), (ssize_t)sizeof(*st));
        /* The server now sits idle in poll: its /proc entries are stable. */
        *fds = tu_proc_fd_count(sp->pid);
        *rss_kib = proc_rss_kib(sp->pid);
        *memfd_maps = proc_maps_count(sp->pid, "memfd:");
        *maps = proc_maps_count(sp->pid, NULL);
        assert_true(*fds > 0 && *rss_kib > 0 && *memfd_maps >= 0 && *maps > 0);
}

struct round_result {
        unsigned per_kind[D_KINDS];
        unsigned per_stage[8];
};

/* On a failure: no child outlives the test. */
static void kill_batch(const pid_t *pids, unsigned m)
{
        for (unsigned i = 0; i < m; i++)
                if (pids[i] > 0)
                        kill(pids[i], SIGKILL);
        for (unsigned i = 0; i < m; i++)
                if (pids[i] > 0)
                        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                                ;
}

static void run_dying_round(unsigned n, struct tu_rng *rng, int room, struct round_result *res)
{
        for (unsigned b = 0; b < n; b += BATCH) {
                unsigned m = n - b < BATCH ? n - b : BATCH;
                pid_t pids[BATCH];
                int prog[BATCH], stage[BATCH];
                enum dying_kind kinds[BATCH];
                for (unsigned i = 0; i < m; i++) {
                        /* Floods are heavier; one in ten. */
                        uint64_t k = tu_rng_range(rng, 0, 9);
                        kinds[i] = k < 4 ? D_RAW : k < 7 ? D_LIBRARY : k < 9 ? D_CHURN : D_FLOOD;
                        stage[i] = (int)tu_rng_range(rng, 0, (uint64_t)dying_stages[kinds[i]]);
                        res->per_kind[kinds[i]]++;
                        res->per_stage[stage[i]]++;
                        int p[2];
                        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                        pids[i] = tu_fork();
                        assert_true(pids[i] >= 0);
                        if (pids[i] == 0)
                                dying_client(kinds[i], p[1], room);
                        close(p[1]);
                        prog[i] = p[0];
                        if (stage[i] == 0)
                                kill(pids[i], SIGKILL); /* wherever it is */
                }
                for (unsigned i = 0; i < m; i++) {
                        for (int s = 0; s < stage[i]; s++) {
                                char c;
                                if (tu_read_byte(prog[i], STEP_MS, &c) != 1) {
                                        kill(pids[i], SIGKILL);
                                        int status;
                                        waitpid(pids[i], &status, 0);
                                        pids[i] = -1;
                                        kill_batch(pids, m);
                                        char why[64];
                                        fail_msg("dying client (kind %d) stopped before stage %d: %s", kinds[i],
                                                 s + 1, tu_describe_status(status, why, sizeof(why)));
                                }
                        }
                        kill(pids[i], SIGKILL);
                }
                for (unsigned i = 0; i < m; i++) {
                        int status;
                        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
                                ;
                        close(prog[i]);
                        pids[i] = -1;
                        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
                                kill_batch(pids, m);
                                char why[64];
                                fail_msg("dying client (kind %d, stage %d) %s", kinds[i], stage[i],
                                         tu_describe_status(status, why, sizeof(why)));
                        }
                }
        }
}

static bool built_with_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
        return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
        return true;
#else
        return false;
#endif
#else
        return false;
#endif
}

static void test_thousand_dying_clients(void **state)
{
        (void)state;
        int fds0 = tu_count_fds();
        int room = kernel_room();
        assert_true(room > 0);
        int cmd[2], rep[2];
        assert_int_equal(pipe2(cmd, O_CLOEXEC), 0);
        assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
        struct server_proc sp = { .pid = tu_fork() };
        assert_true(sp.pid >= 0);
        if (sp.pid == 0)
                server_process(cmd[0], rep[1]);
        g_server_pid = sp.pid;
        close(cmd[0]);
        close(rep[1]);
        sp.cmd = cmd[1];
        sp.rep = rep[0];
        char c = 0;
        assert_int_equal(tu_read_byte(sp.rep, STEP_MS, &c), 1);
        assert_int_equal(c, 'R');

        struct tu_rng rng = { UINT64_C(0x5eed0fdead) };
        struct round_result res;
        memset(&res, 0, sizeof(res));
        int64_t t0 = now_ns();
        run_dying_round(WARMUP_CLIENTS, &rng, room, &res);
        struct lsashm_server_stats st0, st1;
        int fds_base, fds_end, memfd_base, memfd_end, maps_base, maps_end;
        long rss_base, rss_end;
        server_snapshot(&sp, &st0, &fds_base, &rss_base, &memfd_base, &maps_base);
        assert_int_equal(st0.connections, 0);
        assert_int_equal(st0.views, 0);

        memset(&res, 0, sizeof(res));
        run_dying_round(DYING_CLIENTS, &rng, room, &res);
        server_snapshot(&sp, &st1, &fds_end, &rss_end, &memfd_end, &maps_end);
        int64_t took = now_ns() - t0;
        print_message("  %u clients (raw %u, library %u, churn %u, flood %u) in %.1f s; "
                      "accepted %" PRIu64 ", dropped %" PRIu64 "\n",
                      DYING_CLIENTS, res.per_kind[D_RAW], res.per_kind[D_LIBRARY], res.per_kind[D_CHURN],
                      res.per_kind[D_FLOOD], (double)took / 1e9, st1.accepted - st0.accepted, st1.dropped);
        print_message("  server: fds %d -> %d, RSS %ld -> %ld KiB, memfd mappings %d -> %d, mappings %d -> %d\n",
                      fds_base, fds_end, rss_base, rss_end, memfd_base, memfd_end, maps_base, maps_end);

        assert_true(st1.accepted - st0.accepted >= DYING_CLIENTS - res.per_stage[0]);
        assert_int_equal(st1.connections, 0);
        assert_int_equal(st1.views, 0);
        assert_int_equal(fds_end, fds_base);
        assert_int_equal(memfd_end, memfd_base);
        /* ASan keeps freed memory in quarantine instead of reusing it, so
         * its RSS grows with every allocation made; LeakSanitizer checks the
         * server process at its exit instead. */
        long margin = built_with_asan() ? 16 * 1024L : RSS_MARGIN_KIB;
        if (rss_end > rss_base + margin)
                fail_msg("server RSS grew from %ld to %ld KiB", rss_base, rss_end);

        assert_true(write_byte(sp.cmd, 'q'));
        bool timed_out;
        int status = tu_wait(sp.pid, 30, &timed_out);
        char why[64];
        g_server_pid = -1;
        if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("server process %s", tu_describe_status(status, why, sizeof(why)));
        close(sp.cmd);
        close(sp.rep);
        assert_int_equal(tu_count_fds(), fds0);
}

int main(void)
{
        share_hostile_prepare();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_thousand_dying_clients),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
