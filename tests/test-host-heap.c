/* SPDX-License-Identifier: MIT */
/*
 * The package heap (src/host/lsa-heap.c): AllocateLsaHeap, FreeLsaHeap,
 * AllocatePrivateHeap and FreePrivateHeap as packages get them wrong. A free
 * of anything but a live block (an interior pointer, a client buffer's
 * address, a stack or static address, a block freed already) is refused:
 * nothing is touched, the host lives on, the refusal is counted for the
 * package and in `lsashm status`, and logged once per package. A package's
 * name held in one block with its LSA_STRING is freed at unload without
 * harm.
 *
 * One host, made in the group setup, with the test packages (tests/packages)
 * that these need. The wrong frees are made by a real package, inside a call
 * the host runs (TpHeapMisuse), in a forked child that holds a copy of the
 * host: before lsa-heap.c most of them killed the host, and in a child such
 * a death fails one test, not the run. A child cannot run cmocka's
 * assertions: it checks with CHILD_CHECK and exits non-zero.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host-internal.h"
#include "lsashm/ntsecapi.h"
#include "packages/test-package-protocol.h"
#include "test-util.h"

#ifndef TEST_PACKAGE_DIR
#error "TEST_PACKAGE_DIR: where tests/packages built test-pkg-*.so"
#endif

#define CHECK(cond) CHILD_CHECK(cond)

static struct host *g_host;
static char g_dir[64];
static char g_sock[100];

/* ---- the host's log ---- */

#define LOG_KEEP 256
static char g_log[LOG_KEEP][512];
static unsigned g_nlog;

static void log_capture(void *ctx, const char *line)
{
        (void)ctx;
        snprintf(g_log[g_nlog % LOG_KEEP], sizeof(g_log[0]), "%s", line);
        g_nlog++;
        if (getenv("TEST_HOST_VERBOSE"))
                fprintf(stderr, "host: %s\n", line);
}

/* Lines logged since `since` that contain both needles. */
static unsigned log_count(unsigned since, const char *needle, const char *needle2)
{
        unsigned n = 0;
        for (unsigned i = since; i < g_nlog; i++) {
                const char *l = g_log[i % LOG_KEEP];
                if (strstr(l, needle) && (!needle2 || strstr(l, needle2)))
                        n++;
        }
        return n;
}

#define REFUSAL_LINE "not the start of a live LSA or private heap block"

/* ---- in a child: one scenario, its copy of the host ---- */

static void run_scenario(void *arg)
{
        void (*const *fn)(void) = arg;
        (*fn)();
}

/* Run fn in a forked child; the test fails unless it returns. */
static void in_child(void (*fn)(void))
{
        char why[96];
        int status = tu_run_child(run_scenario, &fn, NULL, 120, why, sizeof(why));
        if (!tu_exited_ok(status))
                fail_msg("the host's process %s", why);
}

static struct host_package *package(const char *name)
{
        struct host_package *p = host_find_package_name(g_host, name);
        CHECK(p != NULL);
        return p;
}

static uint64_t refused(const char *name)
{
        return __atomic_load_n(&package(name)->heap_refused_frees, __ATOMIC_RELAXED);
}

static uint64_t refused_total(void)
{
        struct host_heap_stats st;
        host_heap_stats(&st);
        return st.refused_frees;
}

static uint64_t live_blocks(void)
{
        struct host_heap_stats st;
        host_heap_stats(&st);
        return st.live_blocks;
}

/* TpHeapMisuse, called as another package would: through CallPackage,
 * which runs it as a call of that package (host_active_package). */
