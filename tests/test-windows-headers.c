/* SPDX-License-Identifier: MIT */
/*
 * <lsashm/windows.h> and what it brings: Windows' numbers for the status
 * and error codes, the shapes of LARGE_INTEGER and the string types, the
 * ntdll helpers' semantics (RtlInitUnicodeString and friends,
 * NtQuerySystemTime, SecureZeroMemory), LsaNtStatusToWinError's table,
 * LsaClose on what is not a connection, and AllocateLocallyUniqueId across
 * threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lsashm/windows.h"

/* ---- numbers: Windows' own ([MS-ERREF]) ---- */

/* The codes a package returns most, with the values Windows gives them. */
_Static_assert(STATUS_NO_SUCH_USER == (NTSTATUS)0xC0000064, "STATUS_NO_SUCH_USER");
_Static_assert(STATUS_WRONG_PASSWORD == (NTSTATUS)0xC000006A, "STATUS_WRONG_PASSWORD");
_Static_assert(STATUS_LOGON_FAILURE == (NTSTATUS)0xC000006D, "STATUS_LOGON_FAILURE");
_Static_assert(STATUS_ACCOUNT_RESTRICTION == (NTSTATUS)0xC000006E, "STATUS_ACCOUNT_RESTRICTION");
_Static_assert(STATUS_ACCOUNT_DISABLED == (NTSTATUS)0xC0000072, "STATUS_ACCOUNT_DISABLED");
_Static_assert(STATUS_ACCOUNT_LOCKED_OUT == (NTSTATUS)0xC0000234, "STATUS_ACCOUNT_LOCKED_OUT");
_Static_assert(STATUS_ACCOUNT_EXPIRED == (NTSTATUS)0xC0000193, "STATUS_ACCOUNT_EXPIRED");
_Static_assert(STATUS_PASSWORD_EXPIRED == (NTSTATUS)0xC0000071, "STATUS_PASSWORD_EXPIRED");
_Static_assert(STATUS_PASSWORD_MUST_CHANGE == (NTSTATUS)0xC0000224, "STATUS_PASSWORD_MUST_CHANGE");
_Static_assert(STATUS_INVALID_LOGON_HOURS == (NTSTATUS)0xC000006F, "STATUS_INVALID_LOGON_HOURS");
_Static_assert(STATUS_INVALID_WORKSTATION == (NTSTATUS)0xC0000070, "STATUS_INVALID_WORKSTATION");
_Static_assert(STATUS_LOGON_TYPE_NOT_GRANTED == (NTSTATUS)0xC000015B, "STATUS_LOGON_TYPE_NOT_GRANTED");
_Static_assert(STATUS_NO_LOGON_SERVERS == (NTSTATUS)0xC000005E, "STATUS_NO_LOGON_SERVERS");
_Static_assert(STATUS_OBJECT_NAME_COLLISION == (NTSTATUS)0xC0000035, "STATUS_OBJECT_NAME_COLLISION");
_Static_assert(STATUS_BUFFER_OVERFLOW == (NTSTATUS)0x80000005, "STATUS_BUFFER_OVERFLOW");
_Static_assert(STATUS_INVALID_INFO_CLASS == (NTSTATUS)0xC0000003, "STATUS_INVALID_INFO_CLASS");
_Static_assert(STATUS_NO_SUCH_PACKAGE == (NTSTATUS)0xC00000FE, "STATUS_NO_SUCH_PACKAGE");
_Static_assert(STATUS_BAD_VALIDATION_CLASS == (NTSTATUS)0xC00000A7, "STATUS_BAD_VALIDATION_CLASS");
_Static_assert(STATUS_NONE_MAPPED == (NTSTATUS)0xC0000073, "STATUS_NONE_MAPPED");
_Static_assert(SEC_E_OK == 0 && SEC_E_INVALID_TOKEN == (HRESULT)0x80090308, "SEC_E_*");
_Static_assert(SEC_I_CONTINUE_NEEDED == 0x00090312 && SEC_E_LOGON_DENIED == (HRESULT)0x8009030C, "SEC_*");
_Static_assert(SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION == 1 && SECPKG_ID_NONE == 0xFFFF, "SSPI");
_Static_assert(SECBUFFER_TOKEN == 2 && SECBUFFER_VERSION == 0 && SECBUFFER_READONLY == 0x80000000, "SECBUFFER_*");
_Static_assert(SECPKG_FLAG_LOGON == 0x2000 && SECPKG_FLAG_NEGOTIABLE == 0x800, "SECPKG_FLAG_*");
_Static_assert(MsV1_0ChangePassword == 5 && KerbPurgeTicketCacheMessage == 6, "MSV1_0 and Kerberos messages");

