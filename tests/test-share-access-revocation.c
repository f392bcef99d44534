/* SPDX-License-Identifier: MIT */
/*
 * Sharing sections across real processes (the fixture:
 * tests/share-access-fixture.h).
 *
 * Revocation: unpublish and delete, with notices, -ESTALE, and mappings
 * that stay valid and read zeros after a delete; aliases of one section.
 */

#include "share-access-fixture.h"

/* ======================================================================
 * 3. Revocation
 * ====================================================================== */

struct revoke_report {
        int32_t polled_a, state_a, state_other, polled_b, dispatch_b, state_b, state_b_again;
        int32_t reopen, other_still_opens;
        uint64_t size, nonzero;
        int32_t canary_intact;
};

static const char *revoke_canary = "revocation canary";

static int revoke_child(void *arg)
{
        (void)arg;
        lsashm_client_t *a, *b;
        lsashm_view_t *va, *vb, *vo;
        CHILD_CHECK(lsashm_client_connect(T.path, &a) == 0);
        CHILD_CHECK(lsashm_client_connect(T.path, &b) == 0);
        CHILD_CHECK(lsashm_client_open(a, "rev", &va) == 0);
        CHILD_CHECK(lsashm_client_open(b, "rev", &vb) == 0);
        CHILD_CHECK(lsashm_client_open(a, "other", &vo) == 0);
        CHILD_CHECK(lsashm_view_state(va) == 0 && lsashm_view_state(vb) == 0);
        const char *t = lsashm_view_ptr(va, lsashm_view_root(va), strlen(revoke_canary) + 1);
        CHILD_CHECK(t && strcmp(t, revoke_canary) == 0);
        char ready = 'r';
        CHILD_SEND(ready);

        CHILD_WAIT(); /* the owner has unpublished or deleted "rev" */
        struct revoke_report rep;
        memset(&rep, 0, sizeof(rep));
        /* a: the fd polls readable; view_state reads the notice itself */
        struct pollfd p = { .fd = lsashm_client_fd(a), .events = POLLIN };
        rep.polled_a = poll(&p, 1, TIMEOUT_MS) == 1 && (p.revents & POLLIN);
        rep.state_a = lsashm_view_state(va);
        rep.state_other = lsashm_view_state(vo);
        /* b: explicit dispatch */
        p.fd = lsashm_client_fd(b);
        rep.polled_b = poll(&p, 1, TIMEOUT_MS) == 1 && (p.revents & POLLIN);
        rep.dispatch_b = lsashm_client_dispatch(b);
        rep.state_b = lsashm_view_state(vb);
        rep.state_b_again = lsashm_client_dispatch(b); /* nothing left */
        /* the whole mapping still reads, no SIGBUS */
        rep.size = lsashm_view_size(va);
        const uint8_t *m = lsashm_view_ptr(va, 0, rep.size);
        CHILD_CHECK(m != NULL);
        for (size_t i = 0; i < rep.size; i++)
                rep.nonzero += m[i] != 0;
        const char *c = lsashm_view_ptr(va, lsashm_view_root(va), strlen(revoke_canary) + 1);
        rep.canary_intact = c && strcmp(c, revoke_canary) == 0;
        lsashm_view_t *again = NULL;
        rep.reopen = lsashm_client_open(a, "rev", &again);
        lsashm_view_t *o2 = NULL;
        rep.other_still_opens = lsashm_client_open(b, "other", &o2);
        lsashm_view_close(o2);
        lsashm_view_close(again);
        lsashm_view_close(va);
        lsashm_view_close(vb);
        lsashm_view_close(vo);
        lsashm_client_close(a);
        lsashm_client_close(b);
        CHILD_SEND(rep);
        return 0;
}

