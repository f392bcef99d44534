/* SPDX-License-Identifier: MIT */
/*
 * The native section API (lsashm/section.h): configuration, commit and
 * growth, the heap's answers, pointer <-> offset, the memfd and its seals,
 * and the stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/section.h"
#include "test-util.h"

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)

/* A sentinel that no call can legitimately return. */
#define POISON_PTR ((void *)(uintptr_t)0x5a5a5a5a5a5a5a50u)

static lsashm_section_t *make(uint64_t max, uint64_t initial, uint32_t flags, const char *name)
{
        struct lsashm_section_config cfg = {
                .max_size = max, .initial_size = initial, .flags = flags, .name = name,
        };
        lsashm_section_t *s = NULL;

        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        assert_non_null(s);
        return s;
}

/* Create commits nothing: the first allocation commits initial_size. Grow a
 * section as that first allocation would, and leave no block behind. */
static void first_growth(lsashm_section_t *s)
{
        void *p = NULL;

        assert_int_equal(lsashm_section_alloc(s, 1, &p), 0);
        assert_int_equal(lsashm_section_free(s, p), 0);
}

static struct lsashm_section_stats stats_of(lsashm_section_t *s)
{
        struct lsashm_section_stats st;

        memset(&st, 0xa5, sizeof(st));
        assert_int_equal(lsashm_section_stats(s, &st), 0);
        return st;
}

static void *alloc_ok(lsashm_section_t *s, size_t size)
{
        void *p = NULL;

        assert_int_equal(lsashm_section_alloc(s, size, &p), 0);
        assert_non_null(p);
        return p;
}

/* ---- create / delete -------------------------------------------------- */

