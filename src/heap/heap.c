/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "heap/heap-internal.h"

#define INITIAL_BLOCKS 64u
#define INITIAL_INDEX 64u
/* How far find_free() looks down one list before it reports no fit. */
#define HEAP_CLASS_PROBES 16u

_Static_assert(sizeof(struct heap_block) == 24, "descriptors stay small: one per block");
_Static_assert(HEAP_MAX_GRANULES < HEAP_FREE_BIT, "sizes never reach the free flag");
_Static_assert(HEAP_FL_COUNT <= 32, "first-level bitmap is one word");

static void *mem_resize(struct heap *h, void *old, size_t size)
{
        return h->mem.resize(h->mem.ctx, old, size);
}

static unsigned log2_u32(uint32_t v)
{
        return 31u - (unsigned)__builtin_clz(v);
}

/* --- offset index: util/oa-table.h, its array from the heap's own hook --- */

static struct oa_table_mem index_mem(const struct heap *h)
{
        return (struct oa_table_mem){ .resize = h->mem.resize, .ctx = h->mem.ctx };
}

/* heap_reserve() made room, and a live block's offset is never indexed
 * twice: the physical chain tiles the range. */
static void index_insert(struct heap *h, uint32_t offset, uint32_t block)
{
        int r = oa_table32_insert(&h->index, offset, block);
        assert(r == 0);
        (void)r;
}

/* --- descriptors --- */

static int blocks_resize(struct heap *h, uint32_t capacity)
{
        struct heap_block *b = mem_resize(h, h->blocks, (size_t)capacity * sizeof(*b));
        if (!b)
                return -ENOMEM;
        h->blocks = b;
        h->blocks_cap = capacity;
        return 0;
}

static uint32_t take_descriptor(struct heap *h)
{
        uint32_t idx = h->spare;
        if (idx != 0) {
                h->spare = h->blocks[idx].next_free;
                return idx;
        }
        assert(h->blocks_used < h->blocks_cap); /* heap_reserve() ran first */
        return h->blocks_used++;
}

static void release_descriptor(struct heap *h, uint32_t idx)
{
        h->blocks[idx] = (struct heap_block){ .next_free = h->spare };
        h->spare = idx;
}

int heap_reserve(struct heap *h)
{
        int r;
        if (h->spare == 0 && h->blocks_used >= h->blocks_cap) {
                if (h->blocks_cap > UINT32_MAX / 2)
                        return -ENOMEM;
                r = blocks_resize(h, h->blocks_cap * 2);
                if (r < 0)
                        return r;
        }
        struct oa_table_mem mem = index_mem(h);
        return oa_table32_reserve(&h->index, &mem, 1);
}

/* --- free lists ---
 * A free block's list is chosen by its size. Blocks change size in place as
 * they are split and merged; most of the time they stay in the same class,
 * and then they keep their place in the list: relist() only moves a block
 * whose class has changed. */

static void list_insert(struct heap *h, uint32_t idx)
{
        struct heap_block *b = &h->blocks[idx];
        uint32_t fl, sl;
        heap_mapping(heap_block_granules(b), &fl, &sl);
        uint32_t head = h->heads[fl][sl];
        b->size_flag |= HEAP_FREE_BIT;
        b->prev_free = 0;
        b->next_free = head;
        if (head)
                h->blocks[head].prev_free = idx;
        h->heads[fl][sl] = idx;
        h->sl_bitmap[fl] |= 1u << sl;
        h->fl_bitmap |= 1u << fl;
}

/* Unlink idx from the list of a block of size granules (its size when it
 * was listed, which may no longer be its size). */
static void list_remove(struct heap *h, uint32_t idx, uint32_t size)
{
        struct heap_block *b = &h->blocks[idx];
        uint32_t fl, sl;
        heap_mapping(size, &fl, &sl);
        if (b->prev_free)
                h->blocks[b->prev_free].next_free = b->next_free;
        else
                h->heads[fl][sl] = b->next_free;
        if (b->next_free)
                h->blocks[b->next_free].prev_free = b->prev_free;
        if (h->heads[fl][sl] == 0) {
                h->sl_bitmap[fl] &= ~(1u << sl);
                if (h->sl_bitmap[fl] == 0)
                        h->fl_bitmap &= ~(1u << fl);
        }
        b->prev_free = b->next_free = 0;
}