static void revocation(bool by_delete)
{
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(64 * KiB, 16 * KiB, 0);
        lsashm_section_t *other = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("rev", s, rules_anyone, 1, revoke_canary);
        publish_text("other", other, rules_anyone, 1, "other");
        struct child c = child_start(&AS_OWNER, revoke_child, NULL, -1);
        char ready;
        child_get(&c, &ready, 1);
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.views, 3);
        assert_int_equal(st.published, 2);
        assert_int_equal(st.revocations, 0);

        if (by_delete) {
                /* the server learns through its watcher, revokes on its next dispatch */
                section_drop(s);
        } else {
                assert_int_equal(lsashm_server_unpublish(T.srv, "rev"), 0);
                assert_int_equal(lsashm_server_unpublish(T.srv, "rev"), -ENOENT);
                st = stats();
                assert_int_equal(st.revocations, 2);
                assert_int_equal(st.views, 1);
                assert_int_equal(st.published, 1);
        }
        child_go(&c);
        struct revoke_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);

        assert_true(rep.polled_a);
        assert_int_equal(rep.state_a, -ESTALE);
        assert_int_equal(rep.state_other, 0);
        assert_true(rep.polled_b);
        assert_true(rep.dispatch_b >= 1);
        assert_int_equal(rep.state_b, -ESTALE);
        assert_int_equal(rep.state_b_again, 0);
        assert_true(rep.size >= 16 * KiB);
        if (by_delete) {
                assert_int_equal(rep.nonzero, 0); /* wiped: zeros where the canary was */
                assert_false(rep.canary_intact);
        } else {
                assert_true(rep.canary_intact); /* unpublished, not deleted: data stays */
        }
        assert_int_equal(rep.reopen, -ENOENT);
        assert_int_equal(rep.other_still_opens, 0);

        st = stats();
        assert_int_equal(st.revocations, 2);
        assert_int_equal(st.published, 1);
        assert_int_equal(st.views, 0);
        assert_int_equal(st.connections, 0);
        assert_int_equal(st.dropped, 0);
        server_stop();
        if (!by_delete)
                section_drop(s);
        section_drop(other);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

static void test_revoke_unpublish(void **state)
{
        (void)state;
        revocation(false);
}

static void test_revoke_delete(void **state)
{
        (void)state;
        revocation(true);
}

/*
 * One section published under two names. Unpublishing one name revokes the
 * views opened through it, not those opened through the other; deleting the
 * section then revokes those and unpublishes the other name too.
 */
static int alias_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        lsashm_view_t *va, *vb;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        CHILD_CHECK(lsashm_client_open(c, "alpha", &va) == 0);
        CHILD_CHECK(lsashm_client_open(c, "beta", &vb) == 0);
        char ready = 'r';
        CHILD_SEND(ready);
        CHILD_WAIT(); /* "alpha" unpublished */
        struct pollfd p = { .fd = lsashm_client_fd(c), .events = POLLIN };
        int32_t rep[4];
        rep[0] = poll(&p, 1, TIMEOUT_MS) == 1; /* alpha's notice */
        rep[1] = lsashm_view_state(va);
        rep[2] = lsashm_view_state(vb);
        CHILD_SEND(rep);
        CHILD_WAIT(); /* the section deleted */
        if (rep[2] == 0)
                rep[0] = poll(&p, 1, 2000) == 1; /* due at once: don't hang if it never comes */
        rep[3] = lsashm_view_state(vb);
        lsashm_view_close(va);
        lsashm_view_close(vb);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_revoke_aliases(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        struct lsashm_policy policy = { .rules = rules_anyone, .n_rules = 1 };
        assert_int_equal(lsashm_server_publish(T.srv, "alpha", s, &policy), 0);
        assert_int_equal(lsashm_server_publish(T.srv, "beta", s, &policy), 0);
        assert_int_equal(lsashm_server_publish(T.srv, "beta", s, &policy), -EEXIST);
        struct child c = child_start(&AS_OWNER, alias_child, NULL, -1);
        char ready;
        child_get(&c, &ready, 1);
        assert_int_equal(lsashm_server_unpublish(T.srv, "alpha"), 0);
        assert_int_equal(stats().published, 1);
        child_go(&c);
        int32_t rep[4];
        child_get(&c, rep, sizeof(rep));
        section_drop(s);
        child_go(&c);
        int32_t rep2[4];
        child_get(&c, rep2, sizeof(rep2));
        child_finish(&c);
        struct lsashm_server_stats st = stats();
        assert_true(rep[0]);
        assert_int_equal(rep[1], -ESTALE);
        if (rep[2] != 0)
                fail_msg("unpublishing \"alpha\" revoked a view opened as \"beta\" (state %d, %" PRIu64
                         " revocations)", rep[2], st.revocations);
        if (rep2[3] != -ESTALE || st.published != 0)
                fail_msg("section deleted while published as \"beta\" (after \"alpha\" was unpublished): view "
                         "state %d, published %" PRIu64 ", revocations %" PRIu64,
                         rep2[3], st.published, st.revocations);
        assert_int_equal(st.revocations, 2);
        assert_int_equal(st.views, 0);
        server_stop();
        assert_int_equal(tu_count_fds(), T.fds_before);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_revoke_unpublish, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoke_delete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_revoke_aliases, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
