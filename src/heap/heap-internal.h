/* SPDX-License-Identifier: MIT */
/* Layout shared by heap.c and heap-check.c only. */
#ifndef LSASHM_HEAP_INTERNAL_H
#define LSASHM_HEAP_INTERNAL_H

#include "heap/heap.h"

#define HEAP_FREE_BIT ((uint32_t)1 << 31)

/* One per block, free or live, kept in the owner's private memory. Blocks are
 * named by index, never by pointer, because the array moves when it grows. */
struct heap_block {
        uint32_t offset;    /* granules from the start of the range */
        uint32_t size_flag; /* granules, | HEAP_FREE_BIT when free */
        uint32_t prev_phys; /* neighbour below, 0 at the bottom */
        uint32_t next_phys; /* neighbour above, 0 at the top */
        uint32_t prev_free; /* free-list links while free; next_free also */
        uint32_t next_free; /* chains recycled descriptors */
};

/* prev_free of a block kept in a quick list (its next_free links the list).
 * Live blocks have prev_free 0, and no descriptor index reaches it. */
#define HEAP_QUICK_MARK UINT32_MAX

static inline bool heap_block_is_quick(const struct heap_block *b)
{
        return b->prev_free == HEAP_QUICK_MARK;
}

static inline uint32_t heap_block_granules(const struct heap_block *b)
{
        return b->size_flag & ~HEAP_FREE_BIT;
}

static inline bool heap_block_is_free(const struct heap_block *b)
{
        return (b->size_flag & HEAP_FREE_BIT) != 0;
}

/* Size class of a block of size granules (size >= 1). */
static inline void heap_mapping(uint32_t size, uint32_t *fl, uint32_t *sl)
{
        if (size < HEAP_SL_COUNT) {
                *fl = 0;
                *sl = size;
        } else {
                uint32_t msb = 31u - (uint32_t)__builtin_clz(size);
                *sl = (size >> (msb - HEAP_SL_SHIFT)) ^ HEAP_SL_COUNT;
                *fl = msb - HEAP_SL_SHIFT + 1u;
        }
}

/* The descriptor of the live block at offset (granules), or 0. Descriptor 0
 * is never used, so it doubles as the table's "empty" value. */
static inline uint32_t heap_index_lookup(const struct heap *h, uint32_t offset)
{
        return (uint32_t)oa_table32_find(&h->index, offset);
}

#endif
