/* SPDX-License-Identifier: MIT */
/*
 * What a hostile or careless client can do to a section, and what the owner
 * promises anyway: the heap never reads the section, so overwriting all of it
 * changes nothing; freed and deleted data is wiped; uncommitted pages fault;
 * the seals hold against every holder of the fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"
#include "section/section-ops.h"
#include "test-util.h"

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)
#define CANARY_LEN 64

static lsashm_section_t *make(uint64_t max, uint64_t initial, uint32_t flags)
{
        struct lsashm_section_config cfg = {
                .max_size = max, .initial_size = initial, .flags = flags, .name = "hardening",
        };
        lsashm_section_t *s = NULL;

        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        return s;
}

static struct lsashm_section_stats stats_of(lsashm_section_t *s)
{
        struct lsashm_section_stats st;

        assert_int_equal(lsashm_section_stats(s, &st), 0);
        return st;
}

static uint64_t round16(uint64_t v)
{
        return (v + 15) & ~(uint64_t)15;
}

/* ---- the hostile writer ---------------------------------------------- */

/* Random garbage, produced once: copying it is much cheaper than generating
 * fresh bytes for every overwrite of a whole section. */
static unsigned char *garbage;
static size_t garbage_len;

static int setup_garbage(void **state)
{
        struct tu_rng r = { 0x9e3779b97f4a7c15u };

        (void)state;
        garbage_len = 8 * MiB;
        garbage = malloc(garbage_len);
        if (!garbage)
                return -1;
        tu_rng_fill(&r, garbage, garbage_len);
        return 0;
}

static int teardown_garbage(void **state)
{
        (void)state;
        free(garbage);
        garbage = NULL;
        return 0;
}

/* Overwrite the whole committed range: mode 0 random, 1 zeros, 2 ones. */
static void clobber(void *base, uint64_t committed, unsigned mode, struct tu_rng *r)
{
        unsigned char *b = base;

        switch (mode % 3) {
        case 0:
                for (uint64_t done = 0; done < committed;) {
                        uint64_t from = tu_rng_range(r, 0, garbage_len / 2);
                        uint64_t n = committed - done;
                        if (n > garbage_len / 2)
                                n = garbage_len / 2;
                        memcpy(b + done, garbage + from, n);
                        done += n;
                }
                break;
        case 1:
                memset(b, 0x00, committed);
                break;
        default:
                memset(b, 0xff, committed);
                break;
        }
}

struct live {
        unsigned char *p;
        size_t size;
};

/* The block [p, p+size) must lie in the committed part and overlap none of
 * the blocks the test holds. */
static void assert_fresh_block(lsashm_section_t *s, const struct live *held, size_t n,
                               unsigned char *p, size_t size)
{
        unsigned char *base = lsashm_section_base(s);
        uint64_t committed = stats_of(s).committed;

        assert_true((uintptr_t)p % LSASHM_SECTION_ALIGNMENT == 0);
        assert_true(p >= base && p + size <= base + committed);
        for (size_t i = 0; i < n; i++)
                if (p < held[i].p + held[i].size && held[i].p < p + size)
                        fail_msg("new block %p+%zu overlaps live block %p+%zu", (void *)p, size,
                                 (void *)held[i].p, held[i].size);
}

static void assert_stats_match(lsashm_section_t *s, const struct live *held, size_t n)
{
        struct lsashm_section_stats st = stats_of(s);
        uint64_t in_use = 0;

        for (size_t i = 0; i < n; i++)
                in_use += round16(held[i].size);
        assert_true(st.live_blocks == n);
        assert_true(st.in_use == in_use);
        assert_true(st.free == st.committed - st.in_use);
        assert_true(st.committed <= st.reserved);
        assert_true(st.largest_free <= st.free);
        assert_true(st.refused_frees == 0);
}

