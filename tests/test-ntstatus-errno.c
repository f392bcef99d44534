/* SPDX-License-Identifier: MIT */
/* The one errno -> NTSTATUS table of the Windows layer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lsa/ntstatus-errno.h"

static void test_ntstatus_errno_known(void **state)
{
        (void)state;
        static const struct {
                int r;
                NTSTATUS st;
        } table[] = {
                { 0, STATUS_SUCCESS },
                { -ENOMEM, STATUS_NO_MEMORY },
                { -ENOSPC, STATUS_NO_MEMORY },
                { -EMFILE, STATUS_INSUFFICIENT_RESOURCES },
                { -ENFILE, STATUS_INSUFFICIENT_RESOURCES },
                { -ENOBUFS, STATUS_INSUFFICIENT_RESOURCES },
                { -EACCES, STATUS_ACCESS_DENIED },
                { -EPERM, STATUS_ACCESS_DENIED },
                { -ENOENT, STATUS_OBJECT_NAME_NOT_FOUND },
                { -ENOTDIR, STATUS_OBJECT_NAME_NOT_FOUND },
                { -ENAMETOOLONG, STATUS_OBJECT_NAME_NOT_FOUND },
                { -ELOOP, STATUS_OBJECT_NAME_NOT_FOUND },
                { -ESTALE, STATUS_NOT_FOUND },
                { -ENODATA, STATUS_NOT_FOUND },
                { -EINVAL, STATUS_INVALID_PARAMETER },
                { -ETIMEDOUT, STATUS_IO_TIMEOUT },
                { -ECONNRESET, STATUS_PORT_DISCONNECTED },
                { -ECONNREFUSED, STATUS_PORT_DISCONNECTED },
                { -EPIPE, STATUS_PORT_DISCONNECTED },
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                assert_int_equal((unsigned)lsa_status_from_errno(table[i].r, STATUS_INTERNAL_ERROR),
                                 (unsigned)table[i].st);
}

/* An errno the table does not know is the caller's fallback, whatever it is. */
static void test_ntstatus_errno_unknown_is_fallback(void **state)
{
        (void)state;
        assert_int_equal((unsigned)lsa_status_from_errno(-EXDEV, STATUS_NOT_FOUND), (unsigned)STATUS_NOT_FOUND);
        assert_int_equal((unsigned)lsa_status_from_errno(-EBADMSG, STATUS_PORT_DISCONNECTED),
                         (unsigned)STATUS_PORT_DISCONNECTED);
        assert_int_equal((unsigned)lsa_status_from_errno(-4095, STATUS_INTERNAL_ERROR),
                         (unsigned)STATUS_INTERNAL_ERROR);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ntstatus_errno_known),
                cmocka_unit_test(test_ntstatus_errno_unknown_is_fallback),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
