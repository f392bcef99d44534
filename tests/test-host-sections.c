/* SPDX-License-Identifier: MIT */
/*
 * The package host, in this process, with real client processes (the
 * fixture: tests/host-fixture.h).
 *
 * Sections by id: who maps them (creator, shared, private, unknown),
 * deletion, stale ids and the mapping limit.
 */

#include "host-fixture.h"

/* ================= sections ================= */

static void child_section_creator(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE a = c_untrusted(), b = c_untrusted();
        ULONG id = c_lookup(a, TP_NAME_OK);
        TP_SECTION_REPLY s = c_section(a, id, TpMakeSection);
        ask(Q_PUT, s.SectionId);

        PVOID view = NULL;
        ULONG size = 0;
        CHECK_ST(LsashmMapSection(a, s.SectionId, &view, &size), STATUS_SUCCESS);
        CHECK(view != NULL && size >= TP_SECTION_SIZE);
        char perms[5];
        CHECK(tu_maps_perms(view, perms));
        CHECK(perms[0] == 'r' && perms[1] == 'w' && perms[3] == 's');
        check_pattern(view, size, &s);
        CHECK_EQ(ask_until(Q_MAPPINGS, s.SectionId, 1), 1);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 1), 1);
        /* The creator's write reaches the package. */
        memcpy((PUCHAR)view + 1000, "written by the client", 21);
        struct res r = c_msg(a, id, TpReadSection, 1000, 21, 0, s.SectionId);
        c_expect_buffer(r, 21);
        CHECK(memcmp(r.buf, "written by the client", 21) == 0);
        c_free(r.buf);
        /* Another connection of the same process is another client. */
        PVOID v2 = (PVOID)(uintptr_t)1;
        ULONG size2 = 7;
        CHECK_ST(LsashmMapSection(b, s.SectionId, &v2, &size2), STATUS_ACCESS_DENIED);
        CHECK(v2 == NULL && size2 == 0);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
        CHECK_ST(LsashmUnmapSection(view), STATUS_NOT_MAPPED_VIEW);
        CHECK_EQ(ask_until(Q_MAPPINGS, s.SectionId, 0), 0);
        /* Mapped twice: one view each, the host counts both. */
        PVOID v3, v4;
        CHECK_ST(LsashmMapSection(a, s.SectionId, &v3, &size), STATUS_SUCCESS);
        CHECK_ST(LsashmMapSection(a, s.SectionId, &v4, &size), STATUS_SUCCESS);
        CHECK(v3 != v4);
        CHECK_EQ(ask_until(Q_MAPPINGS, s.SectionId, 2), 2);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 1), 1);
        /* A client's mappings end with its connection. */
        CHECK_ST(LsaDeregisterLogonProcess(a), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_MAPPINGS, s.SectionId, 0), 0);
        /* The views stay readable, and remain the client's to unmap. */
        check_pattern(v3, size, &s);
        CHECK_ST(LsashmUnmapSection(v3), STATUS_SUCCESS);
        CHECK_ST(LsashmUnmapSection(v4), STATUS_SUCCESS);
}

static void child_section_stranger(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONGLONG sid = ask(Q_GET, 0);
        CHECK(sid != 0);
        PVOID view;
        ULONG size;
        CHECK_ST(LsashmMapSection(h, sid, &view, &size), STATUS_ACCESS_DENIED);
        HANDLE t = c_logon();
        CHECK_ST(LsashmMapSection(t, sid, &view, &size), STATUS_ACCESS_DENIED);
}

static void test_host_section_creator_maps_read_write(void **state)
{
        (void)state;
        g_mailbox = 0;
        expect_client_ok(child_section_creator, NULL);
        /* The creator's connections are gone; no other connection, trusted
         * or not, gets the section. */
        expect_client_ok(child_section_stranger, NULL);
}

static void child_section_shared(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        TP_SECTION_REPLY s = c_section(h, id, TpShareSection);
        CHECK_ST(s.ShareStatus, STATUS_SUCCESS);
        PVOID view;
        ULONG size;
        CHECK_ST(LsashmMapSection(h, s.SectionId, &view, &size), STATUS_SUCCESS);
        check_pattern(view, size, &s);
        char perms[5];
        CHECK(tu_maps_perms(view, perms));
        CHECK(perms[0] == 'r' && perms[1] == '-' && perms[3] == 's');
        /* Read-only for good: no write, no mprotect to writable. */
        CHECK(write_faults((volatile UCHAR *)view + s.PatternOffset));
        CHECK(mprotect(view, size, PROT_READ | PROT_WRITE) < 0);
        check_pattern(view, size, &s);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
}