static TP_HEAP_REPLY misuse(const char *name, ULONG which)
{
        WCHAR wname[64];
        size_t n = 0;
        for (; name[n] && n < 63; n++)
                wname[n] = (WCHAR)name[n];
        UNICODE_STRING us = { (USHORT)(n * 2), (USHORT)(n * 2), wname };
        TP_REQUEST m = { .MessageType = TpHeapMisuse, .Arg = which };
        PVOID ret = NULL;
        ULONG len = 0;
        NTSTATUS proto = 0;
        NTSTATUS st = host_CallPackage(&us, &m, sizeof(m), &ret, &len, &proto);
        if (st != STATUS_SUCCESS || proto != STATUS_SUCCESS)
                fprintf(stderr, "misuse %u: status 0x%08X, protocol 0x%08X\n", (unsigned)which, (unsigned)st,
                        (unsigned)proto);
        CHECK(st == STATUS_SUCCESS && proto == STATUS_SUCCESS);
        CHECK(ret != NULL && len == sizeof(TP_HEAP_REPLY));
        TP_HEAP_REPLY r;
        memcpy(&r, ret, sizeof(r));
        host_FreeReturnBuffer(ret);
        CHECK(r.MessageType == TpHeapMisuse && r.Misuse == which);
        return r;
}

/* Does malloc hand out distinct blocks of this size? Unlike calloc, it
 * takes them from glibc's per-thread cache first, where a block freed twice
 * sits twice. */
static bool malloc_sound(size_t size)
{
        void *b[8];
        bool ok = true;
        for (unsigned i = 0; i < 8; i++) {
                b[i] = malloc(size);
                ok = ok && b[i];
                for (unsigned j = 0; j < i; j++)
                        ok = ok && b[i] != b[j];
        }
        for (unsigned i = 0; i < 8; i++)
                free(b[i]);
        return ok;
}

/* A misuse that must be refused `expect` times, touch nothing, and log one
 * line naming the package. */
static void expect_refused(ULONG which, uint64_t expect)
{
        unsigned since = g_nlog;
        uint64_t before = refused(TP_NAME_OK), total = refused_total(), live = live_blocks();
        TP_HEAP_REPLY r = misuse(TP_NAME_OK, which);
        CHECK(r.Intact);
        CHECK(refused(TP_NAME_OK) == before + expect);
        CHECK(refused_total() == total + expect);
        CHECK(live_blocks() == live); /* and nothing leaked */
        CHECK(log_count(since, "package " TP_NAME_OK ": FreeLsaHeap: ", REFUSAL_LINE) == (expect ? 1 : 0));
        /* Once per package: the same mistake again is counted, not logged. */
        since = g_nlog;
        misuse(TP_NAME_OK, which);
        CHECK(refused(TP_NAME_OK) == before + 2 * expect);
        CHECK(log_count(since, REFUSAL_LINE, NULL) == 0);
}

/* ================= wrong frees ================= */

static void child_interior(void) { expect_refused(TP_HEAP_INTERIOR, 2); }

/* Before: malloc_usable_size read a chunk header 8 bytes into the block's
 * data, and free() aborted ("free(): invalid pointer"). */
static void test_heap_free_interior_pointer_refused(void **state)
{
        (void)state;
        in_child(child_interior);
}

static void child_stack(void) { expect_refused(TP_HEAP_STACK, 2); }
static void child_static(void) { expect_refused(TP_HEAP_STATIC, 2); }

static void test_heap_free_stack_and_static_refused(void **state)
{
        (void)state;
        in_child(child_stack);
        in_child(child_static);
}

/* FreeReturnBuffer takes what a package-to-package call returned: LSA heap,
 * checked like FreeLsaHeap. Before: a stack address reached free(). */
static void child_return_buffer(void)
{
        unsigned since = g_nlog;
        uint64_t before = refused(TP_NAME_OK), live = live_blocks();
        TP_HEAP_REPLY r = misuse(TP_NAME_OK, TP_HEAP_RETURN_BUFFER);
        CHECK(r.Intact);
        CHECK(refused(TP_NAME_OK) == before + 2);
        CHECK(live_blocks() == live);
        CHECK(log_count(since, "package " TP_NAME_OK ": FreeReturnBuffer: ", REFUSAL_LINE) == 1);
        CHECK(malloc_sound(64));
}