static void test_hostile_overwrite_random_ops(void **state)
{
        (void)state;
        enum { OPS = 20000, MAX_LIVE = 96 };
        struct tu_rng r = { 20240601 };
        int fds = tu_count_fds();
        lsashm_section_t *s = make(256 * KiB, 16 * KiB, 0);
        unsigned char *base = lsashm_section_base(s);
        struct live held[MAX_LIVE];
        size_t n = 0;

        for (unsigned op = 0; op < OPS; op++) {
                bool do_alloc = n == 0 || (n < MAX_LIVE && tu_rng_range(&r, 0, 99) < 55);

                if (do_alloc) {
                        size_t size = (size_t)tu_rng_range(&r, 1, op % 10 == 0 ? 16384 : 2048);
                        void *p = NULL;
                        int ret = lsashm_section_alloc(s, size, &p);
                        /* fragmentation may refuse a large one; that is allowed */
                        if (ret != -ENOSPC) {
                                assert_int_equal(ret, 0);
                                assert_fresh_block(s, held, n, p, size);
                                held[n++] = (struct live){ p, size };
                        }
                } else {
                        size_t i = (size_t)tu_rng_range(&r, 0, n - 1);
                        assert_int_equal(lsashm_section_free(s, held[i].p), 0);
                        held[i] = held[--n];
                }
                clobber(base, stats_of(s).committed, op, &r);
                assert_int_equal(lsashm_section_check(s), 0);
                if (op % 16 == 0)
                        assert_stats_match(s, held, n);
        }
        assert_stats_match(s, held, n);
        /* the workload must have pushed the section to grow */
        assert_true(stats_of(s).peak_committed > 16 * KiB);

        while (n > 0) {
                assert_int_equal(lsashm_section_free(s, held[--n].p), 0);
                clobber(base, stats_of(s).committed, n, &r);
        }
        assert_int_equal(lsashm_section_check(s), 0);
        assert_stats_match(s, held, 0);
        /* every free range coalesced back, whatever the section now holds */
        struct lsashm_section_stats st = stats_of(s);
        assert_true(st.largest_free == st.committed);
        void *all = NULL;
        assert_int_equal(lsashm_section_alloc(s, st.reserved, &all), 0);
        assert_ptr_equal(all, base);
        clobber(base, st.reserved, 0, &r);
        assert_int_equal(lsashm_section_delete(s), 0);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_hostile_overwrite_while_growing(void **state)
{
        (void)state;
        enum { MAX_LIVE = 4096 };
        struct tu_rng r = { 77 };
        lsashm_section_t *s = make(4 * MiB, 0, 0);
        unsigned char *base = lsashm_section_base(s);
        struct live *held = calloc(MAX_LIVE, sizeof(*held));
        size_t n = 0;
        uint64_t prev_committed = stats_of(s).committed;
        unsigned growths = 0;
        int ret = 0;

        assert_non_null(held);
        for (unsigned step = 0; n < MAX_LIVE; step++) {
                size_t size = (size_t)tu_rng_range(&r, 16, 8192);
                void *p = NULL;

                ret = lsashm_section_alloc(s, size, &p);
                if (ret != 0)
                        break;
                assert_fresh_block(s, held, n, p, size);
                held[n++] = (struct live){ p, size };
                uint64_t c = stats_of(s).committed;
                if (c != prev_committed) {
                        growths++;
                        prev_committed = c;
                }
                /* every third step gives one back, so holes come and go */
                if (step % 3 == 2) {
                        size_t i = (size_t)tu_rng_range(&r, 0, n - 1);
                        assert_int_equal(lsashm_section_free(s, held[i].p), 0);
                        held[i] = held[--n];
                }
                clobber(base, c, step, &r);
                assert_int_equal(lsashm_section_check(s), 0);
        }
        assert_int_equal(ret, -ENOSPC);
        assert_true(growths >= 2);
        assert_stats_match(s, held, n);
        /* -ENOSPC means no room even at the reserved size: whatever is left
         * uncommitted is too small for the request (at most 8 KiB) */
        assert_true(4 * MiB - stats_of(s).committed < 8192 + tu_page_size());
        /* Only the committed part is mapped: the last request may have
         * been refused with a few pages still uncommitted. */
        uint64_t committed = stats_of(s).committed;
        while (n > 0) {
                assert_int_equal(lsashm_section_free(s, held[--n].p), 0);
                if (n % 64 == 0)
                        clobber(base, committed, n / 64, &r);
        }
        assert_int_equal(lsashm_section_check(s), 0);
        void *all = NULL;
        assert_int_equal(lsashm_section_alloc(s, 4 * MiB, &all), 0);
        assert_ptr_equal(all, base);
        free(held);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_hostile_alloc_still_zero_filled(void **state)
{
        (void)state;
        const uint32_t flags[] = { 0, LSASHM_SECTION_NO_WIPE };
        struct tu_rng r = { 5 };

        /* "Zero-filled" is a promise about what the caller receives, so it
         * cannot rest on what a writer left in the section: the writer here
         * has its own mapping of the descriptor a client would be given. */
        for (size_t f = 0; f < 2; f++) {
                lsashm_section_t *s = make(1 * MiB, 64 * KiB, flags[f]);
                int fd = lsashm_section_fd(s);
                assert_true(fd >= 0);
                uint64_t reserved = stats_of(s).reserved;
                unsigned char *writer = mmap(NULL, reserved, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                assert_true(writer != MAP_FAILED);
                for (unsigned round = 0; round < 30; round++) {
                        clobber(writer, stats_of(s).committed, round, &r);
                        size_t size = (size_t)tu_rng_range(&r, 1, 40000);
                        unsigned char *p = NULL;
                        assert_int_equal(lsashm_section_alloc(s, size, (void **)&p), 0);
                        if (!tu_all_zero(p, size))
                                fail_msg("flags %u round %u: block of %zu bytes not zero-filled "
                                         "after the section was overwritten",
                                         flags[f], round, size);
                        assert_int_equal(lsashm_section_free(s, p), 0);
                }
                munmap(writer, reserved);
                assert_int_equal(lsashm_section_delete(s), 0);
        }
}

/* Fill a block, free it, scribble on the very bytes it had through a writer
 * mapping, allocate the same size again (the heap hands back the block just
 * freed): it must come back zero-filled. */
static void scribbled_block_reallocated_zero(lsashm_section_t *s, unsigned char *writer, size_t size)
{
        unsigned char *base = lsashm_section_base(s);
        unsigned char *p, *q;

        assert_int_equal(lsashm_section_alloc(s, size, (void **)&p), 0);
        memset(p, 0x11, size);
        assert_int_equal(lsashm_section_free(s, p), 0);
        memset(writer + (p - base), 0xee, size);
        assert_int_equal(lsashm_section_alloc(s, size, (void **)&q), 0);
        assert_ptr_equal(q, p);
        if (!tu_all_zero(q, size))
                fail_msg("block of %zu bytes scribbled on while free came back dirty", size);
        assert_int_equal(lsashm_section_free(s, q), 0);
}

static void test_hostile_scribble_on_free_block_then_realloc(void **state)
{
        (void)state;
        const uint32_t flags[] = { 0, LSASHM_SECTION_NO_WIPE };
        const size_t sizes[] = { 16, 100, 4096, 70000 };

        for (size_t f = 0; f < 2; f++) {
                lsashm_section_t *s = make(1 * MiB, 64 * KiB, flags[f]);
                unsigned char *keep;
                /* warm up the fast path first: blocks used while nobody else
                 * could write, then a writable descriptor leaves */
                assert_int_equal(lsashm_section_alloc(s, 32, (void **)&keep), 0);
                for (size_t k = 0; k < 4; k++) {
                        void *p;
                        assert_int_equal(lsashm_section_alloc(s, sizes[k], &p), 0);
                        assert_int_equal(lsashm_section_free(s, p), 0);
                }
                int fd = lsashm_section_fd(s);
                assert_true(fd >= 0);
                uint64_t reserved = stats_of(s).reserved;
                unsigned char *writer = mmap(NULL, reserved, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                assert_true(writer != MAP_FAILED);
                for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
                        scribbled_block_reallocated_zero(s, writer, sizes[k]);
                munmap(writer, reserved);
                assert_int_equal(lsashm_section_check(s), 0);
                assert_int_equal(lsashm_section_delete(s), 0);
        }
}

/* The same through the LSA callbacks and a descriptor of a separate process. */
static void test_hostile_scribble_on_free_block_lsa_child(void **state)
{
        (void)state;
        PVOID base = LsaCreateSharedMemory(256 * 1024, 4096);
        struct lsashm_section_stats st;
        char why[64];

        assert_non_null(base);
        unsigned char *p = LsaAllocateSharedMemory(base, 3000);
        assert_non_null(p);
        memset(p, 0x22, 3000);
        int fd = lsashm_shared_memory_fd(base);
        assert_true(fd >= 0);
        LsaFreeSharedMemory(base, p);
        assert_int_equal(lsashm_shared_memory_stats(base, &st), 0);
        off_t off = (off_t)(p - (unsigned char *)base);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                static unsigned char junk[3000];
                memset(junk, 0x99, sizeof(junk));
                CHILD_CHECK(pwrite(fd, junk, sizeof(junk), off) == (ssize_t)sizeof(junk));
                _exit(0);
        }
        int status = tu_wait(pid, 30, NULL);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("client %s", tu_describe_status(status, why, sizeof(why)));
        assert_int_equal(((unsigned char *)base)[off], 0x99);
        unsigned char *q = LsaAllocateSharedMemory(base, 3000);
        assert_ptr_equal(q, p);
        assert_true(tu_all_zero(q, 3000));
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

/* Small blocks are kept whole after a free and handed back for the next
 * request of their size. One kept while another process scribbles on it
 * through its own writable mapping must still come back zero-filled, with
 * wiping on and off, natively and through the LSA callbacks. */
static void scribble_in_child(int fd, off_t off, size_t len)
{
        pid_t pid = tu_fork();
        char why[64];
        assert_true(pid >= 0);
        if (pid == 0) {
                unsigned char *w = mmap(NULL, (size_t)off + len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                CHILD_CHECK(w != MAP_FAILED);
                memset(w + off, 0xc5, len);
                _exit(0);
        }
        int status = tu_wait(pid, 30, NULL);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("writer %s", tu_describe_status(status, why, sizeof(why)));
}

static void test_hostile_scribble_on_kept_small_block_child(void **state)
{
        (void)state;
        const uint32_t flags[] = { 0, LSASHM_SECTION_NO_WIPE };
        const size_t sizes[] = { 16, 100, 256, 272, 4096, 4112 };

        for (size_t f = 0; f < 2; f++) {
                lsashm_section_t *s = make(1 * MiB, 64 * KiB, flags[f]);
                unsigned char *base = lsashm_section_base(s);
                int fd = lsashm_section_fd(s);
                assert_true(fd >= 0);
                for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
                        unsigned char *p, *q;
                        assert_int_equal(lsashm_section_alloc(s, sizes[k], (void **)&p), 0);
                        memset(p, 0x11, sizes[k]);
                        assert_int_equal(lsashm_section_free(s, p), 0);
                        scribble_in_child(fd, p - base, sizes[k]);
                        assert_int_equal(p[0], 0xc5);
                        assert_int_equal(lsashm_section_alloc(s, sizes[k], (void **)&q), 0);
                        assert_ptr_equal(q, p);
                        if (!tu_all_zero(q, round16(sizes[k])))
                                fail_msg("kept block of %zu bytes came back dirty (flags %u)", sizes[k],
                                         (unsigned)flags[f]);
                        assert_int_equal(lsashm_section_free(s, q), 0);
                }
                close(fd);
                assert_int_equal(lsashm_section_check(s), 0);
                assert_int_equal(lsashm_section_delete(s), 0);
        }

        PVOID lbase = LsaCreateSharedMemory(256 * 1024, 4096);
        assert_non_null(lbase);
        int fd = lsashm_shared_memory_fd(lbase);
        assert_true(fd >= 0);
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
                unsigned char *p = LsaAllocateSharedMemory(lbase, (ULONG)sizes[k]);
                assert_non_null(p);
                memset(p, 0x22, sizes[k]);
                LsaFreeSharedMemory(lbase, p);
                scribble_in_child(fd, p - (unsigned char *)lbase, sizes[k]);
                unsigned char *q = LsaAllocateSharedMemory(lbase, (ULONG)sizes[k]);
                assert_ptr_equal(q, p);
                assert_true(tu_all_zero(q, round16(sizes[k])));
                LsaFreeSharedMemory(lbase, q);
        }
        close(fd);
        assert_int_equal(lsashm_shared_memory_check(lbase), 0);
        assert_int_equal(LsaDeleteSharedMemory(lbase), TRUE);
}

/* With wiping on, a kept block is wiped when its free returns, like any
 * other: a reader sees zeros before anyone allocates it again. */
static void test_kept_small_block_wiped_at_free(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0);
        unsigned char *p;
        assert_int_equal(lsashm_section_alloc(s, 200, (void **)&p), 0);
        memset(p, 0x5a, 200);
        assert_int_equal(lsashm_section_free(s, p), 0);
        assert_true(tu_all_zero(p, 208));
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* A kept block is free: a second free is refused and counted, natively and
 * through LsaFreeSharedMemory, and the stats count it as free. */
static void test_kept_small_block_double_free_refused(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0);
        void *keep, *p;
        assert_int_equal(lsashm_section_alloc(s, 64, &keep), 0);
        struct lsashm_section_stats before = stats_of(s);
        assert_int_equal(lsashm_section_alloc(s, 64, &p), 0);
        assert_int_equal(lsashm_section_free(s, p), 0);
        assert_int_equal(lsashm_section_free(s, p), -EINVAL);
        assert_int_equal(lsashm_section_free(s, (char *)p + 16), -EINVAL);
        struct lsashm_section_stats after = stats_of(s);
        assert_int_equal(after.refused_frees, before.refused_frees + 2);
        assert_int_equal(after.in_use, before.in_use);
        assert_int_equal(after.live_blocks, before.live_blocks);
        assert_int_equal(after.free, before.free);
        assert_int_equal(after.largest_free, before.largest_free);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);

        PVOID base = LsaCreateSharedMemory(256 * 1024, 4096);
        assert_non_null(base);
        void *q = LsaAllocateSharedMemory(base, 48);
        assert_non_null(q);
        LsaFreeSharedMemory(base, q);
        LsaFreeSharedMemory(base, q);
        struct lsashm_section_stats st;
        assert_int_equal(lsashm_shared_memory_stats(base, &st), 0);
        assert_int_equal(st.refused_frees, 1);
        assert_int_equal(st.live_blocks, 0);
        assert_int_equal(st.in_use, 0);
        assert_int_equal(lsashm_shared_memory_check(base), 0);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

/* The fast path: with wiping on and no writable descriptor out, allocation
 * trusts free space to be zero. Every block, whatever sizes came and went
 * before it, must still reach its user zero-filled. */
static void test_wipe_fast_path_blocks_zero(void **state)
{
        (void)state;
        struct tu_rng r = { 77 };
        lsashm_section_t *s = make(4 * MiB, 64 * KiB, 0);
        struct live held[64] = { { 0 } };

        for (unsigned op = 0; op < 5000; op++) {
                unsigned i = (unsigned)tu_rng_range(&r, 0, 63);
                if (held[i].p) {
                        assert_int_equal(lsashm_section_free(s, held[i].p), 0);
                        held[i].p = NULL;
                        continue;
                }
                size_t size = (size_t)tu_rng_range(&r, 1, 20000);
                assert_int_equal(lsashm_section_alloc(s, size, (void **)&held[i].p), 0);
                held[i].size = size;
                if (!tu_all_zero(held[i].p, round16(size)))
                        fail_msg("op %u: block of %zu bytes not zero-filled", op, size);
                memset(held[i].p, 0xa0 | (op & 15), round16(size));
        }
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_hostile_overwrite_lsa(void **state)
{
        (void)state;
        struct tu_rng r = { 99 };
        PVOID base = LsaCreateSharedMemory(512 * 1024, 4096);
        PVOID blocks[64] = { 0 };
        struct lsashm_section_stats st;

        assert_non_null(base);
        for (unsigned op = 0; op < 3000; op++) {
                unsigned i = (unsigned)tu_rng_range(&r, 0, 63);
                if (blocks[i]) {
                        LsaFreeSharedMemory(base, blocks[i]);
                        blocks[i] = NULL;
                } else {
                        blocks[i] = LsaAllocateSharedMemory(base, (ULONG)tu_rng_range(&r, 1, 6000));
                        assert_non_null(blocks[i]);
                }
                assert_int_equal(lsashm_shared_memory_stats(base, &st), 0);
                clobber(base, st.committed, op, &r);
                assert_int_equal(lsashm_shared_memory_check(base), 0);
        }
        uint64_t held = 0;
        for (unsigned i = 0; i < 64; i++)
                held += blocks[i] != NULL;
        assert_int_equal(lsashm_shared_memory_stats(base, &st), 0);
        assert_true(st.live_blocks == held);
        assert_true(st.refused_frees == 0);
        /* the section's own first bytes are garbage too: the name still works */
        memset(base, 0xff, 64);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
        assert_int_equal(LsaDeleteSharedMemory(base), FALSE);
}

static void test_hostile_delete_after_overwrite(void **state)
{
        (void)state;
        struct tu_rng r = { 3 };
        int fds = tu_count_fds();

        for (unsigned mode = 0; mode < 3; mode++) {
                lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0);
                for (int i = 0; i < 20; i++) {
                        void *p;
                        assert_int_equal(lsashm_section_alloc(s, 3000, &p), 0);
                }
                clobber(lsashm_section_base(s), stats_of(s).committed, mode, &r);
                assert_int_equal(lsashm_section_check(s), 0);
                assert_int_equal(lsashm_section_delete(s), 0);
        }
        assert_int_equal(tu_count_fds(), fds);
}

static void test_hostile_client_punches_holes(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 256 * KiB, 0);
        unsigned char *base = lsashm_section_base(s);
        int fd = lsashm_section_fd(s);
        uint64_t reserved = stats_of(s).reserved;
        unsigned char *p;
        char why[64];

        assert_int_equal(lsashm_section_alloc(s, 100 * KiB, (void **)&p), 0);
        memset(p, 0x77, 100 * KiB);

        /* A client can give the pages back to the kernel, and write through
         * the fd; neither may cost the owner a SIGBUS or its heap. */
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                CHILD_CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                                      (off_t)reserved) == 0);
                static const char junk[4096] = { 1, 2, 3 };
                for (off_t off = 0; off < (off_t)reserved; off += (off_t)sizeof(junk))
                        CHILD_CHECK(pwrite(fd, junk, sizeof(junk), off) == (ssize_t)sizeof(junk));
                CHILD_CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                                      (off_t)(reserved / 2)) == 0);
                _exit(0);
        }
        int status = tu_wait(pid, 30, NULL);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("client %s", tu_describe_status(status, why, sizeof(why)));

        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_free(s, p), 0);
        void *blocks[200];
        for (int i = 0; i < 200; i++) {
                assert_int_equal(lsashm_section_alloc(s, 4096, &blocks[i]), 0);
                memset(blocks[i], 0x31, 4096);
        }
        for (int i = 0; i < 200; i++)
                assert_int_equal(lsashm_section_free(s, blocks[i]), 0);
        memset(base, 0, stats_of(s).committed);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* ---- wiping ------------------------------------------------------------ */

