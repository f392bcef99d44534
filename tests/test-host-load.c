/* SPDX-License-Identifier: MIT */
/*
 * The package host, in this process, with real client processes (the
 * fixture: tests/host-fixture.h).
 *
 * Package loading and load failures, lookups, trusted and untrusted
 * routing, who may be a logon process, a library offered twice, and the
 * host's end: everything the packages held goes with it.
 */

#include "host-fixture.h"

/* ================= loading ================= */

static void test_host_load_package_variants(void **state)
{
        (void)state;
        for (size_t i = 0; i < NVARIANTS; i++) {
                if (variants[i].loads && variants[i].result != 0)
                        fail_msg("%s: host_load_package returned %d, expected 0", variants[i].file,
                                 variants[i].result);
                if (!variants[i].loads && variants[i].result >= 0)
                        fail_msg("%s: host_load_package returned %d, expected a refusal", variants[i].file,
                                 variants[i].result);
                /* Each refusal is logged once, with the library's path. */
                if (!variants[i].loads) {
                        unsigned n = log_count_since(0, variants[i].file, "not loaded");
                        if (n != 1) {
                                log_dump_since(0);
                                fail_msg("%s: %u log lines say it was not loaded, expected 1", variants[i].file, n);
                        }
                }
        }
        assert_int_equal(host_package_count(g_host), 4);

        /* The package that failed SpInitialize had made a section: the host
         * deleted it. */
        FILE *f = fopen(g_log_path, "re");
        assert_non_null(f);
        char line[256];
        void *base = NULL;
        unsigned dup_shutdowns = 0;
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "initfail-section TestInitFails %p", &base) == 1)
                        continue;
                /* dupname initialised fully before its name was found taken:
                 * the host let it shut down. */
                if (strcmp(line, "shutdown TestPkg\n") == 0)
                        dup_shutdowns++;
        }
        fclose(f);
        assert_non_null(base);
        struct lsashm_section_stats st;
        assert_true(lsashm_shared_memory_stats(base, &st) < 0);
        assert_int_equal(dup_shutdowns, 1);

        /* One host per process: the table has no context argument. */
        struct host_config cfg = { .socket_path = "/nonexistent/x", .listen_fd = -1 };
        struct host *second = NULL;
        assert_int_equal(host_create(&cfg, &second), -EBUSY);
        assert_null(second);
}

static void child_info(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG ids[2] = { c_lookup(h, TP_NAME_OK), c_lookup(h, TP_NAME_PEER) };
        CHECK(ids[0] != ids[1]);
        ULONGLONG section_ids[4];
        for (int i = 0; i < 2; i++) {
                struct res r = c_msg(h, ids[i], TpInfo, 0, 0, 0, 0);
                TP_INFO_REPLY info;
                memcpy(&info, c_expect_buffer(r, sizeof(info)), sizeof(info));
                CHECK_EQ(info.MessageType, TpInfo);
                CHECK_EQ(info.LsaModeInitCalls, 1);
                CHECK_EQ(info.InitializePackageCalls, 1);
                CHECK_EQ(info.SpInitializeCalls, 1);
                CHECK(info.GetInfoCalls >= 1);
                CHECK_EQ(info.LsaVersion, SECPKG_INTERFACE_VERSION);
                CHECK_EQ(info.PackageId, ids[i]);
                CHECK_EQ(info.InitPackageId, ids[i]);
                CHECK(info.ParametersNonNull);
                CHECK(info.TableNonNull);
                CHECK(info.InitPackageTableIsFull);
                CHECK(info.DomainNameOk);
                CHECK_EQ(info.NullMembers, 0);
                CHECK_EQ(info.FirstNullMember, 0);
                CHECK(info.SharedId != 0 && info.PrivateId != 0);
                section_ids[2 * i] = info.SharedId;
                section_ids[2 * i + 1] = info.PrivateId;
                c_free(r.buf);
        }
        for (int i = 0; i < 4; i++)
                for (int j = i + 1; j < 4; j++)
                        CHECK(section_ids[i] != section_ids[j]);
}