/* Whether sizes a and b (granules, >= 1) map to the same list: they agree
 * on the highest set bit of either and the HEAP_SL_SHIFT bits below it
 * (all bits below HEAP_SL_COUNT, where classes are exact). One bit scan
 * instead of two full mappings, on the path of every split and merge. */
static bool same_class(uint32_t a, uint32_t b)
{
        uint32_t either = a | b;
        if (either < HEAP_SL_COUNT)
                return a == b;
        unsigned shift = log2_u32(either) - HEAP_SL_SHIFT;
        return a >> shift == b >> shift;
}

static void relist(struct heap *h, uint32_t idx, uint32_t old_size)
{
        if (same_class(old_size, heap_block_granules(&h->blocks[idx])))
                return;
        list_remove(h, idx, old_size);
        list_insert(h, idx);
}

/* A free block of at least need granules, or 0. Inlined into both of
 * heap_alloc's searches: the second one is rare, the first one hot. */
__attribute__((always_inline)) static inline uint32_t find_free(const struct heap *h, uint32_t need)
{
        uint32_t fl, sl;

        /* The head of need's own class fits more often than not (always below
         * 32 granules, where classes are exact). Taking it keeps big blocks
         * whole: better fit for the same O(1). */
        heap_mapping(need, &fl, &sl);
        uint32_t head = h->heads[fl][sl];
        if (head && heap_block_granules(&h->blocks[head]) >= need)
                return head;

        /* Otherwise any block of the next class up is large enough. */
        uint32_t rounded = need;
        if (need >= HEAP_SL_COUNT)
                rounded += (1u << (log2_u32(need) - HEAP_SL_SHIFT)) - 1u;
        uint32_t rfl, rsl;
        heap_mapping(rounded, &rfl, &rsl);
        uint32_t sl_map = h->sl_bitmap[rfl] & (~0u << rsl);
        if (!sl_map) {
                uint32_t fl_map = rfl + 1u < 32u ? h->fl_bitmap & (~0u << (rfl + 1u)) : 0;
                if (fl_map) {
                        rfl = (uint32_t)__builtin_ctz(fl_map);
                        sl_map = h->sl_bitmap[rfl];
                }
        }
        if (sl_map)
                return h->heads[rfl][(uint32_t)__builtin_ctz(sl_map)];

        /* Nothing bigger anywhere: before the caller grows the section or
         * gives up, look a bounded way down need's own list, which may hold
         * a block that fits behind its head. Bounded, so still O(1). */
        uint32_t i = head ? h->blocks[head].next_free : 0;
        for (unsigned n = 0; i && n < HEAP_CLASS_PROBES; n++, i = h->blocks[i].next_free)
                if (heap_block_granules(&h->blocks[i]) >= need)
                        return i;
        return 0;
}

/* --- quick lists: whole small blocks kept for a request of their size ---
 * A kept block stays in the index and the physical chain exactly as a live
 * one, but is marked (HEAP_QUICK_MARK) and counted as free. */

/* Whether a freed block of size granules may be kept. */
static bool quick_takes(const struct heap *h, uint32_t size)
{
        return size <= HEAP_QUICK_MAX && h->quick_count[size] < h->quick_depth &&
               h->quick_blocks < HEAP_QUICK_BLOCKS_MAX &&
               h->quick_granules + size <= h->limit >> HEAP_QUICK_SHARE_SHIFT;
}

static void quick_push(struct heap *h, uint32_t idx, uint32_t size)
{
        struct heap_block *b = &h->blocks[idx];
        b->prev_free = HEAP_QUICK_MARK;
        b->next_free = h->quick_head[size];
        h->quick_head[size] = idx;
        h->quick_count[size]++;
        h->quick_blocks++;
        h->quick_granules += size;
}

static uint32_t quick_pop(struct heap *h, uint32_t size)
{
        uint32_t idx = h->quick_head[size];
        struct heap_block *b = &h->blocks[idx];
        h->quick_head[size] = b->next_free;
        b->prev_free = b->next_free = 0;
        h->quick_count[size]--;
        h->quick_blocks--;
        h->quick_granules -= size;
        return idx;
}