static void test_heap_free_return_buffer_refused(void **state)
{
        (void)state;
        in_child(child_return_buffer);
}

/* In a package-to-package call a client buffer is the host's own calloc
 * block: freeing it with FreeLsaHeap used to free it under the host, which
 * freed it again when the call ended. */
static void child_client_buffer_in_process(void)
{
        uint64_t before = refused(TP_NAME_OK);
        TP_HEAP_REPLY r = misuse(TP_NAME_OK, TP_HEAP_CLIENT_BUFFER);
        CHECK(r.FreeClientBuffer == STATUS_SUCCESS); /* still there for the host to free */
        CHECK(malloc_sound(64));
        CHECK(refused(TP_NAME_OK) == before + 2);
}

/* A client process's call: the client buffer's address is the client's,
 * not mapped in the host; reading in front of it faulted. */
static void client_heap_misuse(void)
{
        HANDLE h = NULL;
        CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
        CHAR name[] = TP_NAME_OK;
        LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
        ULONG id = 0;
        CHECK(LsaLookupAuthenticationPackage(h, &s, &id) == STATUS_SUCCESS);
        TP_REQUEST m = { .MessageType = TpHeapMisuse, .Arg = TP_HEAP_CLIENT_BUFFER };
        PVOID buf = NULL;
        ULONG len = 0;
        NTSTATUS proto = 0;
        CHECK(LsaCallAuthenticationPackage(h, id, &m, sizeof(m), &buf, &len, &proto) == STATUS_SUCCESS);
        CHECK(proto == STATUS_SUCCESS && buf && len == sizeof(TP_HEAP_REPLY));
        TP_HEAP_REPLY r;
        memcpy(&r, buf, sizeof(r));
        CHECK(r.FreeClientBuffer == STATUS_SUCCESS);
        CHECK(LsaFreeReturnBuffer(buf) == STATUS_SUCCESS);
        CHECK(LsaDeregisterLogonProcess(h) == STATUS_SUCCESS);
}

static void child_client_buffer_from_client(void)
{
        uint64_t before = refused(TP_NAME_OK);
        unsigned since = g_nlog;
        pid_t client = tu_fork();
        CHECK(client >= 0);
        if (client == 0) {
                client_heap_misuse();
                _exit(0);
        }
        /* Serve the client until it is done. */
        int status = 0;
        int64_t end = tu_now_ms() + 60000;
        for (;;) {
                struct pollfd p = { .fd = host_fd(g_host), .events = POLLIN };
                if (poll(&p, 1, 20) > 0)
                        host_dispatch(g_host);
                pid_t w = waitpid(client, &status, WNOHANG);
                if (w == client)
                        break;
                if (tu_now_ms() > end) {
                        kill(client, SIGKILL);
                        CHECK(!"the client took more than a minute");
                }
        }
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(refused(TP_NAME_OK) == before + 2);
        CHECK(log_count(since, "package " TP_NAME_OK ": FreeLsaHeap: ", REFUSAL_LINE) == 1);
}

static void test_heap_free_client_buffer_refused(void **state)
{
        (void)state;
        in_child(child_client_buffer_in_process);
        in_child(child_client_buffer_from_client);
}

/* Before: the second free wiped glibc's double-free mark and put the block
 * on the free list twice, so the next two allocations were one block. */
static void child_double(void)
{
        uint64_t before = refused(TP_NAME_OK), live = live_blocks();
        TP_HEAP_REPLY r = misuse(TP_NAME_OK, TP_HEAP_DOUBLE);
        CHECK(r.Distinct);
        CHECK(malloc_sound(48));
        CHECK(refused(TP_NAME_OK) == before + 1);
        CHECK(live_blocks() == live);
}

static void test_heap_double_free_refused(void **state)
{
        (void)state;
        in_child(child_double);
}

static void child_null(void) { expect_refused(TP_HEAP_NULL, 0); }

