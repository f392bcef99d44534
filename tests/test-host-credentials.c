/* SPDX-License-Identifier: MIT */
/*
 * AddCredential, GetCredentials and DeleteCredential (src/host/credentials.c)
 * through the function table every package gets: per logon session and
 * package, the query context across calls, RetrieveAllCredentials and its
 * key buffer, first-match deletes, every bad parameter, secrets never in
 * lsashmd's heap in the clear, every credential wiped when deleted, when its
 * session ends and at shutdown, and adds racing a session's end from another
 * thread leaving nothing behind.
 */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/host-internal.h"
#include "test-util.h"

static LSA_SECPKG_FUNCTION_TABLE t;

#define PKG       7u
#define OTHER_PKG 8u

/* The members take non-const strings they do not write (inputs). */
static LSA_STRING str(const char *s)
{
        PCHAR p;
        memcpy(&p, &s, sizeof(p));
        return (LSA_STRING){ (USHORT)strlen(s), (USHORT)strlen(s), p };
}

/* ---- every credential freed goes through here: wiped first? ---- */

static unsigned g_released;
static unsigned g_released_dirty;

static void release_checked(void *p)
{
        const unsigned char *b = p;
        size_t n = malloc_usable_size(p);
        for (size_t i = 0; i < n; i++)
                if (b[i]) {
                        __atomic_fetch_add(&g_released_dirty, 1, __ATOMIC_RELAXED);
                        break;
                }
        /* Also from the racing threads' adds that lost to a session's end. */
        __atomic_fetch_add(&g_released, 1, __ATOMIC_RELAXED);
        free(p);
}

static int setup(void **state)
{
        (void)state;
        memset(&t, 0, sizeof(t));
        host_table_fill(&t);
        host_logon_sessions_clear();
        host_credentials_release = release_checked;
        g_released = g_released_dirty = 0;
        host_active_package = NULL;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        host_logon_sessions_clear();
        host_credentials_release = free;
        host_active_package = NULL;
        return 0;
}

static uint64_t credential_count(void)
{
        struct host_credentials_stats st;
        host_credentials_stats(&st);
        return st.credentials;
}

/* Get the next credential; its value as a C string in out (and the key, when
 * retrieving all, in key_out). Returns the status. */
static NTSTATUS get(LUID *l, ULONG pkg, ULONG *ctx, const char *key, char *out, size_t outsz, char *key_out,
                    size_t key_outsz)
{
        LSA_STRING k = key ? str(key) : (LSA_STRING){ 0, (USHORT)key_outsz, key_out };
        LSA_STRING cred;
        ULONG klen = 0xdead;
        NTSTATUS st = t.GetCredentials(l, pkg, ctx, key == NULL, &k, &klen, &cred);
        if (st == STATUS_SUCCESS) {
                assert_non_null(cred.Buffer);
                assert_true(cred.Length < outsz);
                /* An LSA heap block, the caller's to free with FreeLsaHeap. */
                size_t n;
                assert_true(host_heap_block(cred.Buffer, &n));
                memcpy(out, cred.Buffer, cred.Length);
                out[cred.Length] = '\0';
                if (!key) {
                        assert_int_equal(klen, k.Length);
                        assert_true(k.Length < key_outsz);
                        assert_int_equal(key_out[k.Length], '\0');
                }
                t.FreeLsaHeap(cred.Buffer);
        } else {
                assert_null(cred.Buffer);
                assert_int_equal(cred.Length, 0);
        }
        return st;
}

static void add(LUID *l, ULONG pkg, const char *key, const char *value)
{
        LSA_STRING k = str(key), v = str(value);
        assert_int_equal(t.AddCredential(l, pkg, &k, &v), STATUS_SUCCESS);
}

/* ---- behaviour ---- */