static uint32_t quick_release_until_fit(struct heap *h, uint32_t need);

/* The bookkeeping of every block handed out. */
static int handed_out(struct heap *h, uint32_t idx, uint32_t need, uint64_t *ret_offset, uint64_t *ret_size)
{
        h->in_use += need;
        h->live++;
        if (h->in_use > h->peak_in_use)
                h->peak_in_use = h->in_use;
        *ret_offset = (uint64_t)h->blocks[idx].offset << HEAP_GRANULE_SHIFT;
        if (ret_size)
                *ret_size = (uint64_t)need << HEAP_GRANULE_SHIFT;
        return 0;
}

/* --- public --- */

int heap_init(struct heap *h, const struct heap_mem_ops *mem, uint64_t capacity_bytes)
{
        if (!h || !mem || !mem->resize || capacity_bytes == 0 || capacity_bytes % HEAP_GRANULE ||
            capacity_bytes > HEAP_MAX_BYTES)
                return -EINVAL;
        memset(h, 0, sizeof(*h));
        h->mem = *mem;
        h->capacity = (uint32_t)(capacity_bytes >> HEAP_GRANULE_SHIFT);
        h->blocks_used = 1; /* index 0 means "none" */
        h->quick_depth = HEAP_QUICK_DEPTH_DEFAULT;
        int r = blocks_resize(h, INITIAL_BLOCKS);
        if (r < 0)
                return r;
        struct oa_table_mem index_ops = index_mem(h);
        r = oa_table32_reserve(&h->index, &index_ops, INITIAL_INDEX / 2);
        if (r < 0) {
                mem_resize(h, h->blocks, 0);
                h->blocks = NULL;
                return r;
        }
        return 0;
}

void heap_destroy(struct heap *h)
{
        if (!h || !h->mem.resize)
                return;
        mem_resize(h, h->blocks, 0);
        struct oa_table_mem mem = index_mem(h);
        oa_table32_destroy(&h->index, &mem);
        memset(h, 0, sizeof(*h));
}

int heap_extend(struct heap *h, uint64_t new_limit_bytes)
{
        if (new_limit_bytes % HEAP_GRANULE)
                return -EINVAL;
        uint64_t new_limit = new_limit_bytes >> HEAP_GRANULE_SHIFT;
        if (new_limit <= h->limit || new_limit > h->capacity)
                return -EINVAL;
        uint32_t delta = (uint32_t)(new_limit - h->limit);

        if (h->last && heap_block_is_free(&h->blocks[h->last])) {
                /* Move it to the head of its list even when its class stays:
                 * heap_extension_needed() relies on find_free() seeing it. */
                uint32_t idx = h->last;
                list_remove(h, idx, heap_block_granules(&h->blocks[idx]));
                h->blocks[idx].size_flag += delta;
                list_insert(h, idx);
        } else {
                int r = heap_reserve(h);
                if (r < 0)
                        return r;
                uint32_t idx = take_descriptor(h);
                h->blocks[idx] = (struct heap_block){
                        .offset = h->limit,
                        .size_flag = delta,
                        .prev_phys = h->last,
                };
                if (h->last)
                        h->blocks[h->last].next_phys = idx;
                h->last = idx;
                list_insert(h, idx);
        }
        h->limit = (uint32_t)new_limit;
        return 0;
}