static void make_canary(unsigned char canary[CANARY_LEN], uint64_t seed)
{
        struct tu_rng r = { seed | 1 };

        tu_rng_fill(&r, canary, CANARY_LEN);
}

static bool section_holds(const void *base, uint64_t len, const unsigned char *canary)
{
        return memmem(base, len, canary, CANARY_LEN) != NULL;
}

/* Plant the canary at the start, in the middle (straddling a page boundary
 * when the block has one) and at the end of a block. */
static void plant(unsigned char *p, size_t size, const unsigned char *canary)
{
        memcpy(p, canary, CANARY_LEN);
        memcpy(p + size / 2 - CANARY_LEN / 2, canary, CANARY_LEN);
        memcpy(p + size - CANARY_LEN, canary, CANARY_LEN);
}

static void test_wipe_freed_block(void **state)
{
        (void)state;
        const size_t sizes[] = { 64, 100, 4096, 10000, 300000 };
        unsigned char canary[CANARY_LEN];

        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
                lsashm_section_t *s = make(1 * MiB, 4 * KiB, 0);
                unsigned char *base = lsashm_section_base(s);
                unsigned char *keep, *p;

                make_canary(canary, 1000 + k);
                assert_int_equal(lsashm_section_alloc(s, 32, (void **)&keep), 0);
                assert_int_equal(lsashm_section_alloc(s, sizes[k], (void **)&p), 0);
                plant(p, sizes[k], canary);
                uint64_t committed = stats_of(s).committed;
                assert_true(section_holds(base, committed, canary));
                assert_int_equal(lsashm_section_free(s, p), 0);
                assert_false(section_holds(base, committed, canary));
                assert_true(tu_all_zero(p, sizes[k]));

                /* and not through the file either, where a client would look */
                unsigned char *file = malloc(committed);
                assert_non_null(file);
                assert_true(pread(lsashm_section_fd(s), file, committed, 0) == (ssize_t)committed);
                assert_false(section_holds(file, committed, canary));
                free(file);
                assert_int_equal(lsashm_section_delete(s), 0);
        }
}

