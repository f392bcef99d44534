/* SPDX-License-Identifier: MIT */
/* Growing the committed part, and what happens when the pages can't be had. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lsashm/ntsecpkg.h"
#include "section/section-internal.h"

static int (*real_commit)(int, uint64_t, uint64_t);
static int commits_refused;
static uint64_t refuse_above; /* refuse commits longer than this */

static int refusing_commit(int fd, uint64_t offset, uint64_t len)
{
        if (len > refuse_above) {
                commits_refused++;
                return -ENOSPC; /* what a full tmpfs or a memory limit looks like */
        }
        return real_commit(fd, offset, len);
}

static int setup(void **state)
{
        (void)state;
        real_commit = memfd_section_commit;
        memfd_section_commit = refusing_commit;
        commits_refused = 0;
        refuse_above = UINT64_MAX;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        memfd_section_commit = real_commit;
        return 0;
}

static void test_grow_commit_failure_gives_null_and_keeps_heap(void **state)
{
        (void)state;
        void *section = LsaCreateSharedMemory(1 << 20, 4096);
        assert_non_null(section);
        void *small = LsaAllocateSharedMemory(section, 1000);
        assert_non_null(small);
        struct lsashm_section_stats before, after;
        assert_int_equal(lsashm_shared_memory_stats(section, &before), 0);

        refuse_above = 0;
        assert_null(LsaAllocateSharedMemory(section, 8192));
        assert_true(commits_refused > 0);
        assert_int_equal(lsashm_shared_memory_stats(section, &after), 0);
        assert_int_equal(after.committed, before.committed);
        assert_int_equal(after.live_blocks, before.live_blocks);
        assert_int_equal(after.failed_allocs, before.failed_allocs + 1);
        assert_int_equal(lsashm_shared_memory_check(section), 0);

        /* Memory is back: the same request now grows the section. */
        refuse_above = UINT64_MAX;
        void *big = LsaAllocateSharedMemory(section, 8192);
        assert_non_null(big);
        assert_int_equal(lsashm_shared_memory_stats(section, &after), 0);
        assert_true(after.committed > before.committed);
        LsaFreeSharedMemory(section, small);
        LsaFreeSharedMemory(section, big);
        assert_true(LsaDeleteSharedMemory(section));
}

static void test_grow_settles_for_exact_need_under_pressure(void **state)
{
        (void)state;
        lsashm_section_t *s;
        struct lsashm_section_config cfg = { .max_size = 16 << 20, .initial_size = 0 };
        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        /* The usual step is 64 KiB; allow only single pages. */
        refuse_above = 4096;
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 100, &p), 0);
        struct lsashm_section_stats st;
        assert_int_equal(lsashm_section_stats(s, &st), 0);
        assert_int_equal(st.committed, 4096);
        assert_int_equal(commits_refused, 1);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_grow_stops_at_reserved(void **state)
{
        (void)state;
        lsashm_section_t *s;
        struct lsashm_section_config cfg = { .max_size = 100000, .initial_size = 0 };
        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        struct lsashm_section_stats st;
        void *p;
        int n = 0;
        while (lsashm_section_alloc(s, 1000, &p) == 0)
                n++;
        assert_int_equal(lsashm_section_alloc(s, 1000, &p), -ENOSPC);
        assert_int_equal(lsashm_section_stats(s, &st), 0);
        assert_int_equal(st.reserved, 102400); /* 100000 rounded up to pages */
        assert_int_equal(st.committed, st.reserved);
        assert_int_equal(n, 102400 / 1008);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_grow_keeps_blocks_and_contents(void **state)
{
        (void)state;
        lsashm_section_t *s;
        struct lsashm_section_config cfg = { .max_size = 8 << 20, .initial_size = 4096,
                                             .flags = LSASHM_SECTION_NO_WIPE };
        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        unsigned char *first;
        assert_int_equal(lsashm_section_alloc(s, 64, (void **)&first), 0);
        memset(first, 0x5a, 64);
        for (int i = 0; i < 200; i++) {
                void *p;
                assert_int_equal(lsashm_section_alloc(s, 20000, &p), 0);
        }
        for (int i = 0; i < 64; i++)
                assert_int_equal(first[i], 0x5a);
        struct lsashm_section_stats st;
        assert_int_equal(lsashm_section_stats(s, &st), 0);
        assert_true(st.committed >= 200 * 20000 && st.committed <= st.reserved);
        assert_int_equal(st.peak_committed, st.committed);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_grow_commit_failure_gives_null_and_keeps_heap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_grow_settles_for_exact_need_under_pressure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_grow_stops_at_reserved, setup, teardown),
                cmocka_unit_test_setup_teardown(test_grow_keeps_blocks_and_contents, setup, teardown),
        };
        return cmocka_run_group_tests_name("grow", tests, NULL, NULL);
}