int heap_alloc(struct heap *h, uint64_t size, uint64_t *ret_offset, uint64_t *ret_size)
{
        if (size == 0)
                return -EINVAL;
        if (size > ((uint64_t)h->capacity << HEAP_GRANULE_SHIFT))
                return -E2BIG;
        uint32_t need = (uint32_t)((size + HEAP_GRANULE - 1) >> HEAP_GRANULE_SHIFT);

        if (need <= HEAP_QUICK_MAX && h->quick_head[need]) {
                /* Still indexed and in the chain: nothing to reserve. */
                uint32_t idx = quick_pop(h, need);
                return handed_out(h, idx, need, ret_offset, ret_size);
        }

        /* Reserve before touching anything, so -ENOMEM leaves the heap as it was. */
        int r = heap_reserve(h);
        if (r < 0)
                return r;
        uint32_t idx = find_free(h, need);
        if (!idx && h->quick_blocks)
                idx = quick_release_until_fit(h, need);
        if (!idx)
                return -ENOSPC;

        struct heap_block *b = &h->blocks[idx];
        uint32_t have = heap_block_granules(b);
        if (have == need) {
                list_remove(h, idx, have);
                b->size_flag = need;
        } else {
                /* Carve the bottom of the free block into a new descriptor; the
                 * free rest keeps its descriptor and, usually, its list. */
                uint32_t used = take_descriptor(h);
                b = &h->blocks[idx];
                h->blocks[used] = (struct heap_block){
                        .offset = b->offset,
                        .size_flag = need,
                        .prev_phys = b->prev_phys,
                        .next_phys = idx,
                };
                if (b->prev_phys)
                        h->blocks[b->prev_phys].next_phys = used;
                b->prev_phys = used;
                b->offset += need;
                b->size_flag = (have - need) | HEAP_FREE_BIT;
                relist(h, idx, have);
                idx = used;
                b = &h->blocks[idx];
        }
        index_insert(h, b->offset, idx);
        if (b->offset + need > h->high_water)
                h->high_water = b->offset + need;
        return handed_out(h, idx, need, ret_offset, ret_size);
}

/* Take block out of the physical chain; its neighbours now touch. */
static void unlink_phys(struct heap *h, uint32_t idx)
{
        struct heap_block *b = &h->blocks[idx];
        if (b->prev_phys)
                h->blocks[b->prev_phys].next_phys = b->next_phys;
        if (b->next_phys)
                h->blocks[b->next_phys].prev_phys = b->prev_phys;
        else
                h->last = b->prev_phys;
        release_descriptor(h, idx);
}

/* Give the block idx, already out of the index, back to the free lists,
 * merged with its free neighbours. Inlined into heap_free, whose hot path
 * it is, as well as into the rare heap_quick_flush. */
__attribute__((always_inline)) static inline void release_block(struct heap *h, uint32_t idx)
{
        struct heap_block *b = &h->blocks[idx];
        uint32_t size = heap_block_granules(b);
        uint32_t prev = b->prev_phys, next = b->next_phys;
        bool prev_free = prev && heap_block_is_free(&h->blocks[prev]);
        bool next_free = next && heap_block_is_free(&h->blocks[next]);

        /* Merge into a free neighbour's descriptor rather than listing a new
         * one: the neighbour keeps its list unless its class changes. */
        if (prev_free) {
                struct heap_block *p = &h->blocks[prev];
                uint32_t old = heap_block_granules(p);
                p->size_flag += size;
                unlink_phys(h, idx);
                if (next_free) {
                        list_remove(h, next, heap_block_granules(&h->blocks[next]));
                        p->size_flag += heap_block_granules(&h->blocks[next]);
                        unlink_phys(h, next);
                }
                relist(h, prev, old);
        } else if (next_free) {
                struct heap_block *n = &h->blocks[next];
                uint32_t old = heap_block_granules(n);
                n->offset = b->offset;
                n->size_flag += size;
                unlink_phys(h, idx);
                relist(h, next, old);
        } else {
                list_insert(h, idx);
        }
}

int heap_free(struct heap *h, uint64_t offset, uint64_t *ret_size)
{
        if (offset % HEAP_GRANULE || (offset >> HEAP_GRANULE_SHIFT) >= h->limit)
                return -EINVAL;
        size_t at = oa_table32_locate(&h->index, offset >> HEAP_GRANULE_SHIFT);
        if (at == SIZE_MAX)
                return -EINVAL;
        uint32_t idx = h->index.slots[at].value;
        struct heap_block *b = &h->blocks[idx];
        /* A kept block is free: freeing it again is a double free. */
        if (heap_block_is_quick(b))
                return -EINVAL;
        uint32_t size = heap_block_granules(b);
        h->in_use -= size;
        h->live--;
        if (quick_takes(h, size))
                quick_push(h, idx, size);
        else
                release_block(h, oa_table32_remove_at(&h->index, at));
        if (ret_size)
                *ret_size = (uint64_t)size << HEAP_GRANULE_SHIFT;
        return 0;
}

