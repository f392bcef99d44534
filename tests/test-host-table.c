/* SPDX-License-Identifier: MIT */
/*
 * The host's LSA_SECPKG_FUNCTION_TABLE (src/host/table.c): every slot filled,
 * the members that are not implemented failing with exactly
 * STATUS_NOT_IMPLEMENTED and zeroed out-parameters, and the members table.c
 * implements: the heaps (zeroed, wiped on free), logon sessions (also from
 * several threads), LsaProtectMemory (a keyed permutation), the
 * failure-reason ledger, GetExtendedCallFlags and GetClientInfoEx, outside
 * any call and inside calls run through the host's own call path.
 */
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/host-internal.h"
#include "lsashm/winnt.h"
#include "test-util.h"

static LSA_SECPKG_FUNCTION_TABLE t;

static int fill_table(void **state)
{
        (void)state;
        memset(&t, 0, sizeof(t));
        host_table_fill(&t);
        host_logon_sessions_clear();
        return 0;
}

static bool all_zero(const void *p, size_t n)
{
        const unsigned char *b = p;
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return false;
        return true;
}

#define GARBAGE(x) memset(&(x), 0xCC, sizeof(x))
#define assert_cleared(x) assert_true(all_zero(&(x), sizeof(x)))

/* ---- the table ---- */

static void test_table_fills_every_slot(void **state)
{
        (void)state;
        assert_int_equal(sizeof(t) / sizeof(void *), 66);
        for (size_t i = 0; i < sizeof(t) / sizeof(void *); i++) {
                void (*fn)(void);
                memcpy(&fn, (const char *)&t + i * sizeof(void *), sizeof(fn));
                if (!fn)
                        fail_msg("slot %zu is NULL", i + 1);
        }
        /* Spot checks that members landed in their own slots. */
        assert_ptr_equal(t.GetExtendedCallFlags, host_GetExtendedCallFlags);
        assert_ptr_equal(t.CreateSharedMemory, host_CreateSharedMemory);
        assert_ptr_equal(t.CallPackagePassthrough, host_CallPackagePassthrough);
        assert_ptr_equal(t.GetClientInfo, host_GetClientInfo);
        assert_ptr_equal(t.FreeReturnBuffer, host_FreeReturnBuffer);
        assert_true(t.LsaProtectMemory != t.LsaUnprotectMemory);
        assert_true(t.AllocateLsaHeap != NULL && t.FreePrivateHeap != NULL);
}

static void test_table_not_implemented_members_clear_outputs(void **state)
{
        (void)state;
        const NTSTATUS NI = STATUS_NOT_IMPLEMENTED;
        LUID luid = { 42, 0 };
        char kb[] = "key";
        LSA_STRING key = { 3, 4, kb };
        LSA_STRING key_copy = key;
        LSA_STRING s;
        UNICODE_STRING u1, u2, u3;
        ULONG ul, ul2;
        ULONG_PTR up1, up2;
        PVOID pv, pv2;
        PUCHAR pc;
        HANDLE hd;
        LUID l;
        NTSTATUS sub;
        SecBuffer sb, sb2 = { 0, 0, NULL };
        BOOLEAN b;
        FILETIME ft1, ft2;

        assert_int_equal(t.AddCredential(&luid, 0, &key, &key), NI);

        ULONG query = 5;
        GARBAGE(ul);
        GARBAGE(s);
        assert_int_equal(t.GetCredentials(&luid, 0, &query, FALSE, &key, &ul, &s), NI);
        assert_cleared(ul);
        assert_cleared(s);
        assert_int_equal(query, 5); /* the caller's cookie */
        assert_memory_equal(&key, &key_copy, sizeof(key)); /* an input here */
        LSA_STRING out_key;
        GARBAGE(out_key);
        assert_int_equal(t.GetCredentials(&luid, 0, &query, TRUE, &out_key, &ul, &s), NI);
        assert_cleared(out_key); /* an output when retrieving all */

        assert_int_equal(t.DeleteCredential(&luid, 0, &key), NI);
        assert_int_equal(t.ImpersonateClient(), NI);
        assert_int_equal(t.UnloadPackage(), NI);

        GARBAGE(hd);
        assert_int_equal(t.DuplicateHandle(&luid, &hd), NI);
        assert_null(hd);
        GARBAGE(hd);
        assert_int_equal(t.DuplicateTokenHandle(&luid, &hd), NI);
        assert_null(hd);

        char cred[8] = { 0 };
        assert_int_equal(t.SaveSupplementalCredentials(&luid, sizeof(cred), cred, TRUE), NI);
        assert_int_equal(t.CancelNotification(&luid), NI);

        GARBAGE(sb);
        assert_int_equal(t.MapBuffer(&sb2, &sb), NI);
        assert_cleared(sb);

        GARBAGE(hd);
        GARBAGE(sub);
        assert_int_equal(t.CreateToken(&luid, NULL, Interactive, SecurityImpersonation, LsaTokenInformationV1, NULL,
                                       NULL, &u1, &u2, &u3, &u3, &hd, &sub),
                         NI);
        assert_null(hd);
        assert_int_equal(sub, 0);

        GARBAGE(hd);
        GARBAGE(sub);
        assert_int_equal(t.CreateTokenEx(&luid, NULL, Network, SecurityImpersonation, LsaTokenInformationV2, NULL,
                                         NULL, &u1, &u2, NULL, SecSessionPrimaryCred, &hd, &sub),
                         NI);
        assert_null(hd);
        assert_int_equal(sub, 0);

        GARBAGE(pv);
        assert_int_equal(t.OpenSamUser(&u1, SecNameSamCompatible, &u2, FALSE, 0, &pv), NI);
        assert_null(pv);

        GARBAGE(pv);
        GARBAGE(pv2);
        GARBAGE(ul);
        GARBAGE(ul2);
        assert_int_equal(t.GetUserCredentials(&luid, &pv, &ul, &pv2, &ul2), NI);
        assert_null(pv);
        assert_null(pv2);
        assert_int_equal(ul, 0);
        assert_int_equal(ul2, 0);

        GARBAGE(pc);
        GARBAGE(ul);
        assert_int_equal(t.GetUserAuthData(&luid, &pc, &ul), NI);
        assert_null(pc);
        assert_int_equal(ul, 0);

        assert_int_equal(t.CloseSamUser(&luid), NI);

        GARBAGE(hd);
        GARBAGE(l);
        GARBAGE(u1);
        GARBAGE(sub);
        assert_int_equal(t.ConvertAuthDataToToken(cred, sizeof(cred), SecurityIdentification, NULL, Network, &u2, &hd,
                                                  &l, &u1, &sub),
                         NI);
        assert_null(hd);
        assert_cleared(l);
        assert_cleared(u1);
        assert_int_equal(sub, 0);

        char cb[] = "callback";
        GARBAGE(sb);
        assert_int_equal(t.ClientCallback(cb, 1, 2, &sb2, &sb), NI);
        assert_cleared(sb);

        SECPKG_PRIMARY_CRED primary;
        memset(&primary, 0, sizeof(primary));
        assert_int_equal(t.UpdateCredentials(&primary, NULL), NI);

        GARBAGE(pc);
        GARBAGE(ul);
        GARBAGE(u1);
        assert_int_equal(t.GetAuthDataForUser(&u2, SecNameFlat, NULL, &pc, &ul, &u1), NI);
        assert_null(pc);
        assert_int_equal(ul, 0);
        assert_cleared(u1);

        GARBAGE(u1);
        GARBAGE(u3);
        GARBAGE(ul);
        assert_int_equal(t.CrackSingleName(1, FALSE, &u2, NULL, 2, &u1, &u3, &ul), NI);
        assert_cleared(u1);
        assert_cleared(u3);
        assert_int_equal(ul, 0);

        assert_int_equal(t.AuditAccountLogon(1, TRUE, &u2, &u2, &u2, STATUS_SUCCESS), NI);

        GARBAGE(hd);
        assert_int_equal(t.OpenTokenByLogonId(&luid, &hd), NI);
        assert_null(hd);

        GARBAGE(pc);
        GARBAGE(ul);
        assert_int_equal(t.ExpandAuthDataForDomain((PUCHAR)cred, sizeof(cred), NULL, &pc, &ul), NI);
        assert_null(pc);
        assert_int_equal(ul, 0);

        GARBAGE(ft1);
        GARBAGE(ft2);
        GARBAGE(u1);
        GARBAGE(u3);
        assert_int_equal(t.GetServiceAccountPassword(&u2, &u2, CredFetchDefault, &ft1, &u1, &u3, &ft2), NI);
        assert_cleared(ft1);
        assert_cleared(ft2);
        assert_cleared(u1);
        assert_cleared(u3);

        GARBAGE(b);
        assert_int_equal(t.CheckProtectedUserByToken(&luid, &b), NI);
        assert_int_equal(b, FALSE);

        GARBAGE(pv);
        assert_int_equal(t.QueryClientRequest(NULL, LSA_QUERY_CLIENT_PRELOGON_SESSION_ID, &pv), NI);
        assert_null(pv);

        GARBAGE(ul);
        GARBAGE(up1);
        GARBAGE(up2);
        GARBAGE(sb);
        GARBAGE(b);
        assert_int_equal(t.GetAppModeInfo(&ul, &up1, &up2, &sb, &b), NI);
        assert_int_equal(ul, 0);
        assert_int_equal(up1, 0);
        assert_int_equal(up2, 0);
        assert_cleared(sb);
        assert_int_equal(b, FALSE);

        assert_int_equal(t.SetAppModeInfo(1, 2, 3, &sb2, TRUE), NI);
}