static void test_heap_free_null_does_nothing(void **state)
{
        (void)state;
        in_child(child_null);
}

/* One heap under two names: FreePrivateHeap takes an LsaHeap block and
 * FreeLsaHeap a PrivateHeap one; the block is then gone for both. */
static void child_cross(void)
{
        uint64_t before = refused(TP_NAME_OK), live = live_blocks();
        misuse(TP_NAME_OK, TP_HEAP_CROSS);
        CHECK(refused(TP_NAME_OK) == before + 1); /* the LsaHeap block's second free */
        CHECK(live_blocks() == live);
}

static void test_heap_cross_free_accepted_once(void **state)
{
        (void)state;
        in_child(child_cross);
}

/* A package's own thread is in no call: the refusal counts in the total. */
static void child_thread(void)
{
        unsigned since = g_nlog;
        uint64_t before = refused(TP_NAME_OK), total = refused_total();
        TP_HEAP_REPLY r = misuse(TP_NAME_OK, TP_HEAP_THREAD);
        CHECK(r.Intact);
        CHECK(refused(TP_NAME_OK) == before);
        CHECK(refused_total() == total + 2);
        CHECK(log_count(since, "outside any package call", REFUSAL_LINE) == 1);
}

static void test_heap_free_from_package_thread_refused(void **state)
{
        (void)state;
        in_child(child_thread);
}

/* ================= the package's name, at unload ================= */

static void child_unload_onename(void)
{
        unsigned since = g_nlog;
        struct host_package *p = package(TP_NAME_ONENAME);
        PLSA_STRING name = p->ap_name;
        size_t len = 0;
        CHECK(name != NULL && host_heap_block(name, &len));
        CHECK((uintptr_t)name->Buffer == (uintptr_t)(name + 1) && len >= sizeof(*name) + 5);
        uint64_t live = live_blocks(), total = refused_total();
        host_package_unload(g_host, p);
        CHECK(!host_heap_block(name, NULL));
        CHECK(live_blocks() == live - 1);
        CHECK(refused_total() == total);
        CHECK(log_count(since, REFUSAL_LINE, NULL) == 0);
}

/* The usual two blocks, each freed. */
static void child_unload_twoblocks(void)
{
        struct host_package *p = package(TP_NAME_OK);
        PLSA_STRING name = p->ap_name;
        CHECK(name && host_heap_block(name, NULL) && host_heap_block(name->Buffer, NULL));
        uint64_t live = live_blocks(), total = refused_total();
        host_package_unload(g_host, p);
        CHECK(live_blocks() == live - 2);
        CHECK(refused_total() == total);
}

/* A static LSA_STRING: not read, not freed; refused once. */
static void child_unload_foreign_name(void)
{
        unsigned since = g_nlog;
        struct host_package *p = package(TP_NAME_FOREIGN_NAME);
        CHECK(p->ap_name && !host_heap_block(p->ap_name, NULL));
        uint64_t total = refused_total();
        host_package_unload(g_host, p);
        CHECK(refused_total() == total + 1);
        CHECK(log_count(since, "package " TP_NAME_FOREIGN_NAME ": unloading, its AuthenticationPackageName: ",
                        REFUSAL_LINE) == 1);
}

/* The whole shutdown, as lsashmd does it on SIGTERM: before, the one-block
 * name aborted it (FreeLsaHeap of its Buffer, an interior pointer). */
static void child_destroy(void)
{
        struct host_heap_stats st;
        host_heap_stats(&st);
        host_destroy(g_host);
        g_host = NULL;
        struct host_heap_stats after;
        host_heap_stats(&after);
        /* Each package's name went: two blocks each for ok and peer, one
         * for onename, none for foreign-name (refused, not read). */
        CHECK(after.live_blocks == st.live_blocks - 5);
        CHECK(after.refused_frees == st.refused_frees + 1);
}