static void test_section_create_delete(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        lsashm_section_t *s = make(64 * KiB, 4 * KiB, 0, "create-delete");

        assert_non_null(lsashm_section_base(s));
        assert_int_equal(tu_count_fds(), fds + 1);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_section_delete_unmaps(void **state)
{
        (void)state;
        char needle[64];
        snprintf(needle, sizeof(needle), "/memfd:unmap-%d", (int)getpid());
        lsashm_section_t *s = make(64 * KiB, 64 * KiB, 0, needle + strlen("/memfd:"));

        assert_true(tu_maps_contain(needle));
        assert_int_equal(lsashm_section_delete(s), 0);
        assert_false(tu_maps_contain(needle));
}

static void test_section_delete_with_live_blocks(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        lsashm_section_t *s = make(1 * MiB, 4 * KiB, 0, NULL);

        for (int i = 0; i < 100; i++)
                memset(alloc_ok(s, 1000), 0x11, 1000);
        assert_int_equal(lsashm_section_delete(s), 0);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_section_delete_null(void **state)
{
        (void)state;
        assert_int_equal(lsashm_section_delete(NULL), -EINVAL);
}

static void test_section_create_many_no_fd_leak(void **state)
{
        (void)state;
        int fds = tu_count_fds();

        for (int i = 0; i < 300; i++) {
                lsashm_section_t *s = make(64 * KiB, (uint64_t)(i % 3) * 4 * KiB, 0, "cycle");
                void *p = alloc_ok(s, 1 + (size_t)i);
                memset(p, 0xee, 1 + (size_t)i);
                assert_int_equal(lsashm_section_delete(s), 0);
        }
        assert_int_equal(tu_count_fds(), fds);
}

/* ---- configuration errors ------------------------------------------- */

static int try_create(uint64_t max, uint64_t initial, uint32_t flags, const char *name)
{
        struct lsashm_section_config cfg = {
                .max_size = max, .initial_size = initial, .flags = flags, .name = name,
        };
        lsashm_section_t *s = POISON_PTR;
        int fds = tu_count_fds();
        int r = lsashm_section_create(&cfg, &s);

        if (r == 0) {
                assert_true(s != POISON_PTR && s != NULL);
                assert_int_equal(lsashm_section_delete(s), 0);
        } else {
                /* outputs are documented as untouched on failure */
                assert_ptr_equal(s, POISON_PTR);
                assert_int_equal(tu_count_fds(), fds);
        }
        return r;
}

static void test_section_create_null_args(void **state)
{
        (void)state;
        struct lsashm_section_config cfg = { .max_size = 4096 };
        lsashm_section_t *s = POISON_PTR;

        assert_int_equal(lsashm_section_create(NULL, &s), -EINVAL);
        assert_ptr_equal(s, POISON_PTR);
        assert_int_equal(lsashm_section_create(&cfg, NULL), -EINVAL);
        assert_int_equal(lsashm_section_create(NULL, NULL), -EINVAL);
}

static void test_section_create_max_zero(void **state)
{
        (void)state;
        assert_int_equal(try_create(0, 0, 0, NULL), -EINVAL);
}

static void test_section_create_initial_above_max(void **state)
{
        (void)state;
        assert_int_equal(try_create(64 * KiB, 64 * KiB + 1, 0, NULL), -EINVAL);
        /* Both round to the same page count, but the request itself is wrong. */
        assert_int_equal(try_create(100, 101, 0, NULL), -EINVAL);
        assert_int_equal(try_create(64 * KiB, UINT64_MAX, 0, NULL), -EINVAL);
}

static void test_section_create_unknown_flags(void **state)
{
        (void)state;
        assert_int_equal(try_create(64 * KiB, 0, 1u << 2, NULL), -EINVAL);
        assert_int_equal(try_create(64 * KiB, 0, 1u << 31, NULL), -EINVAL);
        assert_int_equal(try_create(64 * KiB, 0, UINT32_MAX, NULL), -EINVAL);
        /* the known flags alone are fine */
        assert_int_equal(try_create(64 * KiB, 0,
                                    LSASHM_SECTION_NO_WIPE | LSASHM_SECTION_READERS_ONLY, NULL),
                         0);
}

static void test_section_create_name_with_slash(void **state)
{
        (void)state;
        assert_int_equal(try_create(64 * KiB, 0, 0, "a/b"), -EINVAL);
        assert_int_equal(try_create(64 * KiB, 0, 0, "/"), -EINVAL);
}

static void test_section_create_name_length(void **state)
{
        (void)state;
        char name[LSASHM_SECTION_NAME_MAX + 2];

        memset(name, 'n', sizeof(name));
        name[LSASHM_SECTION_NAME_MAX + 1] = '\0';
        assert_int_equal(try_create(64 * KiB, 0, 0, name), -EINVAL);
        /* the longest name memfd_create accepts is accepted too */
        name[LSASHM_SECTION_NAME_MAX] = '\0';
        assert_int_equal(try_create(64 * KiB, 0, 0, name), 0);
}

static void test_section_create_too_big(void **state)
{
        (void)state;
        assert_int_equal(try_create(LSASHM_SECTION_MAX_SIZE + 1, 0, 0, NULL), -EFBIG);
        assert_int_equal(try_create(LSASHM_SECTION_MAX_SIZE * 2, 4096, 0, NULL), -EFBIG);
        /* page rounding must not wrap around to a small size */
        assert_int_equal(try_create(UINT64_MAX, 0, 0, NULL), -EFBIG);
        assert_int_equal(try_create(UINT64_MAX - 4095, 0, 0, NULL), -EFBIG);
}

static void test_section_create_largest_allowed(void **state)
{
        (void)state;
        lsashm_section_t *s = make(LSASHM_SECTION_MAX_SIZE, 64 * KiB, 0, "largest");
        struct lsashm_section_stats st = stats_of(s);

        assert_true(st.reserved == LSASHM_SECTION_MAX_SIZE);
        assert_int_equal(lsashm_section_check(s), 0);
        memset(alloc_ok(s, 4096), 1, 4096);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* ---- sizes: rounding and commit ---------------------------------------- */

static void test_section_reserved_rounded_to_pages(void **state)
{
        (void)state;
        const uint64_t pg = tu_page_size();
        const uint64_t sizes[] = { 1, 15, 16, pg - 1, pg, pg + 1, 3 * pg + 7, 1 * MiB + 1 };

        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                lsashm_section_t *s = make(sizes[i], 0, 0, NULL);
                struct lsashm_section_stats st = stats_of(s);
                struct stat sb;

                assert_true(st.reserved == tu_round_up(sizes[i], pg));
                assert_int_equal(fstat(lsashm_section_fd(s), &sb), 0);
                assert_true((uint64_t)sb.st_size == st.reserved);
                assert_int_equal(lsashm_section_delete(s), 0);
        }
}

static void test_section_initial_commit(void **state)
{
        (void)state;
        const uint64_t pg = tu_page_size();
        const uint64_t initial[] = { 0, 1, pg, pg + 1, 100 * KiB, 1 * MiB };

        for (size_t i = 0; i < sizeof(initial) / sizeof(initial[0]); i++) {
                lsashm_section_t *s = make(1 * MiB, initial[i], 0, NULL);
                struct lsashm_section_stats st = stats_of(s);
                unsigned char *base = lsashm_section_base(s);

                /* nothing until the first allocation, which commits it all */
                assert_true(st.committed == 0 && st.peak_committed == 0);
                first_growth(s);
                st = stats_of(s);
                assert_true(st.committed >= tu_round_up(initial[i], pg));
                assert_true(st.committed <= st.reserved);
                assert_true(st.committed % pg == 0);
                assert_true(st.peak_committed >= st.committed);
                /* the committed prefix is readable, writable and zero */
                assert_true(tu_all_zero(base, st.committed));
                memset(base, 0x7e, st.committed);
                assert_int_equal(lsashm_section_delete(s), 0);
        }
}

static void test_section_base_page_aligned(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);

        assert_true((uintptr_t)lsashm_section_base(s) % tu_page_size() == 0);
        assert_int_equal(lsashm_section_delete(s), 0);
        assert_null(lsashm_section_base(NULL));
}

/* ---- alloc -------------------------------------------------------------- */

static void test_section_alloc_aligned_zeroed_inside(void **state)
{
        (void)state;
        lsashm_section_t *s = make(4 * MiB, 4 * KiB, 0, NULL);
        unsigned char *base = lsashm_section_base(s);

        for (size_t size = 1; size <= 3000; size += 7) {
                unsigned char *p = alloc_ok(s, size);
                struct lsashm_section_stats st = stats_of(s);

                assert_true((uintptr_t)p % LSASHM_SECTION_ALIGNMENT == 0);
                assert_true(p >= base);
                assert_true(p + size <= base + st.committed);
                assert_true(tu_all_zero(p, size));
                memset(p, 0xcc, size);
        }
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_alloc_zeroed_after_reuse(void **state)
{
        (void)state;
        /* Both with and without wiping: the allocation itself promises zeros. */
        const uint32_t flags[] = { 0, LSASHM_SECTION_NO_WIPE };

        for (size_t f = 0; f < 2; f++) {
                lsashm_section_t *s = make(64 * KiB, 64 * KiB, flags[f], NULL);
                for (int round = 0; round < 50; round++) {
                        size_t size = 16 + (size_t)round * 48;
                        unsigned char *p = alloc_ok(s, size);
                        assert_true(tu_all_zero(p, size));
                        memset(p, 0xab, size);
                        assert_int_equal(lsashm_section_free(s, p), 0);
                }
                assert_int_equal(lsashm_section_delete(s), 0);
        }
}

static void test_section_alloc_blocks_disjoint(void **state)
{
        (void)state;
        enum { N = 200 };
        lsashm_section_t *s = make(1 * MiB, 0, 0, NULL);
        unsigned char *p[N];
        size_t sz[N];

        for (int i = 0; i < N; i++) {
                sz[i] = 1 + (size_t)(i * 37) % 2000;
                p[i] = alloc_ok(s, sz[i]);
                memset(p[i], i & 0xff, sz[i]);
        }
        for (int i = 0; i < N; i++)
                for (size_t k = 0; k < sz[i]; k++)
                        if (p[i][k] != (unsigned char)(i & 0xff))
                                fail_msg("block %d overwritten at byte %zu", i, k);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_alloc_null_args(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);
        void *p = POISON_PTR;

        assert_int_equal(lsashm_section_alloc(NULL, 16, &p), -EINVAL);
        assert_ptr_equal(p, POISON_PTR);
        assert_int_equal(lsashm_section_alloc(s, 16, NULL), -EINVAL);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_alloc_size_zero(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);
        void *p = POISON_PTR;

        assert_int_equal(lsashm_section_alloc(s, 0, &p), -EINVAL);
        assert_ptr_equal(p, POISON_PTR);
        assert_true(stats_of(s).live_blocks == 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_alloc_too_big(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);
        void *p = POISON_PTR;

        assert_int_equal(lsashm_section_alloc(s, 64 * KiB + 1, &p), -E2BIG);
        assert_int_equal(lsashm_section_alloc(s, 1 * MiB, &p), -E2BIG);
        assert_int_equal(lsashm_section_alloc(s, SIZE_MAX, &p), -E2BIG);
        /* sizes that would wrap when rounded up to the granule */
        assert_int_equal(lsashm_section_alloc(s, SIZE_MAX - 7, &p), -E2BIG);
        assert_ptr_equal(p, POISON_PTR);
        assert_int_equal(lsashm_section_check(s), 0);
        /* the whole reserved size in one block is fine */
        p = alloc_ok(s, 64 * KiB);
        assert_ptr_equal(p, lsashm_section_base(s));
        memset(p, 1, 64 * KiB);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_alloc_limit_is_max_size(void **state)
{
        (void)state;
        const uint64_t pg = tu_page_size();
        /* 100 bytes asked, a whole page reserved: no block may be larger than
         * what was asked for (LsaAllocateSharedMemory's "Size > MaxSize"),
         * though the heap has the whole page to place it in. */
        lsashm_section_t *s = make(100, 0, 0, NULL);
        void *p = NULL;

        assert_true(stats_of(s).reserved == pg);
        assert_int_equal(lsashm_section_alloc(s, 101, &p), -E2BIG);
        assert_int_equal(lsashm_section_alloc(s, pg, &p), -E2BIG);
        assert_int_equal(lsashm_section_alloc(s, 100, &p), 0);
        assert_ptr_equal(p, lsashm_section_base(s));
        memset(p, 0x3c, 100);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_alloc_finds_any_fitting_free_range(void **state)
{
        (void)state;
        /* Two free ranges of one size class, the larger listed behind the
         * smaller: -ENOSPC is documented only for "no free range large
         * enough", and largest_free promises the larger one is allocatable. */
        const size_t big = 1050 * 16, small = 1030 * 16;
        lsashm_section_t *s = make(64 * KiB, 64 * KiB, 0, NULL);
        void *a, *b, *sep1, *sep2, *rest, *p = NULL;

        a = alloc_ok(s, big);
        sep1 = alloc_ok(s, 16);
        b = alloc_ok(s, small);
        sep2 = alloc_ok(s, 16);
        rest = alloc_ok(s, 64 * KiB - big - small - 32);
        assert_int_equal(lsashm_section_alloc(s, 16, &p), -ENOSPC);
        assert_int_equal(lsashm_section_free(s, a), 0);
        assert_int_equal(lsashm_section_free(s, b), 0);

        struct lsashm_section_stats st = stats_of(s);
        assert_true(st.largest_free == big);
        assert_true(st.committed == st.reserved);
        int r = lsashm_section_alloc(s, big, &p);
        if (r != 0)
                fail_msg("alloc(%zu) = %d although a free range of %zu bytes exists "
                         "(largest_free %llu) in a section at its reserved size",
                         big, r, big, (unsigned long long)st.largest_free);
        assert_ptr_equal(p, a);
        (void)sep1;
        (void)sep2;
        (void)rest;
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_stats_largest_free_same_class(void **state)
{
        (void)state;
        /* As above with room left to grow: what largest_free reports must fit
         * without growing, so committed stays where it is. */
        const size_t big = 1050 * 16, small = 1030 * 16;
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0, NULL);
        void *a, *b, *p = NULL;

        a = alloc_ok(s, big);
        alloc_ok(s, 16);
        b = alloc_ok(s, small);
        alloc_ok(s, 16);
        alloc_ok(s, 64 * KiB - big - small - 32);
        assert_int_equal(lsashm_section_free(s, a), 0);
        assert_int_equal(lsashm_section_free(s, b), 0);
        struct lsashm_section_stats st = stats_of(s);
        assert_true(st.largest_free == big);
        assert_int_equal(lsashm_section_alloc(s, st.largest_free, &p), 0);
        if (stats_of(s).committed != st.committed)
                fail_msg("alloc(largest_free = %llu) grew the section from %llu to %llu bytes",
                         (unsigned long long)st.largest_free, (unsigned long long)st.committed,
                         (unsigned long long)stats_of(s).committed);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_alloc_full_then_free_makes_room(void **state)
{
        (void)state;
        enum { N = 64 };
        lsashm_section_t *s = make(N * 1024, 4 * KiB, 0, NULL);
        void *blocks[N + 1];
        void *p = POISON_PTR;
        int n = 0;
        int r;

        while ((r = lsashm_section_alloc(s, 1024, &blocks[n])) == 0) {
                n++;
                assert_true(n <= N);
        }
        assert_int_equal(r, -ENOSPC);
        /* nothing is spent on the heap's own bookkeeping inside the section */
        assert_int_equal(n, N);
        struct lsashm_section_stats st = stats_of(s);
        assert_true(st.in_use == st.reserved);
        assert_true(st.committed == st.reserved);
        assert_true(st.failed_allocs >= 1);

        assert_int_equal(lsashm_section_alloc(s, 16, &p), -ENOSPC);
        assert_ptr_equal(p, POISON_PTR);

        assert_int_equal(lsashm_section_free(s, blocks[N / 2]), 0);
        p = alloc_ok(s, 1024);
        assert_ptr_equal(p, blocks[N / 2]);
        assert_int_equal(lsashm_section_alloc(s, 16, &p), -ENOSPC);

        /* The section is exactly full of 1 KiB blocks, so these two are live
         * neighbours; freed, they must coalesce into one 2 KiB range. */
        unsigned char *base = lsashm_section_base(s);
        assert_int_equal(lsashm_section_free(s, base + 10 * 1024), 0);
        assert_int_equal(lsashm_section_free(s, base + 11 * 1024), 0);
        p = alloc_ok(s, 2048);
        assert_ptr_equal(p, base + 10 * 1024);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_alloc_grows_on_demand(void **state)
{
        (void)state;
        const uint64_t pg = tu_page_size();
        lsashm_section_t *s = make(1 * MiB, pg, 0, NULL);
        unsigned char *base = lsashm_section_base(s);
        uint64_t prev = stats_of(s).committed;
        uint64_t total = 0;
        bool grew = false;
        void *p;
        int r;

        while ((r = lsashm_section_alloc(s, 4096, &p)) == 0) {
                struct lsashm_section_stats st = stats_of(s);

                assert_true(st.committed >= prev);
                assert_true(st.committed <= st.reserved);
                assert_true(st.peak_committed >= st.committed);
                assert_true((unsigned char *)p + 4096 <= base + st.committed);
                if (st.committed > prev)
                        grew = true;
                prev = st.committed;
                /* a freshly committed page must be writable at once */
                memset(p, 0x5c, 4096);
                total += 4096;
        }
        assert_int_equal(r, -ENOSPC);
        assert_true(grew);
        assert_true(total == 1 * MiB);
        assert_true(stats_of(s).committed == 1 * MiB);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_alloc_grows_for_big_block(void **state)
{
        (void)state;
        lsashm_section_t *s = make(8 * MiB, 0, 0, NULL);
        unsigned char *small = alloc_ok(s, 100);
        unsigned char *big = alloc_ok(s, 5 * MiB);
        struct lsashm_section_stats st = stats_of(s);

        assert_true(st.committed >= 5 * MiB + 112);
        assert_true(st.committed <= st.reserved);
        assert_true(big + 5 * MiB <= (unsigned char *)lsashm_section_base(s) + st.committed);
        assert_true(tu_all_zero(big, 5 * MiB));
        memset(big, 0x42, 5 * MiB);
        assert_true(tu_all_zero(small, 100));
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_uncommitted_tail_inaccessible(void **state)
{
        (void)state;
        const uint64_t pg = tu_page_size();
        lsashm_section_t *s = make(1 * MiB, 16 * KiB, 0, NULL);
        unsigned char *base = lsashm_section_base(s);
        char perms[5];

        /* created: nothing committed, nothing accessible */
        assert_true(tu_maps_perms(base, perms));
        assert_string_equal(perms, "---s");
        first_growth(s);
        struct lsashm_section_stats st = stats_of(s);
        assert_true(st.committed < st.reserved);
        assert_true(tu_maps_perms(base, perms));
        assert_string_equal(perms, "rw-s");
        assert_true(tu_maps_perms(base + st.committed, perms));
        assert_string_equal(perms, "---s");
        assert_true(tu_maps_perms(base + st.reserved - pg, perms));
        assert_string_equal(perms, "---s");
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* ---- free --------------------------------------------------------------- */

/* Every stat except refused_frees (and failed_allocs, untouched by frees). */
static void assert_same_but_refusals(const struct lsashm_section_stats *a,
                                     const struct lsashm_section_stats *b)
{
        assert_true(a->reserved == b->reserved);
        assert_true(a->committed == b->committed);
        assert_true(a->in_use == b->in_use);
        assert_true(a->free == b->free);
        assert_true(a->largest_free == b->largest_free);
        assert_true(a->live_blocks == b->live_blocks);
        assert_true(a->peak_in_use == b->peak_in_use);
        assert_true(a->failed_allocs == b->failed_allocs);
}

static void expect_refused(lsashm_section_t *s, void *ptr)
{
        struct lsashm_section_stats before = stats_of(s);

        assert_int_equal(lsashm_section_free(s, ptr), -EINVAL);
        struct lsashm_section_stats after = stats_of(s);
        assert_true(after.refused_frees == before.refused_frees + 1);
        assert_same_but_refusals(&before, &after);
        assert_int_equal(lsashm_section_check(s), 0);
}

static void test_section_free_null_ptr(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);
        alloc_ok(s, 32);
        struct lsashm_section_stats before = stats_of(s);

        assert_int_equal(lsashm_section_free(s, NULL), 0);
        struct lsashm_section_stats after = stats_of(s);
        assert_same_but_refusals(&before, &after);
        assert_true(after.refused_frees == before.refused_frees);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_free_null_section(void **state)
{
        (void)state;
        int x;
        assert_int_equal(lsashm_section_free(NULL, &x), -EINVAL);
        assert_int_equal(lsashm_section_free(NULL, NULL), -EINVAL);
}

static void test_section_free_foreign_malloc(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);
        void *live = alloc_ok(s, 64);
        void *m = malloc(64);

        assert_non_null(m);
        expect_refused(s, m);
        free(m);
        int on_stack = 0;
        expect_refused(s, &on_stack);
        assert_int_equal(lsashm_section_free(s, live), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_free_other_sections_block(void **state)
{
        (void)state;
        lsashm_section_t *a = make(64 * KiB, 0, 0, "a");
        lsashm_section_t *b = make(64 * KiB, 0, 0, "b");
        void *pa = alloc_ok(a, 64);
        void *pb = alloc_ok(b, 64);

        /* same offset in both sections: only the address tells them apart */
        uint64_t oa, ob;
        assert_int_equal(lsashm_section_offset(a, pa, &oa), 0);
        assert_int_equal(lsashm_section_offset(b, pb, &ob), 0);
        assert_true(oa == ob);

        expect_refused(a, pb);
        expect_refused(b, pa);
        assert_true(stats_of(b).live_blocks == 1);
        assert_int_equal(lsashm_section_free(a, pa), 0);
        assert_int_equal(lsashm_section_free(b, pb), 0);
        assert_int_equal(lsashm_section_delete(a), 0);
        assert_int_equal(lsashm_section_delete(b), 0);
}

static void test_section_free_interior(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);
        unsigned char *p = alloc_ok(s, 256);
        unsigned char *q = alloc_ok(s, 256);

        expect_refused(s, p + 16);
        expect_refused(s, p + 1);
        expect_refused(s, p + 255);
        expect_refused(s, q - 16);
        assert_int_equal(lsashm_section_free(s, p), 0);
        assert_int_equal(lsashm_section_free(s, q), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_free_unallocated_inside(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0, NULL);
        unsigned char *base = lsashm_section_base(s);
        struct lsashm_section_stats st = stats_of(s);

        /* free space, the uncommitted (PROT_NONE) tail and one past the end:
         * refused without being touched */
        expect_refused(s, base);
        expect_refused(s, base + 4096);
        expect_refused(s, base + st.committed);
        expect_refused(s, base + st.reserved - 16);
        expect_refused(s, base + st.reserved);
        expect_refused(s, base - 16);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_free_double(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);
        void *keep = alloc_ok(s, 48);
        void *p = alloc_ok(s, 48);

        assert_int_equal(lsashm_section_free(s, p), 0);
        expect_refused(s, p);
        expect_refused(s, p);
        /* the refused second free must not have put the block on a list twice */
        void *x = alloc_ok(s, 48);
        void *y = alloc_ok(s, 48);
        assert_ptr_not_equal(x, y);
        assert_ptr_not_equal(x, keep);
        assert_ptr_not_equal(y, keep);
        assert_true(stats_of(s).live_blocks == 3);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_free_refusals_accumulate(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);
        unsigned char *p = alloc_ok(s, 64);

        assert_true(stats_of(s).refused_frees == 0);
        for (int i = 0; i < 10; i++)
                assert_int_equal(lsashm_section_free(s, p + 16), -EINVAL);
        assert_true(stats_of(s).refused_frees == 10);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* ---- offset <-> pointer ------------------------------------------------ */

static void test_section_offset_ptr_round_trip(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 0, 0, NULL);
        unsigned char *base = lsashm_section_base(s);

        for (int i = 0; i < 100; i++) {
                size_t size = 1 + (size_t)i * 33;
                unsigned char *p = alloc_ok(s, size);
                uint64_t off = UINT64_MAX;

                assert_int_equal(lsashm_section_offset(s, p, &off), 0);
                assert_true(off == (uint64_t)(p - base));
                assert_ptr_equal(lsashm_section_ptr(s, off, size), p);
                /* an interior pointer translates too */
                assert_int_equal(lsashm_section_offset(s, p + size - 1, &off), 0);
                assert_ptr_equal(lsashm_section_ptr(s, off, 1), p + size - 1);
        }
        uint64_t off = 7;
        assert_int_equal(lsashm_section_offset(s, base, &off), 0);
        assert_true(off == 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_offset_errors(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0, NULL);
        unsigned char *base = lsashm_section_base(s);
        uint64_t off = 12345;

        /* nothing committed yet: no pointer is inside */
        assert_int_equal(lsashm_section_offset(s, base, &off), -ERANGE);
        assert_null(lsashm_section_ptr(s, 0, 1));
        first_growth(s);
        struct lsashm_section_stats st = stats_of(s);
        int local;

        assert_int_equal(lsashm_section_offset(s, base + st.committed, &off), -ERANGE);
        assert_int_equal(lsashm_section_offset(s, base + st.reserved - 1, &off), -ERANGE);
        assert_int_equal(lsashm_section_offset(s, base - 1, &off), -ERANGE);
        assert_int_equal(lsashm_section_offset(s, &local, &off), -ERANGE);
        assert_int_equal(lsashm_section_offset(s, NULL, &off), -ERANGE);
        assert_true(off == 12345);
        assert_int_equal(lsashm_section_offset(s, base + st.committed - 1, &off), 0);
        assert_true(off == st.committed - 1);
        assert_int_equal(lsashm_section_offset(NULL, base, &off), -EINVAL);
        assert_int_equal(lsashm_section_offset(s, base, NULL), -EINVAL);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_ptr_bounds_overflow_safe(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0, NULL);
        unsigned char *base = lsashm_section_base(s);
        first_growth(s);
        uint64_t c = stats_of(s).committed;

        assert_ptr_equal(lsashm_section_ptr(s, 0, 1), base);
        assert_ptr_equal(lsashm_section_ptr(s, 0, c), base);
        assert_ptr_equal(lsashm_section_ptr(s, c - 1, 1), base + c - 1);
        assert_null(lsashm_section_ptr(s, c - 1, 2));
        assert_null(lsashm_section_ptr(s, c, 1));
        assert_null(lsashm_section_ptr(s, 0, c + 1));
        assert_null(lsashm_section_ptr(s, UINT64_MAX, 1));
        assert_null(lsashm_section_ptr(s, UINT64_MAX, 0));
        assert_null(lsashm_section_ptr(s, 1, SIZE_MAX));
        assert_null(lsashm_section_ptr(s, 0, SIZE_MAX));
        assert_null(lsashm_section_ptr(s, UINT64_MAX, SIZE_MAX));
        assert_null(lsashm_section_ptr(s, UINT64_MAX - 4095, 8192));
        /* reserved but not committed is not a place to point into */
        assert_null(lsashm_section_ptr(s, 512 * KiB, 16));
        assert_null(lsashm_section_ptr(NULL, 0, 1));
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_ptr_follows_growth(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 0, 0, NULL);
        uint64_t c0 = stats_of(s).committed;
        unsigned char *p = alloc_ok(s, 256 * KiB);
        uint64_t off;

        assert_int_equal(lsashm_section_offset(s, p + 256 * KiB - 1, &off), 0);
        assert_true(off >= c0);
        assert_ptr_equal(lsashm_section_ptr(s, off, 1), p + 256 * KiB - 1);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* ---- the memfd --------------------------------------------------------- */

static void test_section_name_in_maps(void **state)
{
        (void)state;
        char name[64], needle[80];

        snprintf(name, sizeof(name), "lsashm-maps-test-%d", (int)getpid());
        snprintf(needle, sizeof(needle), "/memfd:%s", name);
        assert_false(tu_maps_contain(needle));
        lsashm_section_t *s = make(64 * KiB, 4 * KiB, 0, name);
        assert_true(tu_maps_contain(needle));

        /* the descriptor carries the name as well */
        char path[64], link[512];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", lsashm_section_fd(s));
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        assert_true(n > 0);
        link[n] = '\0';
        assert_true(strncmp(link, needle, strlen(needle)) == 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_default_name(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 4 * KiB, 0, NULL);
        char path[64], link[512];

        snprintf(path, sizeof(path), "/proc/self/fd/%d", lsashm_section_fd(s));
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        assert_true(n > 0);
        link[n] = '\0';
        /* exactly "lsashm": the kernel appends " (deleted)", nothing else */
        assert_true(strcmp(link, "/memfd:lsashm") == 0 ||
                    strcmp(link, "/memfd:lsashm (deleted)") == 0);
        assert_true(tu_maps_contain("/memfd:lsashm (deleted)\n") ||
                    tu_maps_contain("/memfd:lsashm\n"));
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_fd_sealed_memfd_cloexec(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 4 * KiB, 0, "seals");
        int fd = lsashm_section_fd(s);

        assert_true(fd >= 0);
        int seals = fcntl(fd, F_GET_SEALS);
        assert_true(seals >= 0); /* only memfds (shmem) answer this */
        assert_true((seals & F_SEAL_SHRINK) && (seals & F_SEAL_GROW) && (seals & F_SEAL_SEAL));
        /* the owner writes through its mapping: no write seal by default */
        assert_false(seals & F_SEAL_WRITE);
        assert_false(seals & F_SEAL_FUTURE_WRITE);
        int fdflags = fcntl(fd, F_GETFD);
        assert_true(fdflags >= 0 && (fdflags & FD_CLOEXEC));
        /* the same descriptor every time: it belongs to the section */
        assert_int_equal(lsashm_section_fd(s), fd);
        assert_int_equal(lsashm_section_fd(NULL), -EINVAL);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_fd_maps_same_memory(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 4 * KiB, 0, NULL);
        unsigned char *p = alloc_ok(s, 64);
        uint64_t off;

        assert_int_equal(lsashm_section_offset(s, p, &off), 0);
        uint64_t reserved = stats_of(s).reserved;
        unsigned char *view = mmap(NULL, reserved, PROT_READ | PROT_WRITE, MAP_SHARED,
                                   lsashm_section_fd(s), 0);
        assert_true(view != MAP_FAILED);
        memcpy(p, "owner", 6);
        assert_memory_equal(view + off, "owner", 6);
        memcpy(view + off, "client", 7);
        assert_memory_equal(p, "client", 7);
        assert_int_equal(munmap(view, reserved), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_readers_only(void **state)
{
        (void)state;
        const uint64_t pg = tu_page_size();
        lsashm_section_t *s = make(1 * MiB, pg, LSASHM_SECTION_READERS_ONLY, "readers-only");
        int fd = lsashm_section_fd(s);
        int seals = fcntl(fd, F_GET_SEALS);

        assert_true(seals >= 0);
        assert_true(seals & F_SEAL_FUTURE_WRITE);
        assert_true((seals & F_SEAL_SHRINK) && (seals & F_SEAL_GROW) && (seals & F_SEAL_SEAL));

        errno = 0;
        void *w = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        assert_true(w == MAP_FAILED);
        assert_int_equal(errno, EPERM);
        errno = 0;
        assert_int_equal(pwrite(fd, "x", 1, 0), -1);
        assert_int_equal(errno, EPERM);
        /* a fresh open of the same file is sealed too (seals live on the inode) */
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        int fd2 = open(path, O_RDWR | O_CLOEXEC);
        if (fd2 >= 0) {
                errno = 0;
                assert_int_equal(pwrite(fd2, "x", 1, 0), -1);
                assert_int_equal(errno, EPERM);
                close(fd2);
        }

        /* readers may map it read-only and see what the owner writes */
        unsigned char *r = mmap(NULL, 1 * MiB, PROT_READ, MAP_SHARED, fd, 0);
        assert_true(r != MAP_FAILED);
        errno = 0;
        assert_int_equal(mprotect(r, pg, PROT_READ | PROT_WRITE), -1);

        /* the owner itself still allocates, grows, writes and frees */
        void *blocks[40];
        for (int i = 0; i < 40; i++) {
                blocks[i] = alloc_ok(s, 16 * KiB);
                memset(blocks[i], i + 1, 16 * KiB);
        }
        assert_true(stats_of(s).committed > pg);
        uint64_t off;
        assert_int_equal(lsashm_section_offset(s, blocks[39], &off), 0);
        assert_int_equal(r[off], 40);
        assert_int_equal(lsashm_section_offset(s, blocks[38], &off), 0);
        assert_int_equal(r[off], 39);
        for (int i = 0; i < 40; i += 2)
                assert_int_equal(lsashm_section_free(s, blocks[i]), 0);
        /* wiping goes through the owner's mapping, so the seal does not stop it */
        assert_true(tu_all_zero(r + off, 16 * KiB));
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(munmap(r, 1 * MiB), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* ---- stats ------------------------------------------------------------- */

static void test_section_stats_fields(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0, NULL);
        struct lsashm_section_stats st = stats_of(s);

        assert_true(st.reserved == 1 * MiB);
        assert_true(st.in_use == 0);
        assert_true(st.live_blocks == 0);
        assert_true(st.peak_in_use == 0);
        assert_true(st.free == st.committed);
        assert_true(st.largest_free == st.committed);
        assert_true(st.refused_frees == 0);
        assert_true(st.failed_allocs == 0);

        void *a = alloc_ok(s, 100); /* 112 in granules of 16 */
        void *b = alloc_ok(s, 16);
        void *c = alloc_ok(s, 1000); /* 1008 */
        st = stats_of(s);
        assert_true(st.live_blocks == 3);
        assert_true(st.in_use == 112 + 16 + 1008);
        assert_true(st.free == st.committed - st.in_use);
        assert_true(st.peak_in_use == st.in_use);
        assert_true(st.largest_free <= st.free);
        assert_true(st.largest_free > 0);

        assert_int_equal(lsashm_section_free(s, c), 0);
        struct lsashm_section_stats st2 = stats_of(s);
        assert_true(st2.live_blocks == 2);
        assert_true(st2.in_use == 128);
        assert_true(st2.peak_in_use == 112 + 16 + 1008);
        assert_true(st2.free == st2.committed - st2.in_use);

        assert_int_equal(lsashm_section_free(s, a), 0);
        assert_int_equal(lsashm_section_free(s, b), 0);
        st2 = stats_of(s);
        assert_true(st2.live_blocks == 0);
        assert_true(st2.in_use == 0);
        assert_true(st2.free == st2.committed);
        assert_true(st2.largest_free == st2.committed);
        assert_true(st2.peak_in_use == 112 + 16 + 1008);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_stats_largest_free_fits_without_growing(void **state)
{
        (void)state;
        lsashm_section_t *s = make(4 * MiB, 64 * KiB, 0, NULL);
        void *p;

        alloc_ok(s, 100);
        void *mid = alloc_ok(s, 3000);
        alloc_ok(s, 40);
        assert_int_equal(lsashm_section_free(s, mid), 0);

        struct lsashm_section_stats st = stats_of(s);
        assert_true(st.largest_free > 0 && st.largest_free <= st.free);
        assert_true(st.largest_free % LSASHM_SECTION_ALIGNMENT == 0);
        /* "allocatable without growing": exactly that much fits as committed is */
        assert_int_equal(lsashm_section_alloc(s, st.largest_free, &p), 0);
        struct lsashm_section_stats st2 = stats_of(s);
        assert_true(st2.committed == st.committed);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_stats_failed_allocs_counted(void **state)
{
        (void)state;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);
        void *p;

        assert_int_equal(lsashm_section_alloc(s, 0, &p), -EINVAL);
        assert_int_equal(lsashm_section_alloc(s, 128 * KiB, &p), -E2BIG);
        alloc_ok(s, 64 * KiB);
        assert_int_equal(lsashm_section_alloc(s, 16, &p), -ENOSPC);
        assert_true(stats_of(s).failed_allocs == 3);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_section_stats_and_check_null_args(void **state)
{
        (void)state;
        struct lsashm_section_stats st;
        lsashm_section_t *s = make(64 * KiB, 0, 0, NULL);

        assert_int_equal(lsashm_section_stats(NULL, &st), -EINVAL);
        assert_int_equal(lsashm_section_stats(s, NULL), -EINVAL);
        assert_int_equal(lsashm_section_check(NULL), -EINVAL);
        assert_int_equal(lsashm_section_delete(s), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_section_create_delete),
                cmocka_unit_test(test_section_delete_unmaps),
                cmocka_unit_test(test_section_delete_with_live_blocks),
                cmocka_unit_test(test_section_delete_null),
                cmocka_unit_test(test_section_create_many_no_fd_leak),
                cmocka_unit_test(test_section_create_null_args),
                cmocka_unit_test(test_section_create_max_zero),
                cmocka_unit_test(test_section_create_initial_above_max),
                cmocka_unit_test(test_section_create_unknown_flags),
                cmocka_unit_test(test_section_create_name_with_slash),
                cmocka_unit_test(test_section_create_name_length),
                cmocka_unit_test(test_section_create_too_big),
                cmocka_unit_test(test_section_create_largest_allowed),
                cmocka_unit_test(test_section_reserved_rounded_to_pages),
                cmocka_unit_test(test_section_initial_commit),
                cmocka_unit_test(test_section_base_page_aligned),
                cmocka_unit_test(test_section_alloc_aligned_zeroed_inside),
                cmocka_unit_test(test_section_alloc_zeroed_after_reuse),
                cmocka_unit_test(test_section_alloc_blocks_disjoint),
                cmocka_unit_test(test_section_alloc_null_args),
                cmocka_unit_test(test_section_alloc_size_zero),
                cmocka_unit_test(test_section_alloc_too_big),
                cmocka_unit_test(test_section_alloc_limit_is_max_size),
                cmocka_unit_test(test_section_alloc_finds_any_fitting_free_range),
                cmocka_unit_test(test_section_alloc_full_then_free_makes_room),
                cmocka_unit_test(test_section_alloc_grows_on_demand),
                cmocka_unit_test(test_section_alloc_grows_for_big_block),
                cmocka_unit_test(test_section_uncommitted_tail_inaccessible),
                cmocka_unit_test(test_section_free_null_ptr),
                cmocka_unit_test(test_section_free_null_section),
                cmocka_unit_test(test_section_free_foreign_malloc),
                cmocka_unit_test(test_section_free_other_sections_block),
                cmocka_unit_test(test_section_free_interior),
                cmocka_unit_test(test_section_free_unallocated_inside),
                cmocka_unit_test(test_section_free_double),
                cmocka_unit_test(test_section_free_refusals_accumulate),
                cmocka_unit_test(test_section_offset_ptr_round_trip),
                cmocka_unit_test(test_section_offset_errors),
                cmocka_unit_test(test_section_ptr_bounds_overflow_safe),
                cmocka_unit_test(test_section_ptr_follows_growth),
                cmocka_unit_test(test_section_name_in_maps),
                cmocka_unit_test(test_section_default_name),
                cmocka_unit_test(test_section_fd_sealed_memfd_cloexec),
                cmocka_unit_test(test_section_fd_maps_same_memory),
                cmocka_unit_test(test_section_readers_only),
                cmocka_unit_test(test_section_stats_fields),
                cmocka_unit_test(test_section_stats_largest_free_fits_without_growing),
                cmocka_unit_test(test_section_stats_largest_free_same_class),
                cmocka_unit_test(test_section_stats_failed_allocs_counted),
                cmocka_unit_test(test_section_stats_and_check_null_args),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