/* A package may pass NULL for outputs it does not want: no member writes
 * through one. */
static void test_table_not_implemented_members_accept_null(void **state)
{
        (void)state;
        const NTSTATUS NI = STATUS_NOT_IMPLEMENTED;
        assert_int_equal(t.GetCredentials(NULL, 0, NULL, TRUE, NULL, NULL, NULL), NI);
        assert_int_equal(t.DuplicateHandle(NULL, NULL), NI);
        assert_int_equal(t.MapBuffer(NULL, NULL), NI);
        assert_int_equal(t.CreateToken(NULL, NULL, Interactive, SecurityAnonymous, LsaTokenInformationNull, NULL,
                                       NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                         NI);
        assert_int_equal(t.CreateTokenEx(NULL, NULL, Interactive, SecurityAnonymous, LsaTokenInformationNull, NULL,
                                         NULL, NULL, NULL, NULL, SecSessionPrimaryCred, NULL, NULL),
                         NI);
        assert_int_equal(t.OpenSamUser(NULL, SecNameSPN, NULL, TRUE, 0, NULL), NI);
        assert_int_equal(t.GetUserCredentials(NULL, NULL, NULL, NULL, NULL), NI);
        assert_int_equal(t.GetUserAuthData(NULL, NULL, NULL), NI);
        assert_int_equal(t.ConvertAuthDataToToken(NULL, 0, SecurityAnonymous, NULL, Network, NULL, NULL, NULL, NULL,
                                                  NULL),
                         NI);
        assert_int_equal(t.ClientCallback(NULL, 0, 0, NULL, NULL), NI);
        assert_int_equal(t.GetAuthDataForUser(NULL, SecNameDN, NULL, NULL, NULL, NULL), NI);
        assert_int_equal(t.CrackSingleName(0, TRUE, NULL, NULL, 0, NULL, NULL, NULL), NI);
        assert_int_equal(t.OpenTokenByLogonId(NULL, NULL), NI);
        assert_int_equal(t.ExpandAuthDataForDomain(NULL, 0, NULL, NULL, NULL), NI);
        assert_int_equal(t.GetServiceAccountPassword(NULL, NULL, CredFetchForced, NULL, NULL, NULL, NULL), NI);
        assert_int_equal(t.CheckProtectedUserByToken(NULL, NULL), NI);
        assert_int_equal(t.QueryClientRequest(NULL, 0, NULL), NI);
        assert_int_equal(t.GetAppModeInfo(NULL, NULL, NULL, NULL, NULL), NI);
}

static DWORD WINAPI never_run(LPVOID arg)
{
        (void)arg;
        fail_msg("CreateThread/RegisterNotification must not run anything");
        return 0;
}

/* What a CreateThread routine saw on its thread. */
struct thread_seen {
        sem_t done;
        ULONG tid;
        PVOID param;
        const char *crash_package;
        const char *crash_entry;
        NTSTATUS info_status;
        SECPKG_CLIENT_INFO info;
        BOOLEAN call_info;
};

static DWORD WINAPI record_thread(LPVOID arg)
{
        struct thread_seen *s = arg;
        s->tid = (ULONG)gettid();
        s->param = arg;
        s->crash_package = host_crash_package();
        s->crash_entry = host_crash_entry();
        s->info_status = t.GetClientInfo(&s->info);
        SECPKG_CALL_INFO ci;
        s->call_info = t.GetCallInfo(&ci);
        sem_post(&s->done);
        return 7;
}

/* A real thread, named by its id; run as the package that made it (a crash
 * there is that package's), serving no client. */
static void test_table_create_thread_runs(void **state)
{
        (void)state;
        static struct host_package pkg;
        memset(&pkg, 0, sizeof(pkg));
        strcpy(pkg.name, "threader");
        struct thread_seen seen;
        memset(&seen, 0, sizeof(seen));
        sem_init(&seen.done, 0, 0);
        ULONG tid = 0;
        host_active_package = &pkg;
        HANDLE th = t.CreateThread(NULL, 0, record_thread, &seen, 0, &tid);
        host_active_package = NULL;
        assert_non_null(th);
        assert_int_not_equal(tid, 0);
        assert_int_equal((uintptr_t)th, tid);
        assert_int_equal(sem_wait(&seen.done), 0);
        assert_int_equal(seen.tid, tid);
        assert_ptr_equal(seen.param, &seen);
        assert_non_null(seen.crash_package);
        assert_string_equal(seen.crash_package, "threader");
        assert_string_equal(seen.crash_entry, "CreateThread routine");
        assert_int_equal(seen.info_status, STATUS_SUCCESS);
        assert_true(seen.info.Restricted);
        assert_false(seen.info.HasTcbPrivilege);
        assert_int_equal(seen.info.ThreadID, tid);
        assert_int_equal(seen.info.ProcessID, (ULONG)getpid());
        assert_false(seen.call_info);
        /* The thread ends with its routine, and the package's count. */
        int64_t end = tu_now_ms() + 10000;
        while (host_package_threads(&pkg) && tu_now_ms() < end)
                tu_sleep_ms(1);
        assert_int_equal(host_package_threads(&pkg), 0);
        /* A stack size of its own is honoured (raised to the minimum). */
        memset(&seen, 0, sizeof(seen));
        sem_init(&seen.done, 0, 0);
        assert_non_null(t.CreateThread(NULL, 1, record_thread, &seen, 0, NULL));
        assert_int_equal(sem_wait(&seen.done), 0);
        assert_null(seen.crash_package); /* made outside any package */
        sem_destroy(&seen.done);
}

static void test_table_handle_and_void_members_are_safe(void **state)
{
        (void)state;
        ULONG tid = 77;
        /* CREATE_SUSPENDED: nothing could resume it. No routine: nothing to run. */
        assert_null(t.CreateThread(NULL, 0, never_run, NULL, 0x4, &tid));
        assert_int_equal(tid, 0);
        assert_null(t.CreateThread(NULL, 0, NULL, NULL, 0, &tid));
        assert_null(t.RegisterNotification(never_run, NULL, 1, 0, 0, 1, NULL));

        WCHAR name[] = u"user";
        UNICODE_STRING u = { 8, 10, name };
        LUID luid = { 1, 0 };
        t.AuditLogon(STATUS_LOGON_FAILURE, 0, &u, &u, &u, NULL, Interactive, NULL, &luid);
        t.AuditLogon(STATUS_SUCCESS, 0, NULL, NULL, NULL, NULL, Network, NULL, NULL);
        t.AuditLogonEx(STATUS_SUCCESS, 0, &u, NULL, NULL, NULL, Network, SecurityImpersonation, NULL, &luid);

        /* The credential-manager slots do nothing, even to their buffer. */
        PLSA_PROTECT_MEMORY dummies[] = { t.DummyFunction1, t.DummyFunction2, t.DummyFunction3, t.DummyFunction4,
                                          t.DummyFunction5, t.DummyFunction6, t.DummyFunction7 };
        for (size_t i = 0; i < sizeof(dummies) / sizeof(dummies[0]); i++) {
                unsigned char buf[32], copy[32];
                memset(buf, (int)i + 1, sizeof(buf));
                memcpy(copy, buf, sizeof(buf));
                dummies[i](buf, sizeof(buf));
                dummies[i](NULL, 0);
                assert_memory_equal(buf, copy, sizeof(buf));
        }
}

/* ---- heaps ---- */

static void test_heap_blocks_are_zeroed_and_usable(void **state)
{
        (void)state;
        static const size_t sizes[] = { 1, 7, 16, 100, 4096, 300000 };
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                unsigned char *a = t.AllocateLsaHeap((ULONG)sizes[i]);
                unsigned char *b = t.AllocatePrivateHeap(sizes[i]);
                assert_non_null(a);
                assert_non_null(b);
                assert_true(all_zero(a, sizes[i]));
                assert_true(all_zero(b, sizes[i]));
                memset(a, 0x5A, sizes[i]);
                memset(b, 0xA5, sizes[i]);
                t.FreeLsaHeap(a);
                t.FreePrivateHeap(b);
        }
        /* One heap under two names: either free takes either block. */
        void *x = t.AllocateLsaHeap(10);
        void *y = t.AllocatePrivateHeap(10);
        assert_non_null(x);
        assert_non_null(y);
        t.FreePrivateHeap(x);
        t.FreeLsaHeap(y);
}