static void test_host_packages_initialized_once(void **state)
{
        (void)state;
        expect_client_ok(child_info, NULL);
}

/* A package built for interface version 1 hands a 27-member table that ends
 * at an unreadable page: the host copies only what exists. */
static void child_v1(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE hs[2] = { c_logon(), c_untrusted() };
        for (int i = 0; i < 2; i++) {
                ULONG id = c_lookup(hs[i], TP_NAME_V1);
                struct res r = c_msg(hs[i], id, TpClientInfo, 0, 0, 0, 0);
                TP_CLIENT_INFO_REPLY ci;
                memcpy(&ci, c_expect_buffer(r, sizeof(ci)), sizeof(ci));
                CHECK_EQ(ci.Entry, i == 0 ? TP_ENTRY_CALL : TP_ENTRY_UNTRUSTED);
                c_free(r.buf);
        }
}

static void test_host_v1_package_table_not_overread(void **state)
{
        (void)state;
        expect_client_ok(child_v1, NULL);
}

/* ================= lookups and routing ================= */

static void child_lookup(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK), other;
        /* Without regard to case, as on Windows. */
        CHECK_EQ(c_lookup(h, "testpkg"), id);
        CHECK_EQ(c_lookup(h, "TESTPKG"), id);
        CHECK_ST(c_lookup_status(h, "NoSuchPackage", 13, &other), STATUS_NO_SUCH_PACKAGE);
        /* Refused or failed packages are not there. */
        CHECK_ST(c_lookup_status(h, "TestInitFails", 13, &other), STATUS_NO_SUCH_PACKAGE);
        CHECK_ST(c_lookup_status(h, "TestNeverLoads", 14, &other), STATUS_NO_SUCH_PACKAGE);
        /* 127 bytes reach the host; 128 do not. */
        char name[129];
        memset(name, 'n', sizeof(name));
        CHECK_ST(c_lookup_status(h, name, 127, &other), STATUS_NO_SUCH_PACKAGE);
        CHECK_ST(c_lookup_status(h, name, 128, &other), STATUS_NAME_TOO_LONG);
        /* A package id nobody has: both levels say so. */
        struct res r = c_msg(h, 9999, TpEcho, 0, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_NO_SUCH_PACKAGE, STATUS_NO_SUCH_PACKAGE);
        /* The connection is still good. */
        r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
        c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
}

static void test_host_lookup_names(void **state)
{
        (void)state;
        expect_client_ok(child_lookup, NULL);
}

static TP_CLIENT_INFO_REPLY c_client_info(HANDLE h, ULONG id)
{
        TP_CLIENT_INFO_REPLY ci;
        struct res r = c_msg(h, id, TpClientInfo, 0, 0, 0, 0);
        memcpy(&ci, c_expect_buffer(r, sizeof(ci)), sizeof(ci));
        c_free(r.buf);
        CHECK_EQ(ci.MessageType, TpClientInfo);
        CHECK_ST(ci.ClientInfoStatus, STATUS_SUCCESS);
        return ci;
}

/* A client's LogonId: SYSTEM_LUID for root, else its uid's LUID from the
 * allocator, which starts above the well-known ones (src/host/luid.c). */
static bool logon_id_low_is_ours(ULONG low)
{
        return getuid() == 0 ? low == 0x3e7 : low >= 0x10000;
}

