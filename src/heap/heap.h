/* SPDX-License-Identifier: MIT */
/*
 * heap: a two-level segregated-fit (TLSF) allocator over a range of offsets.
 *
 * It manages offsets, never memory: it does not read or write the range it
 * hands out, makes no syscall, takes no lock and never logs. All of its
 * metadata (block descriptors, free lists, bitmaps, the offset index) lives in
 * arrays obtained through the caller's mem_ops, i.e. in private memory. That
 * is the point: the section it manages may be written by hostile clients, and
 * nothing they write can reach the allocator.
 *
 * Units: offsets and sizes are bytes at the API, granules (16 bytes) inside.
 * Every operation is O(1), except when a metadata array doubles (amortised),
 * when kept blocks go back to the free lists (at most HEAP_QUICK_BLOCKS_MAX,
 * and only when nothing free fits) and heap_check(), which walks everything.
 */
#ifndef LSASHM_HEAP_H
#define LSASHM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/oa-table.h"

#define HEAP_GRANULE_SHIFT 4u
#define HEAP_GRANULE ((uint64_t)1 << HEAP_GRANULE_SHIFT)
/* Granule counts fit 30 bits, so the search-rounded size of any request
 * still maps to a first-level class below HEAP_FL_COUNT. */
#define HEAP_MAX_GRANULES ((uint32_t)1 << 30)
#define HEAP_MAX_BYTES ((uint64_t)HEAP_MAX_GRANULES << HEAP_GRANULE_SHIFT)

#define HEAP_SL_SHIFT 5u /* 32 second-level lists per first-level class */
#define HEAP_SL_COUNT (1u << HEAP_SL_SHIFT)
#define HEAP_FL_COUNT (32u - HEAP_SL_SHIFT)

/* Where the heap gets its private metadata memory: resize(ctx, old, n) works
 * like realloc(old, n) and frees for n == 0. Tests inject failures here. */
/* Quick lists hold blocks of 1..HEAP_QUICK_MAX granules (16 B..4 KiB): at
 * most depth of each size, HEAP_QUICK_BLOCKS_MAX in all, and together no
 * more than 1/2^HEAP_QUICK_SHARE_SHIFT of the managed range. */
#define HEAP_QUICK_MAX 256u
#define HEAP_QUICK_DEPTH_MAX 8u
#define HEAP_QUICK_DEPTH_DEFAULT 4u
#define HEAP_QUICK_BLOCKS_MAX 256u
#define HEAP_QUICK_SHARE_SHIFT 5u

struct heap_mem_ops {
        void *(*resize)(void *ctx, void *old, size_t size);
        void *ctx;
};

struct heap_block; /* descriptor, private to heap.c */

struct heap {
        struct heap_mem_ops mem;
        struct heap_block *blocks; /* descriptor array; index 0 is never used */
        uint32_t blocks_cap;       /* entries allocated in blocks[] */
        uint32_t blocks_used;      /* high-water mark of indices handed out */
        uint32_t spare;            /* chain of recycled descriptor indices */
        uint32_t last;             /* descriptor of the highest block, 0 if none */

        struct oa_table32 index; /* live block offset (granules) -> descriptor */

        uint32_t fl_bitmap;
        uint32_t sl_bitmap[HEAP_FL_COUNT];
        uint32_t heads[HEAP_FL_COUNT][HEAP_SL_COUNT];

        uint32_t limit;    /* granules managed: [0, limit) */
        uint32_t capacity; /* granules the heap may ever be extended to */
        uint64_t in_use;   /* granules in live blocks */
        uint64_t peak_in_use;
        uint64_t live;
        uint32_t high_water; /* end of the highest block ever handed out */

        /* The quick lists: small blocks freed recently, kept whole for the
         * next request of exactly their size (heap_set_quick). */
        uint32_t quick_depth; /* most blocks per list; 0: no quick lists */
        uint32_t quick_blocks; /* blocks held in all the lists */
        uint32_t quick_granules; /* their total size */
        uint32_t quick_head[HEAP_QUICK_MAX + 1]; /* by size in granules */
        uint8_t quick_count[HEAP_QUICK_MAX + 1];
};

