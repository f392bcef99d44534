/* SPDX-License-Identifier: MIT */
/*
 * The body of util/oa-table.h, once per instance: include it only from there,
 * with OA_T (the table's struct and the prefix of its functions), OA_SLOT,
 * OA_KEY and OA_VALUE defined. Every instance is the same code and keeps the
 * invariants oa-table.h describes; only the widths of keys and values differ.
 */
#ifndef OA_T
#error "include util/oa-table.h, not this file"
#endif

#define OA_CAT_(a, b) a##b
#define OA_CAT(a, b)  OA_CAT_(a, b)
#define OA_FN(suffix) OA_CAT(OA_T, suffix)

struct OA_SLOT {
        OA_KEY key;
        OA_VALUE value; /* 0: empty */
};

/* All zeroes is an empty table with no array: valid for find, remove,
 * check and destroy; reserve allocates on first use. */
struct OA_T {
        struct OA_SLOT *slots;
        size_t mask;    /* capacity - 1, or 0 with no array */
        unsigned shift; /* 64 - log2(capacity) */
        size_t count;   /* full slots */
};

static inline size_t OA_FN(_capacity)(const struct OA_T *t)
{
        return t->slots ? t->mask + 1 : 0;
}

/* Only meaningful with an array (capacity > 0). */
static inline size_t OA_FN(_home)(const struct OA_T *t, OA_KEY key)
{
        return (size_t)(((uint64_t)key * OA_TABLE_FIBONACCI) >> t->shift);
}

/* The value held for key, or 0. */
static inline OA_VALUE OA_FN(_find)(const struct OA_T *t, OA_KEY key)
{
        if (t->count == 0)
                return 0;
        for (size_t i = OA_FN(_home)(t, key);; i = (i + 1) & t->mask) {
                const struct OA_SLOT *s = &t->slots[i];
                if (s->value == 0)
                        return 0; /* I3: the key would sit before this hole */
                if (s->key == key)
                        return s->value;
        }
}

/* Place a key known to be absent into an array of the table's geometry. */
static inline void OA_FN(_put)(struct OA_T *t, OA_KEY key, OA_VALUE value)
{
        size_t i = OA_FN(_home)(t, key);
        while (t->slots[i].value != 0)
                i = (i + 1) & t->mask;
        t->slots[i] = (struct OA_SLOT){ .key = key, .value = value };
}

/* The slow half of _reserve(): a new array of at least need slots.
 * Out of line, so that the fast half inlines into the heap's every alloc;
 * "unused" because a file may include this header and never reserve. */
__attribute__((noinline, cold, unused)) static int OA_FN(_grow)(struct OA_T *t, const struct oa_table_mem *mem,
                                                                size_t need)
{
        size_t old_cap = OA_FN(_capacity)(t);
        size_t cap = old_cap ? old_cap : OA_TABLE_MIN_CAPACITY;
        unsigned log2 = (unsigned)__builtin_ctzll((unsigned long long)cap);
        while (cap < need) {
                if (cap > SIZE_MAX / 2 / sizeof(struct OA_SLOT))
                        return -ENOMEM;
                cap *= 2;
                log2++;
        }
        struct OA_SLOT *fresh = mem->resize(mem->ctx, NULL, cap * sizeof(*fresh));
        if (!fresh)
                return -ENOMEM;
        memset(fresh, 0, cap * sizeof(*fresh));
        struct OA_T grown = { .slots = fresh, .mask = cap - 1, .shift = 64u - log2, .count = t->count };
        for (size_t i = 0; i < old_cap; i++)
                if (t->slots[i].value != 0)
                        OA_FN(_put)(&grown, t->slots[i].key, t->slots[i].value);
        if (t->slots)
                mem->resize(mem->ctx, t->slots, 0);
        *t = grown;
        return 0;
}

/* Make room for extra more keys, doubling the array until count + extra
 * keeps I2. 0, or -ENOMEM with the table unchanged. The heap calls this
 * before every allocation: the test that there is room already comes first
 * and cannot overflow (I2 makes capacity / 2 - count >= 0). */