static void test_heap_package_name_freed_at_unload(void **state)
{
        (void)state;
        in_child(child_destroy);
        in_child(child_unload_onename);
        in_child(child_unload_twoblocks);
        in_child(child_unload_foreign_name);
}

/* ================= lsashm status ================= */

static char *report(int json)
{
        int fd = -1;
        uint64_t len = 0;
        CHECK(host_report(g_host, json, &fd, &len) == 0);
        char *text = calloc(1, (size_t)len + 1);
        CHECK(text != NULL);
        CHECK(pread(fd, text, (size_t)len, 0) == (ssize_t)len);
        close(fd);
        return text;
}

static void child_report(void)
{
        misuse(TP_NAME_OK, TP_HEAP_INTERIOR);  /* 2 for the package */
        misuse(TP_NAME_OK, TP_HEAP_THREAD);    /* 2 for nobody */
        misuse(TP_NAME_PEER, TP_HEAP_DOUBLE);  /* 1 for the peer */
        char *json = report(1), *text = report(0);
        bool ok = strstr(json, "\"name\":\"" TP_NAME_OK "\"") &&
                  strstr(strstr(json, "\"name\":\"" TP_NAME_OK "\""), "\"heap_refused_frees\":2}") &&
                  strstr(strstr(json, "\"name\":\"" TP_NAME_PEER "\""), "\"heap_refused_frees\":1}") &&
                  strstr(json, "\"totals\":{") && strstr(strstr(json, "\"totals\":{"), "\"heap_refused_frees\":5}") &&
                  strstr(text, "BAD FREES") && strstr(text, "heap frees refused: 5\n");
        /* The package's row: ID NAME VERSION CALLS FAILED BAD-FREES PATH. */
        const char *row = strstr(text, TP_NAME_OK " ");
        unsigned long long calls = 0, failed = 0, bad = 99;
        ok = ok && row && sscanf(row, TP_NAME_OK " 0x%*x %llu %llu %llu", &calls, &failed, &bad) == 3 && bad == 2;
        if (!ok)
                fprintf(stderr, "reports:\n%s\n%s\n", json, text);
        CHECK(ok);
        free(json);
        free(text);
}

static void test_heap_refused_frees_in_status(void **state)
{
        (void)state;
        in_child(child_report);
}

/* ================= many threads at once ================= */

#define THREADS 4
#define ROUNDS 2000

static LSA_SECPKG_FUNCTION_TABLE t;

struct churner {
        unsigned seed;
        unsigned wrong_frees;
        bool ok;
};

/* Rightful and wrong frees from several threads: the record stays exact. */
static void *churn(void *arg)
{
        struct churner *c = arg;
        void *held[16] = { 0 };
        c->ok = true;
        for (unsigned i = 0; i < ROUNDS; i++) {
                unsigned k = (i * 7 + c->seed) % 16;
                if (held[k]) {
                        unsigned char *b = held[k];
                        if (b[0] != (unsigned char)(k + c->seed))
                                c->ok = false; /* someone else's block */
                        t.FreeLsaHeap(b + 8);
                        c->wrong_frees++;
                        (i & 1 ? t.FreeLsaHeap : t.FreePrivateHeap)(b);
                        held[k] = NULL;
                } else {
                        unsigned char *b = i & 2 ? t.AllocateLsaHeap(24 + k) : t.AllocatePrivateHeap(24 + k);
                        if (!b) {
                                c->ok = false;
                                break;
                        }
                        memset(b, (int)(k + c->seed), 24 + k);
                        held[k] = b;
                }
        }
        for (unsigned k = 0; k < 16; k++)
                t.FreeLsaHeap(held[k]);
        return NULL;
}

