/* SPDX-License-Identifier: MIT */
/*
 * Sharing sections across real processes (the fixture:
 * tests/share-access-fixture.h).
 *
 * Policy: default deny, uid / gid / supplementary-group / anyone rules,
 * widest access wins, unknown names, read-only opens, the view accessors
 * and their bounds, and root's view beyond what is committed.
 */

#include "share-access-fixture.h"

/* ======================================================================
 * 1. Policy and the view accessors
 * ====================================================================== */

static const struct lsashm_rule rules_uid_ro[] = { { LSASHM_RULE_UID, 65534, R } };
static const struct lsashm_rule rules_uid_rw[] = { { LSASHM_RULE_UID, 65534, W } };
static const struct lsashm_rule rules_gid_primary[] = { { LSASHM_RULE_GID, 12345, R } };
static const struct lsashm_rule rules_gid_supp[] = { { LSASHM_RULE_GID, 4242, W } };
static const struct lsashm_rule rules_widest[] = {
        { LSASHM_RULE_UID, 12345, R },
        { LSASHM_RULE_GID, 4242, W },
        { LSASHM_RULE_ANYONE, 0, R },
        { LSASHM_RULE_UID, 65534, NONE }, /* NONE grants nothing; it takes nothing away */
};
static const struct lsashm_rule rules_none[] = { { LSASHM_RULE_UID, 65534, NONE }, { LSASHM_RULE_ANYONE, 0, NONE } };

static const struct {
        const char *name;
        const struct lsashm_rule *rules;
        size_t n;
} policies[] = {
        { "deny", NULL, 0 },
        { "uid-ro", rules_uid_ro, 1 },
        { "uid-rw", rules_uid_rw, 1 },
        { "gid-primary", rules_gid_primary, 1 },
        { "gid-supp", rules_gid_supp, 1 },
        { "anyone", rules_anyone, 1 },
        { "widest", rules_widest, 4 },
        { "none-rules", rules_none, 2 },
        { "nosuch", NULL, 0 }, /* never published */
};
#define N_POLICIES (sizeof(policies) / sizeof(policies[0]))

#define EA (-EACCES)
#define EN (-ENOENT)
/* What each identity gets: -errno, or the access granted. */
static const struct {
        const struct ident *who;
        int expect[N_POLICIES];
} policy_table[] = {
        /*                       deny uid-ro uid-rw gid-p gid-s anyone widest none nosuch */
        { &AS_NOBODY, { EA, R, W, EA, EA, R, R, EA, EN } },
        { &AS_USER_SUPP, { EA, EA, EA, R, W, R, W, EA, EN } },
        { &AS_USER, { EA, EA, EA, R, EA, R, R, EA, EN } },
        { &AS_ROOT, { EA, EA, EA, EA, EA, R, R, EA, EN } },
};

struct open_report {
        int32_t r;           /* lsashm_client_open */
        int32_t writable;    /* lsashm_view_writable */
        int32_t mut_ok;      /* ptr_mut non-NULL exactly when writable */
        int32_t maps_ok;     /* /proc/self/maps shows r--s or rw-s accordingly */
        int32_t text_ok;     /* the text at the root offset is the one published */
        int32_t state;       /* lsashm_view_state */
        int32_t ro_r;        /* lsashm_client_open_readonly */
        int32_t ro_writable;
        int32_t ro_mut_null;
        int32_t ro_maps_ok;
        uint64_t size, root;
};

static void expected_text(const char *name, char *buf, size_t len)
{
        snprintf(buf, len, "section %s says hello", name);
}

