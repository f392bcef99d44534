/* SPDX-License-Identifier: MIT */
/*
 * heap_check(): verify every invariant of the heap's private metadata. Tests
 * call it after each hostile step; it is O(blocks), never on a hot path.
 */
#include <errno.h>

#include "heap/heap-internal.h"

#define CHECK(cond)                        \
        do {                               \
                if (!(cond))               \
                        return -EUCLEAN;   \
        } while (0)

static bool valid_index(const struct heap *h, uint32_t idx)
{
        return idx > 0 && idx < h->blocks_used;
}

/* Walk the physical chain from the top down: blocks tile [0, limit) exactly,
 * no two free blocks touch, live and kept blocks are in the index. */
static int check_chain(const struct heap *h, uint64_t *ret_free_blocks)
{
        uint64_t used = 0, used_granules = 0, free_blocks = 0, steps = 0, kept = 0;
        uint32_t end = h->limit;
        uint32_t above = 0;

        CHECK((h->last == 0) == (h->limit == 0));
        for (uint32_t i = h->last; i; i = h->blocks[i].prev_phys) {
                CHECK(valid_index(h, i));
                CHECK(++steps < h->blocks_used);
                const struct heap_block *b = &h->blocks[i];
                uint32_t size = heap_block_granules(b);
                CHECK(size > 0 && size <= end);
                CHECK(b->offset == end - size);
                CHECK(b->next_phys == above);
                if (heap_block_is_free(b)) {
                        CHECK(!above || !heap_block_is_free(&h->blocks[above]));
                        free_blocks++;
                } else {
                        CHECK(heap_index_lookup(h, b->offset) == i);
                        CHECK(b->offset + size <= h->high_water);
                        if (heap_block_is_quick(b)) {
                                kept++;
                        } else {
                                CHECK(b->prev_free == 0 && b->next_free == 0);
                                used++;
                                used_granules += size;
                        }
                }
                end = b->offset;
                above = i;
        }
        CHECK(end == 0);
        CHECK(used == h->live && used + kept == h->index.count && used_granules == h->in_use);
        CHECK(kept == h->quick_blocks);
        CHECK(h->in_use <= h->peak_in_use && h->limit <= h->capacity && h->high_water <= h->limit);
        *ret_free_blocks = free_blocks;
        return 0;
}

/* Every free block sits in the list of its class, and the bitmaps say
 * exactly which lists are non-empty. */
static int check_lists(const struct heap *h, uint64_t free_blocks)
{
        uint64_t listed = 0;
        for (uint32_t fl = 0; fl < HEAP_FL_COUNT; fl++) {
                CHECK(((h->fl_bitmap >> fl) & 1u) == (h->sl_bitmap[fl] != 0));
                for (uint32_t sl = 0; sl < HEAP_SL_COUNT; sl++) {
                        uint32_t head = h->heads[fl][sl];
                        CHECK(((h->sl_bitmap[fl] >> sl) & 1u) == (head != 0));
                        uint32_t prev = 0;
                        for (uint32_t i = head; i; i = h->blocks[i].next_free) {
                                CHECK(valid_index(h, i));
                                CHECK(++listed <= free_blocks);
                                const struct heap_block *b = &h->blocks[i];
                                CHECK(heap_block_is_free(b) && b->prev_free == prev);
                                uint32_t f, s;
                                heap_mapping(heap_block_granules(b), &f, &s);
                                CHECK(f == fl && s == sl);
                                prev = i;
                        }
                }
        }
        CHECK(listed == free_blocks);
        return 0;
}

/* Every kept block sits in the quick list of its exact size, each list no
 * deeper than allowed; check_chain() has matched the total to the chain. */
static int check_quick(const struct heap *h)
{
        uint64_t listed = 0, granules = 0;
        CHECK(h->quick_depth <= HEAP_QUICK_DEPTH_MAX && h->quick_blocks <= HEAP_QUICK_BLOCKS_MAX);
        CHECK(h->quick_head[0] == 0 && h->quick_count[0] == 0);
        for (uint32_t size = 1; size <= HEAP_QUICK_MAX; size++) {
                uint32_t n = 0;
                for (uint32_t i = h->quick_head[size]; i; i = h->blocks[i].next_free) {
                        CHECK(valid_index(h, i));
                        CHECK(++n <= h->quick_count[size]);
                        const struct heap_block *b = &h->blocks[i];
                        CHECK(heap_block_is_quick(b) && !heap_block_is_free(b));
                        CHECK(heap_block_granules(b) == size);
                        granules += size;
                }
                CHECK(n == h->quick_count[size] && n <= h->quick_depth);
                listed += n;
        }
        CHECK(listed == h->quick_blocks && granules == h->quick_granules);
        return 0;
}

/* The table's own invariants, then: every entry names a live block that
 * starts at its key. check_chain() has matched the count to the live blocks. */
static int check_index(const struct heap *h)
{
        CHECK(oa_table32_check(&h->index) == 0);
        for (size_t i = 0; i < oa_table32_capacity(&h->index); i++) {
                const struct oa_slot32 *s = &h->index.slots[i];
                if (s->value == 0)
                        continue;
                CHECK(valid_index(h, s->value));
                const struct heap_block *b = &h->blocks[s->value];
                CHECK(!heap_block_is_free(b) && heap_block_granules(b) > 0 && b->offset == s->key);
        }
        return 0;
}

int heap_check(const struct heap *h)
{
        if (!h || !h->blocks || !h->index.slots)
                return -EUCLEAN;
        uint64_t free_blocks = 0;
        int r = check_chain(h, &free_blocks);
        if (r < 0)
                return r;
        r = check_lists(h, free_blocks);
        if (r < 0)
                return r;
        r = check_quick(h);
        if (r < 0)
                return r;
        return check_index(h);
}