static void test_credentials_by_key_in_order_then_none(void **state)
{
        (void)state;
        LUID a = { 0x1001, 0 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        add(&a, PKG, "server", "pw1");
        add(&a, PKG, "other", "x");
        add(&a, PKG, "server", "pw2"); /* keys need not be unique */
        add(&a, OTHER_PKG, "server", "theirs");

        char v[64];
        ULONG ctx = 0;
        assert_int_equal(get(&a, PKG, &ctx, "server", v, sizeof(v), NULL, 0), STATUS_SUCCESS);
        assert_string_equal(v, "pw1");
        assert_int_not_equal(ctx, 0);
        assert_int_equal(get(&a, PKG, &ctx, "server", v, sizeof(v), NULL, 0), STATUS_SUCCESS);
        assert_string_equal(v, "pw2");
        ULONG end = ctx;
        /* No more: ERROR_GEN_FAILURE's NTSTATUS, the context left alone. */
        assert_int_equal(get(&a, PKG, &ctx, "server", v, sizeof(v), NULL, 0), STATUS_UNSUCCESSFUL);
        assert_int_equal(ctx, end);

        /* Each package sees its own only. */
        ctx = 0;
        assert_int_equal(get(&a, OTHER_PKG, &ctx, "server", v, sizeof(v), NULL, 0), STATUS_SUCCESS);
        assert_string_equal(v, "theirs");
        assert_int_equal(get(&a, OTHER_PKG, &ctx, "server", v, sizeof(v), NULL, 0), STATUS_UNSUCCESSFUL);
        ctx = 0;
        assert_int_equal(get(&a, OTHER_PKG, &ctx, "other", v, sizeof(v), NULL, 0), STATUS_UNSUCCESSFUL);
        ctx = 0;
        assert_int_equal(get(&a, 99, &ctx, "server", v, sizeof(v), NULL, 0), STATUS_UNSUCCESSFUL);
        /* A key that only starts like one. */
        ctx = 0;
        assert_int_equal(get(&a, PKG, &ctx, "serve", v, sizeof(v), NULL, 0), STATUS_UNSUCCESSFUL);
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
}

static void test_credentials_retrieve_all_with_keys(void **state)
{
        (void)state;
        LUID a = { 0x1002, 5 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        add(&a, PKG, "server", "pw1");
        add(&a, OTHER_PKG, "skip", "me");
        add(&a, PKG, "a-much-longer-key", "pw2");
        add(&a, PKG, "", ""); /* an empty key and an empty credential */

        char v[64], key[64];
        ULONG ctx = 0;
        assert_int_equal(get(&a, PKG, &ctx, NULL, v, sizeof(v), key, sizeof(key)), STATUS_SUCCESS);
        assert_string_equal(key, "server");
        assert_string_equal(v, "pw1");

        /* The caller's key buffer is too small: STATUS_MORE_ENTRIES (a
         * success code), the length needed, nothing else changed. */
        ULONG before = ctx;
        char small[4] = "abc";
        LSA_STRING k = { 0, sizeof(small), small };
        LSA_STRING cred = str("garbage");
        ULONG klen = 0;
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, TRUE, &k, &klen, &cred), STATUS_MORE_ENTRIES);
        assert_true(NT_SUCCESS(STATUS_MORE_ENTRIES));
        assert_int_equal(klen, strlen("a-much-longer-key"));
        assert_int_equal(ctx, before);
        assert_null(cred.Buffer);
        assert_int_equal(k.Length, 0);
        assert_string_equal(small, "abc");
        /* Again, with room: the same credential. */
        assert_int_equal(get(&a, PKG, &ctx, NULL, v, sizeof(v), key, sizeof(key)), STATUS_SUCCESS);
        assert_string_equal(key, "a-much-longer-key");
        assert_string_equal(v, "pw2");
        /* Exactly the key's length: no room for a terminator, none written. */
        char exact[18];
        memset(exact, 'Z', sizeof(exact));
        ULONG ctx2 = before;
        k = (LSA_STRING){ 0, 17, exact };
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx2, TRUE, &k, &klen, &cred), STATUS_SUCCESS);
        assert_memory_equal(exact, "a-much-longer-keyZ", 18);
        assert_int_equal(k.Length, 17);
        t.FreeLsaHeap(cred.Buffer);

        assert_int_equal(get(&a, PKG, &ctx, NULL, v, sizeof(v), key, sizeof(key)), STATUS_SUCCESS);
        assert_string_equal(key, "");
        assert_string_equal(v, "");
        assert_int_equal(get(&a, PKG, &ctx, NULL, v, sizeof(v), key, sizeof(key)), STATUS_UNSUCCESSFUL);

        /* An empty key is looked up like any other. */
        ctx = 0;
        assert_int_equal(get(&a, PKG, &ctx, "", v, sizeof(v), NULL, 0), STATUS_SUCCESS);
        assert_string_equal(v, "");
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
}