static void test_host_section_shared_read_only(void **state)
{
        (void)state;
        expect_client_ok(child_section_shared, NULL);
        expect_clients_ok(child_section_shared, NULL, 1, &nobody);
}

static void child_section_private(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE u = c_untrusted(), t = c_logon();
        ULONG id = c_lookup(u, TP_NAME_OK);
        TP_SECTION_REPLY s = c_section(u, id, TpPrivateSection);
        PVOID view = NULL;
        ULONG size = 0;
        /* Made outside any client's call, not shared: nobody's. */
        CHECK_ST(LsashmMapSection(u, s.SectionId, &view, &size), STATUS_ACCESS_DENIED);
        CHECK_ST(LsashmMapSection(t, s.SectionId, &view, &size), STATUS_ACCESS_DENIED);
        /* Ids nobody was given. */
        CHECK_ST(LsashmMapSection(u, s.SectionId ^ 0x5A5A5A5A5A5A5A5Aull, &view, &size), STATUS_NOT_FOUND);
        CHECK_ST(LsashmMapSection(u, 0x123456789ull, &view, &size), STATUS_NOT_FOUND);
        CHECK_ST(LsashmMapSection(u, 0, &view, &size), STATUS_INVALID_PARAMETER);
        CHECK_ST(LsashmMapSection((HANDLE)&view, s.SectionId, &view, &size), STATUS_INVALID_HANDLE);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 0), 0);

        /* LsashmShareSection from a package: its own sections only. */
        ULONG peer = c_lookup(u, TP_NAME_PEER);
        struct res r = c_msg(t, peer, TpInfo, 0, 0, 0, 0);
        TP_INFO_REPLY pi;
        memcpy(&pi, c_expect_buffer(r, sizeof(pi)), sizeof(pi));
        c_free(r.buf);
        r = c_msg(u, id, TpShareBase, LSASHM_SHARE_READ, 0, 0, pi.PrivateHostBase);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_DENIED);
        CHECK_ST(LsashmMapSection(u, pi.PrivateId, &view, &size), STATUS_ACCESS_DENIED);
        r = c_msg(u, id, TpShareBase, 3, 0, 0, pi.PrivateHostBase);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_INVALID_PARAMETER);
        r = c_msg(u, id, TpShareBase, LSASHM_SHARE_READ, 0, 0, 0x10000);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_NOT_FOUND);
        r = c_msg(u, id, TpShareBase, LSASHM_SHARE_READ, 0, 0, pi.PrivateHostBase + 16);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_NOT_FOUND);
}

static void test_host_section_private_and_unknown(void **state)
{
        (void)state;
        expect_client_ok(child_section_private, NULL);
}

static void child_section_delete(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        uint64_t sections = ask(Q_SECTIONS, 0);
        TP_SECTION_REPLY s = c_section(h, id, TpMakeSection);
        CHECK_EQ(ask(Q_SECTIONS, 0), sections + 1);
        PVOID view;
        ULONG size;
        CHECK_ST(LsashmMapSection(h, s.SectionId, &view, &size), STATUS_SUCCESS);
        memset((PUCHAR)view + 2000, 0xEE, 64);
        struct res r = c_msg(h, id, TpDeleteSection, 0, 0, 0, s.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        CHECK_EQ(ask(Q_SECTIONS, 0), sections);
        /* The view outlives the section, wiped. */
        CHECK(tu_all_zero(view, size));
        PVOID v2;
        CHECK_ST(LsashmMapSection(h, s.SectionId, &v2, &size), STATUS_NOT_FOUND);
        r = c_msg(h, id, TpReadSection, 0, 16, 0, s.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_NOT_FOUND);
        r = c_msg(h, id, TpDeleteSection, 0, 0, 0, s.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_NOT_FOUND);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 0), 0);
        /* A new section never gets the old id. */
        TP_SECTION_REPLY s2 = c_section(h, id, TpMakeSection);
        CHECK(s2.SectionId != s.SectionId);
        r = c_msg(h, id, TpDeleteSection, 0, 0, 0, s2.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
}