static inline int OA_FN(_reserve)(struct OA_T *t, const struct oa_table_mem *mem, size_t extra)
{
        if (extra <= OA_FN(_capacity)(t) / 2 - t->count)
                return 0;
        if (extra > SIZE_MAX / 2 - t->count)
                return -ENOMEM;
        return OA_FN(_grow)(t, mem, (t->count + extra) * 2);
}

/* Add key -> value (value != 0). The caller reserved room first, so this
 * never allocates and never fails for memory: callers that must not fail
 * half-way reserve before they change anything else. -EEXIST if key is
 * already held (I4); the table is then unchanged. */
static inline int OA_FN(_insert)(struct OA_T *t, OA_KEY key, OA_VALUE value)
{
        assert(value != 0);
        assert(t->slots && (t->count + 1) * 2 <= t->mask + 1); /* _reserve() ran */
        size_t i = OA_FN(_home)(t, key);
        for (; t->slots[i].value != 0; i = (i + 1) & t->mask)
                if (t->slots[i].key == key)
                        return -EEXIST;
        t->slots[i] = (struct OA_SLOT){ .key = key, .value = value };
        t->count++;
        return 0;
}

/* Where key is held: its slot's position, or SIZE_MAX when absent. The
 * position stays valid until the table next changes. */
static inline size_t OA_FN(_locate)(const struct OA_T *t, OA_KEY key)
{
        if (t->count == 0)
                return SIZE_MAX;
        for (size_t i = OA_FN(_home)(t, key);; i = (i + 1) & t->mask) {
                const struct OA_SLOT *s = &t->slots[i];
                if (s->value == 0)
                        return SIZE_MAX; /* I3: the key would sit before this hole */
                if (s->key == key)
                        return i;
        }
}

/* Empty the full slot at hole, a position _locate() returned, and
 * close the gap (backward shift). Returns the value it held. */
static inline OA_VALUE OA_FN(_remove_at)(struct OA_T *t, size_t hole)
{
        OA_VALUE value = t->slots[hole].value;
        for (size_t j = (hole + 1) & t->mask; t->slots[j].value != 0; j = (j + 1) & t->mask) {
                if (!oa_table_home_between(OA_FN(_home)(t, t->slots[j].key), hole, j)) {
                        t->slots[hole] = t->slots[j];
                        hole = j;
                }
        }
        t->slots[hole] = (struct OA_SLOT){ 0 };
        t->count--;
        return value;
}

/* Remove key; returns the value it had, or 0 when absent (table unchanged). */
static inline OA_VALUE OA_FN(_remove)(struct OA_T *t, OA_KEY key)
{
        size_t at = OA_FN(_locate)(t, key);
        return at == SIZE_MAX ? 0 : OA_FN(_remove_at)(t, at);
}

/* Free the array; the table is empty and reusable (all zeroes). */
static inline void OA_FN(_destroy)(struct OA_T *t, const struct oa_table_mem *mem)
{
        if (t->slots)
                mem->resize(mem->ctx, t->slots, 0);
        *t = (struct OA_T){ 0 };
}

/* Verify I1-I4; 0 or -EUCLEAN. O(count * run length): tests and heap_check()
 * only, never a hot path. */
static inline int OA_FN(_check)(const struct OA_T *t)
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
                const struct OA_SLOT *s = &t->slots[i];
                if (s->value == 0)
                        continue;
                full++;
                /* I3 and I4: every slot from home up to i is full and holds
                 * another key, so a search for this one reaches it. */
                for (size_t j = OA_FN(_home)(t, s->key); j != i; j = (j + 1) & t->mask)
                        if (t->slots[j].value == 0 || t->slots[j].key == s->key)
                                return -EUCLEAN;
        }
        /* I2 */
        if (full != t->count || full * 2 > cap)
                return -EUCLEAN;
        return 0;
}

#undef OA_FN
#undef OA_CAT
#undef OA_CAT_
