/* SPDX-License-Identifier: MIT */
/*
 * Thread safety: many threads on one section, a delete racing allocations
 * and frees, and threads creating and deleting sections of their own. Built
 * to run clean under ThreadSanitizer (label "concurrency").
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"
#include "test-util.h"

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)

enum { THREADS = 4, OPS = 20000, HELD = 64, KEEP = 10 };

/* Each worker records the first thing that went wrong; cmocka's assertions
 * are not for use off the main thread. */
struct worker {
        pthread_t tid;
        unsigned id;
        lsashm_section_t *s; /* native API, or */
        PVOID base;          /* Windows API */
        const char *error;
        int error_line;
        void *kept[KEEP];
        size_t kept_size[KEEP];
};

#define WORKER_CHECK(w, cond)                                     \
        do {                                                      \
                if (!(cond) && !(w)->error) {                     \
                        (w)->error = #cond;                       \
                        (w)->error_line = __LINE__;               \
                }                                                 \
        } while (0)

static void assert_worker_ok(const struct worker *w)
{
        if (w->error)
                fail_msg("thread %u: line %d: %s", w->id, w->error_line, w->error);
}

static void *w_alloc(struct worker *w, size_t size)
{
        if (w->s) {
                void *p = NULL;
                int r = lsashm_section_alloc(w->s, size, &p);
                WORKER_CHECK(w, r == 0 || r == -ENOSPC);
                return r == 0 ? p : NULL;
        }
        return LsaAllocateSharedMemory(w->base, (ULONG)size);
}

static void w_free(struct worker *w, void *p)
{
        if (w->s)
                WORKER_CHECK(w, lsashm_section_free(w->s, p) == 0);
        else
                LsaFreeSharedMemory(w->base, p);
}

/* A block carries its owner's id and a serial in every byte position we
 * check, so a block handed to two threads at once is caught. */
static void stamp(unsigned char *p, size_t size, unsigned id, unsigned serial)
{
        unsigned char tag = (unsigned char)(id * 61 + serial);

        memset(p, tag, size);
}

static bool stamped(const unsigned char *p, size_t size, unsigned id, unsigned serial)
{
        unsigned char tag = (unsigned char)(id * 61 + serial);

        for (size_t i = 0; i < size; i++)
                if (p[i] != tag)
                        return false;
        return true;
}

static void *churn(void *arg)
{
        struct worker *w = arg;
        struct tu_rng r = { 0x1234567u + w->id * 7919u };
        unsigned char *held[HELD];
        size_t size[HELD];
        unsigned serial[HELD];
        unsigned n = 0, next = 0;

        for (unsigned op = 0; op < OPS && !w->error; op++) {
                if (n < HELD && (n == 0 || tu_rng_range(&r, 0, 1))) {
                        size_t sz = (size_t)tu_rng_range(&r, 1, 1024);
                        unsigned char *p = w_alloc(w, sz);
                        WORKER_CHECK(w, p != NULL);
                        if (!p)
                                break;
                        WORKER_CHECK(w, (uintptr_t)p % 16 == 0);
                        WORKER_CHECK(w, tu_all_zero(p, sz));
                        stamp(p, sz, w->id, next);
                        held[n] = p;
                        size[n] = sz;
                        serial[n++] = next++;
                } else {
                        unsigned i = (unsigned)tu_rng_range(&r, 0, n - 1);
                        WORKER_CHECK(w, stamped(held[i], size[i], w->id, serial[i]));
                        w_free(w, held[i]);
                        n--;
                        held[i] = held[n];
                        size[i] = size[n];
                        serial[i] = serial[n];
                }
        }
        /* leave KEEP blocks live for the main thread to count and free */
        while (n > KEEP) {
                n--;
                WORKER_CHECK(w, stamped(held[n], size[n], w->id, serial[n]));
                w_free(w, held[n]);
        }
        for (unsigned i = 0; i < KEEP; i++) {
                w->kept[i] = i < n ? held[i] : NULL;
                w->kept_size[i] = i < n ? size[i] : 0;
        }
        return NULL;
}

/* Reads stats while the others churn: each snapshot must be self-consistent. */
struct observer {
        pthread_t tid;
        lsashm_section_t *s;
        PVOID base;
        atomic_bool stop;
        const char *error;
        unsigned long snapshots;
};

static void *observe(void *arg)
{
        struct observer *o = arg;

        while (!atomic_load(&o->stop)) {
                struct lsashm_section_stats st;
                int r = o->s ? lsashm_section_stats(o->s, &st)
                             : lsashm_shared_memory_stats(o->base, &st);
                if (r != 0)
                        o->error = "stats failed";
                else if (st.free != st.committed - st.in_use || st.in_use > st.committed ||
                         st.committed > st.reserved || st.largest_free > st.free ||
                         st.peak_in_use < st.in_use)
                        o->error = "inconsistent stats snapshot";
                if (o->error)
                        break;
                o->snapshots++;
                sched_yield();
        }
        return NULL;
}