/* Windows' widths and shapes. */
_Static_assert(_Generic((ULONGLONG)0, unsigned long long : 1, default : 0), "ULONGLONG is unsigned long long");
_Static_assert(_Generic((LONGLONG)0, long long : 1, default : 0), "LONGLONG is long long");
_Static_assert(_Generic(TEXT("x")[0], WCHAR : 1, default : 0), "TEXT() is a WCHAR string");
_Static_assert(sizeof(TEXT("ab")) == 3 * sizeof(WCHAR), "TEXT() counts UTF-16 units");
_Static_assert(sizeof(_T("ab")) == sizeof(TEXT("ab")) && UNICODE_NULL == 0, "_T() is TEXT()");
_Static_assert(offsetof(LARGE_INTEGER, LowPart) == 0 && offsetof(LARGE_INTEGER, HighPart) == 4, "LARGE_INTEGER");
_Static_assert(offsetof(LARGE_INTEGER, u.HighPart) == 4, "LARGE_INTEGER.u");
_Static_assert(sizeof(SEC_WINNT_AUTH_IDENTITY_W) == 48, "SEC_WINNT_AUTH_IDENTITY_W is 48 bytes on x64");
_Static_assert(FIELD_OFFSET(SecBuffer, pvBuffer) == 8, "FIELD_OFFSET");

static void test_severity_macros(void **state)
{
        (void)state;
        assert_true(NT_SUCCESS(STATUS_SUCCESS) && NT_SUCCESS(STATUS_PENDING) && NT_SUCCESS(STATUS_TIMEOUT));
        assert_false(NT_SUCCESS(STATUS_BUFFER_OVERFLOW) || NT_SUCCESS(STATUS_LOGON_FAILURE));
        assert_true(NT_WARNING(STATUS_BUFFER_OVERFLOW) && !NT_ERROR(STATUS_BUFFER_OVERFLOW));
        assert_true(NT_ERROR(STATUS_WRONG_PASSWORD) && !NT_WARNING(STATUS_WRONG_PASSWORD));
        assert_true(NT_INFORMATION(STATUS_OBJECT_NAME_EXISTS));
        assert_true(FAILED(SEC_E_INVALID_TOKEN) && SUCCEEDED(SEC_I_CONTINUE_NEEDED) && SUCCEEDED(SEC_E_OK));
}

static void test_large_integer_halves(void **state)
{
        (void)state;
        LARGE_INTEGER li;
        li.QuadPart = -2; /* 0xFFFFFFFF_FFFFFFFE */
        assert_int_equal(li.LowPart, 0xFFFFFFFEu);
        assert_int_equal(li.HighPart, -1);
        assert_int_equal(li.u.LowPart, li.LowPart);
        li.HighPart = 1;
        li.LowPart = 2;
        assert_true(li.QuadPart == 0x100000002LL);
        ULARGE_INTEGER ul;
        ul.QuadPart = 0xFFFFFFFF00000001ull;
        assert_int_equal(ul.HighPart, 0xFFFFFFFFu);
        assert_int_equal(ul.u.LowPart, 1);
}

/* ---- counted strings ---- */

static void test_rtl_init_unicode_string(void **state)
{
        (void)state;
        UNICODE_STRING s;
        RtlInitUnicodeString(&s, TEXT("alice"));
        assert_int_equal(s.Length, 10);
        assert_int_equal(s.MaximumLength, 12);
        assert_memory_equal(s.Buffer, u"alice", 10);

        RtlInitUnicodeString(&s, TEXT(""));
        assert_int_equal(s.Length, 0);
        assert_int_equal(s.MaximumLength, 2);
        assert_non_null(s.Buffer);

        RtlInitUnicodeString(&s, NULL);
        assert_int_equal(s.Length, 0);
        assert_int_equal(s.MaximumLength, 0);
        assert_null(s.Buffer);

        /* Longer than a USHORT counts: cut to the longest that fits. */
        size_t n = 40000;
        WCHAR *big = malloc((n + 1) * sizeof(WCHAR));
        assert_non_null(big);
        for (size_t i = 0; i < n; i++)
                big[i] = u'x';
        big[n] = 0;
        RtlInitUnicodeString(&s, big);
        assert_int_equal(s.Length, 0xFFFC);
        assert_int_equal(s.MaximumLength, 0xFFFE);
        assert_true(s.Length % sizeof(WCHAR) == 0);
        free(big);
}

