/* SPDX-License-Identifier: MIT */
/* src/util/oa-table.h: the open-addressing table under the heap's offset
 * index, the registry of sections and the host's tables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "heap/heap-internal.h"
#include "util/oa-table.h"

/* Memory that can be told to fail: the n-th next allocation returns NULL. */
struct test_mem {
        int fail_in; /* 0: never */
        int live;    /* arrays not yet freed */
};

static void *test_resize(void *ctx, void *old, size_t size)
{
        struct test_mem *m = ctx;
        if (size == 0) {
                if (old)
                        m->live--;
                free(old);
                return NULL;
        }
        if (m->fail_in > 0 && --m->fail_in == 0)
                return NULL;
        void *p = realloc(old, size);
        if (p && !old)
                m->live++;
        return p;
}

/* The first key from *next up whose home is home, in a table of t's size. */
static uint64_t key_with_home(const struct oa_table *t, size_t home, uint64_t *next)
{
        for (;; (*next)++)
                if (oa_table_home(t, *next) == home)
                        return (*next)++;
}

/* The slot that holds key, or SIZE_MAX. */
static size_t slot_of(const struct oa_table *t, uint64_t key)
{
        for (size_t i = 0; i < oa_table_capacity(t); i++)
                if (t->slots[i].value && t->slots[i].key == key)
                        return i;
        return SIZE_MAX;
}

/* The same in the heap's compact instance. */
static size_t slot32_of(const struct oa_table32 *t, uint32_t key)
{
        for (size_t i = 0; i < oa_table32_capacity(t); i++)
                if (t->slots[i].value && t->slots[i].key == key)
                        return i;
        return SIZE_MAX;
}

static void test_oa_table_insert_find_remove(void **state)
{
        (void)state;
        struct test_mem m = { 0 };
        struct oa_table_mem mem = { test_resize, &m };
        struct oa_table t = { 0 };

        /* The all-zero table is a valid empty one. */
        assert_int_equal(oa_table_check(&t), 0);
        assert_int_equal(oa_table_find(&t, 7), 0);
        assert_int_equal(oa_table_remove(&t, 7), 0);

        assert_int_equal(oa_table_reserve(&t, &mem, 3), 0);
        assert_int_equal(oa_table_capacity(&t), OA_TABLE_MIN_CAPACITY);
        /* Every 64-bit key is a key, 0 and all-ones included. */
        assert_int_equal(oa_table_insert(&t, 0, 10), 0);
        assert_int_equal(oa_table_insert(&t, UINT64_MAX, 20), 0);
        assert_int_equal(oa_table_insert(&t, 1ull << 40, 30), 0);
        assert_int_equal(t.count, 3);
        assert_int_equal(oa_table_find(&t, 0), 10);
        assert_int_equal(oa_table_find(&t, UINT64_MAX), 20);
        assert_int_equal(oa_table_find(&t, 1ull << 40), 30);
        assert_int_equal(oa_table_find(&t, 1), 0);

        /* A key is held once: the second insert changes nothing. */
        assert_int_equal(oa_table_reserve(&t, &mem, 1), 0);
        assert_int_equal(oa_table_insert(&t, UINT64_MAX, 99), -EEXIST);
        assert_int_equal(oa_table_find(&t, UINT64_MAX), 20);
        assert_int_equal(t.count, 3);

        assert_int_equal(oa_table_remove(&t, UINT64_MAX), 20);
        assert_int_equal(oa_table_remove(&t, UINT64_MAX), 0);
        assert_int_equal(oa_table_find(&t, UINT64_MAX), 0);
        assert_int_equal(oa_table_find(&t, 0), 10);
        assert_int_equal(t.count, 2);
        assert_int_equal(oa_table_check(&t), 0);

        oa_table_destroy(&t, &mem);
        assert_int_equal(m.live, 0);
        assert_null(t.slots);
        assert_int_equal(oa_table_check(&t), 0);
}