/* others: blocks the caller holds in the section meanwhile. */
static void run_churn(lsashm_section_t *s, PVOID base, uint64_t others)
{
        struct worker w[THREADS];
        struct observer o = { .s = s, .base = base };
        struct lsashm_section_stats st;

        atomic_init(&o.stop, false);
        assert_int_equal(pthread_create(&o.tid, NULL, observe, &o), 0);
        for (unsigned i = 0; i < THREADS; i++) {
                w[i] = (struct worker){ .id = i, .s = s, .base = base };
                assert_int_equal(pthread_create(&w[i].tid, NULL, churn, &w[i]), 0);
        }
        for (unsigned i = 0; i < THREADS; i++)
                assert_int_equal(pthread_join(w[i].tid, NULL), 0);
        atomic_store(&o.stop, true);
        assert_int_equal(pthread_join(o.tid, NULL), 0);
        for (unsigned i = 0; i < THREADS; i++)
                assert_worker_ok(&w[i]);
        if (o.error)
                fail_msg("observer: %s", o.error);

        uint64_t kept = 0;
        for (unsigned i = 0; i < THREADS; i++)
                for (unsigned k = 0; k < KEEP; k++)
                        kept += w[i].kept[k] != NULL;
        assert_true(kept == THREADS * KEEP);
        assert_int_equal(s ? lsashm_section_stats(s, &st) : lsashm_shared_memory_stats(base, &st),
                         0);
        assert_true(st.live_blocks == kept + others);
        assert_true(st.refused_frees == 0);
        assert_int_equal(s ? lsashm_section_check(s) : lsashm_shared_memory_check(base), 0);

        for (unsigned i = 0; i < THREADS; i++)
                for (unsigned k = 0; k < KEEP; k++) {
                        w[i].error = NULL;
                        w_free(&w[i], w[i].kept[k]);
                        assert_worker_ok(&w[i]);
                }
        assert_int_equal(s ? lsashm_section_stats(s, &st) : lsashm_shared_memory_stats(base, &st),
                         0);
        assert_true(st.live_blocks == others);
        assert_true(others || st.in_use == 0);
}