static void test_heap_zero_length_gives_unique_blocks(void **state)
{
        (void)state;
        void *a = t.AllocateLsaHeap(0);
        void *b = t.AllocateLsaHeap(0);
        void *c = t.AllocatePrivateHeap(0);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_true(a != b && b != c && a != c);
        t.FreeLsaHeap(a);
        t.FreeLsaHeap(b);
        t.FreePrivateHeap(c);
}

static void test_heap_refuses_huge_and_frees_null(void **state)
{
        (void)state;
        assert_null(t.AllocateLsaHeap(0xFFFFFFFFu));
        assert_null(t.AllocateLsaHeap(0xFFFFFFF0u));
        assert_null(t.AllocatePrivateHeap(SIZE_MAX));
        assert_null(t.AllocatePrivateHeap(SIZE_MAX / 2));
        assert_null(t.AllocatePrivateHeap(((SIZE_T)1 << 30) + 1));
        t.FreeLsaHeap(NULL);
        t.FreePrivateHeap(NULL);
}

/* The heaps release blocks through host_heap_release: looking at each block
 * there, before it goes back to malloc, shows whether it was wiped, with no
 * guess about how malloc reuses memory. */
static unsigned released, released_dirty;

static void release_and_check(void *p)
{
        const unsigned char *b = p;
        size_t n = malloc_usable_size(p);
        for (size_t i = 0; i < n; i++) {
                if (b[i]) {
                        released_dirty++;
                        break;
                }
        }
        released++;
        free(p);
}