static void child_routing(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE u = c_untrusted(), t = c_logon();
        ULONG id = c_lookup(u, TP_NAME_OK);

        TP_CLIENT_INFO_REPLY ci = c_client_info(u, id);
        CHECK_EQ(ci.Entry, TP_ENTRY_UNTRUSTED);
        CHECK(!ci.HasTcbPrivilege);
        CHECK(ci.Restricted);
        CHECK_EQ(ci.ProcessID, getpid());
        CHECK_EQ(ci.ThreadID, gettid());
        CHECK(logon_id_low_is_ours(ci.LogonIdLow));
        CHECK(ci.CallInfoOk);
        CHECK_EQ(ci.CallProcessId, getpid());
        CHECK_EQ(ci.CallAttributes & SECPKG_CALL_IS_TCB, 0);
        CHECK(ci.CallCount >= 1);

        ci = c_client_info(t, id);
        CHECK_EQ(ci.Entry, TP_ENTRY_CALL);
        CHECK(ci.HasTcbPrivilege);
        CHECK(!ci.Restricted);
        CHECK_EQ(ci.ProcessID, getpid());
        CHECK(ci.CallInfoOk);
        CHECK(ci.CallAttributes & SECPKG_CALL_IS_TCB);

        /* A package without CallPackageUntrusted: untrusted callers are
         * refused at both levels, trusted ones served. */
        ULONG nu = c_lookup(u, TP_NAME_NO_UNTRUSTED);
        struct res r = c_msg(u, nu, TpEcho, 0, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_NOT_SUPPORTED, STATUS_NOT_SUPPORTED);
        ci = c_client_info(t, nu);
        CHECK_EQ(ci.Entry, TP_ENTRY_CALL);
        /* The refusal left the untrusted connection usable. */
        ci = c_client_info(u, id);
        CHECK_EQ(ci.Entry, TP_ENTRY_UNTRUSTED);
        CHECK_ST(LsaDeregisterLogonProcess(u), STATUS_SUCCESS);
        CHECK_ST(LsaDeregisterLogonProcess(t), STATUS_SUCCESS);
        CHECK_ST(LsaDeregisterLogonProcess(t), STATUS_INVALID_HANDLE);
}

static void test_host_trusted_and_untrusted_routing(void **state)
{
        (void)state;
        expect_client_ok(child_routing, NULL);
}

/* arg: NULL, or a struct logon_expect. */
struct logon_expect {
        NTSTATUS logon;
};

static void child_logon_as(void *arg, int index)
{
        (void)index;
        const struct logon_expect *e = arg;
        HANDLE h;
        CHECK_ST(c_logon_status(&h), e->logon);
        if (e->logon == STATUS_SUCCESS) {
                TP_CLIENT_INFO_REPLY ci = c_client_info(h, c_lookup(h, TP_NAME_OK));
                CHECK_EQ(ci.Entry, TP_ENTRY_CALL);
                CHECK(ci.HasTcbPrivilege);
                CHECK(logon_id_low_is_ours(ci.LogonIdLow));
        } else {
                CHECK(h == NULL);
        }
        /* Anyone may connect untrusted. */
        HANDLE u = c_untrusted();
        TP_CLIENT_INFO_REPLY ci = c_client_info(u, c_lookup(u, TP_NAME_OK));
        CHECK_EQ(ci.Entry, TP_ENTRY_UNTRUSTED);
        CHECK(logon_id_low_is_ours(ci.LogonIdLow));
        /* One LogonId per uid, whatever the connection. */
        HANDLE u2 = c_untrusted();
        TP_CLIENT_INFO_REPLY ci2 = c_client_info(u2, c_lookup(u2, TP_NAME_OK));
        CHECK_EQ(ci2.LogonIdLow, ci.LogonIdLow);
}

static void test_host_logon_process_refused_for_nobody(void **state)
{
        (void)state;
        struct logon_expect refused = { STATUS_PORT_CONNECTION_REFUSED };
        unsigned since = g_nlog;
        expect_clients_ok(child_logon_as, &refused, 1, &nobody);
        assert_int_equal(log_count_since(since, "refused logon process", NULL), 1);
        /* With a logon group that nobody is not in: still refused. */
        g_host->cfg.logon_gid = LOGON_GID;
        struct tu_creds other_group = { .uid = NOBODY, .gid = NOBODY, .ngroups = 1, .groups = { LOGON_GID + 7 } };
        expect_clients_ok(child_logon_as, &refused, 1, &other_group);
}

