/* SPDX-License-Identifier: MIT */
/* The pure heap, driven directly: no section, no syscalls. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "heap/heap-internal.h"

/* Metadata allocator that can be told to fail, to prove -ENOMEM loses nothing. */
struct failing_mem {
        int calls_left; /* < 0: never fail */
};

static void *failing_resize(void *ctx, void *old, size_t size)
{
        struct failing_mem *m = ctx;
        if (size == 0) {
                free(old);
                return NULL;
        }
        if (m->calls_left == 0)
                return NULL;
        if (m->calls_left > 0)
                m->calls_left--;
        return realloc(old, size);
}

static struct failing_mem mem_state;
static const struct heap_mem_ops mem = { .resize = failing_resize, .ctx = &mem_state };

static int setup(void **state)
{
        mem_state.calls_left = -1;
        struct heap *h = calloc(1, sizeof(*h));
        assert_non_null(h);
        assert_int_equal(heap_init(h, &mem, 1 << 20), 0);
        *state = h;
        return 0;
}

static int teardown(void **state)
{
        heap_destroy(*state);
        free(*state);
        return 0;
}

static void assert_same_stats(const struct heap_stats *a, const struct heap_stats *b)
{
        assert_memory_equal(a, b, sizeof(*a));
}

static void test_heap_init_rejects_bad_capacity(void **state)
{
        (void)state;
        struct heap h;
        assert_int_equal(heap_init(&h, &mem, 0), -EINVAL);
        assert_int_equal(heap_init(&h, &mem, 100), -EINVAL); /* not a granule multiple */
        assert_int_equal(heap_init(&h, &mem, HEAP_MAX_BYTES + 16), -EINVAL);
        assert_int_equal(heap_init(NULL, &mem, 4096), -EINVAL);
}

static void test_heap_alloc_needs_extension_first(void **state)
{
        struct heap *h = *state;
        uint64_t off;
        assert_int_equal(heap_alloc(h, 16, &off, NULL), -ENOSPC);
        assert_int_equal(heap_extension_needed(h, 100), 112);
        assert_int_equal(heap_extend(h, 4096), 0);
        assert_int_equal(heap_extension_needed(h, 100), 0);
        assert_int_equal(heap_extension_needed(h, 5000), 5008 - 4096);
        assert_int_equal(heap_alloc(h, 16, &off, NULL), 0);
        assert_int_equal(heap_check(h), 0);
}

static void test_heap_alloc_rejects_zero_and_huge(void **state)
{
        struct heap *h = *state;
        uint64_t off;
        assert_int_equal(heap_extend(h, 4096), 0);
        assert_int_equal(heap_alloc(h, 0, &off, NULL), -EINVAL);
        assert_int_equal(heap_alloc(h, (1 << 20) + 1, &off, NULL), -E2BIG);
        assert_int_equal(heap_alloc(h, UINT64_MAX, &off, NULL), -E2BIG);
        assert_int_equal(heap_alloc(h, 8192, &off, NULL), -ENOSPC);
}

static void test_heap_extend_rejects_bad_limits(void **state)
{
        struct heap *h = *state;
        assert_int_equal(heap_extend(h, 4096), 0);
        assert_int_equal(heap_extend(h, 4096), -EINVAL); /* not growing */
        assert_int_equal(heap_extend(h, 4100), -EINVAL); /* not a granule multiple */
        assert_int_equal(heap_extend(h, (1 << 20) + 16), -EINVAL);
        assert_int_equal(heap_check(h), 0);
}

static void test_heap_alloc_rounds_to_granules(void **state)
{
        struct heap *h = *state;
        uint64_t off, size;
        assert_int_equal(heap_extend(h, 4096), 0);
        assert_int_equal(heap_alloc(h, 1, &off, &size), 0);
        assert_int_equal(off % 16, 0);
        assert_int_equal(size, 16);
        assert_int_equal(heap_alloc(h, 17, &off, &size), 0);
        assert_int_equal(off % 16, 0);
        assert_int_equal(size, 32);
        assert_int_equal(heap_block_size(h, off, &size), 0);
        assert_int_equal(size, 32);
}

