/* SPDX-License-Identifier: MIT */
/*
 * Eight threads look users and groups up through libnss_lsashm.so.2 while
 * the package republishes at 10 Hz (a new source every 100 ms, published
 * at once by a trusted reload call, and again by inotify): no lookup fails,
 * and every answer is one generation's, never a mix (each entry carries its
 * generation in several fields, which must agree).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nss-fixture.h"

#define USERS     100
#define THREADS   8
#define RUN_MS    3000
#define PERIOD_MS 100

static struct nss_fixture F;

/* Generation k's sources: every user and group says k three times. */
static char *passwd_for(unsigned k)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        for (unsigned i = 0; i < USERS; i++)
                fprintf(f, "u%u:x:%u:%u:gen %u:/home/%u/u%u:/bin/%u\n", i, 5000 + i, 7000 + i % 10, k, k, i, k);
        fclose(f);
        return text;
}

static char *group_for(unsigned k)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        for (unsigned i = 0; i < 10; i++)
                fprintf(f, "g%u:x:%u:a%u,b%u,c%u\n", i, 7000 + i, k, k, k);
        fclose(f);
        return text;
}

static bool publish_sources(unsigned k)
{
        char *p = passwd_for(k), *g = group_for(k);
        bool ok = nf_write_str(F.passwd, p) && nf_write_str(F.group, g);
        free(p);
        free(g);
        return ok;
}

static int group_setup(void **state)
{
        (void)state;
        char *p = passwd_for(0), *g = group_for(0);
        int r = nf_setup(&F, p, g);
        free(p);
        free(g);
        return r;
}

static int group_teardown(void **state)
{
        (void)state;
        nf_teardown(&F);
        return 0;
}

static int stop;
static uint64_t lookups, failures, torn;

static void *reader(void *arg)
{
        struct tu_rng rng = { .s = 0x9E3779B97F4A7C15ull * ((uintptr_t)arg + 1) };
        char buf[1024];
        uint64_t n = 0, bad = 0, mixed = 0;
        while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
                unsigned i = (unsigned)(tu_rng_next(&rng) % USERS);
                int err;
                struct passwd pw;
                char name[16];
                snprintf(name, sizeof(name), "u%u", i);
                enum nss_status st = (i & 1) ? F.getpwuid_r(5000 + i, &pw, buf, sizeof(buf), &err)
                                             : F.getpwnam_r(name, &pw, buf, sizeof(buf), &err);
                n++;
                if (st != NSS_STATUS_SUCCESS) {
                        bad++;
                        continue;
                }
                unsigned k1, k2, k3, idx;
                if (sscanf(pw.pw_gecos, "gen %u", &k1) != 1 || sscanf(pw.pw_dir, "/home/%u/u%u", &k2, &idx) != 2 ||
                    sscanf(pw.pw_shell, "/bin/%u", &k3) != 1 || k1 != k2 || k2 != k3 || idx != i ||
                    pw.pw_uid != 5000 + i)
                        mixed++;
                struct group gr;
                unsigned gi = i % 10;
                st = F.getgrgid_r(7000 + gi, &gr, buf, sizeof(buf), &err);
                n++;
                if (st != NSS_STATUS_SUCCESS) {
                        bad++;
                        continue;
                }
                unsigned a, b, c;
                if (!gr.gr_mem[0] || !gr.gr_mem[1] || !gr.gr_mem[2] || gr.gr_mem[3] ||
                    sscanf(gr.gr_mem[0], "a%u", &a) != 1 || sscanf(gr.gr_mem[1], "b%u", &b) != 1 ||
                    sscanf(gr.gr_mem[2], "c%u", &c) != 1 || a != b || b != c)
                        mixed++;
        }
        __atomic_fetch_add(&lookups, n, __ATOMIC_RELAXED);
        __atomic_fetch_add(&failures, bad, __ATOMIC_RELAXED);
        __atomic_fetch_add(&torn, mixed, __ATOMIC_RELAXED);
        return NULL;
}

static void test_nss_threads_during_republish_at_10hz(void **state)
{
        (void)state;
        uint64_t gen0 = nf_generation();
        assert_true(gen0 > 0);
        pthread_t t[THREADS];
        for (uintptr_t i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&t[i], NULL, reader, (void *)i), 0);
        unsigned k = 0;
        for (int elapsed = 0; elapsed < RUN_MS; elapsed += PERIOD_MS) {
                assert_true(publish_sources(++k));
                assert_true(nf_reload() > 0);
                tu_sleep_ms(PERIOD_MS);
        }
        __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
        for (int i = 0; i < THREADS; i++)
                pthread_join(t[i], NULL);
        uint64_t gen1 = nf_generation();
        print_message("%llu lookups, %llu generations published meanwhile\n", (unsigned long long)lookups,
                      (unsigned long long)(gen1 - gen0));
        assert_true(gen1 - gen0 >= (uint64_t)k);
        assert_true(lookups > 0);
        assert_int_equal(failures, 0);
        assert_int_equal(torn, 0);
        /* And the last generation is what is served now. */
        char buf[512];
        struct passwd pw;
        int err;
        assert_int_equal(F.getpwnam_r("u7", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
        char want[32];
        snprintf(want, sizeof(want), "gen %u", k);
        assert_string_equal(pw.pw_gecos, want);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nss_threads_during_republish_at_10hz),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