static void test_host_section_delete(void **state)
{
        (void)state;
        expect_client_ok(child_section_delete, NULL);
}

/* A package that deletes a section behind the host's back (the exported
 * LsaDeleteSharedMemory, not the table's member) leaves the host a stale
 * record. The next section often gets the same base: the old id must not
 * lead there, nor must its creator's right to write. */
static void child_section_stale_id(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE a = c_untrusted(), b = c_untrusted();
        ULONG id = c_lookup(a, TP_NAME_OK);
        TP_SECTION_REPLY s1 = c_section(a, id, TpMakeSection);
        struct res r = c_msg(a, id, TpDeleteSection, 0, 0, TP_FLAG_DIRECT, s1.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        TP_SECTION_REPLY s2 = c_section(b, id, TpMakeSection);
        CHECK(s2.SectionId != s1.SectionId);
        PVOID view = NULL;
        ULONG size = 0;
        CHECK_ST(LsashmMapSection(a, s1.SectionId, &view, &size), STATUS_NOT_FOUND);
        CHECK_ST(LsashmMapSection(a, s2.SectionId, &view, &size), STATUS_ACCESS_DENIED);
        CHECK_ST(LsashmMapSection(b, s1.SectionId, &view, &size), STATUS_NOT_FOUND);
        CHECK_ST(LsashmMapSection(b, s2.SectionId, &view, &size), STATUS_SUCCESS);
        check_pattern(view, size, &s2);
        CHECK_ST(LsashmUnmapSection(view), STATUS_SUCCESS);
        r = c_msg(b, id, TpDeleteSection, 0, 0, 0, s2.SectionId);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
}

static void test_host_section_stale_id_refused(void **state)
{
        (void)state;
        expect_client_ok(child_section_stale_id, NULL);
}

static void child_section_map_limit(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        ULONGLONG ids[HOST_MAX_MAPPINGS + 1];
        PVOID views[HOST_MAX_MAPPINGS + 1];
        ULONG size;
        for (unsigned i = 0; i <= HOST_MAX_MAPPINGS; i++)
                ids[i] = c_section(h, id, TpMakeSection).SectionId;
        for (unsigned i = 0; i < HOST_MAX_MAPPINGS; i++)
                CHECK_ST(LsashmMapSection(h, ids[i], &views[i], &size), STATUS_SUCCESS);
        CHECK_ST(LsashmMapSection(h, ids[HOST_MAX_MAPPINGS], &views[HOST_MAX_MAPPINGS], &size),
                 STATUS_INSUFFICIENT_RESOURCES);
        /* Another view of a section already mapped is no new section. */
        PVOID again;
        CHECK_ST(LsashmMapSection(h, ids[0], &again, &size), STATUS_SUCCESS);
        CHECK_ST(LsashmUnmapSection(again), STATUS_SUCCESS);
        /* One unmapped makes room. */
        CHECK_ST(LsashmUnmapSection(views[0]), STATUS_SUCCESS);
        CHECK_ST(LsashmMapSection(h, ids[HOST_MAX_MAPPINGS], &views[0], &size), STATUS_SUCCESS);
        for (unsigned i = 0; i < HOST_MAX_MAPPINGS; i++)
                CHECK_ST(LsashmUnmapSection(views[i]), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_CONN_MAPS, (uint64_t)getpid(), 0), 0);
        for (unsigned i = 0; i <= HOST_MAX_MAPPINGS; i++) {
                struct res r = c_msg(h, id, TpDeleteSection, 0, 0, 0, ids[i]);
                c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        }
}

static void test_host_section_map_limit(void **state)
{
        (void)state;
        expect_client_ok(child_section_map_limit, NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_host_section_creator_maps_read_write, setup),
                cmocka_unit_test_setup(test_host_section_shared_read_only, setup),
                cmocka_unit_test_setup(test_host_section_private_and_unknown, setup),
                cmocka_unit_test_setup(test_host_section_delete, setup),
                cmocka_unit_test_setup(test_host_section_stale_id_refused, setup),
                cmocka_unit_test_setup(test_host_section_map_limit, setup),
        };
        if (!host_fixture_root("test-host-sections"))
                return 77;
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
