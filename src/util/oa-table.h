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

struct oa_slot {
        uint64_t key;
        uintptr_t value; /* 0: empty */
};

/* All zeroes is an empty table with no array: valid for find, remove,
 * check and destroy; reserve allocates on first use. */
struct oa_table {
        struct oa_slot *slots;
        size_t mask;    /* capacity - 1, or 0 with no array */
        unsigned shift; /* 64 - log2(capacity) */
        size_t count;   /* full slots */
};

/* resize(ctx, NULL, n) returns n bytes or NULL; resize(ctx, old, 0) frees.
 * The same shape as the heap's heap_mem_ops. */
struct oa_table_mem {
        void *(*resize)(void *ctx, void *old, size_t size);
        void *ctx;
};

static inline size_t oa_table_capacity(const struct oa_table *t)
{
        return t->slots ? t->mask + 1 : 0;
}

/* Only meaningful with an array (capacity > 0). */
static inline size_t oa_table_home(const struct oa_table *t, uint64_t key)
{
        return (size_t)((key * OA_TABLE_FIBONACCI) >> t->shift);
}

/* Is the home of the key held at j cyclically in (hole, j]? Then the key
 * cannot move back into the hole without leaving its own run (I3). */
static inline bool oa_table_home_between(size_t home, size_t hole, size_t j)
{
        return hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
}

/* The value held for key, or 0. */
static inline uintptr_t oa_table_find(const struct oa_table *t, uint64_t key)
{
        if (t->count == 0)
                return 0;
        for (size_t i = oa_table_home(t, key);; i = (i + 1) & t->mask) {
                const struct oa_slot *s = &t->slots[i];
                if (s->value == 0)
                        return 0; /* I3: the key would sit before this hole */
                if (s->key == key)
                        return s->value;
        }
}

/* Place a key known to be absent into an array of the table's geometry. */
static inline void oa_table_put(struct oa_table *t, uint64_t key, uintptr_t value)
{
        size_t i = oa_table_home(t, key);
        while (t->slots[i].value != 0)
                i = (i + 1) & t->mask;
        t->slots[i] = (struct oa_slot){ .key = key, .value = value };
}

/* The slow half of oa_table_reserve(): a new array of at least need slots.
 * Out of line, so that the fast half inlines into the heap's every alloc;
 * "unused" because a file may include this header and never reserve. */
__attribute__((noinline, cold, unused)) static int oa_table_grow(struct oa_table *t,
                                                                 const struct oa_table_mem *mem, size_t need)
{
        size_t old_cap = oa_table_capacity(t);
        size_t cap = old_cap ? old_cap : OA_TABLE_MIN_CAPACITY;
        unsigned log2 = (unsigned)__builtin_ctzll((unsigned long long)cap);
        while (cap < need) {
                if (cap > SIZE_MAX / 2 / sizeof(struct oa_slot))
                        return -ENOMEM;
                cap *= 2;
                log2++;
        }
        struct oa_slot *fresh = mem->resize(mem->ctx, NULL, cap * sizeof(*fresh));
        if (!fresh)
                return -ENOMEM;
        memset(fresh, 0, cap * sizeof(*fresh));
        struct oa_table grown = { .slots = fresh, .mask = cap - 1, .shift = 64u - log2, .count = t->count };
        for (size_t i = 0; i < old_cap; i++)
                if (t->slots[i].value != 0)
                        oa_table_put(&grown, t->slots[i].key, t->slots[i].value);
        if (t->slots)
                mem->resize(mem->ctx, t->slots, 0);
        *t = grown;
        return 0;
}

/* Make room for extra more keys, doubling the array until count + extra
 * keeps I2. 0, or -ENOMEM with the table unchanged. The heap calls this
 * before every allocation: the test that there is room already comes first
 * and cannot overflow (I2 makes capacity / 2 - count >= 0). */