static void test_rtl_init_string_and_copy(void **state)
{
        (void)state;
        STRING a;
        RtlInitString(&a, "LsashmRecords");
        assert_int_equal(a.Length, 13);
        assert_int_equal(a.MaximumLength, 14);
        RtlInitAnsiString(&a, NULL);
        assert_int_equal(a.Length, 0);
        assert_null(a.Buffer);

        UNICODE_STRING src, dst;
        WCHAR buf[4];
        RtlInitUnicodeString(&src, TEXT("wonderland"));
        dst.Buffer = buf;
        dst.MaximumLength = sizeof(buf);
        dst.Length = 0;
        RtlCopyUnicodeString(&dst, &src);
        assert_int_equal(dst.Length, sizeof(buf)); /* what fits, no NUL */
        assert_memory_equal(buf, u"wond", sizeof(buf));
        RtlCopyUnicodeString(&dst, NULL);
        assert_int_equal(dst.Length, 0);
}

static void test_memory_helpers(void **state)
{
        (void)state;
        unsigned char a[16], b[16];
        FillMemory(a, sizeof(a), 0xAB);
        RtlCopyMemory(b, a, sizeof(a));
        assert_true(RtlEqualMemory(a, b, sizeof(a)));
        ZeroMemory(a, 8);
        assert_false(RtlEqualMemory(a, b, sizeof(a)));
        assert_ptr_equal(SecureZeroMemory(b, sizeof(b)), b);
        for (size_t i = 0; i < sizeof(b); i++)
                assert_int_equal(b[i], 0);
        MoveMemory(a + 1, a, 8);
        assert_int_equal(a[9], 0xAB);
        assert_int_equal(ARRAYSIZE(a), 16);
}

/* ---- time ---- */

static void test_nt_query_system_time(void **state)
{
        (void)state;
        LARGE_INTEGER t;
        time_t before = time(NULL);
        assert_int_equal(NtQuerySystemTime(&t), STATUS_SUCCESS);
        time_t after = time(NULL);
        /* 100 ns units since 1601: back to Unix seconds. */
        long long unix_s = (t.QuadPart - 116444736000000000LL) / 10000000LL;
        assert_true(unix_s >= (long long)before - 1 && unix_s <= (long long)after + 1);
        assert_int_equal(NtQuerySystemTime(NULL), STATUS_ACCESS_VIOLATION);
        FILETIME ft;
        GetSystemTimeAsFileTime(&ft);
        assert_true(ft.dwHighDateTime >= (DWORD)t.HighPart);
}

/* ---- LsaNtStatusToWinError ---- */