static void test_wipe_freed_block_lsa(void **state)
{
        (void)state;
        unsigned char canary[CANARY_LEN];
        struct lsashm_section_stats st;
        PVOID base = LsaCreateSharedMemory(256 * 1024, 4096);

        assert_non_null(base);
        make_canary(canary, 42);
        unsigned char *p = LsaAllocateSharedMemory(base, 5000);
        assert_non_null(p);
        plant(p, 5000, canary);
        assert_int_equal(lsashm_shared_memory_stats(base, &st), 0);
        assert_true(section_holds(base, st.committed, canary));
        LsaFreeSharedMemory(base, p);
        assert_false(section_holds(base, st.committed, canary));
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static void test_wipe_no_wipe_keeps_freed_canary(void **state)
{
        (void)state;
        unsigned char canary[CANARY_LEN];
        lsashm_section_t *s = make(1 * MiB, 4 * KiB, LSASHM_SECTION_NO_WIPE);
        unsigned char *base = lsashm_section_base(s);
        unsigned char *p;

        /* The control: without wiping the canary survives the free, which
         * shows that the scan in the wiping tests can see it. */
        make_canary(canary, 7);
        assert_int_equal(lsashm_section_alloc(s, 10000, (void **)&p), 0);
        plant(p, 10000, canary);
        uint64_t committed = stats_of(s).committed;
        assert_int_equal(lsashm_section_free(s, p), 0);
        assert_true(section_holds(base, committed, canary));
        assert_int_equal(lsashm_section_delete(s), 0);
}

/*
 * The parent owns a section, a forked child keeps both the inherited mapping
 * and the inherited fd. After the parent deletes, the child looks for the
 * canary in both.
 */
static void delete_seen_by_child(uint32_t flags, bool expect_wiped)
{
        unsigned char canary[CANARY_LEN];
        lsashm_section_t *s = make(2 * MiB, 64 * KiB, flags);
        unsigned char *base = lsashm_section_base(s);
        unsigned char *small, *big, *freed;
        int to_child[2], to_parent[2];
        char why[64];

        make_canary(canary, 0xc0ffee + flags);
        assert_int_equal(lsashm_section_alloc(s, 200, (void **)&small), 0);
        assert_int_equal(lsashm_section_alloc(s, 300 * KiB, (void **)&big), 0);
        assert_int_equal(lsashm_section_alloc(s, 1000, (void **)&freed), 0);
        const uint64_t committed = stats_of(s).committed;
        const uint64_t reserved = stats_of(s).reserved;
        const int fd = lsashm_section_fd(s);
        assert_int_equal(pipe(to_child), 0);
        assert_int_equal(pipe(to_parent), 0);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(to_child[1]);
                close(to_parent[0]);
                CHILD_CHECK(tu_pipe_recv(to_child[0]));
                /* the mapping is shared with the parent, not a copy */
                CHILD_CHECK(section_holds(base, committed, canary));
                CHILD_CHECK(tu_pipe_send(to_parent[1]));
                CHILD_CHECK(tu_pipe_recv(to_child[0]));

                bool in_old = section_holds(base, committed, canary);
                unsigned char *view = mmap(NULL, reserved, PROT_READ, MAP_SHARED, fd, 0);
                CHILD_CHECK(view != MAP_FAILED);
                bool in_new = section_holds(view, reserved, canary);
                if (expect_wiped) {
                        CHILD_CHECK(!in_old);
                        CHILD_CHECK(!in_new);
                        CHILD_CHECK(tu_all_zero(base, committed));
                        CHILD_CHECK(tu_all_zero(view, reserved));
                } else {
                        CHILD_CHECK(in_old);
                        CHILD_CHECK(in_new);
                }
                _exit(0);
        }
        close(to_child[0]);
        close(to_parent[1]);
        plant(small, 200, canary);
        plant(big, 300 * KiB, canary);
        plant(freed, 1000, canary);
        assert_int_equal(lsashm_section_free(s, freed), 0);
        /* Anyone with the fd may write into free space too: delete has to
         * wipe every committed page, not only the blocks it knows of. */
        memcpy(freed, canary, CANARY_LEN);
        assert_true(tu_pipe_send(to_child[1]));
        assert_true(tu_pipe_recv(to_parent[0]));
        assert_int_equal(lsashm_section_delete(s), 0);
        assert_true(tu_pipe_send(to_child[1]));
        int status = tu_wait(pid, 60, NULL);
        close(to_child[1]);
        close(to_parent[0]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("child %s", tu_describe_status(status, why, sizeof(why)));
}

static void test_wipe_delete_seen_by_forked_child(void **state)
{
        (void)state;
        delete_seen_by_child(0, true);
}

static void test_wipe_delete_no_wipe_control(void **state)
{
        (void)state;
        delete_seen_by_child(LSASHM_SECTION_NO_WIPE, false);
}

/* Without any writable descriptor out, delete wipes only up to the highest
 * block ever handed out: a child that keeps the inherited mapping must still
 * find zeros everywhere, including where blocks were freed and the section
 * grew and the high blocks are gone again. */
static void test_wipe_delete_high_water_only_owner(void **state)
{
        (void)state;
        unsigned char canary[CANARY_LEN];
        lsashm_section_t *s = make(4 * MiB, 64 * KiB, 0);
        unsigned char *base = lsashm_section_base(s);
        unsigned char *low, *high, *top;
        int to_child[2], to_parent[2];
        char why[64];

        make_canary(canary, 0x5eed);
        assert_int_equal(lsashm_section_alloc(s, 500, (void **)&low), 0);
        assert_int_equal(lsashm_section_alloc(s, 200 * KiB, (void **)&high), 0);
        assert_int_equal(lsashm_section_alloc(s, 5000, (void **)&top), 0);
        plant(low, 500, canary);
        plant(high, 200 * KiB, canary);
        plant(top, 5000, canary);
        assert_int_equal(lsashm_section_free(s, top), 0);
        assert_int_equal(lsashm_section_free(s, high), 0);
        plant(low, 500, canary);
        const uint64_t committed = stats_of(s).committed;
        assert_int_equal(pipe(to_child), 0);
        assert_int_equal(pipe(to_parent), 0);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(to_child[1]);
                close(to_parent[0]);
                CHILD_CHECK(section_holds(base, committed, canary));
                CHILD_CHECK(tu_pipe_send(to_parent[1]));
                CHILD_CHECK(tu_pipe_recv(to_child[0]));
                CHILD_CHECK(!section_holds(base, committed, canary));
                CHILD_CHECK(tu_all_zero(base, committed));
                _exit(0);
        }
        close(to_child[0]);
        close(to_parent[1]);
        assert_true(tu_pipe_recv(to_parent[0]));
        assert_int_equal(lsashm_section_delete(s), 0);
        assert_true(tu_pipe_send(to_child[1]));
        int status = tu_wait(pid, 60, NULL);
        close(to_child[1]);
        close(to_parent[0]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("child %s", tu_describe_status(status, why, sizeof(why)));
}

static void test_wipe_delete_lsa(void **state)
{
        (void)state;
        unsigned char canary[CANARY_LEN];
        PVOID base = LsaCreateSharedMemory(1024 * 1024, 4096);
        struct lsashm_section_stats st;

        assert_non_null(base);
        make_canary(canary, 4242);
        unsigned char *p = LsaAllocateSharedMemory(base, 50000);
        assert_non_null(p);
        plant(p, 50000, canary);
        assert_int_equal(lsashm_shared_memory_stats(base, &st), 0);
        int fd = dup(lsashm_shared_memory_fd(base));
        assert_true(fd >= 0);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
        /* our own dup keeps the file alive after the section let go of it */
        unsigned char *view = mmap(NULL, st.reserved, PROT_READ, MAP_SHARED, fd, 0);
        assert_true(view != MAP_FAILED);
        assert_false(section_holds(view, st.reserved, canary));
        assert_true(tu_all_zero(view, st.reserved));
        munmap(view, st.reserved);
        close(fd);
}

/* A reader may hold a section's page by reference, not through a mapping:
 * vmsplice puts the page itself in a pipe, where it stays after the mapping
 * is gone or the file's page is replaced. Delete must change the bytes of
 * that very page (explicit_bzero through the owner's mapping does); taking
 * the page out of the file (MADV_REMOVE, a hole punch) would leave the
 * secret readable from the pipe. */
static void test_wipe_delete_reaches_pinned_pages(void **state)
{
        (void)state;
        unsigned char canary[CANARY_LEN];
        const size_t pg = tu_page_size();
        lsashm_section_t *s = make(256 * 1024, 64 * 1024, 0);
        unsigned char *p;

        make_canary(canary, 777);
        assert_int_equal(lsashm_section_alloc(s, pg, (void **)&p), 0);
        memcpy(p, canary, CANARY_LEN);
        uint64_t id;
        struct section_share sh;
        assert_int_equal(section_identity(s, &id), 0);
        assert_int_equal(section_share(s, id, false, &sh), 0);
        unsigned char *view = mmap(NULL, sh.size, PROT_READ, MAP_SHARED, sh.fd, 0);
        assert_true(view != MAP_FAILED);
        close(sh.fd);
        int pipe_fds[2];
        assert_int_equal(pipe(pipe_fds), 0);
        uint64_t off = (uint64_t)(p - (unsigned char *)lsashm_section_base(s));
        struct iovec iov = { .iov_base = view + off, .iov_len = pg };
        assert_true(vmsplice(pipe_fds[1], &iov, 1, 0) == (ssize_t)pg);
        munmap(view, sh.size);

        assert_int_equal(lsashm_section_delete(s), 0);
        unsigned char *got = malloc(pg);
        assert_non_null(got);
        assert_true(read(pipe_fds[0], got, pg) == (ssize_t)pg);
        assert_false(section_holds(got, pg, canary));
        assert_true(tu_all_zero(got, pg));
        free(got);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
}

/* ---- uncommitted pages and seals ------------------------------------ */

static int touch_in_child(volatile unsigned char *addr, bool write)
{
        pid_t pid = tu_fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                if (write)
                        *addr = 1;
                else
                        (void)*addr;
                _exit(0);
        }
        return tu_wait(pid, 30, NULL);
}