/* Kept blocks are free space: before anyone grows for want of a fit, give
 * them back, merged, the largest first, until one fits need. Rare, and
 * bounded by HEAP_QUICK_BLOCKS_MAX; out of line, off the hot path. */
__attribute__((noinline)) static uint32_t quick_release_until_fit(struct heap *h, uint32_t need)
{
        for (uint32_t size = HEAP_QUICK_MAX; size >= 1 && h->quick_blocks; size--)
                while (h->quick_head[size]) {
                        uint32_t idx = quick_pop(h, size);
                        oa_table32_remove(&h->index, h->blocks[idx].offset);
                        release_block(h, idx);
                        uint32_t fit = find_free(h, need);
                        if (fit)
                                return fit;
                }
        return 0;
}

void heap_quick_flush(struct heap *h)
{
        for (uint32_t size = 1; size <= HEAP_QUICK_MAX && h->quick_blocks; size++)
                while (h->quick_head[size]) {
                        uint32_t idx = quick_pop(h, size);
                        oa_table32_remove(&h->index, h->blocks[idx].offset);
                        release_block(h, idx);
                }
}

int heap_set_quick(struct heap *h, uint32_t depth)
{
        if (depth > HEAP_QUICK_DEPTH_MAX)
                return -EINVAL;
        heap_quick_flush(h);
        h->quick_depth = depth;
        return 0;
}

int heap_block_size(const struct heap *h, uint64_t offset, uint64_t *ret_size)
{
        if (offset % HEAP_GRANULE || (offset >> HEAP_GRANULE_SHIFT) >= h->limit)
                return -EINVAL;
        uint32_t idx = heap_index_lookup(h, (uint32_t)(offset >> HEAP_GRANULE_SHIFT));
        if (!idx || heap_block_is_quick(&h->blocks[idx]))
                return -EINVAL;
        *ret_size = (uint64_t)heap_block_granules(&h->blocks[idx]) << HEAP_GRANULE_SHIFT;
        return 0;
}

uint64_t heap_extension_needed(const struct heap *h, uint64_t size)
{
        uint64_t need = (size + HEAP_GRANULE - 1) >> HEAP_GRANULE_SHIFT;
        uint64_t tail = 0;
        if (h->last && heap_block_is_free(&h->blocks[h->last]))
                tail = heap_block_granules(&h->blocks[h->last]);
        /* Extending reinserts the top block at the head of its list, where
         * find_free() looks first, so reaching need is enough. */
        return need > tail ? (need - tail) << HEAP_GRANULE_SHIFT : 0;
}

void heap_stats(const struct heap *h, struct heap_stats *ret)
{
        uint64_t largest = 0;
        if (h->fl_bitmap) {
                /* The top non-empty class holds the largest block, but a class
                 * spans a range of sizes: look through that one list. */
                uint32_t fl = log2_u32(h->fl_bitmap);
                uint32_t sl = log2_u32(h->sl_bitmap[fl]);
                for (uint32_t i = h->heads[fl][sl]; i; i = h->blocks[i].next_free)
                        if (heap_block_granules(&h->blocks[i]) > largest)
                                largest = heap_block_granules(&h->blocks[i]);
        }
        uint64_t tail = 0;
        if (h->last && heap_block_is_free(&h->blocks[h->last]))
                tail = heap_block_granules(&h->blocks[h->last]);
        *ret = (struct heap_stats){
                .managed = (uint64_t)h->limit << HEAP_GRANULE_SHIFT,
                .in_use = h->in_use << HEAP_GRANULE_SHIFT,
                .free = ((uint64_t)h->limit - h->in_use) << HEAP_GRANULE_SHIFT,
                .largest_free = largest << HEAP_GRANULE_SHIFT,
                .live_blocks = h->live,
                .peak_in_use = h->peak_in_use << HEAP_GRANULE_SHIFT,
                .tail_free = tail << HEAP_GRANULE_SHIFT,
                .high_water = (uint64_t)h->high_water << HEAP_GRANULE_SHIFT,
        };
}
