/* SPDX-License-Identifier: MIT */
/*
 * LsashmSetPackageStatus (ntsecpkg.h) and the slots behind it
 * (src/host/package-status.c): only a package's own id, printable ASCII
 * only, bounded, cleared by NULL, gone with the package.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/host-packages.h"

static void test_package_status_set_get_clear(void **state)
{
        (void)state;
        char buf[LSASHM_MAX_PACKAGE_STATUS + 1];
        assert_int_equal(LsashmSetPackageStatus(900, "x"), STATUS_NOT_FOUND); /* no such package */
        host_package_status_register(900);
        assert_false(host_package_status_get(900, buf, sizeof(buf))); /* none yet */
        assert_int_equal(LsashmSetPackageStatus(900, "generation 3, 10 users"), STATUS_SUCCESS);
        assert_true(host_package_status_get(900, buf, sizeof(buf)));
        assert_string_equal(buf, "generation 3, 10 users");
        /* Refused, and the status in place kept. */
        assert_int_equal(LsashmSetPackageStatus(900, "two\nlines"), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsashmSetPackageStatus(900, "esc \x1b[2J"), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsashmSetPackageStatus(900, "caf\xc3\xa9"), STATUS_INVALID_PARAMETER);
        char longest[LSASHM_MAX_PACKAGE_STATUS + 2];
        memset(longest, 'a', sizeof(longest));
        longest[LSASHM_MAX_PACKAGE_STATUS + 1] = '\0';
        assert_int_equal(LsashmSetPackageStatus(900, longest), STATUS_INVALID_PARAMETER);
        assert_true(host_package_status_get(900, buf, sizeof(buf)));
        assert_string_equal(buf, "generation 3, 10 users");
        longest[LSASHM_MAX_PACKAGE_STATUS] = '\0';
        assert_int_equal(LsashmSetPackageStatus(900, longest), STATUS_SUCCESS);
        assert_true(host_package_status_get(900, buf, sizeof(buf)));
        assert_int_equal(strlen(buf), LSASHM_MAX_PACKAGE_STATUS);
        /* A small buffer gets a truncated, terminated copy. */
        char small[8];
        assert_true(host_package_status_get(900, small, sizeof(small)));
        assert_string_equal(small, "aaaaaaa");
        assert_int_equal(LsashmSetPackageStatus(900, NULL), STATUS_SUCCESS);
        assert_false(host_package_status_get(900, buf, sizeof(buf)));
        assert_int_equal(LsashmSetPackageStatus(900, "back"), STATUS_SUCCESS);
        assert_int_equal(LsashmSetPackageStatus(900, ""), STATUS_SUCCESS);
        assert_false(host_package_status_get(900, buf, sizeof(buf)));
        /* Another id is another slot. */
        host_package_status_register(901);
        assert_int_equal(LsashmSetPackageStatus(901, "other"), STATUS_SUCCESS);
        assert_false(host_package_status_get(900, buf, sizeof(buf)));
        /* Gone with the package: a later package with its id starts clean. */
        host_package_status_forget(901);
        assert_int_equal(LsashmSetPackageStatus(901, "late"), STATUS_NOT_FOUND);
        host_package_status_register(901);
        assert_false(host_package_status_get(901, buf, sizeof(buf)));
        host_package_status_forget(901);
        host_package_status_forget(900);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_package_status_set_get_clear),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
