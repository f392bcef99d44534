/* SPDX-License-Identifier: MIT */
/*
 * Threads of the owner that read a section while another thread freezes it
 * never fault and never see other bytes: the read-only mapping replaces the
 * writable one at the same address in one step.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lsashm/section.h"

#define SIZE    (256u * 1024u)
#define READERS 4

struct reader {
        pthread_t thread;
        const volatile uint64_t *words;
        size_t n;
        const volatile int *stop;
        uint64_t passes;
        bool wrong;
};

static void *read_loop(void *arg)
{
        struct reader *r = arg;
        while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE) || r->passes == 0) {
                for (size_t i = 0; i < r->n; i++)
                        if (r->words[i] != (uint64_t)i * 0x9E3779B97F4A7C15u)
                                r->wrong = true;
                r->passes++;
        }
        return NULL;
}

static void test_freeze_while_threads_read(void **state)
{
        (void)state;
        for (int round = 0; round < 20; round++) {
                struct lsashm_section_config cfg = { .max_size = SIZE, .initial_size = SIZE, .name = "freeze-threads" };
                lsashm_section_t *s;
                assert_int_equal(lsashm_section_create(&cfg, &s), 0);
                void *p;
                assert_int_equal(lsashm_section_alloc(s, SIZE / 2, &p), 0);
                uint64_t *words = p;
                size_t n = SIZE / 2 / sizeof(uint64_t);
                for (size_t i = 0; i < n; i++)
                        words[i] = (uint64_t)i * 0x9E3779B97F4A7C15u;

                int stop = 0;
                struct reader readers[READERS];
                for (int i = 0; i < READERS; i++) {
                        readers[i] = (struct reader){ .words = words, .n = n, .stop = &stop };
                        assert_int_equal(pthread_create(&readers[i].thread, NULL, read_loop, &readers[i]), 0);
                }
                assert_int_equal(lsashm_section_freeze(s), 0);
                __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
                for (int i = 0; i < READERS; i++) {
                        assert_int_equal(pthread_join(readers[i].thread, NULL), 0);
                        assert_false(readers[i].wrong);
                        assert_true(readers[i].passes > 0);
                }
                assert_int_equal(lsashm_section_delete(s), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_freeze_while_threads_read),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
