/* SPDX-License-Identifier: MIT */
/*
 * libnss_lsashm.so.2 inside a package host answers nothing (UNAVAIL), so
 * that lsashmd, which resolves group names itself, never waits on its own
 * socket. This executable is a package host as lsashmd is (it exports the
 * lsashm extensions to packages); the cache it asks is a real lsashmd, which
 * a process that is no host (nss-probe) is answered by.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/ntsecpkg.h"
#include "nss-fixture.h"

static struct nss_fixture F;

static int group_setup(void **state)
{
        (void)state;
        return nf_setup(&F, "alice:x:1000:1000::/home/alice:/bin/sh\n", "staff:x:50:alice\n");
}

static int group_teardown(void **state)
{
        (void)state;
        nf_teardown(&F);
        return 0;
}

static void test_nss_unavail_inside_a_package_host(void **state)
{
        (void)state;
        /* What makes this process a host, as it makes lsashmd one. */
        assert_non_null(dlsym(RTLD_DEFAULT, "LsashmSectionId"));
        assert_int_equal(LsashmSectionId(NULL), 0);
        char buf[512];
        struct passwd pw;
        struct group gr;
        int err = 0;
        assert_int_equal(F.getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
        assert_int_equal(err, ENOENT);
        assert_int_equal(F.getgrnam_r("staff", &gr, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
        /* The cache is there for everyone else. */
        char *argv[] = { NSS_PROBE_PATH, NSS_MODULE_PATH, "alice", NULL };
        char *out, *errs;
        int status = tu_run_program(argv, NULL, NULL, 60, F.dir, &out, &errs);
        assert_true(tu_exited_ok(status));
        assert_int_equal(atoi(out), NSS_STATUS_SUCCESS);
        free(out);
        free(errs);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nss_unavail_inside_a_package_host),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
