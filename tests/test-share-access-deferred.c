/* SPDX-License-Identifier: MIT */
/*
 * Sharing sections across real processes (the fixture:
 * tests/share-access-fixture.h).
 *
 * Deferred closes (WIRE_FEATURE_DEFERRED_CLOSE): a view's close rides on the
 * next OPEN, or goes out with the closes before it once WIRE_MAX_CLOSED are
 * waiting; a client that dies with some waiting loses nothing; ids a client
 * does not hold close nothing; a peer that did not ask for the feature is
 * served the old way and may not use it. And the inline read path
 * (lsashm_view_span, lsashm_view_span_ptr).
 */

#include "share-access-fixture.h"

static const struct lsashm_rule rules_read[] = { { LSASHM_RULE_ANYONE, 0, R } };

/* ---- a close is applied with the next open ---- */

static int next_open_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        lsashm_view_t *v, *w;
        char ready = 'r';
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        CHILD_CHECK(lsashm_client_open(c, "d", &v) == 0);
        lsashm_view_close(v); /* no system call: waits for the next OPEN */
        CHILD_SEND(ready);
        CHILD_WAIT();
        /* The limit is one view: this open is served only if the close it
         * carries is applied first. */
        int32_t r = lsashm_client_open(c, "d", &w);
        CHILD_SEND(r);
        CHILD_WAIT();
        if (r == 0)
                lsashm_view_close(w);
        lsashm_client_close(c);
        return 0;
}

static void test_deferred_close_applied_with_next_open(void **state)
{
        (void)state;
        struct lsashm_server_limits lim = { .views_per_connection = 1 };
        server_start(&lim, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("d", s, rules_read, 1, "deferred");
        struct child c = child_start(&AS_OWNER, next_open_child, NULL, -1);
        char ready;
        child_get(&c, &ready, 1);
        serve_pending();
        assert_int_equal(stats().views, 1); /* closed by the client, not yet told */
        child_go(&c);
        int32_t r;
        child_get(&c, &r, sizeof(r));
        assert_int_equal(r, 0);
        assert_int_equal(stats().views, 1);
        assert_int_equal(stats().dropped, 0);
        child_go(&c);
        child_finish(&c);
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.views, 0);
        assert_int_equal(st.connections, 0);
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ---- WIRE_MAX_CLOSED closes wait; one more sends them all ---- */

#define MANY ((int)WIRE_MAX_CLOSED + 1)

static int many_closes_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        lsashm_view_t *v[MANY];
        char ready = 'r';
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        for (int i = 0; i < MANY; i++)
                CHILD_CHECK(lsashm_client_open(c, "d", &v[i]) == 0);
        for (int i = 0; i < MANY - 1; i++)
                lsashm_view_close(v[i]);
        CHILD_SEND(ready);
        CHILD_WAIT();
        lsashm_view_close(v[MANY - 1]); /* the one too many: a CLOSE of all */
        CHILD_SEND(ready);
        CHILD_WAIT();
        lsashm_client_close(c);
        return 0;
}

static void test_deferred_close_flushed_when_full(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("d", s, rules_read, 1, "deferred");
        struct child c = child_start(&AS_OWNER, many_closes_child, NULL, -1);
        char ready;
        child_get(&c, &ready, 1);
        serve_pending();
        assert_int_equal(stats().views, MANY); /* WIRE_MAX_CLOSED closes wait */
        child_go(&c);
        child_get(&c, &ready, 1);
        SERVE_UNTIL(stats().views == 0); /* all, without another OPEN */
        assert_int_equal(stats().connections, 1);
        assert_int_equal(stats().dropped, 0);
        child_go(&c);
        child_finish(&c);
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ---- a client dies with closes waiting ---- */

static int die_with_closes_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        lsashm_view_t *v[3];
        char ready = 'r';
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        for (int i = 0; i < 3; i++)
                CHILD_CHECK(lsashm_client_open(c, "d", &v[i]) == 0);
        for (int i = 0; i < 3; i++)
                lsashm_view_close(v[i]);
        CHILD_SEND(ready);
        CHILD_WAIT(); /* killed here */
        return 0;
}

static void test_deferred_close_client_dies(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("d", s, rules_read, 1, "deferred");
        struct child c = child_start(&AS_OWNER, die_with_closes_child, NULL, -1);
        char ready;
        child_get(&c, &ready, 1);
        serve_pending();
        int fds = tu_count_fds() - 2; /* child_kill closes our pipes to it */
        assert_int_equal(stats().views, 3);
        child_kill(&c);
        SERVE_UNTIL(stats().connections == 0);
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.views, 0);
        assert_int_equal(st.dropped, 0); /* a death is no protocol error */
        /* its socket and pidfd are gone; the publication's read-only
         * descriptor stays while "d" is published */
        assert_int_equal(tu_count_fds(), fds - 2);
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ---- ids a client does not hold ---- */