static void wipe_check(void *(*alloc_fn)(size_t), void (*free_fn)(void *))
{
        released = released_dirty = 0;
        void (*saved)(void *) = host_heap_release;
        host_heap_release = release_and_check;
        static const size_t sizes[] = { 0, 1, 24, 200, 4096, 300000 };
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                unsigned char *p = alloc_fn(sizes[i]);
                assert_non_null(p);
                /* Every usable byte, not only those asked for: a package
                 * may write up to the end of what it was given. */
                memset(p, 0xA7, malloc_usable_size(p));
                free_fn(p);
        }
        free_fn(NULL);
        host_heap_release = saved;
        assert_int_equal(released, sizeof(sizes) / sizeof(sizes[0]));
        assert_int_equal(released_dirty, 0);
}

static void *lsa_heap_alloc(size_t n) { return t.AllocateLsaHeap((ULONG)n); }
static void lsa_heap_free(void *p) { t.FreeLsaHeap(p); }
static void *private_heap_alloc(size_t n) { return t.AllocatePrivateHeap(n); }
static void private_heap_free(void *p) { t.FreePrivateHeap(p); }

static void test_heap_free_wipes_blocks(void **state)
{
        (void)state;
        wipe_check(lsa_heap_alloc, lsa_heap_free);
        wipe_check(private_heap_alloc, private_heap_free);
        /* Return buffers of package-to-package calls are LSA heap too. */
        wipe_check(lsa_heap_alloc, t.FreeReturnBuffer);
}

/* ---- logon sessions ---- */

static void test_logon_session_lifecycle(void **state)
{
        (void)state;
        LUID a = { 0x1234, 0 }, b = { 0x1234, 1 }, zero = { 0, 0 }, neg = { 0xFFFFFFFFu, -1 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        assert_int_equal(t.CreateLogonSession(&a), STATUS_LOGON_SESSION_COLLISION);
        assert_int_equal(t.CreateLogonSession(&b), STATUS_SUCCESS); /* HighPart counts */
        assert_int_equal(t.CreateLogonSession(&zero), STATUS_SUCCESS);
        assert_int_equal(t.CreateLogonSession(&neg), STATUS_SUCCESS);
        assert_int_equal(t.CreateLogonSession(&neg), STATUS_LOGON_SESSION_COLLISION);
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_NO_SUCH_LOGON_SESSION);
        assert_int_equal(t.CreateLogonSession(&b), STATUS_LOGON_SESSION_COLLISION);
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        LUID unknown = { 99, 99 };
        assert_int_equal(t.DeleteLogonSession(&unknown), STATUS_NO_SUCH_LOGON_SESSION);
        assert_int_equal(t.CreateLogonSession(NULL), STATUS_INVALID_PARAMETER);
        assert_int_equal(t.DeleteLogonSession(NULL), STATUS_INVALID_PARAMETER);

        host_logon_sessions_clear();
        assert_int_equal(t.DeleteLogonSession(&zero), STATUS_NO_SUCH_LOGON_SESSION);
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        assert_int_equal(t.CreateLogonSession(&b), STATUS_SUCCESS);
        host_logon_sessions_clear();
        host_logon_sessions_clear();
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_NO_SUCH_LOGON_SESSION);
}

/* Clients' LogonIds (luid.c): root is SYSTEM_LUID, each other uid has
 * one LUID of its own from the allocator packages use too, and no logon
 * session can take any of them. */
static void test_logon_session_client_luids(void **state)
{
        (void)state;
        LUID sys = SYSTEM_LUID, root, u1, u1again, u2, mine;
        assert_int_equal(host_luid_of_uid(0, &root), STATUS_SUCCESS);
        assert_true(SecEqualLuid(&root, &sys));
        assert_int_equal(host_luid_of_uid(4001, &u1), STATUS_SUCCESS);
        assert_int_equal(host_luid_of_uid(4001, &u1again), STATUS_SUCCESS);
        assert_int_equal(host_luid_of_uid(4002, &u2), STATUS_SUCCESS);
        assert_true(SecEqualLuid(&u1, &u1again));
        assert_false(SecEqualLuid(&u1, &u2));
        assert_false(SecEqualLuid(&u1, &sys));
        assert_true(u1.LowPart > 0x3e7 || u1.HighPart != 0);

        assert_int_equal(t.CreateLogonSession(&sys), STATUS_LOGON_SESSION_COLLISION);
        assert_int_equal(t.CreateLogonSession(&u1), STATUS_LOGON_SESSION_COLLISION);
        assert_int_equal(t.CreateLogonSession(&u2), STATUS_LOGON_SESSION_COLLISION);
        assert_int_equal(t.DeleteLogonSession(&u1), STATUS_NO_SUCH_LOGON_SESSION);

        /* What a package allocates is its own, and never a client's. */
        assert_true(AllocateLocallyUniqueId(&mine));
        assert_false(SecEqualLuid(&mine, &u1) || SecEqualLuid(&mine, &u2) || SecEqualLuid(&mine, &sys));
        assert_false(host_luid_is_client(&mine));
        assert_int_equal(t.CreateLogonSession(&mine), STATUS_SUCCESS);
        LUID u3;
        assert_int_equal(host_luid_of_uid(4003, &u3), STATUS_SUCCESS);
        assert_false(SecEqualLuid(&u3, &mine));
        assert_int_equal(t.DeleteLogonSession(&mine), STATUS_SUCCESS);
        assert_false(AllocateLocallyUniqueId(NULL));
        assert_int_equal(NtAllocateLocallyUniqueId(NULL), STATUS_ACCESS_VIOLATION);
}

/* The uid -> LUID map is bounded: past HOST_LUID_MAX_UIDS uids, a new uid's
 * GetClientInfo fails with STATUS_INSUFFICIENT_RESOURCES while the uids
 * already known (and root) keep theirs. Fills the map for the rest of the
 * process: registered last. */
static void test_client_luids_bounded(void **state)
{
        (void)state;
        LUID known, again, l;
        assert_int_equal(host_luid_of_uid(4001, &known), STATUS_SUCCESS);
        unsigned added = 0;
        NTSTATUS st = STATUS_SUCCESS;
        for (uid_t uid = 200000; st == STATUS_SUCCESS && added <= HOST_LUID_MAX_UIDS; uid++) {
                st = host_luid_of_uid(uid, &l);
                if (st == STATUS_SUCCESS)
                        added++;
        }
        assert_int_equal(st, STATUS_INSUFFICIENT_RESOURCES);
        assert_true(added < HOST_LUID_MAX_UIDS);
        assert_int_equal(host_luid_of_uid(4001, &again), STATUS_SUCCESS);
        assert_true(SecEqualLuid(&known, &again));
        LUID sys = SYSTEM_LUID;
        assert_int_equal(host_luid_of_uid(0, &l), STATUS_SUCCESS);
        assert_true(SecEqualLuid(&l, &sys));
}