static void test_status_to_win_error(void **state)
{
        (void)state;
        /* The examples Microsoft documents, and those a client meets. */
        static const struct {
                NTSTATUS st;
                ULONG err;
        } cases[] = {
                { STATUS_SUCCESS, ERROR_SUCCESS },
                { STATUS_ACCESS_DENIED, ERROR_ACCESS_DENIED },
                { STATUS_INVALID_HANDLE, ERROR_INVALID_HANDLE },
                { STATUS_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY },
                { STATUS_INVALID_PARAMETER, ERROR_INVALID_PARAMETER },
                { STATUS_WRONG_PASSWORD, ERROR_INVALID_PASSWORD },
                { STATUS_NO_SUCH_USER, ERROR_NO_SUCH_USER },
                { STATUS_LOGON_FAILURE, ERROR_LOGON_FAILURE },
                { STATUS_PASSWORD_EXPIRED, ERROR_PASSWORD_EXPIRED },
                { STATUS_ACCOUNT_DISABLED, ERROR_ACCOUNT_DISABLED },
                { STATUS_ACCOUNT_LOCKED_OUT, ERROR_ACCOUNT_LOCKED_OUT },
                { STATUS_ACCOUNT_EXPIRED, ERROR_ACCOUNT_EXPIRED },
                { STATUS_PASSWORD_MUST_CHANGE, ERROR_PASSWORD_MUST_CHANGE },
                { STATUS_BUFFER_OVERFLOW, ERROR_MORE_DATA },
                { STATUS_BUFFER_TOO_SMALL, ERROR_INSUFFICIENT_BUFFER },
                { STATUS_NO_SUCH_PACKAGE, ERROR_NO_SUCH_PACKAGE },
                { STATUS_NOT_IMPLEMENTED, ERROR_INVALID_FUNCTION },
                { STATUS_NOT_SUPPORTED, ERROR_NOT_SUPPORTED },
                { STATUS_OBJECT_NAME_COLLISION, ERROR_ALREADY_EXISTS },
                { STATUS_LOGON_SESSION_COLLISION, ERROR_LOGON_SESSION_COLLISION },
                { STATUS_NO_SUCH_LOGON_SESSION, ERROR_NO_SUCH_LOGON_SESSION },
                { STATUS_NONE_MAPPED, ERROR_NONE_MAPPED },
        };
        for (size_t i = 0; i < ARRAYSIZE(cases); i++) {
                if (LsaNtStatusToWinError(cases[i].st) != cases[i].err)
                        fail_msg("0x%08X gave %u, not %u", (unsigned)cases[i].st,
                                 (unsigned)LsaNtStatusToWinError(cases[i].st), (unsigned)cases[i].err);
        }
        assert_int_equal(ERROR_LOGON_FAILURE, 1326);
        assert_int_equal(ERROR_ACCOUNT_LOCKED_OUT, 1909);
        /* Nothing Windows maps: the documented fallback. */
        assert_int_equal(LsaNtStatusToWinError((NTSTATUS)0xC0FFEE00), ERROR_MR_MID_NOT_FOUND);
        assert_int_equal(ERROR_MR_MID_NOT_FOUND, 317);
}

/* ---- LsaClose ---- */

static void test_lsa_close_refuses_non_handles(void **state)
{
        (void)state;
        int not_a_handle;
        assert_int_equal(LsaClose(NULL), STATUS_INVALID_HANDLE);
        assert_int_equal(LsaClose(&not_a_handle), STATUS_INVALID_HANDLE);
}

/* ---- AllocateLocallyUniqueId ---- */

#define LUID_THREADS 4
#define LUID_EACH    2000

static void *allocate_many(void *arg)
{
        uint64_t *out = arg;
        for (int i = 0; i < LUID_EACH; i++) {
                LUID l;
                if (!AllocateLocallyUniqueId(&l))
                        return (void *)1;
                out[i] = (uint64_t)(uint32_t)l.HighPart << 32 | l.LowPart;
        }
        return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static void test_allocate_luid_unique_across_threads(void **state)
{
        (void)state;
        uint64_t *all = calloc(LUID_THREADS * LUID_EACH, sizeof(*all));
        assert_non_null(all);
        pthread_t t[LUID_THREADS];
        for (int i = 0; i < LUID_THREADS; i++)
                assert_int_equal(pthread_create(&t[i], NULL, allocate_many, all + i * LUID_EACH), 0);
        for (int i = 0; i < LUID_THREADS; i++) {
                void *r;
                assert_int_equal(pthread_join(t[i], &r), 0);
                assert_null(r);
        }
        qsort(all, LUID_THREADS * LUID_EACH, sizeof(*all), cmp_u64);
        for (int i = 1; i < LUID_THREADS * LUID_EACH; i++)
                assert_true(all[i] != all[i - 1]);
        /* Never a well-known LUID (SYSTEM_LUID is 0x3e7). */
        assert_true(all[0] > 0x3e7);
        free(all);
        assert_false(AllocateLocallyUniqueId(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_severity_macros),
                cmocka_unit_test(test_large_integer_halves),
                cmocka_unit_test(test_rtl_init_unicode_string),
                cmocka_unit_test(test_rtl_init_string_and_copy),
                cmocka_unit_test(test_memory_helpers),
                cmocka_unit_test(test_nt_query_system_time),
                cmocka_unit_test(test_status_to_win_error),
                cmocka_unit_test(test_lsa_close_refuses_non_handles),
                cmocka_unit_test(test_allocate_luid_unique_across_threads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