static void test_threads_native_alloc_free(void **state)
{
        (void)state;
        struct lsashm_section_config cfg = { .max_size = 16 * MiB, .initial_size = 64 * KiB };
        lsashm_section_t *s = NULL;

        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        run_churn(s, NULL, 0);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* Sections are locked without atomics while the process has one thread
 * (section-internal.h). This test runs first, before any thread exists: the
 * main thread fills the section and keeps stamped blocks, then threads start
 * on the same section, which must now exclude them properly. */
static void test_threads_after_single_threaded_start(void **state)
{
        (void)state;
        struct lsashm_section_config cfg = { .max_size = 16 * MiB, .initial_size = 64 * KiB };
        lsashm_section_t *s = NULL;
        unsigned char *mine[HELD];

        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        for (unsigned i = 0; i < HELD; i++) {
                assert_int_equal(lsashm_section_alloc(s, 100 + i, (void **)&mine[i]), 0);
                assert_true(tu_all_zero(mine[i], 100 + i));
                stamp(mine[i], 100 + i, 99, i);
        }
        for (unsigned i = 0; i < HELD; i += 2)
                assert_int_equal(lsashm_section_free(s, mine[i]), 0);
        run_churn(s, NULL, HELD / 2);
        for (unsigned i = 1; i < HELD; i += 2) {
                assert_true(stamped(mine[i], 100 + i, 99, i));
                assert_int_equal(lsashm_section_free(s, mine[i]), 0);
        }
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_threads_lsa_alloc_free(void **state)
{
        (void)state;
        PVOID base = LsaCreateSharedMemory(16 << 20, 64 << 10);

        assert_non_null(base);
        run_churn(NULL, base, 0);
        assert_int_equal(lsashm_shared_memory_check(base), 0);
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

/* ---- delete racing use ------------------------------------------------- */

enum { RACERS = 3, RACE_ROUNDS = 200 };

struct race {
        PVOID base;
        atomic_int started;
        atomic_bool deleted;
};

struct racer {
        pthread_t tid;
        unsigned id;
        struct race *race;
        const char *error;
        int error_line;
        unsigned long allocs_after_delete_seen;
};

static void *race_use(void *arg)
{
        struct racer *t = arg;
        struct race *rc = t->race;
        struct tu_rng r = { 99u + t->id };
        void *held[32];
        unsigned n = 0;
        bool announced = false;

        for (unsigned op = 0;; op++) {
                /* read before the call: if the delete had returned by then,
                 * the call must fail */
                bool gone = atomic_load_explicit(&rc->deleted, memory_order_acquire);

                if (n < 32 && tu_rng_range(&r, 0, 2) != 0) {
                        ULONG size = (ULONG)tu_rng_range(&r, 1, 512);
                        unsigned char *p = LsaAllocateSharedMemory(rc->base, size);
                        unsigned char *lo = rc->base;
                        if (p) {
                                /* The block is never touched: the delete may
                                 * unmap it at any moment. Only its place is
                                 * checked. */
                                if ((uintptr_t)p % 16 != 0 || p < lo || p + size > lo + (1 << 20)) {
                                        t->error = "block outside the section";
                                        t->error_line = __LINE__;
                                }
                                held[n++] = p;
                        }
                        if (gone && p) {
                                t->error = "allocation succeeded after the delete returned";
                                t->error_line = __LINE__;
                        }
                } else if (n > 0) {
                        unsigned i = (unsigned)tu_rng_range(&r, 0, n - 1);
                        LsaFreeSharedMemory(rc->base, held[i]);
                        held[i] = held[--n];
                } else {
                        struct lsashm_section_stats st;
                        int s = lsashm_shared_memory_stats(rc->base, &st);
                        if (s != 0 && s != -ENOENT) {
                                t->error = "stats neither succeeded nor said ENOENT";
                                t->error_line = __LINE__;
                        }
                        if (gone && s != -ENOENT) {
                                t->error = "stats found the section after the delete returned";
                                t->error_line = __LINE__;
                        }
                }
                if (!announced && op >= 8) {
                        atomic_fetch_add(&rc->started, 1);
                        announced = true;
                }
                if (gone) {
                        t->allocs_after_delete_seen++;
                        if (t->allocs_after_delete_seen > 16)
                                break;
                }
                if (t->error)
                        break;
        }
        /* whatever is still held went with the section: these do nothing */
        while (n > 0)
                LsaFreeSharedMemory(rc->base, held[--n]);
        if (!announced)
                atomic_fetch_add(&rc->started, 1);
        return NULL;
}

static void test_threads_delete_races_alloc_free(void **state)
{
        (void)state;
        int fds = tu_count_fds();

        for (unsigned round = 0; round < RACE_ROUNDS; round++) {
                struct race rc = { .base = LsaCreateSharedMemory(1 << 20, (round % 4) << 14) };
                struct racer t[RACERS];

                assert_non_null(rc.base);
                atomic_init(&rc.started, 0);
                atomic_init(&rc.deleted, false);
                for (unsigned i = 0; i < RACERS; i++) {
                        t[i] = (struct racer){ .id = i, .race = &rc };
                        assert_int_equal(pthread_create(&t[i].tid, NULL, race_use, &t[i]), 0);
                }
                /* let the racers get going, then pull the section away */
                while (atomic_load(&rc.started) < (int)(round % (RACERS + 1)))
                        sched_yield();
                assert_int_equal(LsaDeleteSharedMemory(rc.base), TRUE);
                atomic_store_explicit(&rc.deleted, true, memory_order_release);
                for (unsigned i = 0; i < RACERS; i++)
                        assert_int_equal(pthread_join(t[i].tid, NULL), 0);
                for (unsigned i = 0; i < RACERS; i++)
                        if (t[i].error)
                                fail_msg("round %u racer %u line %d: %s", round, i, t[i].error_line,
                                         t[i].error);

                struct lsashm_section_stats st;
                assert_null(LsaAllocateSharedMemory(rc.base, 16));
                assert_int_equal(lsashm_shared_memory_stats(rc.base, &st), -ENOENT);
                assert_int_equal(LsaDeleteSharedMemory(rc.base), FALSE);
        }
        assert_int_equal(tu_count_fds(), fds);
}

struct double_delete {
        PVOID base;
        atomic_int ready;
        atomic_int trues;
        atomic_int falses;
};

static void *race_delete(void *arg)
{
        struct double_delete *d = arg;

        atomic_fetch_add(&d->ready, 1);
        while (atomic_load(&d->ready) < RACERS)
                sched_yield();
        if (LsaDeleteSharedMemory(d->base))
                atomic_fetch_add(&d->trues, 1);
        else
                atomic_fetch_add(&d->falses, 1);
        return NULL;
}

static void test_threads_deletes_race_each_other(void **state)
{
        (void)state;
        int fds = tu_count_fds();

        for (unsigned round = 0; round < RACE_ROUNDS; round++) {
                struct double_delete d = { .base = LsaCreateSharedMemory(64 << 10, 4096) };
                pthread_t tid[RACERS];

                assert_non_null(d.base);
                assert_non_null(LsaAllocateSharedMemory(d.base, 64));
                atomic_init(&d.ready, 0);
                atomic_init(&d.trues, 0);
                atomic_init(&d.falses, 0);
                for (unsigned i = 0; i < RACERS; i++)
                        assert_int_equal(pthread_create(&tid[i], NULL, race_delete, &d), 0);
                for (unsigned i = 0; i < RACERS; i++)
                        assert_int_equal(pthread_join(tid[i], NULL), 0);
                /* exactly one delete wins */
                assert_int_equal(atomic_load(&d.trues), 1);
                assert_int_equal(atomic_load(&d.falses), RACERS - 1);
        }
        assert_int_equal(tu_count_fds(), fds);
}

/* ---- sections of their own ---------------------------------------------- */

enum { OWNERS = 8, OWN_ROUNDS = 150 };

static void *own_sections(void *arg)
{
        struct worker *w = arg;
        struct tu_rng r = { 0xabcdefu + w->id };

        for (unsigned round = 0; round < OWN_ROUNDS && !w->error; round++) {
                uint64_t max = 64 * KiB + tu_rng_range(&r, 0, 16) * 4096;
                unsigned char *p[5];
                bool native = (round + w->id) % 2 == 0;
                struct lsashm_section_stats st;

                w->s = NULL;
                w->base = NULL;
                if (native) {
                        struct lsashm_section_config cfg = { .max_size = max,
                                                             .initial_size = 4096 };
                        WORKER_CHECK(w, lsashm_section_create(&cfg, &w->s) == 0);
                        if (!w->s)
                                break;
                } else {
                        w->base = LsaCreateSharedMemory((ULONG)max, 4096);
                        WORKER_CHECK(w, w->base != NULL);
                        if (!w->base)
                                break;
                }
                for (unsigned i = 0; i < 5; i++) {
                        p[i] = w_alloc(w, 1000 + i);
                        WORKER_CHECK(w, p[i] != NULL);
                        if (!p[i])
                                return NULL;
                        WORKER_CHECK(w, tu_all_zero(p[i], 1000 + i));
                        stamp(p[i], 1000 + i, w->id, round + i);
                }
                for (unsigned i = 0; i < 5; i++)
                        WORKER_CHECK(w, stamped(p[i], 1000 + i, w->id, round + i));
                /* a section another thread just created at a recycled
                 * address must never show this one's blocks, and back */
                if (native) {
                        WORKER_CHECK(w, lsashm_section_stats(w->s, &st) == 0);
                        WORKER_CHECK(w, st.live_blocks == 5 && st.reserved == max);
                        WORKER_CHECK(w, lsashm_section_free(w->s, p[2]) == 0);
                        WORKER_CHECK(w, lsashm_section_check(w->s) == 0);
                        WORKER_CHECK(w, lsashm_section_delete(w->s) == 0);
                } else {
                        WORKER_CHECK(w, lsashm_shared_memory_stats(w->base, &st) == 0);
                        WORKER_CHECK(w, st.live_blocks == 5 && st.reserved == max);
                        LsaFreeSharedMemory(w->base, p[2]);
                        WORKER_CHECK(w, lsashm_shared_memory_check(w->base) == 0);
                        WORKER_CHECK(w, LsaDeleteSharedMemory(w->base) == TRUE);
                }
        }
        return NULL;
}

static void test_threads_create_delete_own_sections(void **state)
{
        (void)state;
        struct worker w[OWNERS];
        int fds = tu_count_fds();

        for (unsigned i = 0; i < OWNERS; i++) {
                w[i] = (struct worker){ .id = i };
                assert_int_equal(pthread_create(&w[i].tid, NULL, own_sections, &w[i]), 0);
        }
        for (unsigned i = 0; i < OWNERS; i++)
                assert_int_equal(pthread_join(w[i].tid, NULL), 0);
        for (unsigned i = 0; i < OWNERS; i++)
                assert_worker_ok(&w[i]);
        assert_int_equal(tu_count_fds(), fds);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_threads_after_single_threaded_start),
                cmocka_unit_test(test_threads_native_alloc_free),
                cmocka_unit_test(test_threads_lsa_alloc_free),
                cmocka_unit_test(test_threads_delete_races_alloc_free),
                cmocka_unit_test(test_threads_deletes_race_each_other),
                cmocka_unit_test(test_threads_create_delete_own_sections),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