struct heap_stats {
        uint64_t managed;      /* bytes under management (the committed part) */
        uint64_t in_use;       /* bytes in live blocks */
        uint64_t free;         /* managed - in_use */
        uint64_t largest_free; /* bytes in the largest free block */
        uint64_t live_blocks;
        uint64_t peak_in_use;
        uint64_t tail_free; /* bytes of the free block that ends at the limit, if any */
        uint64_t high_water; /* end of the highest block ever handed out: above it,
                              * no byte has ever been in a live block */
};

/* capacity_bytes: the most the heap may ever manage (a multiple of 16,
 * at most HEAP_MAX_BYTES). It starts with nothing under management.
 * -EINVAL bad capacity; -ENOMEM metadata. */
int heap_init(struct heap *h, const struct heap_mem_ops *mem, uint64_t capacity_bytes);
void heap_destroy(struct heap *h);

/*
 * Quick lists: heap_free() keeps blocks of up to HEAP_QUICK_MAX granules
 * whole, in a LIFO per size (at most depth of each, HEAP_QUICK_BLOCKS_MAX and
 * 1/32 of the managed range in all), and heap_alloc() hands them out again
 * for a request of exactly that size without touching the free lists, the
 * index or the chain. A block so kept is free for every purpose of the API:
 * its bytes count as free (in_use, live, free), heap_free() and
 * heap_block_size() refuse its offset as they refuse any free one, and when
 * no free block fits a request heap_alloc() gives kept blocks back to the
 * free lists, merged, before it reports -ENOSPC, so they never make a
 * section grow. It is only not merged with its free neighbours while kept:
 * largest_free and tail_free see it once heap_quick_flush() has run.
 * heap_init() sets the depth to HEAP_QUICK_DEPTH_DEFAULT; 0 turns them off;
 * it is at most HEAP_QUICK_DEPTH_MAX (-EINVAL). Setting it flushes.
 */
int heap_set_quick(struct heap *h, uint32_t depth);
/* Give every kept block back to the free lists, merged. O(kept blocks),
 * at most HEAP_QUICK_BLOCKS_MAX. */
void heap_quick_flush(struct heap *h);

/* Make sure the next heap_extend() or heap_alloc() cannot fail for want of
 * metadata. -ENOMEM leaves the heap unchanged. */
int heap_reserve(struct heap *h);

/* Bring [limit, new_limit) under management as free space. new_limit must be
 * a multiple of 16 within capacity. -EINVAL out of range; -ENOMEM metadata. */
int heap_extend(struct heap *h, uint64_t new_limit_bytes);

/* Find a block of at least size bytes. -EINVAL size 0; -E2BIG beyond capacity;
 * -ENOSPC nothing free fits (grow and retry); -ENOMEM metadata. Outputs the
 * block's offset and its real size (a multiple of 16). */
int heap_alloc(struct heap *h, uint64_t size, uint64_t *ret_offset, uint64_t *ret_size);

/* Release the live block that starts at offset. -EINVAL when no live block
 * starts there (foreign, interior, already freed): the heap is unchanged.
 * Outputs the size the block had. */
int heap_free(struct heap *h, uint64_t offset, uint64_t *ret_size);

/* The size of the live block at offset, or -EINVAL. */
int heap_block_size(const struct heap *h, uint64_t offset, uint64_t *ret_size);

/* Bytes heap_extend() must add so that heap_alloc(size) finds a block: the
 * shortfall of the free block at the top, 0 when it is already big enough. */
uint64_t heap_extension_needed(const struct heap *h, uint64_t size);

void heap_stats(const struct heap *h, struct heap_stats *ret);

/* heap-check.c: walk every structure; 0 or -EUCLEAN. */
int heap_check(const struct heap *h);

#endif
