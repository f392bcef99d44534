/* SPDX-License-Identifier: MIT */
/*
 * oa-table: a map from 64-bit keys to non-zero pointer-sized values, by open
 * addressing. One implementation for every table of the project: the heap's
 * offset index, the base-address registry of sections, the host's logon
 * sessions and its LSA heap blocks.
 *
 * Glossary
 *   slot      one {key, value} cell of the array; value 0 marks it empty, so
 *             every 64-bit key is usable (a LUID of 0 is a valid LUID), and
 *             no user needs the value 0 (block 0 is "none", NULL is no
 *             section, a heap block is at least 1 byte long).
 *   home      the slot where the search for a key starts: Fibonacci hashing,
 *             the top log2(capacity) bits of key * 2^64/phi. Sequential keys
 *             (offsets, LUIDs) and aligned ones (addresses: the low zero
 *             bits only shift the product) spread evenly across the array.
 *   run       the full slots from a key's home to the slot that holds it.
 *
 * Invariants (oa_table_check() verifies each one):
 *   I1  capacity is 0 (nothing allocated yet) or a power of two at least
 *       OA_TABLE_MIN_CAPACITY, and shift is 64 - log2(capacity).
 *   I2  count is the number of full slots, and count * 2 <= capacity: at
 *       most half full, so there is always an empty slot (every probe ends)
 *       and runs stay short (linear probing degrades sharply past ~0.7).
 *   I3  every key's run is unbroken: no empty slot lies between its home and
 *       the slot that holds it (cyclically). Kept by insert, which takes the
 *       first empty slot of the run, and by remove (backward shift, below).
 *   I4  a key is held at most once: insert refuses a key it meets in the run.
 *
 * Deletion by backward shift, not tombstones: after a slot empties, each
 * later member of the run that may live there (its home is not cyclically
 * in (hole, its slot]) moves into the hole, which moves on. Probe lengths
 * then depend only on the keys present, never on how many came and went: a
 * long-lived heap or host never has to rehash to sweep tombstones away, and
 * a search for an absent key (every refused free) stops at the first hole.
 *
 * Instances: oa_table (64-bit keys, pointer-sized values) for the registry
 * and the host's tables, oa_table32 (32-bit keys and values: 8-byte slots,
 * half the cache lines) for the heap's offset index, which has a key and a
 * value of 32 bits and sits on every free. Both are util/oa-table-impl.h,
 * included once for each: one implementation, two widths.
 *
 * Pure and header-only: no syscall, no lock, no logging, and no memory of its
 * own. The array comes through the caller's resize hook (the heap's metadata
 * hook, or oa-table-libc.h), so the heap stays as pure as it was. Header-only
 * because the heap's lookup sits on every free and every block-size query:
 * inlined it costs what the index written into heap.c did, and there is no
 * object file for each layer's library to agree on. Callers that share a
 * table between threads lock around every call; the table knows nothing of it.
 */
#ifndef LSASHM_OA_TABLE_H
#define LSASHM_OA_TABLE_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OA_TABLE_MIN_CAPACITY 16u
/* 2^64 / golden ratio, odd: multiplying by it permutes the 64-bit keys. */
#define OA_TABLE_FIBONACCI UINT64_C(0x9E3779B97F4A7C15)

/* resize(ctx, NULL, n) returns n bytes or NULL; resize(ctx, old, 0) frees.
 * The same shape as the heap's heap_mem_ops. */
struct oa_table_mem {
        void *(*resize)(void *ctx, void *old, size_t size);
        void *ctx;
};

/* Is the home of the key held at j cyclically in (hole, j]? Then the key
 * cannot move back into the hole without leaving its own run (I3). */
static inline bool oa_table_home_between(size_t home, size_t hole, size_t j)
{
        return hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
}

/* oa_table: 64-bit keys, pointer-sized values. */
#define OA_T oa_table
#define OA_SLOT oa_slot
#define OA_KEY uint64_t
#define OA_VALUE uintptr_t
#include "util/oa-table-impl.h"
#undef OA_T
#undef OA_SLOT
#undef OA_KEY
#undef OA_VALUE

/* oa_table32: 32-bit keys and values. */
#define OA_T oa_table32
#define OA_SLOT oa_slot32
#define OA_KEY uint32_t
#define OA_VALUE uint32_t
#include "util/oa-table-impl.h"
#undef OA_T
#undef OA_SLOT
#undef OA_KEY
#undef OA_VALUE

#endif
