/* SPDX-License-Identifier: MIT */
/*
 * The cache package's configuration and sources over their lifetime, with a
 * real lsashmd: a source directory that appears later (a sync job's first
 * run), a source that disappears (the previous generation kept, the failure
 * counted), a configuration that changes (followed) or turns bad (the one in
 * use kept), and a bad configuration at start (the package is not loaded).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nss-fixture.h"

static struct nss_fixture F;

static int setup(void **state)
{
        (void)state;
        return nf_setup(&F, "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n", "staff:x:50:alice\n");
}

static int teardown(void **state)
{
        (void)state;
        nf_teardown(&F);
        return 0;
}

/* Wait (10 s at most) until getpwnam(name) has this status. */
static bool wait_pw(const char *name, enum nss_status want)
{
        for (int i = 0; i < 1000; i++) {
                char buf[512];
                struct passwd pw;
                int err;
                if (F.getpwnam_r(name, &pw, buf, sizeof(buf), &err) == want)
                        return true;
                tu_sleep_ms(10);
        }
        return false;
}

static NSSCACHE_STATS_RESPONSE stats(void)
{
        NSSCACHE_STATS_RESPONSE s = { 0 };
        NTSTATUS pst;
        assert_int_equal(nf_call(false, NssCacheStatsMessage, &s, sizeof(s), &pst), STATUS_SUCCESS);
        return s;
}

static void test_conf_missing_source_keeps_the_generation(void **state)
{
        (void)state;
        assert_true(wait_pw("alice", NSS_STATUS_SUCCESS));
        NSSCACHE_STATS_RESPONSE before = stats();
        assert_int_equal(unlink(F.group), 0);
        /* A reload now fails; inotify's own try fails the same way. */
        NSSCACHE_QUERY_RESPONSE q;
        NTSTATUS pst;
        assert_int_equal(nf_call(true, NssCacheReloadMessage, &q, sizeof(q), &pst), STATUS_SUCCESS);
        assert_int_equal(pst, STATUS_OBJECT_NAME_NOT_FOUND);
        NSSCACHE_STATS_RESPONSE after = stats();
        assert_int_equal(after.Generation, before.Generation);
        assert_true(after.FailedReloads > before.FailedReloads);
        /* Still served: alice and her group. */
        char buf[512];
        struct group gr;
        int err;
        assert_int_equal(F.getgrnam_r("staff", &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
        assert_true(wait_pw("alice", NSS_STATUS_SUCCESS));
        /* Back: published. */
        assert_true(nf_write_str(F.group, "staff:x:50:alice\nnew:x:51:\n"));
        for (int i = 0; i < 1000 && F.getgrnam_r("new", &gr, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS; i++)
                tu_sleep_ms(10);
        assert_int_equal(F.getgrnam_r("new", &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
}

static void test_conf_change_is_followed_and_a_bad_one_refused(void **state)
{
        (void)state;
        char sync_dir[160], sync_passwd[192], conf[512];
        snprintf(sync_dir, sizeof(sync_dir), "%s/sync", F.dir);
        snprintf(sync_passwd, sizeof(sync_passwd), "%s/passwd", sync_dir);
        /* A directory that does not exist yet: watched once it appears. */
        snprintf(conf, sizeof(conf), "passwd %s\npasswd %s\ngroup %s\n", F.passwd, sync_passwd, F.group);
        assert_true(nf_write_str(F.conf, conf));
        NSSCACHE_STATS_RESPONSE s;
        for (int i = 0; i < 1000; i++) {
                s = stats();
                if (s.Sources == 3)
                        break;
                tu_sleep_ms(10);
        }
        assert_int_equal(s.Sources, 3);
        /* The missing source fails that reload: alice is still served. */
        assert_true(wait_pw("alice", NSS_STATUS_SUCCESS));
        assert_int_equal(mkdir(sync_dir, 0755), 0);
        assert_true(nf_write_str(sync_passwd, "synced:x:5000:5000:From the directory:/home/synced:/bin/sh\n"));
        assert_true(wait_pw("synced", NSS_STATUS_SUCCESS));
        assert_true(wait_pw("alice", NSS_STATUS_SUCCESS));
        /* A bad configuration: the one in use is kept. */
        uint64_t gen = stats().Generation;
        assert_true(nf_write_str(F.conf, "passwd relative/path\n"));
        for (int i = 0; i < 100 && stats().FailedReloads == s.FailedReloads && stats().Generation == gen; i++)
                tu_sleep_ms(10);
        tu_sleep_ms(700);
        assert_true(wait_pw("synced", NSS_STATUS_SUCCESS));
        assert_int_equal(stats().Sources, 3);
        /* Back to the fixture's. */
        snprintf(conf, sizeof(conf), "passwd %s\ngroup %s\n", F.passwd, F.group);
        assert_true(nf_write_str(F.conf, conf));
        assert_true(wait_pw("synced", NSS_STATUS_NOTFOUND));
}

static void test_conf_bad_at_start_refuses_the_package(void **state)
{
        (void)state;
        nf_daemon_stop(&F, SIGTERM);
        assert_true(nf_write_str(F.conf, "shadow /etc/shadow\n"));
        assert_true(nf_daemon_start(&F));
        char *err = tu_slurp(F.err);
        if (!strstr(err, "nsscache.conf:1: unknown setting"))
                fail_msg("lsashmd's log says nothing of the configuration:\n%s", err);
        free(err);
        /* No cache package: UNAVAIL, so files answers. */
        assert_true(wait_pw("alice", NSS_STATUS_UNAVAIL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_conf_missing_source_keeps_the_generation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_conf_change_is_followed_and_a_bad_one_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_conf_bad_at_start_refuses_the_package, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