static int raw_open_closing(int sock, uint32_t request, const char *name, const uint32_t *ids, uint8_t n)
{
        struct wire_message m = { .type = WIRE_OPEN };
        m.open.request = request;
        m.open.name_len = (uint8_t)strlen(name);
        memcpy(m.open.name, name, m.open.name_len);
        m.open.n_closed = n;
        memcpy(m.open.closed, ids, n * sizeof(*ids));
        assert_int_equal(raw_send(sock, &m, false), 0);
        assert_true(serve_until_readable(sock));
        int fd = -1;
        assert_int_equal(raw_recv(sock, &m, &fd, true), 0);
        assert_int_equal(m.type, WIRE_OPEN_REPLY);
        if (fd >= 0)
                close(fd);
        return m.open_reply.status;
}

static void test_deferred_close_forged_ids_ignored(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("d", s, rules_read, 1, "deferred");
        /* the victim holds views 1 and 2 of its own connection */
        int victim = raw_connect_served();
        assert_int_equal(raw_open_served(victim, 1, "d"), 0);
        assert_int_equal(raw_open_served(victim, 2, "d"), 0);
        /* the forger names the victim's ids, ids nobody has, and one twice */
        int forger = raw_connect_served();
        const uint32_t ids[] = { 1, 2, 0, 0xffffffffu, 7, 1 };
        assert_int_equal(raw_open_closing(forger, 1, "d", ids, 6), 0);
        assert_int_equal(stats().views, 3);
        /* its own view 1 (the reply above) closes with the next open;
         * the victim's do not */
        assert_int_equal(raw_open_closing(forger, 2, "d", ids, 1), 0);
        assert_int_equal(stats().views, 3);
        /* a CLOSE carrying the same */
        struct wire_message m = { .type = WIRE_CLOSE };
        m.close.view = 2; /* the forger's second view */
        m.close.n_more = 5;
        memcpy(m.close.more, ids, 5 * sizeof(*ids));
        assert_int_equal(raw_send(forger, &m, false), 0);
        SERVE_UNTIL(stats().views == 2);
        serve_pending();
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.views, 2); /* the victim's two */
        assert_int_equal(st.dropped, 0); /* unknown ids are no error */
        assert_int_equal(st.connections, 2);
        /* the victim still holds both: closing them empties the table */
        m = (struct wire_message){ .type = WIRE_CLOSE };
        m.close.view = 1;
        m.close.n_more = 1;
        m.close.more[0] = 2;
        assert_int_equal(raw_send(victim, &m, false), 0);
        SERVE_UNTIL(stats().views == 0);
        close(victim);
        close(forger);
        serve_pending();
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ---- a peer that did not ask for the feature ---- */

static int raw_connect_without_features(void)
{
        int fd = raw_connect(T.path);
        assert_true(fd >= 0);
        struct wire_message m = { .type = WIRE_HELLO };
        m.hello.version = WIRE_VERSION;
        m.hello.features = 0;
        assert_int_equal(raw_send(fd, &m, false), 0);
        assert_true(serve_until_readable(fd));
        assert_int_equal(raw_recv(fd, &m, NULL, true), 0);
        assert_int_equal(m.type, WIRE_HELLO_REPLY);
        assert_int_equal(m.hello_reply.features, 0); /* only what was asked for */
        return fd;
}