/* Many sessions, deleted in a scattered order: every survivor stays
 * findable while its neighbours in the table come and go. */
static void test_logon_session_many(void **state)
{
        (void)state;
        /* Clear of the well-known LUIDs, which CreateLogonSession keeps
         * for the host (SYSTEM_LUID), and below the allocator's. */
        enum { N = 20000, MANY_BASE = 0x400 };
        for (ULONG i = 0; i < N; i++) {
                LUID l = { i + MANY_BASE, (LONG)(i % 3) };
                assert_int_equal(t.CreateLogonSession(&l), STATUS_SUCCESS);
        }
        for (ULONG i = 0; i < N; i += 1) {
                ULONG j = (i * 7919u) % N; /* 7919 is prime, coprime to N */
                if (j % 2)
                        continue;
                LUID l = { j + MANY_BASE, (LONG)(j % 3) };
                assert_int_equal(t.DeleteLogonSession(&l), STATUS_SUCCESS);
        }
        for (ULONG i = 0; i < N; i++) {
                LUID l = { i + MANY_BASE, (LONG)(i % 3) };
                assert_int_equal(t.CreateLogonSession(&l),
                                 i % 2 ? STATUS_LOGON_SESSION_COLLISION : STATUS_SUCCESS);
        }
        for (ULONG i = 0; i < N; i++) {
                LUID l = { i + MANY_BASE, (LONG)(i % 3) };
                assert_int_equal(t.DeleteLogonSession(&l), STATUS_SUCCESS);
        }
        LUID l = { 0, 0 };
        assert_int_equal(t.DeleteLogonSession(&l), STATUS_NO_SUCH_LOGON_SESSION);
}

static void test_logon_session_limit(void **state)
{
        (void)state;
        enum { MAX = 65536 };
        for (ULONG i = 0; i < MAX; i++) {
                LUID l = { i, 7 };
                assert_int_equal(t.CreateLogonSession(&l), STATUS_SUCCESS);
        }
        LUID more = { MAX, 7 }, first = { 0, 7 };
        assert_int_equal(t.CreateLogonSession(&more), STATUS_INSUFFICIENT_RESOURCES);
        assert_int_equal(t.CreateLogonSession(&first), STATUS_LOGON_SESSION_COLLISION);
        assert_int_equal(t.DeleteLogonSession(&first), STATUS_SUCCESS);
        assert_int_equal(t.CreateLogonSession(&more), STATUS_SUCCESS);
        host_logon_sessions_clear();
        assert_int_equal(t.CreateLogonSession(&first), STATUS_SUCCESS);
        host_logon_sessions_clear();
}

#define SESSION_THREADS 4
#define SESSIONS_PER_THREAD 4000

static void *session_worker(void *arg)
{
        LONG high = (LONG)(uintptr_t)arg;
        uintptr_t bad = 0;
        for (ULONG i = 0; i < SESSIONS_PER_THREAD; i++) {
                LUID l = { i, high };
                bad += t.CreateLogonSession(&l) != STATUS_SUCCESS;
        }
        for (ULONG i = 0; i < SESSIONS_PER_THREAD; i += 2) {
                LUID l = { i, high };
                bad += t.DeleteLogonSession(&l) != STATUS_SUCCESS;
        }
        for (ULONG i = 0; i < SESSIONS_PER_THREAD; i++) {
                LUID l = { i, high };
                NTSTATUS want = i % 2 ? STATUS_LOGON_SESSION_COLLISION : STATUS_NO_SUCH_LOGON_SESSION;
                NTSTATUS got = i % 2 ? t.CreateLogonSession(&l) : t.DeleteLogonSession(&l);
                bad += got != want;
        }
        return (void *)bad;
}

static void test_logon_session_threads(void **state)
{
        (void)state;
        pthread_t th[SESSION_THREADS];
        for (uintptr_t i = 0; i < SESSION_THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, session_worker, (void *)(i + 1)), 0);
        for (unsigned i = 0; i < SESSION_THREADS; i++) {
                void *bad;
                assert_int_equal(pthread_join(th[i], &bad), 0);
                assert_int_equal((uintptr_t)bad, 0);
        }
        /* Exactly the odd ones of every thread are left. */
        for (LONG h = 1; h <= SESSION_THREADS; h++) {
                for (ULONG i = 0; i < SESSIONS_PER_THREAD; i++) {
                        LUID l = { i, h };
                        assert_int_equal(t.DeleteLogonSession(&l),
                                         i % 2 ? STATUS_SUCCESS : STATUS_NO_SUCH_LOGON_SESSION);
                }
        }
}

/* ---- LsaProtectMemory ---- */

/* Runs first: the transform must work before anyone calls
 * host_protect_init, and init afterwards must not change the keys. */
static void test_protect_works_before_init(void **state)
{
        (void)state;
        unsigned char buf[40], orig[40], once[40];
        for (unsigned i = 0; i < sizeof(buf); i++)
                buf[i] = (unsigned char)i;
        memcpy(orig, buf, sizeof(buf));
        t.LsaProtectMemory(buf, sizeof(buf));
        assert_memory_not_equal(buf, orig, sizeof(buf));
        memcpy(once, buf, sizeof(buf));
        t.LsaUnprotectMemory(buf, sizeof(buf));
        assert_memory_equal(buf, orig, sizeof(buf));

        assert_int_equal(host_protect_init(), 0);
        assert_int_equal(host_protect_init(), 0);
        t.LsaProtectMemory(buf, sizeof(buf));
        assert_memory_equal(buf, once, sizeof(buf));
}

static void round_trip(struct tu_rng *rng, size_t n)
{
        unsigned char *buf = malloc(n), *orig = malloc(n), *again = malloc(n);
        assert_non_null(buf);
        assert_non_null(orig);
        assert_non_null(again);
        tu_rng_fill(rng, buf, n);
        memcpy(orig, buf, n);
        memcpy(again, buf, n);
        t.LsaProtectMemory(buf, (ULONG)n);
        if (n >= 8 && memcmp(buf, orig, n) == 0)
                fail_msg("%zu bytes came out unchanged", n);
        /* Deterministic: the same bytes protect the same way. */
        t.LsaProtectMemory(again, (ULONG)n);
        assert_memory_equal(buf, again, n);
        t.LsaUnprotectMemory(buf, (ULONG)n);
        if (memcmp(buf, orig, n) != 0)
                fail_msg("%zu bytes did not round-trip", n);
        /* And the other way round: a permutation both ways. */
        t.LsaUnprotectMemory(buf, (ULONG)n);
        t.LsaProtectMemory(buf, (ULONG)n);
        assert_memory_equal(buf, orig, n);
        free(buf);
        free(orig);
        free(again);
}