/* The context names a place, not a position: deletes and adds between the
 * calls of one enumeration neither repeat nor skip what stayed. */
static void test_credentials_enumeration_survives_changes(void **state)
{
        (void)state;
        LUID a = { 0x1003, 0 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        add(&a, PKG, "k", "a");
        add(&a, PKG, "k", "b");
        add(&a, PKG, "k", "c");
        char v[16], key[16];
        ULONG ctx = 0;
        assert_int_equal(get(&a, PKG, &ctx, NULL, v, sizeof(v), key, sizeof(key)), STATUS_SUCCESS);
        assert_string_equal(v, "a");
        LSA_STRING k = str("k");
        /* Deletes the first match: "a", already seen. */
        assert_int_equal(t.DeleteCredential(&a, PKG, &k), STATUS_SUCCESS);
        add(&a, PKG, "k", "d");
        assert_int_equal(get(&a, PKG, &ctx, NULL, v, sizeof(v), key, sizeof(key)), STATUS_SUCCESS);
        assert_string_equal(v, "b");
        assert_int_equal(t.DeleteCredential(&a, PKG, &k), STATUS_SUCCESS); /* "b" */
        assert_int_equal(t.DeleteCredential(&a, PKG, &k), STATUS_SUCCESS); /* "c", not yet seen */
        assert_int_equal(get(&a, PKG, &ctx, NULL, v, sizeof(v), key, sizeof(key)), STATUS_SUCCESS);
        assert_string_equal(v, "d");
        assert_int_equal(get(&a, PKG, &ctx, NULL, v, sizeof(v), key, sizeof(key)), STATUS_UNSUCCESSFUL);
        assert_int_equal(credential_count(), 1);
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
}

static void test_credentials_delete_first_match_only(void **state)
{
        (void)state;
        LUID a = { 0x1004, 0 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        add(&a, PKG, "dup", "one");
        add(&a, PKG, "dup", "two");
        add(&a, OTHER_PKG, "dup", "theirs");
        LSA_STRING k = str("dup"), none = str("none");
        assert_int_equal(t.DeleteCredential(&a, PKG, &none), STATUS_UNSUCCESSFUL);
        assert_int_equal(t.DeleteCredential(&a, PKG, &k), STATUS_SUCCESS);
        assert_int_equal(g_released, 1);
        assert_int_equal(g_released_dirty, 0); /* wiped before it was freed */
        char v[16];
        ULONG ctx = 0;
        assert_int_equal(get(&a, PKG, &ctx, "dup", v, sizeof(v), NULL, 0), STATUS_SUCCESS);
        assert_string_equal(v, "two");
        assert_int_equal(t.DeleteCredential(&a, PKG, &k), STATUS_SUCCESS);
        assert_int_equal(t.DeleteCredential(&a, PKG, &k), STATUS_UNSUCCESSFUL);
        /* The other package's is still there. */
        ctx = 0;
        assert_int_equal(get(&a, OTHER_PKG, &ctx, "dup", v, sizeof(v), NULL, 0), STATUS_SUCCESS);
        assert_string_equal(v, "theirs");
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
        assert_int_equal(g_released, 3);
        assert_int_equal(g_released_dirty, 0);
}

static void test_credentials_need_a_session(void **state)
{
        (void)state;
        LUID none = { 0x2000, 0 };
        LSA_STRING k = str("k"), v = str("v"), out;
        ULONG ctx = 0, klen;
        char kb[8];
        LSA_STRING kbuf = { 0, sizeof(kb), kb };
        assert_int_equal(t.AddCredential(&none, PKG, &k, &v), STATUS_NO_SUCH_LOGON_SESSION);
        assert_int_equal(t.GetCredentials(&none, PKG, &ctx, FALSE, &k, &klen, &out), STATUS_NO_SUCH_LOGON_SESSION);
        assert_int_equal(t.GetCredentials(&none, PKG, &ctx, TRUE, &kbuf, &klen, &out), STATUS_NO_SUCH_LOGON_SESSION);
        assert_int_equal(t.DeleteCredential(&none, PKG, &k), STATUS_NO_SUCH_LOGON_SESSION);
        assert_int_equal(ctx, 0);
        /* A session with nothing stored: there, but no credential. */
        assert_int_equal(t.CreateLogonSession(&none), STATUS_SUCCESS);
        assert_int_equal(t.GetCredentials(&none, PKG, &ctx, FALSE, &k, &klen, &out), STATUS_UNSUCCESSFUL);
        assert_int_equal(t.DeleteCredential(&none, PKG, &k), STATUS_UNSUCCESSFUL);
        assert_int_equal(credential_count(), 0);
        assert_int_equal(t.DeleteLogonSession(&none), STATUS_SUCCESS);
}

static void test_credentials_bad_parameters(void **state)
{
        (void)state;
        LUID a = { 0x1005, 0 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        LSA_STRING k = str("k"), v = str("v"), out;
        LSA_STRING nobuf = { 4, 4, NULL };
        ULONG ctx = 0, klen;
        const NTSTATUS IP = STATUS_INVALID_PARAMETER;

        assert_int_equal(t.AddCredential(NULL, PKG, &k, &v), IP);
        assert_int_equal(t.AddCredential(&a, PKG, NULL, &v), IP);
        assert_int_equal(t.AddCredential(&a, PKG, &k, NULL), IP);
        assert_int_equal(t.AddCredential(&a, PKG, &nobuf, &v), IP);
        assert_int_equal(t.AddCredential(&a, PKG, &k, &nobuf), IP);

        assert_int_equal(t.GetCredentials(NULL, PKG, &ctx, FALSE, &k, &klen, &out), IP);
        assert_int_equal(t.GetCredentials(&a, PKG, NULL, FALSE, &k, &klen, &out), IP);
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, FALSE, NULL, &klen, &out), IP);
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, FALSE, &nobuf, &klen, &out), IP);
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, FALSE, &k, &klen, NULL), IP);
        /* Retrieving all: the key's buffer and the length needed are outputs. */
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, TRUE, &nobuf, &klen, &out), IP);
        char kb[4];
        LSA_STRING kbuf = { 0, sizeof(kb), kb };
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, TRUE, &kbuf, NULL, &out), IP);
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, TRUE, NULL, &klen, &out), IP);

        assert_int_equal(t.DeleteCredential(NULL, PKG, &k), IP);
        assert_int_equal(t.DeleteCredential(&a, PKG, NULL), IP);
        assert_int_equal(t.DeleteCredential(&a, PKG, &nobuf), IP);
        assert_int_equal(ctx, 0);
        assert_int_equal(credential_count(), 0);

        /* By key, the length needed is optional; a zero-sized key buffer
         * when retrieving all is a fine way to ask for the length. */
        add(&a, PKG, "key", "val");
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, FALSE, &k, NULL, &out), STATUS_UNSUCCESSFUL);
        LSA_STRING zero = { 0, 0, NULL };
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, TRUE, &zero, &klen, &out), STATUS_MORE_ENTRIES);
        assert_int_equal(klen, 3);
        assert_int_equal(ctx, 0);
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
}