static void test_deferred_close_needs_the_feature(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("d", s, rules_read, 1, "deferred");

        /* an older client: served, and its one-view CLOSE works */
        int old = raw_connect_without_features();
        assert_int_equal(raw_open_served(old, 1, "d"), 0);
        assert_int_equal(stats().views, 1);
        struct wire_message m = { .type = WIRE_CLOSE };
        m.close.view = 1;
        assert_int_equal(raw_send(old, &m, false), 0);
        SERVE_UNTIL(stats().views == 0);
        assert_int_equal(stats().dropped, 0);

        /* closes carried in an OPEN without the feature: dropped */
        int cheat = raw_connect_without_features();
        m = (struct wire_message){ .type = WIRE_OPEN };
        m.open.request = 1;
        m.open.name_len = 1;
        m.open.name[0] = 'd';
        m.open.n_closed = 1;
        m.open.closed[0] = 1;
        assert_int_equal(raw_send(cheat, &m, false), 0);
        SERVE_UNTIL(stats().dropped == 1);
        assert_non_null(strstr(logbook.last, "without the feature"));
        close(cheat);

        /* and in a CLOSE */
        cheat = raw_connect_without_features();
        m = (struct wire_message){ .type = WIRE_CLOSE };
        m.close.view = 1;
        m.close.n_more = 1;
        m.close.more[0] = 2;
        assert_int_equal(raw_send(cheat, &m, false), 0);
        SERVE_UNTIL(stats().dropped == 2);
        close(cheat);
        close(old);
        serve_pending();
        assert_int_equal(stats().connections, 0);
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* ---- the inline read path ---- */

struct span_report {
        int32_t null_span, null_ptr_ok, live, same_as_ptr, bounds_ok;
        int32_t state, stale_span, untouched, stale_ptr_null, view_ptr_still;
        int32_t closed_client_span;
};

static int span_child(void *arg)
{
        (void)arg;
        struct span_report rep;
        memset(&rep, 0, sizeof(rep));
        lsashm_client_t *c, *c2;
        lsashm_view_t *v, *w;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        CHILD_CHECK(lsashm_client_open(c, "d", &v) == 0);
        const void *base = NULL;
        size_t size = 0;
        rep.null_span = lsashm_view_span(NULL, &base, &size);
        rep.null_ptr_ok = lsashm_view_span_ptr(NULL, 0, 1) == NULL;
        rep.live = lsashm_view_span(v, &base, &size);
        rep.same_as_ptr = base == lsashm_view_ptr(v, 0, 1) && size == lsashm_view_size(v) && size > 0;
        rep.bounds_ok = lsashm_view_span_ptr(v, 0, size) == base &&
                        lsashm_view_span_ptr(v, size - 1, 1) == (const uint8_t *)base + size - 1 &&
                        lsashm_view_span_ptr(v, size - 1, 2) == NULL && lsashm_view_span_ptr(v, size, 0) == NULL &&
                        lsashm_view_span_ptr(v, UINT64_MAX, 2) == NULL &&
                        lsashm_view_span_ptr(v, 1, SIZE_MAX) == NULL;
        char ready = 'r';
        CHILD_SEND(ready);
        CHILD_WAIT(); /* "d" has been unpublished */
        rep.state = lsashm_view_state(v); /* reads the notice */
        const void *b2 = &rep;
        size_t s2 = 12345;
        rep.stale_span = lsashm_view_span(v, &b2, &s2);
        rep.untouched = b2 == (const void *)&rep && s2 == 12345;
        rep.stale_ptr_null = lsashm_view_span_ptr(v, 0, 1) == NULL;
        /* the mapping itself stays valid: the out-of-line call still answers */
        rep.view_ptr_still = lsashm_view_ptr(v, 0, 1) != NULL;
        lsashm_view_close(v);
        /* a view whose client is closed */
        CHILD_CHECK(lsashm_client_connect(T.path, &c2) == 0);
        CHILD_CHECK(lsashm_client_open(c2, "e", &w) == 0);
        lsashm_client_close(c2);
        rep.closed_client_span = lsashm_view_span(w, &b2, &s2);
        lsashm_view_close(w);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_view_span(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(16 * KiB, 4 * KiB, 0);
        lsashm_section_t *s2 = section_make(16 * KiB, 4 * KiB, 0);
        publish_text("d", s, rules_read, 1, "deferred");
        publish_text("e", s2, rules_read, 1, "other");
        struct child c = child_start(&AS_OWNER, span_child, NULL, -1);
        char ready;
        child_get(&c, &ready, 1);
        assert_int_equal(lsashm_server_unpublish(T.srv, "d"), 0);
        child_go(&c);
        struct span_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);
        assert_int_equal(rep.null_span, -EINVAL);
        assert_true(rep.null_ptr_ok);
        assert_int_equal(rep.live, 0);
        assert_true(rep.same_as_ptr);
        assert_true(rep.bounds_ok);
        assert_int_equal(rep.state, -ESTALE);
        assert_int_equal(rep.stale_span, -ESTALE);
        assert_true(rep.untouched);
        assert_true(rep.stale_ptr_null);
        assert_true(rep.view_ptr_still);
        assert_int_equal(rep.closed_client_span, -ESTALE);
        server_stop();
        section_drop(s);
        section_drop(s2);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_deferred_close_applied_with_next_open, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deferred_close_flushed_when_full, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deferred_close_client_dies, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deferred_close_forged_ids_ignored, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deferred_close_needs_the_feature, setup, teardown),
                cmocka_unit_test_setup_teardown(test_view_span, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
