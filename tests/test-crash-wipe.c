/* SPDX-License-Identifier: MIT */
/*
 * The crash-wipe table (src/section/crash-wipe.c): every section that may
 * hold secrets is in it with its committed length, grown as it grows, and
 * out of it once deleted; crash_wipe_all() zeroes them through the owner's
 * mapping, readers-only sections included, and leaves NO_WIPE ones alone.
 * crash_wipe_all() is for a dying process (a later delete would wait for
 * ever), so each test that calls it does so in a child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/section.h"
#include "section/crash-wipe.h"
#include "test-util.h"

#define CHECK(cond) CHILD_CHECK(cond)

static bool all_bytes(const volatile uint8_t *p, size_t len, uint8_t v)
{
        for (size_t i = 0; i < len; i++)
                if (p[i] != v)
                        return false;
        return true;
}

static lsashm_section_t *make(uint32_t flags, uint64_t max, uint64_t initial)
{
        struct lsashm_section_config cfg = { .max_size = max, .initial_size = initial, .flags = flags };
        lsashm_section_t *s = NULL;
        return lsashm_section_create(&cfg, &s) == 0 ? s : NULL;
}

/* Created, grown, deleted: the table follows; NO_WIPE sections never enter. */
static void test_crash_wipe_table_follows_sections(void **state)
{
        (void)state;
        unsigned before = crash_wipe_count();
        lsashm_section_t *a = make(0, 1 << 20, 4096);
        lsashm_section_t *b = make(LSASHM_SECTION_NO_WIPE, 1 << 20, 4096);
        lsashm_section_t *c = make(LSASHM_SECTION_READERS_ONLY, 1 << 20, 0);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_int_equal(crash_wipe_count(), before + 2);
        assert_int_equal(lsashm_section_delete(a), 0);
        assert_int_equal(lsashm_section_delete(b), 0);
        assert_int_equal(crash_wipe_count(), before + 1);
        assert_int_equal(lsashm_section_delete(c), 0);
        assert_int_equal(crash_wipe_count(), before);
        /* More sections than one chunk of slots holds, and back. */
        enum { MANY = 1500 };
        static lsashm_section_t *many[MANY];
        for (int i = 0; i < MANY; i++)
                assert_non_null(many[i] = make(0, 4096, 4096));
        assert_int_equal(crash_wipe_count(), before + MANY);
        for (int i = 0; i < MANY; i++)
                assert_int_equal(lsashm_section_delete(many[i]), 0);
        assert_int_equal(crash_wipe_count(), before);
}

/* In a child: secrets in a plain, a grown, a readers-only and a NO_WIPE
 * section, each also mapped read-only as a client would; after the wipe the
 * client views read zeros, except NO_WIPE's. */
static void test_crash_wipe_all_zeroes_what_clients_see(void **state)
{
        (void)state;
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                lsashm_section_t *plain = make(0, 1 << 20, 64 << 10);
                lsashm_section_t *grown = make(0, 8 << 20, 4096);
                lsashm_section_t *sealed = make(LSASHM_SECTION_READERS_ONLY, 1 << 20, 64 << 10);
                lsashm_section_t *open = make(LSASHM_SECTION_NO_WIPE, 1 << 20, 64 << 10);
                CHECK(plain && grown && sealed && open);
                lsashm_section_t *all[] = { plain, grown, sealed, open };
                const volatile uint8_t *views[4];
                size_t sizes[4];
                for (int i = 0; i < 4; i++) {
                        void *p = NULL;
                        /* Grow the second one well past its first commit. */
                        size_t len = i == 1 ? (4u << 20) : 4096;
                        CHECK(lsashm_section_alloc(all[i], len, &p) == 0);
                        memset(p, 0xEE, len);
                        struct lsashm_section_stats st;
                        CHECK(lsashm_section_stats(all[i], &st) == 0);
                        sizes[i] = st.committed;
                        void *v = mmap(NULL, sizes[i], PROT_READ, MAP_SHARED, lsashm_section_fd(all[i]), 0);
                        CHECK(v != MAP_FAILED);
                        views[i] = v;
                        CHECK(!all_bytes(views[i], sizes[i], 0));
                }
                CHECK(crash_wipe_all() >= 3);
                for (int i = 0; i < 3; i++)
                        CHECK(all_bytes(views[i], sizes[i], 0));
                CHECK(!all_bytes(views[3], sizes[3], 0));
                _exit(0);
        }
        int status = tu_wait(pid, 60, NULL);
        char why[96];
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("child %s", tu_describe_status(status, why, sizeof(why)));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crash_wipe_table_follows_sections),
                cmocka_unit_test(test_crash_wipe_all_zeroes_what_clients_see),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