static int policy_child(void *arg)
{
        (void)arg;
        lsashm_client_t *c;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        struct open_report rep[N_POLICIES];
        memset(rep, 0, sizeof(rep));
        for (size_t i = 0; i < N_POLICIES; i++) {
                struct open_report *o = &rep[i];
                lsashm_view_t *v = NULL;
                o->r = lsashm_client_open(c, policies[i].name, &v);
                if (o->r == 0) {
                        char text[128], perms[5];
                        expected_text(policies[i].name, text, sizeof(text));
                        o->writable = lsashm_view_writable(v);
                        o->size = lsashm_view_size(v);
                        o->root = lsashm_view_root(v);
                        o->mut_ok = (lsashm_view_ptr_mut(v, o->root, 1) != NULL) == o->writable;
                        const void *base = lsashm_view_ptr(v, 0, 1);
                        o->maps_ok = base && tu_maps_perms(base, perms) &&
                                     strcmp(perms, o->writable ? "rw-s" : "r--s") == 0;
                        const char *t = lsashm_view_ptr(v, o->root, strlen(text) + 1);
                        o->text_ok = t && strcmp(t, text) == 0;
                        o->state = lsashm_view_state(v);
                        lsashm_view_t *ro = NULL;
                        o->ro_r = lsashm_client_open_readonly(c, policies[i].name, &ro);
                        if (o->ro_r == 0) {
                                o->ro_writable = lsashm_view_writable(ro);
                                o->ro_mut_null = lsashm_view_ptr_mut(ro, 0, 1) == NULL;
                                o->ro_maps_ok = tu_maps_perms(lsashm_view_ptr(ro, 0, 1), perms) &&
                                                strcmp(perms, "r--s") == 0;
                                lsashm_view_close(ro);
                        }
                        lsashm_view_close(v);
                } else {
                        o->ro_r = lsashm_client_open_readonly(c, policies[i].name, &v);
                        CHILD_CHECK(o->ro_r != 0);
                }
        }
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_policy(void **state)
{
        (void)state;
        if (!am_root())
                skip();
        server_start(NULL, 0);
        const uint64_t page = tu_page_size();
        uint64_t roots[N_POLICIES];
        for (size_t i = 0; i + 1 < N_POLICIES; i++) {
                lsashm_section_t *s = section_make(64 * KiB, 8 * KiB, 0);
                char text[128];
                expected_text(policies[i].name, text, sizeof(text));
                roots[i] = publish_text(policies[i].name, s, policies[i].rules, policies[i].n, text);
        }
        assert_int_equal(stats().published, N_POLICIES - 1);

        uint64_t denied = 0;
        for (size_t k = 0; k < sizeof(policy_table) / sizeof(policy_table[0]); k++) {
                const struct ident *who = policy_table[k].who;
                struct child c = child_start(who, policy_child, NULL, -1);
                struct open_report rep[N_POLICIES];
                child_get(&c, rep, sizeof(rep));
                child_finish(&c);
                for (size_t i = 0; i < N_POLICIES; i++) {
                        const struct open_report *o = &rep[i];
                        int want = policy_table[k].expect[i];
                        int got = o->r < 0 ? o->r : o->writable ? W : R;
                        if (got != want)
                                fail_msg("%s opening %s: got %d, expected %d", who->what, policies[i].name, got,
                                         want);
                        if (want == EA)
                                denied += 2; /* the open and the read-only open */
                        if (want < 0) {
                                assert_int_equal(o->ro_r, want);
                                continue;
                        }
                        /* committed size, root as set, data as written: a
                         * writable view commits the whole section first, and
                         * every view opened after that sees all of it */
                        if (want == W)
                                assert_int_equal(o->size, 64 * KiB);
                        else
                                assert_true(o->size == (8 * KiB < page ? page : 8 * KiB) ||
                                            o->size == 64 * KiB);
                        assert_int_equal(o->root, roots[i]);
                        assert_true(o->text_ok);
                        assert_true(o->mut_ok);
                        assert_true(o->maps_ok);
                        assert_int_equal(o->state, 0);
                        /* read-only on request, even where read-write is allowed */
                        assert_int_equal(o->ro_r, 0);
                        assert_false(o->ro_writable);
                        assert_true(o->ro_mut_null);
                        assert_true(o->ro_maps_ok);
                }
        }
        struct lsashm_server_stats st = stats();
        assert_int_equal(st.denied, denied);
        assert_int_equal(st.accepted, 4);
        assert_int_equal(st.connections, 0);
        assert_int_equal(st.views, 0);
        assert_int_equal(st.dropped, 0);
        assert_int_equal(st.refused, 0);

        server_stop();
        for (int i = 0; i < MAX_SECTIONS; i++)
                if (T.sections[i])
                        section_drop(T.sections[i]);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* The accessors, bounds and root offsets, with a root client. */
struct accessor_report {
        int32_t connect_r, open_r, rw_r, ro_r;
        uint64_t size, root, grown_size;
        int32_t text_ok;
        int32_t bounds_ok[16];
        int32_t null_ok;
        int32_t ro_writable, ro_mut_null, rw_writable, rw_mut_ok;
};

static int accessor_child(void *arg)
{
        (void)arg;
        struct accessor_report rep;
        memset(&rep, 0, sizeof(rep));
        lsashm_client_t *c;
        rep.connect_r = lsashm_client_connect(T.path, &c);
        CHILD_CHECK(rep.connect_r == 0);
        lsashm_view_t *v = NULL, *rw = NULL, *ro = NULL;
        rep.open_r = lsashm_client_open(c, "acc", &v);
        CHILD_CHECK(rep.open_r == 0);
        size_t size = lsashm_view_size(v);
        rep.size = size;
        rep.root = lsashm_view_root(v);
        const char *text = lsashm_view_ptr(v, rep.root, 6);
        rep.text_ok = text && memcmp(text, "hello", 6) == 0;
        const uint8_t *base = lsashm_view_ptr(v, 0, 1);
        int k = 0;
        rep.bounds_ok[k++] = base != NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 0, size) == base;                 /* end == size */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, size - 1, 1) == base + size - 1;  /* last byte */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 1, size) == NULL;                 /* end == size + 1 */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 0, size + 1) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, size, 1) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, UINT64_MAX, 1) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, UINT64_MAX, 0) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 0, SIZE_MAX) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, 16, SIZE_MAX - 8) == NULL;        /* wraps to 8 */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, UINT64_MAX, SIZE_MAX) == NULL;
        rep.bounds_ok[k++] = lsashm_view_ptr(v, (uint64_t)1 << 63, (size_t)1 << 63) == NULL; /* wraps to 0 */
        rep.bounds_ok[k++] = lsashm_view_ptr_mut(v, 0, 1) == NULL;               /* a read-only view */
        rep.bounds_ok[k++] = lsashm_view_ptr(v, size - 16, 16) == base + size - 16;
        rep.null_ok = lsashm_view_ptr(NULL, 0, 1) == NULL && lsashm_view_ptr_mut(NULL, 0, 1) == NULL &&
                      lsashm_view_size(NULL) == 0 && lsashm_view_root(NULL) == 0 && !lsashm_view_writable(NULL) &&
                      lsashm_view_state(NULL) == -EINVAL;

        rep.rw_r = lsashm_client_open(c, "acc-rw", &rw);
        CHILD_CHECK(rep.rw_r == 0);
        rep.rw_writable = lsashm_view_writable(rw);
        char *w = lsashm_view_ptr_mut(rw, lsashm_view_root(rw), 32);
        rep.rw_mut_ok = w != NULL && lsashm_view_ptr_mut(rw, lsashm_view_size(rw), 1) == NULL;
        if (w)
                memcpy(w, "written by the client", 22);
        rep.ro_r = lsashm_client_open_readonly(c, "acc-rw", &ro);
        CHILD_CHECK(rep.ro_r == 0);
        rep.ro_writable = lsashm_view_writable(ro);
        rep.ro_mut_null = lsashm_view_ptr_mut(ro, 0, 1) == NULL;
        CHILD_SEND(rep);

        /* The owner grows the section; a new view sees the new committed size. */
        CHILD_WAIT();
        lsashm_view_t *v2 = NULL;
        CHILD_CHECK(lsashm_client_open(c, "acc", &v2) == 0);
        uint64_t grown = lsashm_view_size(v2);
        CHILD_CHECK(lsashm_view_size(v) == size); /* the old view keeps its size */
        CHILD_SEND(grown);
        lsashm_view_close(v2);
        lsashm_view_close(ro);
        lsashm_view_close(rw);
        lsashm_view_close(v);
        lsashm_client_close(c);
        return 0;
}