static void test_heap_threads(void **state)
{
        (void)state;
        host_table_fill(&t);
        struct host_heap_stats before, after;
        host_heap_stats(&before);
        pthread_t th[THREADS];
        struct churner c[THREADS];
        for (unsigned i = 0; i < THREADS; i++) {
                c[i] = (struct churner){ .seed = i * 40 };
                assert_int_equal(pthread_create(&th[i], NULL, churn, &c[i]), 0);
        }
        uint64_t wrong = 0;
        for (unsigned i = 0; i < THREADS; i++) {
                assert_int_equal(pthread_join(th[i], NULL), 0);
                assert_true(c[i].ok);
                wrong += c[i].wrong_frees;
        }
        host_heap_stats(&after);
        assert_int_equal(after.live_blocks, before.live_blocks);
        assert_int_equal(after.live_bytes, before.live_bytes);
        assert_int_equal(after.refused_frees - before.refused_frees, wrong);
}

/* ================= blocks the host hands over ================= */

/* A block the host allocated itself becomes LSA heap once adopted (a
 * package-to-package call's return buffer, when the caller owns it): one
 * free, then refused like any other. */
static void test_heap_adopted_block_freed_once(void **state)
{
        (void)state;
        host_table_fill(&t);
        struct host_heap_stats before, after;
        host_heap_stats(&before);
        unsigned char *p = calloc(1, 40);
        assert_non_null(p);
        assert_false(host_heap_block(p, NULL));
        assert_int_equal(host_heap_adopt(p, 40), 0);
        assert_int_equal(host_heap_adopt(p, 40), -EEXIST);
        assert_int_equal(host_heap_adopt(NULL, 40), -EINVAL);
        size_t len = 0;
        assert_true(host_heap_block(p, &len));
        assert_int_equal(len, 40);
        t.FreePrivateHeap(p);
        assert_false(host_heap_block(p, NULL));
        host_heap_stats(&after);
        assert_int_equal(after.live_blocks, before.live_blocks);
        assert_int_equal(after.refused_frees, before.refused_frees);
        t.FreeLsaHeap(p);
        host_heap_stats(&after);
        assert_int_equal(after.refused_frees, before.refused_frees + 1);
}

/* ================= the group ================= */

static int group_setup(void **state)
{
        (void)state;
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-test-heap-XXXXXX");
        if (!mkdtemp(g_dir))
                return -1;
        chmod(g_dir, 0755);
        snprintf(g_sock, sizeof(g_sock), "%s/lsashm.sock", g_dir);
        setenv("LSASHM_SOCKET", g_sock, 1);
        struct host_config cfg = {
                .socket_path = g_sock,
                .listen_fd = -1,
                .socket_mode = 0666,
                .logon_gid = (gid_t)-1,
                .admin_gid = (gid_t)-1,
                .log = log_capture,
        };
        if (host_create(&cfg, &g_host) < 0)
                return -1;
        static const char *const files[] = { "test-pkg-ok.so", "test-pkg-peer.so", "test-pkg-onename.so",
                                             "test-pkg-foreign-name.so" };
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                char path[512];
                snprintf(path, sizeof(path), "%s/%s", TEST_PACKAGE_DIR, files[i]);
                if (host_load_package(g_host, path) < 0) {
                        fprintf(stderr, "%s did not load\n", files[i]);
                        return -1;
                }
        }
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        if (g_host)
                host_destroy(g_host);
        g_host = NULL;
        unlink(g_sock);
        rmdir(g_dir);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_heap_free_interior_pointer_refused),
                cmocka_unit_test(test_heap_free_stack_and_static_refused),
                cmocka_unit_test(test_heap_free_client_buffer_refused),
                cmocka_unit_test(test_heap_double_free_refused),
                cmocka_unit_test(test_heap_free_return_buffer_refused),
                cmocka_unit_test(test_heap_free_null_does_nothing),
                cmocka_unit_test(test_heap_cross_free_accepted_once),
                cmocka_unit_test(test_heap_free_from_package_thread_refused),
                cmocka_unit_test(test_heap_package_name_freed_at_unload),
                cmocka_unit_test(test_heap_refused_frees_in_status),
                cmocka_unit_test(test_heap_threads),
                cmocka_unit_test(test_heap_adopted_block_freed_once),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
