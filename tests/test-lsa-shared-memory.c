/* SPDX-License-Identifier: MIT */
/*
 * The Windows-facing API (lsashm/ntsecpkg.h): the four LSA shared-memory
 * callbacks with Microsoft's names, types and semantics, and the registry
 * that lets them refuse pointers they never handed out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/resource.h>
#include <uchar.h>
#include <unistd.h>
#include <wchar.h>

#include <cmocka.h>

#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"
#include "test-util.h"

#define KiB 1024u
#define MiB (1024u * KiB)

/* ---- types, checked at compile time ----------------------------------- */

_Static_assert(sizeof(ULONG) == 4 && (ULONG)-1 > 0, "ULONG is unsigned 32-bit");
_Static_assert(sizeof(DWORD) == 4 && (DWORD)-1 > 0, "DWORD is unsigned 32-bit");
_Static_assert(sizeof(LONG) == 4 && (LONG)-1 < 0, "LONG is signed 32-bit");
_Static_assert(sizeof(NTSTATUS) == 4 && (NTSTATUS)-1 < 0, "NTSTATUS is signed 32-bit");
_Static_assert(sizeof(BOOLEAN) == 1, "BOOLEAN is 8-bit");
_Static_assert(sizeof(USHORT) == 2, "USHORT is 16-bit");
_Static_assert(sizeof(WCHAR) == 2 && (WCHAR)-1 > 0, "WCHAR is an unsigned 16-bit unit");
_Static_assert(sizeof(WCHAR) != sizeof(wchar_t), "WCHAR is not Linux's 32-bit wchar_t");
_Static_assert(sizeof(ULONG_PTR) == sizeof(void *), "ULONG_PTR holds a pointer");
_Static_assert(TRUE == 1 && FALSE == 0, "Windows truth values");

/* The callbacks have exactly the SDK's prototypes: a package assigns them to
 * its function-table slots without casts. */
_Static_assert(_Generic(&LsaCreateSharedMemory, PVOID(*)(ULONG, ULONG): 1, default: 0),
               "LsaCreateSharedMemory(ULONG, ULONG) -> PVOID");
_Static_assert(_Generic(&LsaAllocateSharedMemory, PVOID(*)(PVOID, ULONG): 1, default: 0),
               "LsaAllocateSharedMemory(PVOID, ULONG) -> PVOID");
_Static_assert(_Generic(&LsaFreeSharedMemory, void (*)(PVOID, PVOID): 1, default: 0),
               "LsaFreeSharedMemory(PVOID, PVOID) -> VOID");
_Static_assert(_Generic(&LsaDeleteSharedMemory, BOOLEAN(*)(PVOID): 1, default: 0),
               "LsaDeleteSharedMemory(PVOID) -> BOOLEAN");
_Static_assert(_Generic((PLSA_CREATE_SHARED_MEMORY)0, LSA_CREATE_SHARED_MEMORY *: 1, default: 0),
               "PLSA_CREATE_SHARED_MEMORY points to LSA_CREATE_SHARED_MEMORY");
_Static_assert(_Generic((PLSA_DELETE_SHARED_MEMORY)0, BOOLEAN(*)(PVOID): 1, default: 0),
               "PLSA_DELETE_SHARED_MEMORY");

static struct lsashm_section_stats lsa_stats(PVOID base)
{
        struct lsashm_section_stats st;

        memset(&st, 0xa5, sizeof(st));
        assert_int_equal(lsashm_shared_memory_stats(base, &st), 0);
        return st;
}

static PVOID create_ok(ULONG max, ULONG initial)
{
        PVOID base = LsaCreateSharedMemory(max, initial);

        assert_non_null(base);
        return base;
}