static void test_host_logon_group_allowed(void **state)
{
        (void)state;
        struct logon_expect ok = { STATUS_SUCCESS };
        g_host->cfg.logon_gid = LOGON_GID;
        /* A supplementary group... */
        struct tu_creds supplementary = { .uid = NOBODY, .gid = NOBODY, .ngroups = 1, .groups = { LOGON_GID } };
        expect_clients_ok(child_logon_as, &ok, 1, &supplementary);
        /* ...or the primary one. */
        struct tu_creds primary = { .uid = NOBODY, .gid = LOGON_GID };
        expect_clients_ok(child_logon_as, &ok, 1, &primary);
}

/* ================= the same library offered twice ================= */

static void child_still_initialized_once(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG id = c_lookup(h, TP_NAME_OK);
        struct res r = c_msg(h, id, TpInfo, 0, 0, 0, 0);
        TP_INFO_REPLY info;
        memcpy(&info, c_expect_buffer(r, sizeof(info)), sizeof(info));
        c_free(r.buf);
        if (info.SpInitializeCalls != 1)
                fprintf(stderr, "child: the live package saw SpLsaModeInitialize %u times, InitializePackage %u, "
                                "SpInitialize %u; its shared section id is now %llx\n",
                        (unsigned)info.LsaModeInitCalls, (unsigned)info.InitializePackageCalls,
                        (unsigned)info.SpInitializeCalls, (unsigned long long)info.SharedId);
        CHECK_EQ(info.LsaModeInitCalls, 1);
        CHECK_EQ(info.InitializePackageCalls, 1);
        CHECK_EQ(info.SpInitializeCalls, 1);
        /* Its sections are the ones it made, alive and intact. */
        TP_SECTION_REPLY sr = c_section(h, id, TpShareSection);
        PVOID view;
        ULONG size;
        CHECK_ST(LsashmMapSection(h, sr.SectionId, &view, &size), STATUS_SUCCESS);
        check_pattern(view, size, &sr);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
}

/*
 * host_load_package() of a library already loaded (one package listed
 * twice) is refused before any call into the library. Found as a bug: the
 * second load ran SpLsaModeInitialize, InitializePackage and SpInitialize on
 * the live package again, then Shutdown when the name turned out to be
 * taken, and deleted the sections the second SpInitialize had made, which
 * the live package then held. Run last but one: if it comes back, the live
 * package is left broken.
 */
static void test_host_same_library_twice_refused(void **state)
{
        (void)state;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", TEST_PACKAGE_DIR, "test-pkg-ok.so");
        unlink(g_log_path);
        unsigned before = host_package_count(g_host);
        assert_true(host_load_package(g_host, path) < 0);
        assert_int_equal(host_package_count(g_host), before);
        bool shut_down = log_has_line("shutdown " TP_NAME_OK "\n");
        expect_client_ok(child_still_initialized_once, NULL);
        assert_false(shut_down);
}

/*
 * A truncated package file (a copy cut short, a full disk) is refused with
 * a reason before dlopen, which would map its segments past the end of the
 * file and die of SIGBUS reading them; the host goes on serving.
 */