static void test_seal_uncommitted_is_prot_none(void **state)
{
        (void)state;
        const uint64_t pg = tu_page_size();
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0);
        unsigned char *base = lsashm_section_base(s);
        char why[64];

        /* created: nothing is committed, so even the first byte faults */
        int st = touch_in_child(base, false);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        void *first;
        assert_int_equal(lsashm_section_alloc(s, 1, &first), 0);
        assert_int_equal(lsashm_section_free(s, first), 0);
        uint64_t committed = stats_of(s).committed;
        assert_true(committed < 1 * MiB);
        /* in the committed part a touch is fine, so the child itself works */
        st = touch_in_child(base + committed - 1, true);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

        volatile unsigned char *const targets[] = { base + committed, base + committed + pg,
                                                    base + 1 * MiB - 1 };
        for (size_t i = 0; i < 3; i++) {
                for (int w = 0; w < 2; w++) {
                        st = touch_in_child(targets[i], w);
                        /* SIGSEGV: no access; SIGBUS would mean accessible but
                         * beyond the file, and success means committed */
                        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
                                fail_msg("%s at base+%#llx: child %s, want SIGSEGV",
                                         w ? "write" : "read",
                                         (unsigned long long)(targets[i] - base),
                                         tu_describe_status(st, why, sizeof(why)));
                }
        }

        /* after growth the old boundary is accessible */
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 512 * KiB, &p), 0);
        uint64_t grown = stats_of(s).committed;
        assert_true(grown > committed);
        st = touch_in_child(base + committed, true);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        if (grown < 1 * MiB) {
                st = touch_in_child(base + grown, false);
                assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        }
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* Every way of resizing or resealing the file must be refused with EPERM. */
static int try_resize_and_reseal(int fd, uint64_t reserved, const char **what)
{
        const uint64_t pg = tu_page_size();

        *what = "ftruncate smaller";
        if (ftruncate(fd, (off_t)(reserved - pg)) == 0 || errno != EPERM)
                return -1;
        *what = "ftruncate to zero";
        if (ftruncate(fd, 0) == 0 || errno != EPERM)
                return -1;
        *what = "ftruncate bigger";
        if (ftruncate(fd, (off_t)(reserved + pg)) == 0 || errno != EPERM)
                return -1;
        *what = "fallocate beyond the end";
        if (fallocate(fd, 0, (off_t)reserved, (off_t)pg) == 0 || errno != EPERM)
                return -1;
        *what = "F_ADD_SEALS F_SEAL_WRITE";
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0 || errno != EPERM)
                return -1;
        *what = "F_ADD_SEALS F_SEAL_FUTURE_WRITE";
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0 || errno != EPERM)
                return -1;
        *what = "size unchanged";
        struct stat sb;
        if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size != reserved)
                return -1;
        return 0;
}