static void test_oa_table_grows_at_half_load(void **state)
{
        (void)state;
        struct test_mem m = { 0 };
        struct oa_table_mem mem = { test_resize, &m };
        struct oa_table t = { 0 };
        enum { N = 5000 };

        for (uint64_t k = 0; k < N; k++) {
                assert_int_equal(oa_table_reserve(&t, &mem, 1), 0);
                /* Sequential keys, as offsets and LUIDs often are. */
                assert_int_equal(oa_table_insert(&t, k * 4096, (uintptr_t)k + 1), 0);
                size_t cap = oa_table_capacity(&t);
                assert_true(t.count * 2 <= cap);
                /* It doubles only when it must: never under a quarter full. */
                assert_true(cap == OA_TABLE_MIN_CAPACITY || t.count * 4 > cap);
        }
        assert_int_equal(oa_table_check(&t), 0);
        assert_int_equal(m.live, 1); /* every outgrown array was freed */
        for (uint64_t k = 0; k < N; k++)
                assert_int_equal(oa_table_find(&t, k * 4096), k + 1);

        /* A reservation that fits allocates nothing. */
        size_t cap = oa_table_capacity(&t);
        m.fail_in = 1;
        assert_int_equal(oa_table_reserve(&t, &mem, cap / 2 - t.count), 0);
        /* One that does not, with no memory: -ENOMEM, table as it was. */
        struct oa_slot *slots = t.slots;
        assert_int_equal(oa_table_reserve(&t, &mem, cap / 2 - t.count + 1), -ENOMEM);
        assert_ptr_equal(t.slots, slots);
        assert_int_equal(oa_table_capacity(&t), cap);
        assert_int_equal(t.count, N);
        assert_int_equal(oa_table_check(&t), 0);
        assert_int_equal(oa_table_reserve(&t, &mem, SIZE_MAX / 2), -ENOMEM);
        assert_int_equal(oa_table_check(&t), 0);

        oa_table_destroy(&t, &mem);
        assert_int_equal(m.live, 0);
}

/* Keys crafted to share one home: the run wraps past the end of the array
 * and every member stays reachable as others leave. */
static void test_oa_table_collisions_wrap(void **state)
{
        (void)state;
        struct test_mem m = { 0 };
        struct oa_table_mem mem = { test_resize, &m };
        struct oa_table t = { 0 };
        assert_int_equal(oa_table_reserve(&t, &mem, 1), 0);
        size_t last = oa_table_capacity(&t) - 1;

        uint64_t next = 1, keys[6];
        for (int i = 0; i < 6; i++) {
                keys[i] = key_with_home(&t, last, &next);
                assert_int_equal(oa_table_insert(&t, keys[i], (uintptr_t)i + 1), 0);
        }
        /* Home at the last slot: the run continues at 0. */
        assert_int_equal(slot_of(&t, keys[0]), last);
        for (int i = 1; i < 6; i++)
                assert_int_equal(slot_of(&t, keys[i]), (size_t)i - 1);
        assert_int_equal(oa_table_check(&t), 0);

        /* An absent key with the same home walks the whole run and stops at
         * the hole after it. */
        uint64_t absent = key_with_home(&t, last, &next);
        assert_int_equal(oa_table_find(&t, absent), 0);
        assert_int_equal(oa_table_remove(&t, absent), 0);

        for (int gone = 0; gone < 6; gone += 2) {
                assert_int_equal(oa_table_remove(&t, keys[gone]), (uintptr_t)gone + 1);
                assert_int_equal(oa_table_check(&t), 0);
                for (int i = 0; i < 6; i++) {
                        bool removed = i <= gone && i % 2 == 0;
                        assert_int_equal(oa_table_find(&t, keys[i]), removed ? 0 : (uintptr_t)i + 1);
                }
        }
        oa_table_destroy(&t, &mem);
}

/* Backward shift moves back exactly the keys that may sit in the hole: a key
 * whose home lies after the hole stays, or a search would start past it. */