static void test_protect_round_trips(void **state)
{
        (void)state;
        struct tu_rng rng = { 0x9E3779B97F4A7C15u };
        for (size_t n = 1; n <= 300; n++)
                round_trip(&rng, n);
        round_trip(&rng, 4096);
        round_trip(&rng, 65536);
        round_trip(&rng, 65536 + 17);
}

/* Exhaustively for one and two bytes: every value maps to a distinct one,
 * and back. */
static void test_protect_small_sizes_are_permutations(void **state)
{
        (void)state;
        static unsigned char seen[65536];
        memset(seen, 0, sizeof(seen));
        unsigned moved = 0;
        for (unsigned v = 0; v < 256; v++) {
                unsigned char b = (unsigned char)v;
                t.LsaProtectMemory(&b, 1);
                assert_int_equal(seen[b], 0);
                seen[b] = 1;
                moved += b != v;
                t.LsaUnprotectMemory(&b, 1);
                assert_int_equal(b, v);
        }
        assert_true(moved > 200); /* a keyed permutation, not the identity */
        memset(seen, 0, sizeof(seen));
        for (unsigned v = 0; v < 65536; v++) {
                unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
                t.LsaProtectMemory(b, 2);
                unsigned w = (unsigned)b[0] << 8 | b[1];
                assert_int_equal(seen[w], 0);
                seen[w] = 1;
                t.LsaUnprotectMemory(b, 2);
                assert_int_equal((unsigned)b[0] << 8 | b[1], v);
        }
}

/* Two buffers that differ in one byte: with a reused keystream their
 * protected forms would differ exactly where they do. Instead the change
 * spreads over the whole output. */
static void test_protect_reuses_no_keystream(void **state)
{
        (void)state;
        struct tu_rng rng = { 12345 };
        unsigned char a[300], b[300], x_in[300], x_out[300];
        for (size_t n = 17; n <= sizeof(a); n++) {
                size_t where[] = { 0, 15, 16, n - 1 };
                for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
                        tu_rng_fill(&rng, a, n);
                        memcpy(b, a, n);
                        b[where[w]] ^= 0x01;
                        for (size_t i = 0; i < n; i++)
                                x_in[i] = a[i] ^ b[i];
                        t.LsaProtectMemory(a, (ULONG)n);
                        t.LsaProtectMemory(b, (ULONG)n);
                        size_t differ = 0;
                        for (size_t i = 0; i < n; i++) {
                                x_out[i] = a[i] ^ b[i];
                                differ += x_out[i] != 0;
                        }
                        if (memcmp(x_in, x_out, n) == 0)
                                fail_msg("size %zu, byte %zu: XOR of outputs is XOR of inputs", n, where[w]);
                        if (differ <= n / 2)
                                fail_msg("size %zu, byte %zu: only %zu bytes changed", n, where[w], differ);
                }
        }
}

static void test_protect_ignores_null_and_empty(void **state)
{
        (void)state;
        unsigned char buf[4] = { 1, 2, 3, 4 };
        t.LsaProtectMemory(NULL, 16);
        t.LsaUnprotectMemory(NULL, 16);
        t.LsaProtectMemory(buf, 0);
        t.LsaUnprotectMemory(buf, 0);
        assert_int_equal(buf[0], 1);
        assert_int_equal(buf[3], 4);
}

#define PROTECT_THREADS 4

static void *protect_worker(void *arg)
{
        struct tu_rng rng = { (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15u + 1 };
        unsigned char buf[512], orig[512];
        uintptr_t bad = 0;
        for (unsigned i = 0; i < 2000; i++) {
                size_t n = (size_t)tu_rng_range(&rng, 1, sizeof(buf));
                tu_rng_fill(&rng, buf, n);
                memcpy(orig, buf, n);
                t.LsaProtectMemory(buf, (ULONG)n);
                t.LsaUnprotectMemory(buf, (ULONG)n);
                bad += memcmp(buf, orig, n) != 0;
        }
        return (void *)bad;
}

static void test_protect_threads(void **state)
{
        (void)state;
        pthread_t th[PROTECT_THREADS];
        for (uintptr_t i = 0; i < PROTECT_THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, protect_worker, (void *)i), 0);
        for (unsigned i = 0; i < PROTECT_THREADS; i++) {
                void *bad;
                assert_int_equal(pthread_join(th[i], &bad), 0);
                assert_int_equal((uintptr_t)bad, 0);
        }
}

/* ---- failure reasons, call flags, client info ---- */

static struct host_package pkg_a, pkg_b;

static void test_failure_reason_belongs_to_its_package(void **state)
{
        (void)state;
        SECPKG_FAILURE_REASON r;
        pkg_a.id = 40;
        pkg_b.id = 41;
        host_active_package = &pkg_a;
        SECPKG_FAILURE_REASON set = { STATUS_LOGON_FAILURE, SecpkgFailureReason_LocalAccount };
        assert_int_equal(t.SetSecpkgFailureReason(set), STATUS_SUCCESS);
        GARBAGE(r);
        assert_int_equal(t.GetSecpkgFailureReason(40, &r), STATUS_SUCCESS);
        assert_int_equal(r.Status, STATUS_LOGON_FAILURE);
        assert_int_equal(r.Reason, SecpkgFailureReason_LocalAccount);

        /* Nothing recorded for another package: NOT_FOUND and zeros. */
        GARBAGE(r);
        assert_int_equal(t.GetSecpkgFailureReason(41, &r), STATUS_NOT_FOUND);
        assert_cleared(r);

        /* A later reason replaces the earlier one of the same package. */
        set.Reason = SecpkgFailureReason_NoLineOfSight;
        assert_int_equal(t.SetSecpkgFailureReason(set), STATUS_SUCCESS);
        host_active_package = &pkg_b;
        SECPKG_FAILURE_REASON set_b = { STATUS_NOT_SUPPORTED, SecpkgFailureReason_Loopback };
        assert_int_equal(t.SetSecpkgFailureReason(set_b), STATUS_SUCCESS);
        assert_int_equal(t.GetSecpkgFailureReason(40, &r), STATUS_SUCCESS);
        assert_int_equal(r.Reason, SecpkgFailureReason_NoLineOfSight);
        assert_int_equal(t.GetSecpkgFailureReason(41, &r), STATUS_SUCCESS);
        assert_int_equal(r.Status, STATUS_NOT_SUPPORTED);
        assert_int_equal(r.Reason, SecpkgFailureReason_Loopback);

        assert_int_equal(t.GetSecpkgFailureReason(40, NULL), STATUS_INVALID_PARAMETER);
        /* Outside any package's entry point there is nobody to record for. */
        host_active_package = NULL;
        assert_int_equal(t.SetSecpkgFailureReason(set), STATUS_NO_SUCH_PACKAGE);
        assert_int_equal(t.GetSecpkgFailureReason(40, &r), STATUS_SUCCESS);
}