static void test_types_widths(void **state)
{
        (void)state;
        WCHAR w[] = u"ab\u00e9";

        assert_int_equal(sizeof(ULONG), 4);
        assert_int_equal(sizeof(DWORD), 4);
        assert_int_equal(sizeof(BOOLEAN), 1);
        assert_int_equal(sizeof(WCHAR), 2);
        assert_int_equal(sizeof(USHORT), 2);
        assert_int_equal(sizeof(NTSTATUS), 4);
        assert_true((NTSTATUS)0xC0000001u < 0); /* failure codes are negative */
        assert_int_equal(sizeof(ULONGLONG), 8);
        assert_int_equal(sizeof(PVOID), sizeof(void *));
        assert_int_equal(sizeof(HANDLE), sizeof(void *));
        assert_int_equal(sizeof(ULONG_PTR), sizeof(uintptr_t));
        /* UTF-16 literals are WCHAR strings, as in a Windows package */
        assert_int_equal(sizeof(w), 4 * sizeof(WCHAR));
        assert_int_equal(w[2], 0x00e9);
        assert_int_equal(TRUE, 1);
        assert_int_equal(FALSE, 0);
}

static void test_types_callback_pointers(void **state)
{
        (void)state;
        PLSA_CREATE_SHARED_MEMORY create = LsaCreateSharedMemory;
        PLSA_ALLOCATE_SHARED_MEMORY allocate = LsaAllocateSharedMemory;
        PLSA_FREE_SHARED_MEMORY release = LsaFreeSharedMemory;
        PLSA_DELETE_SHARED_MEMORY destroy = LsaDeleteSharedMemory;
        LSA_CREATE_SHARED_MEMORY *create2 = &LsaCreateSharedMemory;

        assert_true(create == create2);
        PVOID base = create(64 * KiB, 4 * KiB);
        assert_non_null(base);
        PVOID p = allocate(base, 100);
        assert_non_null(p);
        memset(p, 0x33, 100);
        assert_true(lsa_stats(base).live_blocks == 1);
        release(base, p);
        assert_true(lsa_stats(base).live_blocks == 0);
        BOOLEAN ok = destroy(base);
        assert_int_equal(ok, TRUE);
}

/* ---- create ------------------------------------------------------------- */

static void test_lsa_create_returns_base(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        struct lsashm_section_stats st = lsa_stats(base);

        /* InitialSize is committed by the first allocation, not by create */
        assert_true(st.committed == 0);
        PVOID first = LsaAllocateSharedMemory(base, 1);
        assert_ptr_equal(first, base);
        LsaFreeSharedMemory(base, first);
        st = lsa_stats(base);

        assert_true((uintptr_t)base % tu_page_size() == 0);
        assert_true(st.reserved == 64 * KiB);
        assert_true(st.committed >= 4 * KiB && st.committed <= st.reserved);
        assert_true(tu_all_zero(base, st.committed));
        memset(base, 0x44, st.committed); /* the committed part is writable */
        int fd = lsashm_shared_memory_fd(base);
        assert_true(fd >= 0);
        assert_true(fcntl(fd, F_GET_SEALS) >= 0);
        assert_int_equal(lsashm_shared_memory_check(base), 0);
        assert_int_equal(tu_count_fds(), fds + 1);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_lsa_create_rounds_to_pages(void **state)
{
        (void)state;
        const uint64_t pg = tu_page_size();
        const ULONG sizes[] = { 1, 100, 4095, 4097, 65537 };

        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                PVOID base = create_ok(sizes[i], sizes[i]);
                PVOID first = LsaAllocateSharedMemory(base, 1);
                assert_non_null(first);
                LsaFreeSharedMemory(base, first);
                struct lsashm_section_stats st = lsa_stats(base);
                assert_true(st.reserved == tu_round_up(sizes[i], pg));
                assert_true(st.committed >= sizes[i]);
                assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
        }
}