static void test_heap_free_rejects_foreign_offset(void **state)
{
        struct heap *h = *state;
        uint64_t a, b, size;
        struct heap_stats before, after;
        assert_int_equal(heap_extend(h, 65536), 0);
        assert_int_equal(heap_alloc(h, 256, &a, NULL), 0);
        assert_int_equal(heap_alloc(h, 256, &b, NULL), 0);
        heap_stats(h, &before);

        assert_int_equal(heap_free(h, a + 16, &size), -EINVAL);  /* interior */
        assert_int_equal(heap_free(h, a + 1, &size), -EINVAL);   /* misaligned */
        assert_int_equal(heap_free(h, 65536, &size), -EINVAL);   /* past the limit */
        assert_int_equal(heap_free(h, UINT64_MAX, &size), -EINVAL);
        assert_int_equal(heap_free(h, b + 4096, &size), -EINVAL); /* free space */
        heap_stats(h, &after);
        assert_same_stats(&before, &after);
        assert_int_equal(heap_check(h), 0);

        assert_int_equal(heap_free(h, a, &size), 0);
        assert_int_equal(size, 256);
        assert_int_equal(heap_free(h, a, &size), -EINVAL); /* double free */
        assert_int_equal(heap_check(h), 0);
}

static void test_heap_free_coalesces_neighbours(void **state)
{
        struct heap *h = *state;
        uint64_t off[3];
        struct heap_stats st;
        assert_int_equal(heap_extend(h, 8192), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(heap_alloc(h, 1000, &off[i], NULL), 0);
        assert_int_equal(heap_free(h, off[1], NULL), 0);
        assert_int_equal(heap_free(h, off[0], NULL), 0); /* merges with the one above */
        assert_int_equal(heap_free(h, off[2], NULL), 0); /* merges both ways */
        heap_stats(h, &st);
        assert_int_equal(st.live_blocks, 0);
        assert_int_equal(st.in_use, 0);
        assert_int_equal(st.largest_free, 8192);
        assert_int_equal(st.tail_free, 8192);
        assert_int_equal(heap_check(h), 0);
        /* Everything merged back: the whole range is one block again. */
        uint64_t whole;
        assert_int_equal(heap_alloc(h, 8192, &whole, NULL), 0);
        assert_int_equal(whole, 0);
}

/* The high-water mark is the end of the highest block ever handed out: it
 * stays when that block is freed, and rises only with a higher one. */
static void test_heap_high_water_mark(void **state)
{
        struct heap *h = *state;
        uint64_t a, b, c, size;
        struct heap_stats st;
        assert_int_equal(heap_extend(h, 65536), 0);
        heap_stats(h, &st);
        assert_int_equal(st.high_water, 0);
        assert_int_equal(heap_alloc(h, 100, &a, &size), 0);
        heap_stats(h, &st);
        assert_int_equal(st.high_water, a + size);
        assert_int_equal(heap_alloc(h, 5000, &b, &size), 0);
        uint64_t top = b + size;
        heap_stats(h, &st);
        assert_int_equal(st.high_water, top);
        assert_int_equal(heap_free(h, b, NULL), 0);
        heap_stats(h, &st);
        assert_int_equal(st.high_water, top);
        assert_int_equal(heap_alloc(h, 16, &c, NULL), 0);
        assert_true(c + 16 <= top);
        heap_stats(h, &st);
        assert_int_equal(st.high_water, top);
        assert_int_equal(heap_check(h), 0);
        assert_int_equal(heap_free(h, a, NULL), 0);
        assert_int_equal(heap_free(h, c, NULL), 0);
        heap_stats(h, &st);
        assert_int_equal(st.high_water, top);
}

static void test_heap_extend_merges_free_top(void **state)
{
        struct heap *h = *state;
        uint64_t a, b;
        assert_int_equal(heap_extend(h, 4096), 0);
        assert_int_equal(heap_alloc(h, 1024, &a, NULL), 0);
        assert_int_equal(heap_extend(h, 8192), 0);
        /* The free top (3072 bytes) and the new 4096 form one 7168-byte block. */
        assert_int_equal(heap_alloc(h, 7168, &b, NULL), 0);
        assert_int_equal(b, 1024);
        assert_int_equal(heap_check(h), 0);
}

static void test_heap_fills_exactly(void **state)
{
        struct heap *h = *state;
        uint64_t off;
        struct heap_stats st;
        assert_int_equal(heap_extend(h, 4096), 0);
        for (int i = 0; i < 256; i++)
                assert_int_equal(heap_alloc(h, 16, &off, NULL), 0);
        assert_int_equal(heap_alloc(h, 16, &off, NULL), -ENOSPC);
        heap_stats(h, &st);
        assert_int_equal(st.in_use, 4096);
        assert_int_equal(st.free, 0);
        assert_int_equal(st.largest_free, 0);
        assert_int_equal(heap_check(h), 0);
}

static void test_heap_metadata_failure_loses_nothing(void **state)
{
        struct heap *h = *state;
        uint64_t off;
        struct heap_stats before, after;
        assert_int_equal(heap_extend(h, 1 << 20), 0);
        /* Fill until a metadata array must grow, then refuse the memory. */
        int n = 0;
        for (;;) {
                heap_stats(h, &before);
                mem_state.calls_left = 0;
                int r = heap_alloc(h, 32, &off, NULL);
                mem_state.calls_left = -1;
                if (r == -ENOMEM)
                        break;
                assert_int_equal(r, 0);
                assert_true(++n < 10000);
        }
        heap_stats(h, &after);
        assert_same_stats(&before, &after);
        assert_int_equal(heap_check(h), 0);
        assert_int_equal(heap_alloc(h, 32, &off, NULL), 0);
        assert_int_equal(heap_check(h), 0);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

/* A shadow map of granules catches any overlap between live blocks. */
static void test_heap_random_ops_never_overlap(void **state)
{
        struct heap *h = *state;
        enum { SLOTS = 512, LIMIT = 1 << 20, OPS = 100000 };
        uint64_t offs[SLOTS], sizes[SLOTS];
        uint8_t *owner = calloc(LIMIT / 16, 1);
        assert_non_null(owner);
        memset(offs, 0xff, sizeof(offs));
        assert_int_equal(heap_extend(h, 256 * 1024), 0);

        for (int op = 0; op < OPS; op++) {
                unsigned i = (unsigned)(rng() % SLOTS);
                if (offs[i] != UINT64_MAX) {
                        uint64_t size;
                        assert_int_equal(heap_free(h, offs[i], &size), 0);
                        assert_int_equal(size, sizes[i]);
                        memset(owner + offs[i] / 16, 0, size / 16);
                        offs[i] = UINT64_MAX;
                        continue;
                }
                uint64_t want = 1 + rng() % 4096, off, size;
                int r = heap_alloc(h, want, &off, &size);
                if (r == -ENOSPC) {
                        uint64_t more = heap_extension_needed(h, want);
                        struct heap_stats st;
                        heap_stats(h, &st);
                        if (st.managed + more > LIMIT)
                                continue;
                        assert_int_equal(heap_extend(h, st.managed + ((more + 4095) & ~4095ull)), 0);
                        r = heap_alloc(h, want, &off, &size);
                }
                assert_int_equal(r, 0);
                assert_true(size >= want && size < want + 16);
                for (uint64_t g = off / 16; g < (off + size) / 16; g++) {
                        assert_int_equal(owner[g], 0);
                        owner[g] = 1;
                }
                offs[i] = off;
                sizes[i] = size;
                if (op % 5000 == 0)
                        assert_int_equal(heap_check(h), 0);
        }
        assert_int_equal(heap_check(h), 0);
        free(owner);
}

/* heap_check() must notice broken metadata, or the hostile-client tests
 * that lean on it prove nothing. */
static void test_heap_check_detects_corruption(void **state)
{
        struct heap *h = *state;
        uint64_t a, b;
        assert_int_equal(heap_extend(h, 8192), 0);
        assert_int_equal(heap_alloc(h, 64, &a, NULL), 0);
        assert_int_equal(heap_alloc(h, 64, &b, NULL), 0);
        assert_int_equal(heap_check(h), 0);

        uint32_t idx = heap_index_lookup(h, (uint32_t)(b / 16));
        h->blocks[idx].size_flag += 1; /* blocks no longer tile the range */
        assert_int_equal(heap_check(h), -EUCLEAN);
        h->blocks[idx].size_flag -= 1;
        assert_int_equal(heap_check(h), 0);

        h->sl_bitmap[0] ^= 1u; /* bitmap disagrees with the lists */
        assert_int_equal(heap_check(h), -EUCLEAN);
        h->sl_bitmap[0] ^= 1u;

        h->in_use += 1; /* counters disagree with the blocks */
        assert_int_equal(heap_check(h), -EUCLEAN);
        h->in_use -= 1;
        assert_int_equal(heap_check(h), 0);

        uint32_t high = h->high_water;
        h->high_water = (uint32_t)(b / 16); /* a live block above the mark */
        assert_int_equal(heap_check(h), -EUCLEAN);
        h->high_water = high;
        assert_int_equal(heap_check(h), 0);
}

/* ---- quick lists: small blocks kept whole for their next request ---- */

/* A kept block is free to the API: a second free, a size query and a free
 * of its interior are refused, and the counters exclude it. */
static void test_heap_quick_block_is_free_to_the_api(void **state)
{
        struct heap *h = *state;
        uint64_t a, keep, size;
        struct heap_stats before, after;
        assert_int_equal(heap_extend(h, 8192), 0);
        assert_int_equal(heap_alloc(h, 48, &keep, NULL), 0);
        heap_stats(h, &before);
        assert_int_equal(heap_alloc(h, 48, &a, NULL), 0);
        assert_int_equal(heap_free(h, a, &size), 0);
        assert_int_equal(size, 48);
        assert_int_equal(h->quick_blocks, 1);

        assert_int_equal(heap_free(h, a, NULL), -EINVAL);      /* double */
        assert_int_equal(heap_free(h, a + 16, NULL), -EINVAL); /* interior */
        assert_int_equal(heap_block_size(h, a, &size), -EINVAL);
        heap_stats(h, &after);
        assert_int_equal(after.in_use, before.in_use);
        assert_int_equal(after.live_blocks, before.live_blocks);
        assert_int_equal(after.free, before.free);
        assert_int_equal(heap_check(h), 0);

        /* The same size takes it back; then it is live again in every way. */
        uint64_t b;
        assert_int_equal(heap_alloc(h, 40, &b, &size), 0);
        assert_int_equal(b, a);
        assert_int_equal(size, 48);
        assert_int_equal(h->quick_blocks, 0);
        assert_int_equal(heap_block_size(h, b, &size), 0);
        assert_int_equal(heap_check(h), 0);
        assert_int_equal(heap_free(h, b, NULL), 0);
        assert_int_equal(heap_free(h, b, NULL), -EINVAL);
        assert_int_equal(heap_free(h, keep, NULL), 0);
        heap_quick_flush(h);
        heap_stats(h, &after);
        assert_int_equal(after.in_use, 0);
        assert_int_equal(after.largest_free, 8192);
        assert_int_equal(heap_check(h), 0);
}

/* Each size keeps at most quick_depth blocks; past that, blocks go back to
 * the free lists, merged. Depth 0 keeps none; beyond the maximum: -EINVAL. */
static void test_heap_quick_lists_are_bounded(void **state)
{
        struct heap *h = *state;
        uint64_t off[3 * HEAP_QUICK_DEPTH_MAX];
        assert_int_equal(heap_extend(h, 65536), 0);
        for (unsigned i = 0; i < 3 * HEAP_QUICK_DEPTH_MAX; i++)
                assert_int_equal(heap_alloc(h, 256, &off[i], NULL), 0);
        for (unsigned i = 0; i < 3 * HEAP_QUICK_DEPTH_MAX; i++)
                assert_int_equal(heap_free(h, off[i], NULL), 0);
        assert_int_equal(h->quick_count[16], h->quick_depth);
        assert_int_equal(h->quick_blocks, h->quick_depth);
        assert_int_equal(heap_check(h), 0);

        assert_int_equal(heap_set_quick(h, HEAP_QUICK_DEPTH_MAX + 1), -EINVAL);
        assert_int_equal(heap_set_quick(h, 0), 0); /* flushes */
        assert_int_equal(h->quick_blocks, 0);
        struct heap_stats st;
        heap_stats(h, &st);
        assert_int_equal(st.largest_free, 65536);
        assert_int_equal(heap_alloc(h, 16, &off[0], NULL), 0);
        assert_int_equal(heap_free(h, off[0], NULL), 0);
        assert_int_equal(h->quick_blocks, 0);
        assert_int_equal(heap_check(h), 0);
}

/* Kept blocks are bounded in number and in bytes, whatever the sizes. */
static void test_heap_quick_lists_total_bounds(void **state)
{
        (void)state;
        struct heap big;
        enum { SIZES = 80, EACH = 4 };
        static uint64_t off[SIZES * EACH];
        assert_int_equal(heap_init(&big, &mem, 64 << 20), 0);
        assert_int_equal(heap_extend(&big, 64 << 20), 0);
        for (unsigned i = 0; i < SIZES * EACH; i++)
                assert_int_equal(heap_alloc(&big, 16 * (i / EACH + 1), &off[i], NULL), 0);
        for (unsigned i = 0; i < SIZES * EACH; i++)
                assert_int_equal(heap_free(&big, off[i], NULL), 0);
        assert_int_equal(big.quick_blocks, HEAP_QUICK_BLOCKS_MAX);
        assert_int_equal(heap_check(&big), 0);
        heap_destroy(&big);

        /* 64 KiB managed: at most 2 KiB kept, so two blocks of 1 KiB. */
        struct heap *h = *state;
        assert_int_equal(heap_extend(h, 65536), 0);
        for (unsigned i = 0; i < 4; i++)
                assert_int_equal(heap_alloc(h, 1024, &off[i], NULL), 0);
        for (unsigned i = 0; i < 4; i++)
                assert_int_equal(heap_free(h, off[i], NULL), 0);
        assert_int_equal(h->quick_blocks, 2);
        assert_int_equal(h->quick_granules, 128);
        assert_int_equal(heap_check(h), 0);
}

/* When nothing free fits, kept blocks go back the largest first and only
 * until one fits: the rest stay kept. */
static void test_heap_quick_released_until_fit(void **state)
{
        struct heap *h = *state;
        enum { N = 65536 / 256 };
        uint64_t off[N], got;
        assert_int_equal(heap_extend(h, 65536), 0);
        for (unsigned i = 0; i < N; i++)
                assert_int_equal(heap_alloc(h, 256, &off[i], NULL), 0);
        for (unsigned i = 10; i <= 40; i += 10) /* kept: the depth of their size */
                assert_int_equal(heap_free(h, off[i], NULL), 0);
        assert_int_equal(h->quick_blocks, HEAP_QUICK_DEPTH_DEFAULT);
        assert_int_equal(heap_free(h, off[50], NULL), 0); /* free: the list is full */
        assert_int_equal(heap_free(h, off[11], NULL), 0); /* free, beside kept 10 */
        assert_int_equal(heap_free(h, off[21], NULL), 0); /* free, beside kept 20 */
        assert_int_equal(h->quick_blocks, HEAP_QUICK_DEPTH_DEFAULT);
        /* 272 B: no free block fits; 40, 30, 20 go back, and 20 merges with 21. */
        assert_int_equal(heap_alloc(h, 272, &got, NULL), 0);
        assert_int_equal(got, off[20]);
        assert_int_equal(h->quick_blocks, 1);
        assert_int_equal(heap_check(h), 0);
}

/* Kept blocks never make the heap report -ENOSPC: a request that only fits
 * once they are merged back gets its block, and the heap fills exactly. */
static void test_heap_quick_flushed_before_enospc(void **state)
{
        struct heap *h = *state;
        enum { N = 4096 / 16 };
        uint64_t off[N], big;
        assert_int_equal(heap_extend(h, 4096), 0);
        for (unsigned i = 0; i < N; i++)
                assert_int_equal(heap_alloc(h, 16, &off[i], NULL), 0);
        /* Free a run of adjacent blocks: some are kept, the rest merge. */
        for (unsigned i = 0; i < 32; i++)
                assert_int_equal(heap_free(h, off[100 + i], NULL), 0);
        assert_true(h->quick_blocks > 0);
        assert_int_equal(heap_extension_needed(h, 512), 512);
        assert_int_equal(heap_alloc(h, 512, &big, NULL), 0);
        assert_int_equal(big, off[100]);
        assert_int_equal(h->quick_blocks, 0);
        assert_int_equal(heap_check(h), 0);
        uint64_t none;
        assert_int_equal(heap_alloc(h, 16, &none, NULL), -ENOSPC);
}

/* heap_check() sees a broken quick list too. */
static void test_heap_check_detects_quick_corruption(void **state)
{
        struct heap *h = *state;
        uint64_t a, b, keep;
        assert_int_equal(heap_extend(h, 8192), 0);
        assert_int_equal(heap_alloc(h, 32, &a, NULL), 0);
        assert_int_equal(heap_alloc(h, 32, &b, NULL), 0);
        assert_int_equal(heap_alloc(h, 32, &keep, NULL), 0);
        assert_int_equal(heap_free(h, a, NULL), 0);
        assert_int_equal(heap_free(h, b, NULL), 0);
        assert_int_equal(heap_check(h), 0);

        uint32_t ib = h->quick_head[2];
        h->blocks[ib].next_free = ib; /* a cycle */
        assert_int_equal(heap_check(h), -EUCLEAN);
        h->blocks[ib].next_free = heap_index_lookup(h, (uint32_t)(a / 16));
        assert_int_equal(heap_check(h), 0);

        h->quick_count[2]++; /* count disagrees with the list */
        assert_int_equal(heap_check(h), -EUCLEAN);
        h->quick_count[2]--;

        uint32_t ik = heap_index_lookup(h, (uint32_t)(keep / 16));
        h->blocks[ik].prev_free = HEAP_QUICK_MARK; /* marked but in no list */
        assert_int_equal(heap_check(h), -EUCLEAN);
        h->blocks[ik].prev_free = 0;
        assert_int_equal(heap_check(h), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_heap_init_rejects_bad_capacity),
                cmocka_unit_test_setup_teardown(test_heap_alloc_needs_extension_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_alloc_rejects_zero_and_huge, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_extend_rejects_bad_limits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_alloc_rounds_to_granules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_free_rejects_foreign_offset, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_free_coalesces_neighbours, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_high_water_mark, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_extend_merges_free_top, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_fills_exactly, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_metadata_failure_loses_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_random_ops_never_overlap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_check_detects_corruption, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_quick_block_is_free_to_the_api, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_quick_lists_are_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_quick_flushed_before_enospc, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_quick_lists_total_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_quick_released_until_fit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heap_check_detects_quick_corruption, setup, teardown),
        };
        return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