static inline int oa_table_reserve(struct oa_table *t, const struct oa_table_mem *mem, size_t extra)
{
        if (extra <= oa_table_capacity(t) / 2 - t->count)
                return 0;
        if (extra > SIZE_MAX / 2 - t->count)
                return -ENOMEM;
        return oa_table_grow(t, mem, (t->count + extra) * 2);
}

/* Add key -> value (value != 0). The caller reserved room first, so this
 * never allocates and never fails for memory: callers that must not fail
 * half-way reserve before they change anything else. -EEXIST if key is
 * already held (I4); the table is then unchanged. */
static inline int oa_table_insert(struct oa_table *t, uint64_t key, uintptr_t value)
{
        assert(value != 0);
        assert(t->slots && (t->count + 1) * 2 <= t->mask + 1); /* oa_table_reserve() ran */
        size_t i = oa_table_home(t, key);
        for (; t->slots[i].value != 0; i = (i + 1) & t->mask)
                if (t->slots[i].key == key)
                        return -EEXIST;
        t->slots[i] = (struct oa_slot){ .key = key, .value = value };
        t->count++;
        return 0;
}

/* Where key is held: its slot's position, or SIZE_MAX when absent. The
 * position stays valid until the table next changes. */
static inline size_t oa_table_locate(const struct oa_table *t, uint64_t key)
{
        if (t->count == 0)
                return SIZE_MAX;
        for (size_t i = oa_table_home(t, key);; i = (i + 1) & t->mask) {
                const struct oa_slot *s = &t->slots[i];
                if (s->value == 0)
                        return SIZE_MAX; /* I3: the key would sit before this hole */
                if (s->key == key)
                        return i;
        }
}

/* Empty the full slot at hole, a position oa_table_locate() returned, and
 * close the gap (backward shift). Returns the value it held. */
static inline uintptr_t oa_table_remove_at(struct oa_table *t, size_t hole)
{
        uintptr_t value = t->slots[hole].value;
        for (size_t j = (hole + 1) & t->mask; t->slots[j].value != 0; j = (j + 1) & t->mask) {
                if (!oa_table_home_between(oa_table_home(t, t->slots[j].key), hole, j)) {
                        t->slots[hole] = t->slots[j];
                        hole = j;
                }
        }
        t->slots[hole] = (struct oa_slot){ 0 };
        t->count--;
        return value;
}

/* Remove key; returns the value it had, or 0 when absent (table unchanged). */
static inline uintptr_t oa_table_remove(struct oa_table *t, uint64_t key)
{
        size_t at = oa_table_locate(t, key);
        return at == SIZE_MAX ? 0 : oa_table_remove_at(t, at);
}

/* Free the array; the table is empty and reusable (all zeroes). */
static inline void oa_table_destroy(struct oa_table *t, const struct oa_table_mem *mem)
{
        if (t->slots)
                mem->resize(mem->ctx, t->slots, 0);
        *t = (struct oa_table){ 0 };
}

/* Verify I1-I4; 0 or -EUCLEAN. O(count * run length): tests and heap_check()
 * only, never a hot path. */
static inline int oa_table_check(const struct oa_table *t)
{
        if (!t->slots)
                return t->mask == 0 && t->count == 0 ? 0 : -EUCLEAN;
        size_t cap = t->mask + 1;
        /* I1 */
        if (cap < OA_TABLE_MIN_CAPACITY || (cap & t->mask) != 0 ||
            t->shift != 64u - (unsigned)__builtin_ctzll((unsigned long long)cap))
                return -EUCLEAN;
        size_t full = 0;
        for (size_t i = 0; i < cap; i++) {
                const struct oa_slot *s = &t->slots[i];
                if (s->value == 0)
                        continue;
                full++;
                /* I3 and I4: every slot from home up to i is full and holds
                 * another key, so a search for this one reaches it. */
                for (size_t j = oa_table_home(t, s->key); j != i; j = (j + 1) & t->mask)
                        if (t->slots[j].value == 0 || t->slots[j].key == s->key)
                                return -EUCLEAN;
        }
        /* I2 */
        if (full != t->count || full * 2 > cap)
                return -EUCLEAN;
        return 0;
}

#endif