static void test_seal_resize_refused(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, 0);
        int fd = lsashm_section_fd(s);
        uint64_t reserved = stats_of(s).reserved;
        const char *what = "";
        char why[64], path[64];

        if (try_resize_and_reseal(fd, reserved, &what) != 0)
                fail_msg("owner: %s was not refused with EPERM (errno %d)", what, errno);

        /* a descriptor opened afresh is a new file description, same inode */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        int fd2 = open(path, O_RDWR | O_CLOEXEC);
        assert_true(fd2 >= 0);
        if (try_resize_and_reseal(fd2, reserved, &what) != 0)
                fail_msg("reopened fd: %s was not refused with EPERM (errno %d)", what, errno);
        close(fd2);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (try_resize_and_reseal(fd, reserved, &what) != 0) {
                        fprintf(stderr, "child: %s was not refused with EPERM (errno %d)\n", what,
                                errno);
                        _exit(1);
                }
                _exit(0);
        }
        int status = tu_wait(pid, 30, NULL);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("child %s", tu_describe_status(status, why, sizeof(why)));

        /* and the owner fills the whole section without a SIGBUS */
        void *p;
        assert_int_equal(lsashm_section_alloc(s, reserved, &p), 0);
        memset(p, 0x5a, reserved);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hostile_overwrite_random_ops),
                cmocka_unit_test(test_hostile_overwrite_while_growing),
                cmocka_unit_test(test_hostile_alloc_still_zero_filled),
                cmocka_unit_test(test_hostile_scribble_on_free_block_then_realloc),
                cmocka_unit_test(test_hostile_scribble_on_free_block_lsa_child),
                cmocka_unit_test(test_hostile_scribble_on_kept_small_block_child),
                cmocka_unit_test(test_kept_small_block_wiped_at_free),
                cmocka_unit_test(test_kept_small_block_double_free_refused),
                cmocka_unit_test(test_wipe_fast_path_blocks_zero),
                cmocka_unit_test(test_hostile_overwrite_lsa),
                cmocka_unit_test(test_hostile_delete_after_overwrite),
                cmocka_unit_test(test_hostile_client_punches_holes),
                cmocka_unit_test(test_wipe_freed_block),
                cmocka_unit_test(test_wipe_freed_block_lsa),
                cmocka_unit_test(test_wipe_no_wipe_keeps_freed_canary),
                cmocka_unit_test(test_wipe_delete_seen_by_forked_child),
                cmocka_unit_test(test_wipe_delete_no_wipe_control),
                cmocka_unit_test(test_wipe_delete_high_water_only_owner),
                cmocka_unit_test(test_wipe_delete_lsa),
                cmocka_unit_test(test_wipe_delete_reaches_pinned_pages),
                cmocka_unit_test(test_seal_uncommitted_is_prot_none),
                cmocka_unit_test(test_seal_resize_refused),
        };

        return cmocka_run_group_tests(tests, setup_garbage, teardown_garbage);
}