static void test_lsa_create_largest_ulong(void **state)
{
        (void)state;
        /* 0xFFFFFFFF rounds up to 4 GiB: the rounding must not wrap in 32 bits */
        PVOID base = create_ok(0xFFFFFFFFu, 64 * KiB);
        struct lsashm_section_stats st = lsa_stats(base);

        assert_true(st.reserved == (uint64_t)1 << 32);
        PVOID p = LsaAllocateSharedMemory(base, 16 * MiB);
        assert_non_null(p);
        memset(p, 0x10, 16 * MiB);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_create_bad_sizes(void **state)
{
        (void)state;
        int fds = tu_count_fds();

        assert_null(LsaCreateSharedMemory(0, 0));
        assert_null(LsaCreateSharedMemory(0, 4096));
        assert_null(LsaCreateSharedMemory(4096, 4097));
        assert_null(LsaCreateSharedMemory(100, 101));
        assert_null(LsaCreateSharedMemory(64 * KiB, 0xFFFFFFFFu));
        assert_int_equal(tu_count_fds(), fds);
}

static void test_lsa_create_initial_zero(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 0);
        PVOID p = LsaAllocateSharedMemory(base, 1000);

        assert_non_null(p);
        memset(p, 1, 1000);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

/* ---- allocate ------------------------------------------------------------ */

static void test_lsa_allocate_aligned_zeroed_inside(void **state)
{
        (void)state;
        PVOID base = create_ok(2 * MiB, 4 * KiB);
        unsigned char *b = base;

        for (ULONG size = 1; size < 5000; size += 13) {
                unsigned char *p = LsaAllocateSharedMemory(base, size);
                assert_non_null(p);
                struct lsashm_section_stats st = lsa_stats(base);
                assert_true((uintptr_t)p % 16 == 0);
                assert_true(p >= b && p + size <= b + st.committed);
                assert_true(tu_all_zero(p, size));
                memset(p, 0x99, size);
        }
        assert_int_equal(lsashm_shared_memory_check(base), 0);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_allocate_grows_to_max(void **state)
{
        (void)state;
        PVOID base = create_ok(256 * KiB, 4 * KiB);
        uint64_t prev = lsa_stats(base).committed;
        unsigned n = 0;
        PVOID p;

        while ((p = LsaAllocateSharedMemory(base, 4096)) != NULL) {
                struct lsashm_section_stats st = lsa_stats(base);
                assert_true(st.committed >= prev && st.committed <= st.reserved);
                prev = st.committed;
                memset(p, 0x21, 4096);
                n++;
                assert_true(n <= 64);
        }
        assert_int_equal(n, 64);
        assert_true(lsa_stats(base).committed == 256 * KiB);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_allocate_bad_args(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        uint64_t failed = lsa_stats(base).failed_allocs;

        assert_null(LsaAllocateSharedMemory(base, 0));
        assert_null(LsaAllocateSharedMemory(base, 64 * KiB + 1));
        assert_null(LsaAllocateSharedMemory(base, 0xFFFFFFFFu));
        assert_null(LsaAllocateSharedMemory(NULL, 16));
        struct lsashm_section_stats st = lsa_stats(base);
        assert_true(st.live_blocks == 0);
        assert_true(st.failed_allocs >= failed + 2);
        /* MaxSize itself still fits */
        assert_non_null(LsaAllocateSharedMemory(base, 64 * KiB));
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_allocate_bounded_by_max_size(void **state)
{
        (void)state;
        /* Windows bounds a block by MaxSize as asked, even though the
         * reservation is rounded up to a page. */
        PVOID base = create_ok(100, 0);

        assert_null(LsaAllocateSharedMemory(base, 101));
        assert_null(LsaAllocateSharedMemory(base, 4096));
        PVOID p = LsaAllocateSharedMemory(base, 100);
        assert_non_null(p);
        memset(p, 1, 100);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_allocate_unknown_section(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 64 * KiB);
        void *m = malloc(4096);
        int local;

        assert_non_null(m);
        assert_null(LsaAllocateSharedMemory(m, 16));
        assert_null(LsaAllocateSharedMemory(&local, 16));
        assert_null(LsaAllocateSharedMemory((unsigned char *)base + 4096, 16));
        assert_null(LsaAllocateSharedMemory((unsigned char *)base + 16, 16));
        assert_null(LsaAllocateSharedMemory((PVOID)(uintptr_t)1, 16));
        /* a block address is not a section name either */
        PVOID blk = LsaAllocateSharedMemory(base, 64);
        assert_non_null(blk);
        if (blk != base)
                assert_null(LsaAllocateSharedMemory(blk, 16));
        assert_true(lsa_stats(base).live_blocks == 1);
        free(m);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_allocate_deleted_section(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);

        assert_non_null(LsaAllocateSharedMemory(base, 16));
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
        assert_null(LsaAllocateSharedMemory(base, 16));
}

static void test_lsa_allocate_full(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 64 * KiB);
        PVOID blocks[64];

        for (int i = 0; i < 64; i++) {
                blocks[i] = LsaAllocateSharedMemory(base, 1024);
                assert_non_null(blocks[i]);
        }
        assert_null(LsaAllocateSharedMemory(base, 1024));
        assert_null(LsaAllocateSharedMemory(base, 16));
        LsaFreeSharedMemory(base, blocks[7]);
        assert_ptr_equal(LsaAllocateSharedMemory(base, 1024), blocks[7]);
        assert_null(LsaAllocateSharedMemory(base, 1));
        assert_int_equal(lsashm_shared_memory_check(base), 0);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

/* ---- free ---------------------------------------------------------------- */

static void expect_refused(PVOID base, PVOID mem)
{
        struct lsashm_section_stats before = lsa_stats(base);

        LsaFreeSharedMemory(base, mem);
        struct lsashm_section_stats after = lsa_stats(base);
        assert_true(after.refused_frees == before.refused_frees + 1);
        assert_true(after.live_blocks == before.live_blocks);
        assert_true(after.in_use == before.in_use);
        assert_true(after.largest_free == before.largest_free);
        assert_int_equal(lsashm_shared_memory_check(base), 0);
}

static void test_lsa_free_returns_block(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        PVOID p = LsaAllocateSharedMemory(base, 500);

        assert_non_null(p);
        assert_true(lsa_stats(base).live_blocks == 1);
        LsaFreeSharedMemory(base, p);
        struct lsashm_section_stats st = lsa_stats(base);
        assert_true(st.live_blocks == 0);
        assert_true(st.in_use == 0);
        assert_true(st.refused_frees == 0);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_free_null_memory(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        PVOID p = LsaAllocateSharedMemory(base, 32);

        assert_non_null(p);
        LsaFreeSharedMemory(base, NULL);
        struct lsashm_section_stats st = lsa_stats(base);
        assert_true(st.live_blocks == 1);
        assert_true(st.refused_frees == 0);
        LsaFreeSharedMemory(NULL, NULL);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_free_foreign(void **state)
{
        (void)state;
        PVOID a = create_ok(64 * KiB, 4 * KiB);
        PVOID b = create_ok(64 * KiB, 4 * KiB);
        PVOID pa = LsaAllocateSharedMemory(a, 64);
        PVOID pb = LsaAllocateSharedMemory(b, 64);
        void *m = malloc(64);

        assert_non_null(pa);
        assert_non_null(pb);
        assert_non_null(m);
        expect_refused(a, m);
        expect_refused(a, pb);
        assert_true(lsa_stats(b).live_blocks == 1);
        free(m);
        assert_int_equal(LsaDeleteSharedMemory(a), TRUE);
        assert_int_equal(LsaDeleteSharedMemory(b), TRUE);
}

static void test_lsa_free_interior(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        unsigned char *p = LsaAllocateSharedMemory(base, 256);

        assert_non_null(p);
        expect_refused(base, p + 16);
        expect_refused(base, p + 3);
        expect_refused(base, (unsigned char *)base + 32 * KiB); /* uncommitted */
        LsaFreeSharedMemory(base, p);
        assert_true(lsa_stats(base).live_blocks == 0);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_free_double(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        PVOID keep = LsaAllocateSharedMemory(base, 64);
        PVOID p = LsaAllocateSharedMemory(base, 64);

        assert_non_null(keep);
        assert_non_null(p);
        LsaFreeSharedMemory(base, p);
        expect_refused(base, p);
        PVOID x = LsaAllocateSharedMemory(base, 64);
        PVOID y = LsaAllocateSharedMemory(base, 64);
        assert_non_null(x);
        assert_non_null(y);
        assert_ptr_not_equal(x, y);
        assert_true(lsa_stats(base).live_blocks == 3);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_free_unknown_section(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        /* keep p off offset 0, where it would name the section itself */
        PVOID first = LsaAllocateSharedMemory(base, 64);
        PVOID p = LsaAllocateSharedMemory(base, 64);
        void *m = malloc(4096);

        assert_non_null(first);
        assert_non_null(p);
        assert_ptr_not_equal(p, base);
        assert_non_null(m);
        memset(m, 0xff, 4096);
        /* none of these name a section: nothing may happen to base's heap,
         * and nothing may be written through the bogus names */
        LsaFreeSharedMemory(m, p);
        LsaFreeSharedMemory(NULL, p);
        LsaFreeSharedMemory((unsigned char *)base + 4096, p);
        LsaFreeSharedMemory(p, p);
        struct lsashm_section_stats st = lsa_stats(base);
        assert_true(st.live_blocks == 2);
        for (int i = 0; i < 4096; i++)
                assert_int_equal(((unsigned char *)m)[i], 0xff);
        assert_int_equal(lsashm_shared_memory_check(base), 0);
        LsaFreeSharedMemory(base, p);
        assert_true(lsa_stats(base).live_blocks == 1);
        free(m);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_free_deleted_section(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        PVOID p = LsaAllocateSharedMemory(base, 64);

        assert_non_null(p);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
        /* the mapping is gone: this must be answered from the registry alone */
        LsaFreeSharedMemory(base, p);
        assert_int_equal(lsashm_shared_memory_stats(base, &(struct lsashm_section_stats){ 0 }),
                         -ENOENT);
}

/* ---- delete -------------------------------------------------------------- */

static void test_lsa_delete_with_live_blocks(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        PVOID base = create_ok(1 * MiB, 4 * KiB);

        for (int i = 0; i < 50; i++) {
                PVOID p = LsaAllocateSharedMemory(base, 1000);
                assert_non_null(p);
                memset(p, i, 1000);
        }
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_lsa_delete_bad_names(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        PVOID blk = LsaAllocateSharedMemory(base, 64);
        void *m = malloc(64);
        int local;

        assert_non_null(blk);
        assert_non_null(m);
        assert_int_equal(LsaDeleteSharedMemory(NULL), FALSE);
        assert_int_equal(LsaDeleteSharedMemory(m), FALSE);
        assert_int_equal(LsaDeleteSharedMemory(&local), FALSE);
        assert_int_equal(LsaDeleteSharedMemory((unsigned char *)base + 16), FALSE);
        assert_int_equal(LsaDeleteSharedMemory((unsigned char *)base + 4096), FALSE);
        if (blk != base)
                assert_int_equal(LsaDeleteSharedMemory(blk), FALSE);
        /* the section survived all of that */
        struct lsashm_section_stats st = lsa_stats(base);
        assert_true(st.live_blocks == 1);
        memset(blk, 1, 64);
        free(m);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_delete_twice(void **state)
{
        (void)state;
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        struct lsashm_section_stats st;

        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
        assert_int_equal(LsaDeleteSharedMemory(base), FALSE);
        assert_int_equal(lsashm_shared_memory_stats(base, &st), -ENOENT);
        assert_true(lsashm_shared_memory_fd(base) == -ENOENT);
        assert_int_equal(lsashm_shared_memory_check(base), -ENOENT);
}

static void test_lsa_registry_unknown_names(void **state)
{
        (void)state;
        struct lsashm_section_stats st;
        void *m = malloc(64);

        assert_non_null(m);
        assert_int_equal(lsashm_shared_memory_stats(m, &st), -ENOENT);
        assert_int_equal(lsashm_shared_memory_fd(m), -ENOENT);
        assert_int_equal(lsashm_shared_memory_check(m), -ENOENT);
        assert_true(lsashm_shared_memory_stats(NULL, &st) < 0);
        assert_true(lsashm_shared_memory_fd(NULL) < 0);
        assert_true(lsashm_shared_memory_check(NULL) < 0);
        PVOID base = create_ok(64 * KiB, 4 * KiB);
        assert_int_equal(lsashm_shared_memory_stats(base, NULL), -EINVAL);
        free(m);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_lsa_delete_then_create_reuses_nothing_stale(void **state)
{
        (void)state;
        /* A new section may land at the old address; it must be a fresh one. */
        for (int i = 0; i < 50; i++) {
                PVOID a = create_ok(64 * KiB, 4 * KiB);
                PVOID p = LsaAllocateSharedMemory(a, 128);
                assert_non_null(p);
                memset(p, 0xee, 128);
                assert_int_equal(LsaDeleteSharedMemory(a), TRUE);
                PVOID b = create_ok(64 * KiB, 4 * KiB);
                struct lsashm_section_stats st = lsa_stats(b);
                assert_true(st.live_blocks == 0 && st.in_use == 0 && st.refused_frees == 0);
                assert_true(tu_all_zero(b, st.committed));
                assert_int_equal(LsaDeleteSharedMemory(b), TRUE);
        }
}

/* ---- many sections ---------------------------------------------------------- */

static void test_lsa_many_sections_independent(void **state)
{
        (void)state;
        enum { N = 200 };
        struct rlimit rl;
        PVOID base[N];
        unsigned char *blk[N];
        int fds = tu_count_fds();

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(fds + N + 16)) {
                print_message("skipped: RLIMIT_NOFILE %llu is too low for %d sections\n",
                              (unsigned long long)rl.rlim_cur, N);
                skip();
        }
        for (int i = 0; i < N; i++) {
                base[i] = create_ok(64 * KiB + (ULONG)i * 4096, 4 * KiB);
                blk[i] = LsaAllocateSharedMemory(base[i], 100 + (ULONG)i);
                assert_non_null(blk[i]);
                memset(blk[i], i & 0xff, 100 + (size_t)i);
        }
        assert_int_equal(tu_count_fds(), fds + N);
        for (int i = 0; i < N; i++) {
                struct lsashm_section_stats st = lsa_stats(base[i]);
                assert_true(st.reserved == 64 * KiB + (uint64_t)i * 4096);
                assert_true(st.live_blocks == 1);
                for (int k = 0; k < 100 + i; k++)
                        assert_int_equal(blk[i][k], i & 0xff);
                /* blocks are refused by every section but their own */
                if (i > 0)
                        expect_refused(base[i], blk[i - 1]);
        }
        /* delete every other one; the rest are untouched */
        for (int i = 0; i < N; i += 2)
                assert_int_equal(LsaDeleteSharedMemory(base[i]), TRUE);
        for (int i = 1; i < N; i += 2) {
                assert_true(lsa_stats(base[i]).live_blocks == 1);
                assert_int_equal(blk[i][0], i & 0xff);
                assert_non_null(LsaAllocateSharedMemory(base[i], 64));
        }
        for (int i = 1; i < N; i += 2)
                assert_int_equal(LsaDeleteSharedMemory(base[i]), TRUE);
        assert_int_equal(tu_count_fds(), fds);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_types_widths),
                cmocka_unit_test(test_types_callback_pointers),
                cmocka_unit_test(test_lsa_create_returns_base),
                cmocka_unit_test(test_lsa_create_rounds_to_pages),
                cmocka_unit_test(test_lsa_create_largest_ulong),
                cmocka_unit_test(test_lsa_create_bad_sizes),
                cmocka_unit_test(test_lsa_create_initial_zero),
                cmocka_unit_test(test_lsa_allocate_aligned_zeroed_inside),
                cmocka_unit_test(test_lsa_allocate_grows_to_max),
                cmocka_unit_test(test_lsa_allocate_bad_args),
                cmocka_unit_test(test_lsa_allocate_bounded_by_max_size),
                cmocka_unit_test(test_lsa_allocate_unknown_section),
                cmocka_unit_test(test_lsa_allocate_deleted_section),
                cmocka_unit_test(test_lsa_allocate_full),
                cmocka_unit_test(test_lsa_free_returns_block),
                cmocka_unit_test(test_lsa_free_null_memory),
                cmocka_unit_test(test_lsa_free_foreign),
                cmocka_unit_test(test_lsa_free_interior),
                cmocka_unit_test(test_lsa_free_double),
                cmocka_unit_test(test_lsa_free_unknown_section),
                cmocka_unit_test(test_lsa_free_deleted_section),
                cmocka_unit_test(test_lsa_delete_with_live_blocks),
                cmocka_unit_test(test_lsa_delete_bad_names),
                cmocka_unit_test(test_lsa_delete_twice),
                cmocka_unit_test(test_lsa_registry_unknown_names),
                cmocka_unit_test(test_lsa_delete_then_create_reuses_nothing_stale),
                cmocka_unit_test(test_lsa_many_sections_independent),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
