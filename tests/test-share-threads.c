/* SPDX-License-Identifier: MIT */
/*
 * The server's run loop on one thread while the owner publishes, deletes and
 * unpublishes on another, and a client opens on a third: the locking between
 * them (server lock, section locks, the pending-revocation lock) under TSan.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/section.h"
#include "lsashm/share.h"

static void *run_server(void *arg)
{
        return (void *)(intptr_t)lsashm_server_run(arg);
}

static lsashm_section_t *make_section(void)
{
        struct lsashm_section_config cfg = { .max_size = 1 << 16, .initial_size = 4096 };
        lsashm_section_t *s;
        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 64, &p), 0);
        memcpy(p, "canary", 7);
        return s;
}

/* Wait, without a dispatch loop of our own, until the notice arrives. */
static int wait_stale(lsashm_client_t *c, lsashm_view_t *v)
{
        for (int i = 0; i < 500; i++) {
                if (lsashm_view_state(v) == -ESTALE)
                        return 0;
                struct pollfd p = { .fd = lsashm_client_fd(c), .events = POLLIN };
                poll(&p, 1, 10);
        }
        return -ETIMEDOUT;
}

static void test_share_threads_delete_and_unpublish_while_serving(void **state)
{
        (void)state;
        char dir[] = "/tmp/lsashm-thr-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[64];
        snprintf(path, sizeof(path), "%s/s.sock", dir);
        struct lsashm_server_config cfg = { .path = path, .listen_fd = -1 };
        lsashm_server_t *srv;
        assert_int_equal(lsashm_server_create(&cfg, &srv), 0);
        pthread_t thread;
        assert_int_equal(pthread_create(&thread, NULL, run_server, srv), 0);

        const struct lsashm_rule all[] = { { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ } };
        const struct lsashm_policy policy = { all, 1 };
        lsashm_client_t *c;
        assert_int_equal(lsashm_client_connect(path, &c), 0);
        for (int round = 0; round < 50; round++) {
                lsashm_section_t *s = make_section();
                assert_int_equal(lsashm_server_publish(srv, "a", s, &policy), 0);
                assert_int_equal(lsashm_server_publish(srv, "b", s, &policy), 0);
                lsashm_view_t *va, *vb;
                assert_int_equal(lsashm_client_open(c, "a", &va), 0);
                assert_int_equal(lsashm_client_open(c, "b", &vb), 0);
                assert_string_equal(lsashm_view_ptr(va, 0, 7), "canary");

                /* Unpublishing one name leaves the other's view alone... */
                assert_int_equal(lsashm_server_unpublish(srv, "a"), 0);
                assert_int_equal(wait_stale(c, va), 0);
                assert_int_equal(lsashm_view_state(vb), 0);
                /* ...and deleting the section revokes the rest, from this
                 * thread, while the server's thread does the sending. */
                assert_int_equal(lsashm_section_delete(s), 0);
                assert_int_equal(wait_stale(c, vb), 0);
                const uint8_t *p = lsashm_view_ptr(vb, 0, 7);
                assert_non_null(p);
                for (int i = 0; i < 7; i++)
                        assert_int_equal(p[i], 0); /* wiped, and still mapped */
                lsashm_view_close(va);
                lsashm_view_close(vb);
        }
        struct lsashm_server_stats st;
        assert_int_equal(lsashm_server_stats(srv, &st), 0);
        assert_int_equal(st.published, 0);
        assert_int_equal(st.views, 0);
        assert_int_equal(st.revocations, 100);
        lsashm_client_close(c);
        lsashm_server_stop(srv);
        void *ret;
        assert_int_equal(pthread_join(thread, &ret), 0);
        assert_int_equal((int)(intptr_t)ret, 0);
        lsashm_server_destroy(srv);
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_share_threads_delete_and_unpublish_while_serving),
        };
        return cmocka_run_group_tests_name("share-threads", tests, NULL, NULL);
}