static void test_view_accessors(void **state)
{
        (void)state;
        server_start(NULL, 0);
        const uint64_t page = tu_page_size();
        lsashm_section_t *s = section_make(64 * KiB, 8 * KiB, 0);
        lsashm_section_t *srw = section_make(16 * KiB, 4 * KiB, 0);
        uint64_t off;
        put_text(s, "padding before the root", &off);
        uint64_t root = publish_text("acc", s, rules_anyone, 1, "hello");
        assert_true(root > 0);
        static const struct lsashm_rule anyone_rw[] = { { LSASHM_RULE_ANYONE, 0, W } };
        uint64_t rw_root = publish_text("acc-rw", srw, anyone_rw, 1, "client writes here........................");

        /* roots: inside the section, or -ERANGE; unknown names -ENOENT */
        struct lsashm_section_stats ss;
        assert_int_equal(lsashm_section_stats(s, &ss), 0);
        assert_int_equal(lsashm_server_set_root(T.srv, "acc", ss.reserved), -ERANGE);
        assert_int_equal(lsashm_server_set_root(T.srv, "acc", UINT64_MAX), -ERANGE);
        assert_int_equal(lsashm_server_set_root(T.srv, "nosuch", 0), -ENOENT);
        assert_int_equal(lsashm_server_set_root(T.srv, "acc", root), 0);

        struct child c = child_start(&AS_OWNER, accessor_child, NULL, -1);
        struct accessor_report rep;
        child_get(&c, &rep, sizeof(rep));
        assert_int_equal(rep.size, ss.committed);
        assert_int_equal(rep.size, tu_round_up(8 * KiB, page));
        assert_int_equal(rep.root, root);
        assert_true(rep.text_ok);
        for (int i = 0; i < 14; i++)
                if (!rep.bounds_ok[i])
                        fail_msg("bounds check %d failed", i);
        assert_true(rep.null_ok);
        assert_true(rep.rw_writable);
        assert_true(rep.rw_mut_ok);
        assert_false(rep.ro_writable);
        assert_true(rep.ro_mut_null);
        /* what the read-write client wrote, the owner reads */
        const char *seen = lsashm_section_ptr(srw, rw_root, 22);
        assert_non_null(seen);
        assert_string_equal(seen, "written by the client");
        assert_int_equal(lsashm_section_check(srw), 0);

        /* grow: the committed size a new view gets follows the section */
        void *big = NULL;
        assert_int_equal(lsashm_section_alloc(s, 20 * KiB, &big), 0);
        assert_int_equal(lsashm_section_stats(s, &ss), 0);
        assert_true(ss.committed > rep.size);
        child_go(&c);
        uint64_t grown;
        child_get(&c, &grown, sizeof(grown));
        assert_int_equal(grown, ss.committed);
        child_finish(&c);

        assert_int_equal(stats().views, 0);
        server_stop();
        section_drop(s);
        section_drop(srw);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/*
 * lsashm_server_set_root() accepts any offset inside the section (its
 * reserved size), so a client opening it must get a working view, not a
 * protocol error that also poisons its other views.
 */
struct far_root_report {
        int32_t first_r, far_r, first_state_after, far_root_inside;
};

static int far_root_child(void *arg)
{
        (void)arg;
        struct far_root_report rep = { 0 };
        lsashm_client_t *c;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        lsashm_view_t *first = NULL, *far = NULL;
        rep.first_r = lsashm_client_open(c, "near", &first);
        rep.far_r = lsashm_client_open(c, "far", &far);
        rep.first_state_after = first ? lsashm_view_state(first) : -1;
        if (far)
                rep.far_root_inside = lsashm_view_root(far) <= lsashm_view_size(far);
        lsashm_view_close(far);
        lsashm_view_close(first);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_root_beyond_committed(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *near = section_make(64 * KiB, 4 * KiB, 0);
        lsashm_section_t *far = section_make(64 * KiB, 4 * KiB, 0);
        publish_text("near", near, rules_anyone, 1, "near");
        publish_text("far", far, rules_anyone, 1, "far");
        /* 32 KiB is inside the section (64 KiB reserved) but not committed yet */
        int r = lsashm_server_set_root(T.srv, "far", 32 * KiB);
        assert_true(r == 0 || r == -ERANGE);
        struct child c = child_start(&AS_OWNER, far_root_child, NULL, -1);
        struct far_root_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);
        assert_int_equal(rep.first_r, 0);
        if (r == 0) {
                if (rep.far_r != 0)
                        fail_msg("set_root(32 KiB) in a 64 KiB section with 4 KiB committed was accepted, but "
                                 "opening it fails with %d (%s)",
                                 rep.far_r, strerror(-rep.far_r));
                assert_true(rep.far_root_inside);
        }
        /* whatever happened to "far", the client's other view is untouched */
        assert_int_equal(rep.first_state_after, 0);
        server_stop();
        section_drop(near);
        section_drop(far);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_view_accessors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_root_beyond_committed, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