static void *failure_reason_worker(void *arg)
{
        (void)arg;
        uintptr_t bad = 0;
        SECPKG_FAILURE_REASON r;
        bad += t.GetSecpkgFailureReason(40, &r) != STATUS_NOT_FOUND;
        host_active_package = &pkg_a;
        SECPKG_FAILURE_REASON mine = { STATUS_ACCESS_DENIED, SecpkgFailureReason_NullSession };
        bad += t.SetSecpkgFailureReason(mine) != STATUS_SUCCESS;
        bad += t.GetSecpkgFailureReason(40, &r) != STATUS_SUCCESS || r.Reason != SecpkgFailureReason_NullSession;
        host_active_package = NULL;
        return (void *)bad;
}

static void test_failure_reason_is_per_thread(void **state)
{
        (void)state;
        pkg_a.id = 40;
        host_active_package = &pkg_a;
        SECPKG_FAILURE_REASON set = { STATUS_LOGON_FAILURE, SecpkgFailureReason_DomainAccount };
        assert_int_equal(t.SetSecpkgFailureReason(set), STATUS_SUCCESS);
        host_active_package = NULL;
        pthread_t th;
        void *bad;
        assert_int_equal(pthread_create(&th, NULL, failure_reason_worker, NULL), 0);
        assert_int_equal(pthread_join(th, &bad), 0);
        assert_int_equal((uintptr_t)bad, 0);
        SECPKG_FAILURE_REASON r;
        assert_int_equal(t.GetSecpkgFailureReason(40, &r), STATUS_SUCCESS);
        assert_int_equal(r.Reason, SecpkgFailureReason_DomainAccount);
}

static void test_extended_call_flags_outside_a_call(void **state)
{
        (void)state;
        ULONG flags = 0xFFFFFFFFu;
        assert_null(host_call_current());
        assert_int_equal(t.GetExtendedCallFlags(&flags), STATUS_SUCCESS);
        assert_int_equal(flags, 0);
        assert_int_equal(t.GetExtendedCallFlags(NULL), STATUS_INVALID_PARAMETER);
}

static void test_client_info_ex_outside_a_call(void **state)
{
        (void)state;
        SECPKG_CLIENT_INFO info;
        SECPKG_CLIENT_INFO_EX ex;
        assert_int_equal(t.GetClientInfo(&info), STATUS_SUCCESS);
        GARBAGE(ex);
        assert_int_equal(t.GetClientInfoEx(&ex, sizeof(ex)), STATUS_SUCCESS);
        assert_int_equal(ex.ProcessID, info.ProcessID);
        assert_int_equal(ex.LogonId.LowPart, info.LogonId.LowPart);
        assert_int_equal(ex.LogonId.HighPart, info.LogonId.HighPart);
        assert_int_equal(ex.HasTcbPrivilege, info.HasTcbPrivilege);
        assert_int_equal(ex.Restricted, info.Restricted);
        assert_int_equal(ex.ImpersonationLevel, info.ImpersonationLevel);
        assert_ptr_equal(ex.ClientToken, info.ClientToken);
        assert_cleared(ex.IdentificationLogonId);
        assert_null(ex.IdentificationToken);

        /* A larger StructSize is fine (nothing past the structure is
         * written); a smaller one, or no structure, is refused. */
        struct {
                SECPKG_CLIENT_INFO_EX ex;
                unsigned char tail[16];
        } big;
        memset(&big, 0xCC, sizeof(big));
        assert_int_equal(t.GetClientInfoEx(&big.ex, sizeof(big)), STATUS_SUCCESS);
        for (size_t i = 0; i < sizeof(big.tail); i++)
                assert_int_equal(big.tail[i], 0xCC);
        assert_int_equal(t.GetClientInfoEx(&ex, sizeof(SECPKG_CLIENT_INFO)), STATUS_INVALID_PARAMETER);
        assert_int_equal(t.GetClientInfoEx(&ex, 0), STATUS_INVALID_PARAMETER);
        assert_int_equal(t.GetClientInfoEx(NULL, sizeof(ex)), STATUS_INVALID_PARAMETER);
}

/* ---- inside calls, through the host's own call path ---- */

static struct host call_host;
static struct host_conn call_conn;
static unsigned call_round;
static ULONG seen_flags_a, seen_flags_b;
static SECPKG_CLIENT_INFO_EX seen_info;
static NTSTATUS seen_a_own, seen_b_of_a, seen_a_of_b, seen_second_call, seen_call_package;