static void test_oa_table_remove_shifts_only_movable_keys(void **state)
{
        (void)state;
        struct test_mem m = { 0 };
        struct oa_table_mem mem = { test_resize, &m };
        struct oa_table t = { 0 };
        assert_int_equal(oa_table_reserve(&t, &mem, 1), 0);

        /* Slots 3..6 hold a (home 3), b (home 3), c (home 5), d (home 4). */
        uint64_t next = 1;
        uint64_t a = key_with_home(&t, 3, &next), b = key_with_home(&t, 3, &next);
        uint64_t c = key_with_home(&t, 5, &next), d = key_with_home(&t, 4, &next);
        assert_int_equal(oa_table_insert(&t, a, 1), 0);
        assert_int_equal(oa_table_insert(&t, b, 2), 0);
        assert_int_equal(oa_table_insert(&t, c, 3), 0);
        assert_int_equal(oa_table_insert(&t, d, 4), 0);
        assert_int_equal(slot_of(&t, a), 3);
        assert_int_equal(slot_of(&t, b), 4);
        assert_int_equal(slot_of(&t, c), 5);
        assert_int_equal(slot_of(&t, d), 6);

        /* a leaves: b moves to 3 (its home); c (home 5) may not move to 4,
         * before its home; d (home 4) fills 4 instead. */
        assert_int_equal(oa_table_remove(&t, a), 1);
        assert_int_equal(slot_of(&t, b), 3);
        assert_int_equal(slot_of(&t, d), 4);
        assert_int_equal(slot_of(&t, c), 5);
        assert_int_equal(t.slots[6].value, 0);
        assert_int_equal(oa_table_check(&t), 0);

        /* b leaves: nothing after it has home 3, so 3 stays empty. */
        assert_int_equal(oa_table_remove(&t, b), 2);
        assert_int_equal(t.slots[3].value, 0);
        assert_int_equal(slot_of(&t, d), 4);
        assert_int_equal(slot_of(&t, c), 5);
        assert_int_equal(oa_table_find(&t, c), 3);
        assert_int_equal(oa_table_find(&t, d), 4);
        assert_int_equal(oa_table_check(&t), 0);
        oa_table_destroy(&t, &mem);
}