/* While a package's entry point runs, it reaches its own credentials only. */
static void test_credentials_own_package_only(void **state)
{
        (void)state;
        LUID a = { 0x1006, 0 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        add(&a, OTHER_PKG, "k", "theirs");
        static struct host_package me = { .id = PKG, .name = "me" };
        host_active_package = &me;
        LSA_STRING k = str("k"), v = str("mine"), out;
        ULONG ctx = 0, klen;
        assert_int_equal(t.AddCredential(&a, OTHER_PKG, &k, &v), STATUS_ACCESS_DENIED);
        assert_int_equal(t.GetCredentials(&a, OTHER_PKG, &ctx, FALSE, &k, &klen, &out), STATUS_ACCESS_DENIED);
        assert_null(out.Buffer);
        assert_int_equal(t.DeleteCredential(&a, OTHER_PKG, &k), STATUS_ACCESS_DENIED);
        assert_int_equal(t.AddCredential(&a, PKG, &k, &v), STATUS_SUCCESS);
        char buf[16];
        assert_int_equal(get(&a, PKG, &ctx, "k", buf, sizeof(buf), NULL, 0), STATUS_SUCCESS);
        assert_string_equal(buf, "mine");
        host_active_package = NULL;
        assert_int_equal(credential_count(), 2);
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
}

/* The end of a session takes its credentials, wiped; a new session with the
 * same LUID starts empty. */
static void test_credentials_session_end_wipes(void **state)
{
        (void)state;
        LUID a = { 0x1007, 0 }, b = { 0x1008, 0 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        assert_int_equal(t.CreateLogonSession(&b), STATUS_SUCCESS);
        for (int i = 0; i < 10; i++) {
                char key[16], val[64];
                snprintf(key, sizeof(key), "key%d", i);
                snprintf(val, sizeof(val), "a secret long enough to take the wide path %d", i);
                add(&a, PKG, key, val);
                add(&b, OTHER_PKG, key, val);
        }
        assert_int_equal(credential_count(), 20);
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
        assert_int_equal(g_released, 10);
        assert_int_equal(g_released_dirty, 0);
        assert_int_equal(credential_count(), 10);

        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        char v[64];
        ULONG ctx = 0;
        char kb[16];
        assert_int_equal(get(&a, PKG, &ctx, NULL, v, sizeof(v), kb, sizeof(kb)), STATUS_UNSUCCESSFUL);
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);

        /* Host shutdown: everything, wiped. */
        host_logon_sessions_clear();
        assert_int_equal(g_released, 20);
        assert_int_equal(g_released_dirty, 0);
        struct host_credentials_stats st;
        host_credentials_stats(&st);
        assert_int_equal(st.sessions, 0);
        assert_int_equal(st.credentials, 0);
        assert_int_equal(st.bytes, 0);
}

/* Where could the plaintext be? Only in the heap (the test's own copies are
 * on its stack). It must not be there once AddCredential has returned. */
static bool heap_contains(const unsigned char *needle, size_t n)
{
        FILE *f = fopen("/proc/self/maps", "r");
        assert_non_null(f);
        char line[512];
        bool found = false;
        while (!found && fgets(line, sizeof(line), f)) {
                unsigned long lo, hi;
                if (!strstr(line, "[heap]") || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
                        continue;
                const unsigned char *p = (const unsigned char *)lo;
                for (size_t i = 0; i + n <= hi - lo; i++)
                        if (p[i] == needle[0] && memcmp(p + i, needle, n) == 0) {
                                found = true;
                                break;
                        }
        }
        fclose(f);
        return found;
}

static void test_credentials_protected_at_rest(void **state)
{
        (void)state;
        LUID a = { 0x1009, 0 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        unsigned char secret[40], key[24];
        FILE *f = fopen("/dev/urandom", "r");
        assert_non_null(f);
        assert_int_equal(fread(secret, 1, sizeof(secret), f), sizeof(secret));
        assert_int_equal(fread(key, 1, sizeof(key), f), sizeof(key));
        fclose(f);
        key[0] = secret[0] = 'S'; /* not a byte the scan mistakes */
        LSA_STRING k = { sizeof(key), sizeof(key), (PCHAR)key };
        LSA_STRING v = { sizeof(secret), sizeof(secret), (PCHAR)secret };
        assert_int_equal(t.AddCredential(&a, PKG, &k, &v), STATUS_SUCCESS);
        assert_false(heap_contains(secret, sizeof(secret)));
        assert_false(heap_contains(key, sizeof(key)));
        /* And it comes back as it went in. */
        ULONG ctx = 0, klen;
        LSA_STRING out;
        assert_int_equal(t.GetCredentials(&a, PKG, &ctx, FALSE, &k, &klen, &out), STATUS_SUCCESS);
        assert_int_equal(out.Length, sizeof(secret));
        assert_memory_equal(out.Buffer, secret, sizeof(secret));
        t.FreeLsaHeap(out.Buffer);
        /* The lookup's protected copy of the key is gone too. */
        assert_false(heap_contains(key, sizeof(key)));
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
}

static void test_credentials_limits(void **state)
{
        (void)state;
        LUID a = { 0x100a, 0 };
        assert_int_equal(t.CreateLogonSession(&a), STATUS_SUCCESS);
        LSA_STRING k = str("k"), v = str("v");
        NTSTATUS st = STATUS_SUCCESS;
        unsigned n = 0;
        while (n < 100000 && (st = t.AddCredential(&a, PKG, &k, &v)) == STATUS_SUCCESS)
                n++;
        assert_int_equal(st, STATUS_INSUFFICIENT_RESOURCES);
        assert_int_equal(n, 1024);
        /* A delete makes room again. */
        assert_int_equal(t.DeleteCredential(&a, PKG, &k), STATUS_SUCCESS);
        assert_int_equal(t.AddCredential(&a, PKG, &k, &v), STATUS_SUCCESS);
        /* The largest strings an LSA_STRING can describe. */
        LUID b = { 0x100b, 0 };
        assert_int_equal(t.CreateLogonSession(&b), STATUS_SUCCESS);
        char *big = malloc(UINT16_MAX);
        assert_non_null(big);
        memset(big, 'q', UINT16_MAX);
        LSA_STRING bk = { UINT16_MAX, UINT16_MAX, big };
        assert_int_equal(t.AddCredential(&b, PKG, &bk, &bk), STATUS_SUCCESS);
        ULONG ctx = 0, klen;
        LSA_STRING out;
        assert_int_equal(t.GetCredentials(&b, PKG, &ctx, FALSE, &bk, &klen, &out), STATUS_SUCCESS);
        assert_int_equal(out.Length, UINT16_MAX);
        assert_int_equal(klen, UINT16_MAX);
        assert_memory_equal(out.Buffer, big, UINT16_MAX);
        t.FreeLsaHeap(out.Buffer);
        free(big);
        assert_int_equal(t.DeleteLogonSession(&a), STATUS_SUCCESS);
        assert_int_equal(t.DeleteLogonSession(&b), STATUS_SUCCESS);
        assert_int_equal(credential_count(), 0);
}

/* ---- a session ending while another thread adds to it ---- */

#define RACE_ROUNDS 2000

static volatile int g_race_stop;

static void *race_adder(void *arg)
{
        LUID *l = arg;
        LSA_STRING k = str("k"), v = str("a value that races");
        while (!__atomic_load_n(&g_race_stop, __ATOMIC_ACQUIRE)) {
                NTSTATUS st = t.AddCredential(l, PKG, &k, &v);
                if (st != STATUS_SUCCESS && st != STATUS_NO_SUCH_LOGON_SESSION && st != STATUS_INSUFFICIENT_RESOURCES)
                        return (void *)1;
        }
        return NULL;
}

static void test_credentials_session_end_races_adds(void **state)
{
        (void)state;
        static LUID l = { 0x100c, 0 };
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&th[i], NULL, race_adder, &l), 0);
        for (int i = 0; i < RACE_ROUNDS; i++) {
                assert_int_equal(t.CreateLogonSession(&l), STATUS_SUCCESS);
                assert_int_equal(t.DeleteLogonSession(&l), STATUS_SUCCESS);
                /* Nothing of the ended session may be left, whatever the
                 * adders were doing. */
                struct host_credentials_stats st;
                host_credentials_stats(&st);
                if (st.credentials != 0)
                        fail_msg("round %d: %llu credentials outlived their session", i,
                                 (unsigned long long)st.credentials);
        }
        __atomic_store_n(&g_race_stop, 1, __ATOMIC_RELEASE);
        for (int i = 0; i < 2; i++) {
                void *ret;
                assert_int_equal(pthread_join(th[i], &ret), 0);
                assert_null(ret);
        }
        assert_int_equal(g_released_dirty, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_credentials_by_key_in_order_then_none, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_retrieve_all_with_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_enumeration_survives_changes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_delete_first_match_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_need_a_session, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_bad_parameters, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_own_package_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_session_end_wipes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_protected_at_rest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_limits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials_session_end_races_adds, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