static NTSTATUS NTAPI pkg_b_call(PLSA_CLIENT_REQUEST req, PVOID submit, PVOID base, ULONG len, PVOID *ret,
                                 PULONG ret_len, PNTSTATUS proto)
{
        (void)req, (void)submit, (void)base, (void)len;
        SECPKG_FAILURE_REASON r;
        t.GetExtendedCallFlags(&seen_flags_b);
        /* The package that called us failed in the same client call. */
        seen_b_of_a = t.GetSecpkgFailureReason(pkg_a.id, &r);
        if (seen_b_of_a == STATUS_SUCCESS && r.Reason != SecpkgFailureReason_CloudAccount)
                seen_b_of_a = STATUS_UNSUCCESSFUL;
        SECPKG_FAILURE_REASON mine = { STATUS_NOT_SUPPORTED, SecpkgFailureReason_IpAddress };
        t.SetSecpkgFailureReason(mine);
        *ret = NULL;
        *ret_len = 0;
        *proto = STATUS_SUCCESS;
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI pkg_a_call(PLSA_CLIENT_REQUEST req, PVOID submit, PVOID base, ULONG len, PVOID *ret,
                                 PULONG ret_len, PNTSTATUS proto)
{
        (void)req, (void)submit, (void)base, (void)len;
        SECPKG_FAILURE_REASON r;
        *ret = NULL;
        *ret_len = 0;
        *proto = STATUS_SUCCESS;
        if (call_round == 2) {
                /* A later client call does not see the earlier one's. */
                seen_second_call = t.GetSecpkgFailureReason(pkg_a.id, &r);
                return STATUS_SUCCESS;
        }
        t.GetExtendedCallFlags(&seen_flags_a);
        t.GetClientInfoEx(&seen_info, sizeof(seen_info));
        SECPKG_FAILURE_REASON mine = { STATUS_LOGON_FAILURE, SecpkgFailureReason_CloudAccount };
        t.SetSecpkgFailureReason(mine);
        seen_a_own = t.GetSecpkgFailureReason(pkg_a.id, &r);

        WCHAR name[] = u"beta";
        UNICODE_STRING us = { 8, 10, name };
        char msg[4] = "hi";
        PVOID out = NULL;
        ULONG out_len = 0;
        NTSTATUS out_proto = 0;
        seen_call_package = t.CallPackage(&us, msg, sizeof(msg), &out, &out_len, &out_proto);
        /* What the package we called recorded is ours to read as well. */
        seen_a_of_b = t.GetSecpkgFailureReason(pkg_b.id, &r);
        if (seen_a_of_b == STATUS_SUCCESS && r.Reason != SecpkgFailureReason_IpAddress)
                seen_a_of_b = STATUS_UNSUCCESSFUL;
        return STATUS_SUCCESS;
}

static void test_inside_calls(void **state)
{
        (void)state;
        memset(&call_host, 0, sizeof(call_host));
        memset(&call_conn, 0, sizeof(call_conn));
        memset(&pkg_a, 0, sizeof(pkg_a));
        memset(&pkg_b, 0, sizeof(pkg_b));
        pkg_a.id = 50;
        strcpy(pkg_a.name, "alpha");
        pkg_a.table.CallPackage = pkg_a_call;
        pkg_b.id = 51;
        strcpy(pkg_b.name, "beta");
        pkg_b.table.CallPackage = pkg_b_call;
        call_host.packages[0] = &pkg_a;
        call_host.packages[1] = &pkg_b;
        call_host.npackages = 2;
        call_host.listen_fd = call_host.cs.epoll_fd = -1;
        call_conn.peer.fd = -1;
        call_conn.serial = 9;
        call_conn.peer.pid = 4321;
        call_conn.peer.uid = 1000;
        call_conn.mode = LSA_WIRE_MODE_LOGON;
        pthread_mutex_init(&call_conn.lock, NULL);
        struct host *saved = host_global;
        host_global = &call_host;

        struct lsa_wire_call_reply reply;
        uint8_t bytes[4] = { 1, 2, 3, 4 };
        struct host_submit submit;
        assert_int_equal(host_submit_take(bytes, sizeof(bytes), -1, 1u << 20, &submit), STATUS_SUCCESS);
        call_round = 1;
        host_call_from_client(&call_host, &call_conn, &pkg_a, 77, 0x10000, &submit, &reply);
        assert_int_equal(reply.status, STATUS_SUCCESS);
        assert_true(seen_flags_a & SECPKG_CALL_IS_TCB);
        assert_int_equal(seen_flags_a & SECPKG_CALL_IN_PROC, 0);
        assert_true(seen_flags_b & SECPKG_CALL_IN_PROC);
        assert_true(seen_flags_b & SECPKG_CALL_RECURSIVE);
        assert_int_equal(seen_info.ProcessID, 4321);
        assert_int_equal(seen_info.ThreadID, 77);
        LUID uid_luid;
        assert_int_equal(host_luid_of_uid(1000, &uid_luid), STATUS_SUCCESS);
        assert_true(SecEqualLuid(&seen_info.LogonId, &uid_luid));
        assert_true(seen_info.HasTcbPrivilege);
        assert_null(seen_info.IdentificationToken);
        assert_int_equal(seen_a_own, STATUS_SUCCESS);
        assert_int_equal(seen_call_package, STATUS_SUCCESS);
        assert_int_equal(seen_b_of_a, STATUS_SUCCESS);
        assert_int_equal(seen_a_of_b, STATUS_SUCCESS);

        /* The call is over: its reasons are gone, here and in the next. */
        SECPKG_FAILURE_REASON r;
        assert_int_equal(t.GetSecpkgFailureReason(pkg_a.id, &r), STATUS_NOT_FOUND);
        call_round = 2;
        host_call_from_client(&call_host, &call_conn, &pkg_a, 77, 0x10000, &submit, &reply);
        assert_int_equal(reply.status, STATUS_SUCCESS);
        host_submit_release(&submit);
        assert_int_equal(seen_second_call, STATUS_NOT_FOUND);

        ULONG flags = 1;
        assert_int_equal(t.GetExtendedCallFlags(&flags), STATUS_SUCCESS);
        assert_int_equal(flags, 0);
        assert_null(host_active_package);
        host_global = saved;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_protect_works_before_init, fill_table),
                cmocka_unit_test_setup(test_table_fills_every_slot, fill_table),
                cmocka_unit_test_setup(test_table_not_implemented_members_clear_outputs, fill_table),
                cmocka_unit_test_setup(test_table_not_implemented_members_accept_null, fill_table),
                cmocka_unit_test_setup(test_table_handle_and_void_members_are_safe, fill_table),
                cmocka_unit_test_setup(test_table_create_thread_runs, fill_table),
                cmocka_unit_test_setup(test_heap_blocks_are_zeroed_and_usable, fill_table),
                cmocka_unit_test_setup(test_heap_zero_length_gives_unique_blocks, fill_table),
                cmocka_unit_test_setup(test_heap_refuses_huge_and_frees_null, fill_table),
                cmocka_unit_test_setup(test_heap_free_wipes_blocks, fill_table),
                cmocka_unit_test_setup(test_logon_session_lifecycle, fill_table),
                cmocka_unit_test_setup(test_logon_session_client_luids, fill_table),
                cmocka_unit_test_setup(test_logon_session_many, fill_table),
                cmocka_unit_test_setup(test_logon_session_limit, fill_table),
                cmocka_unit_test_setup(test_logon_session_threads, fill_table),
                cmocka_unit_test_setup(test_protect_round_trips, fill_table),
                cmocka_unit_test_setup(test_protect_small_sizes_are_permutations, fill_table),
                cmocka_unit_test_setup(test_protect_reuses_no_keystream, fill_table),
                cmocka_unit_test_setup(test_protect_ignores_null_and_empty, fill_table),
                cmocka_unit_test_setup(test_protect_threads, fill_table),
                cmocka_unit_test_setup(test_failure_reason_belongs_to_its_package, fill_table),
                cmocka_unit_test_setup(test_failure_reason_is_per_thread, fill_table),
                cmocka_unit_test_setup(test_extended_call_flags_outside_a_call, fill_table),
                cmocka_unit_test_setup(test_client_info_ex_outside_a_call, fill_table),
                cmocka_unit_test_setup(test_inside_calls, fill_table),
                cmocka_unit_test_setup(test_client_luids_bounded, fill_table), /* last: fills the map */
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