static uint64_t xorshift(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* Random inserts and removes over a small key space (so that keys collide,
 * come back and leave again) against a plain array. */
static void test_oa_table_random_ops_match_shadow(void **state)
{
        (void)state;
        struct test_mem m = { 0 };
        struct oa_table_mem mem = { test_resize, &m };
        struct oa_table t = { 0 };
        enum { KEYS = 1024, OPS = 200000 };
        static uintptr_t shadow[KEYS];
        static uint64_t pool[KEYS];
        size_t present = 0;
        uint64_t rng = 0x9E3779B97F4A7C15ull;

        /* Random keys: an arithmetic series would hash without a single
         * collision (Fibonacci hashing spreads it evenly), testing nothing. */
        for (unsigned i = 0; i < KEYS; i++)
                pool[i] = xorshift(&rng);

        for (int op = 0; op < OPS; op++) {
                uint64_t r = xorshift(&rng);
                unsigned k = (unsigned)(r % KEYS);
                uint64_t key = pool[k];
                uintptr_t value = (uintptr_t)(r >> 40) | 1;
                /* Lean towards inserts early, removes late: load sweeps up
                 * and down through every growth step. */
                bool insert = (r >> 20) % OPS > (uint64_t)op;
                if (insert) {
                        assert_int_equal(oa_table_reserve(&t, &mem, 1), 0);
                        int rc = oa_table_insert(&t, key, value);
                        assert_int_equal(rc, shadow[k] ? -EEXIST : 0);
                        if (!shadow[k]) {
                                shadow[k] = value;
                                present++;
                        }
                } else {
                        assert_int_equal(oa_table_remove(&t, key), shadow[k]);
                        if (shadow[k])
                                present--;
                        shadow[k] = 0;
                }
                assert_int_equal(t.count, present);
                if (op % 4096 == 0) {
                        assert_int_equal(oa_table_check(&t), 0);
                        for (unsigned i = 0; i < KEYS; i++)
                                assert_int_equal(oa_table_find(&t, pool[i]), shadow[i]);
                }
        }
        assert_int_equal(oa_table_check(&t), 0);
        oa_table_destroy(&t, &mem);
}

/* oa_table_check() must catch each broken invariant, or the tests that lean
 * on it (here and heap_check()) prove nothing. */
static void test_oa_table_check_detects_corruption(void **state)
{
        (void)state;
        struct test_mem m = { 0 };
        struct oa_table_mem mem = { test_resize, &m };
        struct oa_table t = { 0 };
        assert_int_equal(oa_table_reserve(&t, &mem, 4), 0);
        uint64_t next = 1;
        uint64_t a = key_with_home(&t, 3, &next), b = key_with_home(&t, 3, &next);
        uint64_t c = key_with_home(&t, 3, &next);
        assert_int_equal(oa_table_insert(&t, a, 1), 0);
        assert_int_equal(oa_table_insert(&t, b, 2), 0);
        assert_int_equal(oa_table_insert(&t, c, 3), 0);
        assert_int_equal(oa_table_check(&t), 0);

        /* I2: a count that disagrees with the slots. */
        t.count++;
        assert_int_equal(oa_table_check(&t), -EUCLEAN);
        t.count--;

        /* I1: a shift that hashes for another capacity. */
        t.shift--;
        assert_int_equal(oa_table_check(&t), -EUCLEAN);
        t.shift++;

        /* I1: a mask that is not a power of two minus one. */
        t.mask--;
        assert_int_equal(oa_table_check(&t), -EUCLEAN);
        t.mask++;

        /* I3: a hole inside b's run (a deleted without the shift), so a
         * search for b or c stops short of them. */
        struct oa_slot saved = t.slots[3];
        t.slots[3] = (struct oa_slot){ 0 };
        t.count--;
        assert_int_equal(oa_table_find(&t, c), 0);
        assert_int_equal(oa_table_check(&t), -EUCLEAN);
        t.slots[3] = saved;
        t.count++;
        assert_int_equal(oa_table_check(&t), 0);

        /* I4: the same key in two slots. */
        saved = t.slots[5];
        t.slots[5].key = a;
        assert_int_equal(oa_table_check(&t), -EUCLEAN);
        t.slots[5] = saved;

        /* I2: more than half full. */
        size_t cap = oa_table_capacity(&t), filled = t.count;
        for (size_t i = 0; filled * 2 <= cap; i++)
                if (t.slots[i].value == 0) {
                        t.slots[i] = (struct oa_slot){ .key = (uint64_t)i << 48, .value = 1 };
                        /* Move the key's home here so only I2 is broken. */
                        while (oa_table_home(&t, t.slots[i].key) != i)
                                t.slots[i].key++;
                        filled++;
                }
        t.count = filled;
        assert_int_equal(oa_table_check(&t), -EUCLEAN);

        /* An empty table with an inconsistent header. */
        struct oa_table e = { .count = 1 };
        assert_int_equal(oa_table_check(&e), -EUCLEAN);

        oa_table_destroy(&t, &mem);
        assert_int_equal(m.live, 0);
}

/* The compact instance (the heap's index) against a plain array too, with
 * removes through locate + remove_at as the heap does them. */
static void test_oa_table32_random_ops_match_shadow(void **state)
{
        (void)state;
        struct test_mem m = { 0 };
        struct oa_table_mem mem = { test_resize, &m };
        struct oa_table32 t = { 0 };
        enum { KEYS = 1024, OPS = 200000 };
        static uint32_t shadow[KEYS];
        static uint32_t pool[KEYS];
        size_t present = 0;
        uint64_t rng = 0x2545F4914F6CDD1Dull;

        for (unsigned i = 0; i < KEYS; i++)
                pool[i] = (uint32_t)xorshift(&rng);
        assert_int_equal(sizeof(struct oa_slot32), 8);

        for (int op = 0; op < OPS; op++) {
                uint64_t r = xorshift(&rng);
                unsigned k = (unsigned)(r % KEYS);
                uint32_t key = pool[k];
                uint32_t value = (uint32_t)(r >> 40) | 1;
                bool insert = (r >> 20) % OPS > (uint64_t)op;
                if (insert) {
                        assert_int_equal(oa_table32_reserve(&t, &mem, 1), 0);
                        int rc = oa_table32_insert(&t, key, value);
                        assert_int_equal(rc, shadow[k] ? -EEXIST : 0);
                        if (!shadow[k]) {
                                shadow[k] = value;
                                present++;
                        }
                } else {
                        size_t at = oa_table32_locate(&t, key);
                        if (shadow[k]) {
                                assert_true(at != SIZE_MAX);
                                assert_int_equal(oa_table32_remove_at(&t, at), shadow[k]);
                                present--;
                        } else {
                                assert_true(at == SIZE_MAX);
                                assert_int_equal(oa_table32_remove(&t, key), 0);
                        }
                        shadow[k] = 0;
                }
                assert_int_equal(t.count, present);
                if (op % 4096 == 0) {
                        assert_int_equal(oa_table32_check(&t), 0);
                        for (unsigned i = 0; i < KEYS; i++)
                                assert_int_equal(oa_table32_find(&t, pool[i]), shadow[i]);
                }
        }
        assert_int_equal(oa_table32_check(&t), 0);
        oa_table32_destroy(&t, &mem);
        assert_int_equal(m.live, 0);
}

/* The heap's offset index is an oa_table: heap_check() answers for the
 * table's invariants as well as for what the entries say about blocks. */
static void test_oa_table_heap_check_covers_the_index(void **state)
{
        (void)state;
        struct test_mem m = { 0 };
        struct heap_mem_ops mem = { test_resize, &m };
        struct heap h;
        uint64_t a, b;
        assert_int_equal(heap_init(&h, &mem, 1 << 20), 0);
        assert_int_equal(heap_extend(&h, 8192), 0);
        assert_int_equal(heap_alloc(&h, 64, &a, NULL), 0);
        assert_int_equal(heap_alloc(&h, 64, &b, NULL), 0);
        assert_int_equal(heap_check(&h), 0);
        struct oa_slot32 *sa = &h.index.slots[slot32_of(&h.index, (uint32_t)(a / 16))];
        struct oa_slot32 *sb = &h.index.slots[slot32_of(&h.index, (uint32_t)(b / 16))];

        /* An entry that names another block than the one at its offset. */
        uint32_t saved = sa->value;
        sa->value = sb->value;
        assert_int_equal(heap_check(&h), -EUCLEAN);
        sa->value = saved;
        assert_int_equal(heap_check(&h), 0);

        /* An entry that names a descriptor never handed out. */
        sa->value = h.blocks_used;
        assert_int_equal(heap_check(&h), -EUCLEAN);
        sa->value = saved;

        /* The table's own geometry. */
        h.index.shift++;
        assert_int_equal(heap_check(&h), -EUCLEAN);
        h.index.shift--;
        assert_int_equal(heap_check(&h), 0);

        heap_destroy(&h);
        assert_int_equal(m.live, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_oa_table_insert_find_remove),
                cmocka_unit_test(test_oa_table_grows_at_half_load),
                cmocka_unit_test(test_oa_table_collisions_wrap),
                cmocka_unit_test(test_oa_table_remove_shifts_only_movable_keys),
                cmocka_unit_test(test_oa_table_random_ops_match_shadow),
                cmocka_unit_test(test_oa_table32_random_ops_match_shadow),
                cmocka_unit_test(test_oa_table_check_detects_corruption),
                cmocka_unit_test(test_oa_table_heap_check_covers_the_index),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