static void test_host_truncated_package_refused(void **state)
{
        (void)state;
        char src[512], dst[512];
        snprintf(src, sizeof(src), "%s/%s", TEST_PACKAGE_DIR, "test-pkg-ok.so");
        FILE *in = fopen(src, "rbe");
        assert_non_null(in);
        static unsigned char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof(buf), in);
        fclose(in);
        assert_true(n > 8192);
        unsigned before = host_package_count(g_host);
        const size_t cuts[] = { 0, 16, 64, 1000, 4096, n / 2, n - 1 };
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
                snprintf(dst, sizeof(dst), "%s/trunc-%zu.so", g_dir, cuts[i]);
                FILE *out = fopen(dst, "wbe");
                assert_non_null(out);
                assert_int_equal(fwrite(buf, 1, cuts[i], out), cuts[i]);
                fclose(out);
                unsigned since = g_nlog;
                if (host_load_package(g_host, dst) >= 0)
                        fail_msg("a package cut to %zu of %zu bytes was loaded", cuts[i], n);
                if (log_count_since(since, dst, "not loaded") != 1) {
                        log_dump_since(since);
                        fail_msg("no log line for the package cut to %zu bytes", cuts[i]);
                }
                unlink(dst);
        }
        assert_int_equal(host_package_count(g_host), before);
        char why[96];
        assert_int_equal(host_package_file_check(src, why, sizeof(why)), 0);
        assert_true(host_package_file_check(g_dir, why, sizeof(why)) < 0); /* a directory */
}

/* ================= the end: everything goes with the host ================= */

static void test_host_destroy_releases_everything(void **state)
{
        (void)state;
        /* Sections of every package, and one made during a call and mapped
         * by nobody now, are recorded by their host addresses. */
        struct host *h = g_host;
        void *bases[HOST_MAX_SECTIONS];
        unsigned n = 0;
        pthread_mutex_lock(&h->sections_lock);
        for (struct host_section *s = h->sections; s && n < HOST_MAX_SECTIONS; s = s->next)
                bases[n++] = s->base;
        pthread_mutex_unlock(&h->sections_lock);
        assert_true(n >= 8); /* two per package, and those tests left behind */
        struct lsashm_section_stats st;
        for (unsigned i = 0; i < n; i++)
                assert_int_equal(lsashm_shared_memory_stats(bases[i], &st), 0);
        unlink(g_log_path);

        host_destroy(g_host);
        g_host = NULL;
        for (unsigned i = 0; i < n; i++)
                if (lsashm_shared_memory_stats(bases[i], &st) >= 0)
                        fail_msg("section %u of %u (%p) outlived the host", i, n, bases[i]);
        /* Every package was shut down, once. */
        const char *lines[] = { "shutdown " TP_NAME_OK "\n", "shutdown " TP_NAME_PEER "\n",
                                "shutdown " TP_NAME_NO_UNTRUSTED "\n", "shutdown " TP_NAME_V1 "\n" };
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
                if (!log_has_line(lines[i]))
                        fail_msg("no \"%.*s\" from the packages", (int)strlen(lines[i]) - 1, lines[i]);
        /* The socket is gone, and every descriptor the host had. */
        struct stat sb;
        assert_int_equal(lstat(g_sock, &sb), -1);
        assert_int_equal(tu_count_fds(), g_fds_before_host);
        /* A new host may be made once the old one is gone. */
        struct host_config cfg = { .socket_path = g_sock, .listen_fd = -1, .log = log_capture };
        assert_int_equal(host_create(&cfg, &g_host), 0);
        host_destroy(g_host);
        g_host = NULL;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_host_load_package_variants, setup),
                cmocka_unit_test_setup(test_host_packages_initialized_once, setup),
                cmocka_unit_test_setup(test_host_v1_package_table_not_overread, setup),
                cmocka_unit_test_setup(test_host_lookup_names, setup),
                cmocka_unit_test_setup(test_host_trusted_and_untrusted_routing, setup),
                cmocka_unit_test_setup(test_host_logon_process_refused_for_nobody, setup),
                cmocka_unit_test_setup(test_host_logon_group_allowed, setup),
                cmocka_unit_test_setup(test_host_truncated_package_refused, setup),
                cmocka_unit_test_setup(test_host_same_library_twice_refused, setup),
                cmocka_unit_test_setup(test_host_destroy_releases_everything, setup),
        };
        if (!host_fixture_root("test-host-load"))
                return 77;
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
