/* SPDX-License-Identifier: MIT */
/*
 * The package host, in this process, with real client processes (the
 * fixture: tests/host-fixture.h).
 *
 * Calls: two-level statuses, client buffers (embedded pointers, release,
 * garbage returned by a package), copies to and from clients, package-to-
 * package calls, the rest of the function table and stale requests.
 */

#include "host-fixture.h"

/* ================= calls, statuses, client buffers ================= */

static void child_two_level(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        pid_t me = getpid();

        /* Delivered and handled. */
        struct {
                TP_REQUEST m;
                UCHAR data[100];
        } echo;
        echo.m = tp_req(TpEcho, 1, 2, 3, 4);
        for (size_t i = 0; i < sizeof(echo.data); i++)
                echo.data[i] = (UCHAR)(i * 3);
        struct res r = c_call(h, id, &echo, sizeof(echo));
        c_expect_buffer(r, sizeof(echo));
        CHECK_EQ(r.len, sizeof(echo));
        CHECK(memcmp(r.buf, &echo, sizeof(echo)) == 0);
        c_free(r.buf);

        /* Delivered, refused by the package: the call succeeds. */
        r = c_msg(h, id, 0xBADu, 0, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_INVALID_PARAMETER);
        r = c_call(h, id, "ab", 2);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_INVALID_PARAMETER);
        r = c_call(h, id, NULL, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_INVALID_PARAMETER);

        /* The call itself fails, with a buffer allocated and returned: the
         * host frees it and hands none. */
        r = c_msg(h, id, TpFailureStatus, (ULONG)STATUS_LOGON_FAILURE, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_LOGON_FAILURE, STATUS_LOGON_FAILURE);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);

        /* Only the package's answer fails: the buffer comes along, as on
         * Windows, and is the client's to free. */
        r = c_msg(h, id, TpFailureStatus, (ULONG)STATUS_LOGON_FAILURE, 0, TP_FLAG_PROTOCOL_ONLY, 0);
        CHECK_ST(r.st, STATUS_SUCCESS);
        CHECK_ST(r.proto, STATUS_LOGON_FAILURE);
        CHECK(r.buf != NULL);
        CHECK_EQ(r.len, sizeof(TP_REQUEST));
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        c_free_now(h, r.buf);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);

        /* The largest submit buffer the packet carries, and one byte more
         * (in a sealed memfd: test-host-workers has the rest of it). */
        size_t big = LSA_WIRE_MAX_SUBMIT;
        UCHAR *b = malloc(big + 1);
        CHECK(b != NULL);
        for (size_t i = 0; i < big + 1; i++)
                b[i] = (UCHAR)(i ^ (i >> 8));
        TP_REQUEST m = tp_req(TpEcho, 0, 0, 0, 0);
        memcpy(b, &m, sizeof(m));
        r = c_call(h, id, b, (ULONG)big);
        c_expect_buffer(r, (ULONG)big);
        CHECK_EQ(r.len, big);
        CHECK(memcmp(r.buf, b, big) == 0);
        c_free(r.buf);
        r = c_call(h, id, b, (ULONG)big + 1);
        c_expect_buffer(r, (ULONG)big + 1);
        CHECK_EQ(r.len, big + 1);
        CHECK(memcmp(r.buf, b, big + 1) == 0);
        c_free(r.buf);
        free(b);
        /* Nothing above broke the connection. */
        r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
        c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
}

static void test_host_two_level_status(void **state)
{
        (void)state;
        uint64_t dropped = g_host->cs.dropped;
        expect_client_ok(child_two_level, NULL);
        assert_int_equal(g_host->cs.dropped, dropped);
}

static void child_embedded(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        pid_t me = getpid();

        struct res r = c_msg(h, id, TpEmbed, 0, 0, 0, 0);
        const UCHAR *buf = c_expect_buffer(r, sizeof(TP_EMBED_REPLY));
        const TP_EMBED_REPLY *e = (const TP_EMBED_REPLY *)(const void *)buf;
        const UCHAR *end = buf + r.len;
        CHECK_EQ(e->MessageType, TpEmbed);
        CHECK(e->Self == r.buf);
        CHECK_EQ(e->Text.Length, strlen(TP_EMBED_TEXT));
        CHECK((const UCHAR *)e->Text.Buffer >= buf && (const UCHAR *)e->Text.Buffer + e->Text.Length <= end);
        CHECK(memcmp(e->Text.Buffer, TP_EMBED_TEXT, e->Text.Length) == 0);
        CHECK_EQ(e->Count, 4);
        CHECK((const UCHAR *)e->Numbers >= buf && (const UCHAR *)(e->Numbers + 4) <= end);
        CHECK_EQ(e->Numbers[0], 1);
        CHECK_EQ(e->Numbers[3], 0xDEADBEEFu);
        /* The client's view of its buffers is read-only. */
        char perms[5];
        CHECK(tu_maps_perms(r.buf, perms));
        CHECK(perms[0] == 'r' && perms[1] == '-' && perms[3] == 's');
        CHECK(write_faults((volatile UCHAR *)r.buf));
        /* Interior pointers are not return buffers. */
        CHECK_ST(LsaFreeReturnBuffer((PUCHAR)r.buf + 1), STATUS_INVALID_PARAMETER);
        c_free(r.buf);
        CHECK_ST(LsaFreeReturnBuffer(r.buf), STATUS_INVALID_PARAMETER);

        /* Two buffers, one group: the returned one points to the other. */
        r = c_msg(h, id, TpMulti, 0, 0, 0, 0);
        TP_MULTI_REPLY mr;
        memcpy(&mr, c_expect_buffer(r, sizeof(mr)), sizeof(mr));
        CHECK_EQ(mr.MessageType, TpMulti);
        CHECK_EQ(mr.OtherLength, sizeof(TP_MULTI_TEXT));
        CHECK(mr.Other != NULL && (PVOID)mr.Other != r.buf);
        CHECK(memcmp(mr.Other, TP_MULTI_TEXT, sizeof(TP_MULTI_TEXT)) == 0);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 2), 2);
        /* The other buffer is not a return buffer of its own. */
        CHECK_ST(LsaFreeReturnBuffer(mr.Other), STATUS_INVALID_PARAMETER);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 2), 2);
        c_free_now(h, r.buf);
        /* Freeing the return buffer released the whole group, wiped. */
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);
        CHECK(tu_all_zero(mr.Other, mr.OtherLength));
        CHECK(tu_all_zero(r.buf, r.len));

        /* A buffer still held when the connection ends: the host wipes the
         * reply section, and the client can still read (zeros) and free it. */
        r = c_msg(h, id, TpEcho, 0x5EC, 0, 0, 0);
        c_expect_buffer(r, sizeof(TP_REQUEST));
        CHECK(!tu_all_zero(r.buf, r.len));
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_CONNS, 0, 0), 0);
        CHECK(tu_all_zero(r.buf, r.len));
        c_free(r.buf);
}

static void test_host_return_buffers_embedded_pointers_and_groups(void **state)
{
        (void)state;
        expect_client_ok(child_embedded, NULL);
}

static TP_ALLOC_REPLY c_alloc_until_full(HANDLE h, ULONG id, ULONG chunk, ULONG flags, PVOID *ret_buf)
{
        struct res r = c_msg(h, id, TpAllocUntilFull, 0, chunk, flags, 0);
        TP_ALLOC_REPLY a;
        memcpy(&a, c_expect_buffer(r, sizeof(a)), sizeof(a));
        CHECK_EQ(a.MessageType, TpAllocUntilFull);
        *ret_buf = r.buf;
        return a;
}

static void child_buffers_released(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        pid_t me = getpid();
        PVOID buf;

        /* The reply section fills up (the default cap is 1 MiB)... */
        TP_ALLOC_REPLY a = c_alloc_until_full(h, id, 4096, 0, &buf);
        CHECK(a.Count > 16 && a.Count < 1024 * 1024 / 4096);
        CHECK_ST(a.Final, STATUS_NO_MEMORY);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, a.Count + 1), a.Count + 1);
        /* ...and a full section may refuse, but does not break, a call. */
        struct res r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
        if (r.st == STATUS_SUCCESS)
                c_free(r.buf);
        else
                c_expect_no_buffer(r, STATUS_NO_MEMORY, STATUS_SUCCESS);
        c_free_now(h, buf);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);
        /* All of it came back. */
        TP_ALLOC_REPLY again = c_alloc_until_full(h, id, 4096, 0, &buf);
        CHECK_EQ(again.Count, a.Count);
        c_free(buf);

        /* FreeClientBuffer during the call gives them back at once. */
        a = c_alloc_until_full(h, id, 4096, TP_FLAG_FREE_CHUNKS, &buf);
        CHECK_EQ(a.FreeFailures, 0);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        c_free(buf);

        /* Small chunks hit the count limit instead. */
        a = c_alloc_until_full(h, id, 16, TP_FLAG_FREE_CHUNKS, &buf);
        CHECK_EQ(a.Count, HOST_MAX_CLIENT_BUFFERS - 1);
        CHECK_ST(a.Final, STATUS_NO_MEMORY);
        CHECK_EQ(a.FreeFailures, 0);
        c_free(buf);
        /* Larger than the whole section. */
        a = c_alloc_until_full(h, id, 2u << 20, 0, &buf);
        CHECK_EQ(a.Count, 0);
        CHECK_ST(a.Final, STATUS_NO_MEMORY);
        c_free_now(h, buf);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);
}

static void test_host_client_buffers_released(void **state)
{
        (void)state;
        expect_client_ok(child_buffers_released, NULL);
}

/* LsaFreeReturnBuffer holds its frees back for the next request, at most
 * 16: the 17th sends them all. A client that dies holding some loses
 * nothing to anyone: its connection, buffers and all, is released, and the
 * client beside it is served throughout. */
static void child_frees_held(void *arg, int index)
{
        (void)arg;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        pid_t me = getpid();
        enum { N = LSA_WIRE_MAX_FREES + 1 };
        PVOID b[N];
        for (int i = 0; i < N; i++)
                b[i] = c_expect_buffer(c_msg(h, id, TpEcho, (ULONG)i, 0, 0, 0), sizeof(TP_REQUEST));
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, N), N);
        if (index == 0) {
                /* Dies with three frees held, none sent. */
                for (int i = 0; i < 3; i++)
                        c_free(b[i]);
                CHECK_EQ(ask(Q_BUFFERS, (uint64_t)me), N);
                _exit(0);
        }
        for (int i = 0; i < N - 1; i++)
                c_free(b[i]);
        CHECK_EQ(ask(Q_BUFFERS, (uint64_t)me), N);
        c_free(b[N - 1]);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);
        /* And the connection goes on: a call, its free riding on the next. */
        struct res r = c_msg(h, id, TpEcho, 1, 0, 0, 0);
        c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
        r = c_msg(h, id, TpEcho, 2, 0, 0, 0);
        c_expect_buffer(r, sizeof(TP_REQUEST));
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        c_free_now(h, r.buf);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 0), 0);
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

static void test_host_frees_held_back(void **state)
{
        (void)state;
        uint64_t dropped = g_host->cs.dropped;
        expect_clients_ok(child_frees_held, NULL, 2, NULL);
        pump_idle(20);
        assert_int_equal(g_host->cs.n, 0);
        assert_int_equal(g_host->cs.dropped, dropped);
}

static void child_garbage_return(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        pid_t me = getpid();
        uint64_t dropped = ask(Q_DROPPED, 0);

        /* A live return buffer from an earlier call, the client's. */
        struct res keep = c_msg(h, id, TpEcho, 7, 0, 0, 0);
        c_expect_buffer(keep, sizeof(TP_REQUEST));
        UCHAR stack_bytes[32] = { 0 };
        const ULONGLONG outside[] = {
                0,                                      /* the package's own memory */
                (ULONGLONG)(uintptr_t)keep.buf,         /* another call's buffer */
                (ULONGLONG)(uintptr_t)stack_bytes,      /* nowhere near the reply region */
                (ULONGLONG)(uintptr_t)keep.buf + 8192,  /* the region, no buffer there */
        };
        for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
                struct res r = c_msg(h, id, TpReturnAddress, 0, 16, 0, outside[i]);
                c_expect_no_buffer(r, STATUS_INTERNAL_ERROR, STATUS_INTERNAL_ERROR);
                CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        }
        /* A buffer of the call, but longer than it is. */
        const ULONG lengths[] = { 65, 4096, 0xFFFFFFF0u, 0xFFFFFFFFu };
        for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
                struct res r = c_msg(h, id, TpReturnHuge, 0, lengths[i], 0, 0);
                c_expect_no_buffer(r, STATUS_INTERNAL_ERROR, STATUS_INTERNAL_ERROR);
                CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        }
        /* Its exact length is fine; no length means no buffer. */
        struct res r = c_msg(h, id, TpReturnHuge, 0, 64, 0, 0);
        c_expect_buffer(r, 64);
        CHECK_EQ(r.len, 64);
        c_free(r.buf);
        r = c_msg(h, id, TpReturnHuge, 0, 0, 0, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_BUFFERS, (uint64_t)me, 1), 1);
        /* The earlier buffer is intact, and the connection still serves. */
        TP_REQUEST m = tp_req(TpEcho, 7, 0, 0, 0);
        CHECK(memcmp(keep.buf, &m, sizeof(m)) == 0);
        c_free(keep.buf);
        r = c_msg(h, id, TpEcho, 0, 0, 0, 0);
        c_free(c_expect_buffer(r, sizeof(TP_REQUEST)));
        CHECK_EQ(ask(Q_DROPPED, 0), dropped);
}

static void test_host_package_garbage_return_refused(void **state)
{
        (void)state;
        unsigned since = g_nlog;
        expect_client_ok(child_garbage_return, NULL);
        assert_int_equal(log_count_since(since, "outside its client buffers", NULL), 8);
}

static void child_copy_to(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        struct res keep = c_msg(h, id, TpEcho, 9, 0, 0, 0);
        c_expect_buffer(keep, sizeof(TP_REQUEST));
        UCHAR stack_bytes[32] = { 0 };

        /* Inside the call's own 16-byte buffer... */
        struct res r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        /* ...past its end, */
        r = c_msg(h, id, TpCopyToOutside, 0, 16, 0, 0);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        /* into a buffer the client holds from an earlier call, */
        r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, (ULONGLONG)(uintptr_t)keep.buf);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        /* into the client's stack, the reply region's unallocated part. */
        r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, (ULONGLONG)(uintptr_t)stack_bytes);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, (ULONGLONG)(uintptr_t)keep.buf + 65536);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        r = c_msg(h, id, TpCopyToOutside, 0, 8, 0, UINT64_MAX - 3);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        TP_REQUEST m = tp_req(TpEcho, 9, 0, 0, 0);
        CHECK(memcmp(keep.buf, &m, sizeof(m)) == 0);
        CHECK(tu_all_zero(stack_bytes, sizeof(stack_bytes)));
        c_free(keep.buf);
}

static void test_host_copy_to_client_checked(void **state)
{
        (void)state;
        expect_client_ok(child_copy_to, NULL);
}

static void child_copy_from(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        struct {
                TP_REQUEST m;
                UCHAR data[100];
        } s;
        const ULONG total = sizeof(s);
        for (size_t i = 0; i < sizeof(s.data); i++)
                s.data[i] = (UCHAR)(0x80 + i);

        /* The whole submit buffer, and its data part, by ClientBufferBase. */
        s.m = tp_req(TpCopyFromSubmit, 0, total, 0, 0);
        struct res r = c_call(h, id, &s, total);
        c_expect_buffer(r, total);
        CHECK(memcmp(r.buf, &s, total) == 0);
        c_free(r.buf);
        s.m = tp_req(TpCopyFromSubmit, sizeof(TP_REQUEST), sizeof(s.data), 0, 0);
        r = c_call(h, id, &s, total);
        c_expect_buffer(r, sizeof(s.data));
        CHECK(memcmp(r.buf, s.data, sizeof(s.data)) == 0);
        struct res keep = r;
        /* One byte past it, and starting at its end. */
        s.m = tp_req(TpCopyFromSubmit, 0, total + 1, 0, 0);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        s.m = tp_req(TpCopyFromSubmit, total, 1, 0, 0);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        s.m = tp_req(TpCopyFromSubmit, total, 0, 0, 0);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        /* A live buffer of the connection may be read back... */
        s.m = tp_req(TpCopyFromSubmit, 0, sizeof(s.data), 0, (ULONGLONG)(uintptr_t)keep.buf);
        r = c_call(h, id, &s, total);
        c_expect_buffer(r, sizeof(s.data));
        CHECK(memcmp(r.buf, s.data, sizeof(s.data)) == 0);
        c_free(r.buf);
        /* ...not past its end, nor once freed, nor other client memory. */
        s.m = tp_req(TpCopyFromSubmit, 0, sizeof(s.data) + 64, 0, (ULONGLONG)(uintptr_t)keep.buf);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        c_free(keep.buf);
        s.m = tp_req(TpCopyFromSubmit, 0, 16, 0, (ULONGLONG)(uintptr_t)keep.buf);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
        UCHAR secret[16];
        memcpy(secret, "not for the host", sizeof(secret));
        s.m = tp_req(TpCopyFromSubmit, 0, sizeof(secret), 0, (ULONGLONG)(uintptr_t)secret);
        r = c_call(h, id, &s, total);
        c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_ACCESS_VIOLATION);
}

static void test_host_copy_from_client_checked(void **state)
{
        (void)state;
        expect_client_ok(child_copy_from, NULL);
}

/* ================= the rest of the function table ================= */

/* A TpCallPeer message to name, wrapping inner. */
static size_t peer_msg(UCHAR *out, const char *name, const void *inner, size_t inner_len, ULONG flags)
{
        TP_REQUEST m = tp_req(TpCallPeer, (ULONG)strlen(name), (ULONG)inner_len, flags, 0);
        memcpy(out, &m, sizeof(m));
        memcpy(out + sizeof(m), name, strlen(name));
        memcpy(out + sizeof(m) + strlen(name), inner, inner_len);
        return sizeof(m) + strlen(name) + inner_len;
}

static void child_call_peer(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG id = c_lookup(h, TP_NAME_OK);
        UCHAR msg[4096];
        TP_PEER_REPLY pr;

        /* An echo through the peer comes back whole. */
        struct {
                TP_REQUEST m;
                UCHAR data[40];
        } echo;
        echo.m = tp_req(TpEcho, 5, 0, 0, 0);
        memset(echo.data, 0x77, sizeof(echo.data));
        size_t n = peer_msg(msg, TP_NAME_PEER, &echo, sizeof(echo), 0);
        struct res r = c_call(h, id, msg, (ULONG)n);
        c_expect_buffer(r, sizeof(pr));
        memcpy(&pr, r.buf, sizeof(pr));
        CHECK_ST(pr.CallStatus, STATUS_SUCCESS);
        CHECK_ST(pr.ProtocolStatus, STATUS_SUCCESS);
        CHECK_EQ(pr.ReturnLength, sizeof(echo));
        CHECK_EQ(r.len, sizeof(pr) + sizeof(echo));
        CHECK(memcmp((PUCHAR)r.buf + sizeof(pr), &echo, sizeof(echo)) == 0);
        c_free(r.buf);

        /* Who the peer sees calling: the client being served (this
         * untrusted process), in process and recursive; by either entry
         * point, the name matched without regard to case. */
        TP_REQUEST ci = tp_req(TpClientInfo, 0, 0, 0, 0);
        for (int pass = 0; pass < 2; pass++) {
                n = peer_msg(msg, pass ? "testpeer" : TP_NAME_PEER, &ci, sizeof(ci), pass ? TP_FLAG_PASSTHROUGH : 0);
                r = c_call(h, id, msg, (ULONG)n);
                c_expect_buffer(r, sizeof(pr) + sizeof(TP_CLIENT_INFO_REPLY));
                memcpy(&pr, r.buf, sizeof(pr));
                CHECK_ST(pr.CallStatus, STATUS_SUCCESS);
                TP_CLIENT_INFO_REPLY info;
                memcpy(&info, (PUCHAR)r.buf + sizeof(pr), sizeof(info));
                c_free(r.buf);
                CHECK_EQ(info.Entry, pass ? TP_ENTRY_PASSTHROUGH : TP_ENTRY_CALL);
                CHECK(!info.HasTcbPrivilege);
                CHECK_EQ(info.ProcessID, getpid());
                CHECK(info.CallInfoOk);
                CHECK(info.CallAttributes & SECPKG_CALL_IN_PROC);
                CHECK(info.CallAttributes & SECPKG_CALL_RECURSIVE);
        }

        /* Nobody of that name. */
        n = peer_msg(msg, "NoSuchPeer", &echo, sizeof(echo), 0);
        r = c_call(h, id, msg, (ULONG)n);
        c_expect_buffer(r, sizeof(pr));
        memcpy(&pr, r.buf, sizeof(pr));
        CHECK_ST(pr.CallStatus, STATUS_NO_SUCH_PACKAGE);
        CHECK_EQ(pr.ReturnLength, 0);
        c_free(r.buf);

        /* The callee fails its call: its status comes back to the caller. */
        TP_REQUEST fail = tp_req(TpFailureStatus, (ULONG)STATUS_LOGON_FAILURE, 0, 0, 0);
        n = peer_msg(msg, TP_NAME_PEER, &fail, sizeof(fail), 0);
        r = c_call(h, id, msg, (ULONG)n);
        c_expect_buffer(r, sizeof(pr));
        memcpy(&pr, r.buf, sizeof(pr));
        CHECK_ST(pr.CallStatus, STATUS_LOGON_FAILURE);
        CHECK_ST(pr.ProtocolStatus, STATUS_LOGON_FAILURE);
        /* ...and the buffer it allocated before failing is freed by the
         * host, not handed to the caller. */
        CHECK_EQ(pr.ReturnLength, 0);
        c_free(r.buf);

        /* The callee returns memory that is not its client buffer (here, an
         * address it made up) or a length past it: refused, nothing handed
         * to the caller, whose FreeReturnBuffer would free() it. */
        TP_REQUEST garbage[] = { tp_req(TpReturnAddress, 0, 16, 0, 0x1000), tp_req(TpReturnHuge, 0, 1u << 20, 0, 0) };
        for (size_t g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++) {
                n = peer_msg(msg, TP_NAME_PEER, &garbage[g], sizeof(garbage[g]), 0);
                r = c_call(h, id, msg, (ULONG)n);
                c_expect_buffer(r, sizeof(pr));
                memcpy(&pr, r.buf, sizeof(pr));
                CHECK_ST(pr.CallStatus, STATUS_INTERNAL_ERROR);
                CHECK_EQ(pr.ReturnLength, 0);
                c_free(r.buf);
        }

        /* Nested calls, TestPkg -> TestPeer -> TestPkg -> ..., six deep:
         * the host refuses the one past its depth limit, and each level
         * above hands the refusal back up. */
        enum { LEVELS = 6 };
        UCHAR levels[LEVELS + 1][1024];
        size_t lens[LEVELS + 1];
        TP_REQUEST innermost = tp_req(TpEcho, 0, 0, 0, 0);
        memcpy(levels[LEVELS], &innermost, sizeof(innermost));
        lens[LEVELS] = sizeof(innermost);
        for (int l = LEVELS - 1; l >= 0; l--)
                lens[l] = peer_msg(levels[l], l % 2 ? TP_NAME_OK : TP_NAME_PEER, levels[l + 1], lens[l + 1], 0);
        r = c_call(h, id, levels[0], (ULONG)lens[0]);
        const UCHAR *p = c_expect_buffer(r, sizeof(pr));
        ULONG left = r.len;
        int depth = 0;
        for (;;) {
                CHECK(left >= sizeof(pr));
                memcpy(&pr, p, sizeof(pr));
                CHECK_EQ(pr.MessageType, TpCallPeer);
                if (pr.CallStatus != STATUS_SUCCESS)
                        break;
                /* Each level returns exactly the reply of the one below. */
                CHECK_EQ(pr.ReturnLength, left - sizeof(pr));
                p += sizeof(pr);
                left -= (ULONG)sizeof(pr);
                depth++;
                CHECK(depth < LEVELS);
        }
        CHECK_ST(pr.CallStatus, STATUS_INSUFFICIENT_RESOURCES);
        CHECK_EQ(pr.ReturnLength, 0);
        /* HOST_MAX_CALL_DEPTH counts the client's call too. */
        CHECK_EQ(depth, HOST_MAX_CALL_DEPTH - 1);
        c_free(r.buf);
}

static void test_host_package_to_package_calls(void **state)
{
        (void)state;
        expect_client_ok(child_call_peer, NULL);
}

static void child_table_members(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG id = c_lookup(h, TP_NAME_OK);
        const ULONG lengths[] = { 1, 7, 8, 16, 17, 100, 4096 };
        for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
                struct res r = c_msg(h, id, TpProtect, 0, lengths[i], 0, 0);
                c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
        }
        const ULONGLONG luids[] = { 0x0000123400000042ull, 0, 0xFFFFFFFFFFFFFFFFull };
        for (size_t i = 0; i < sizeof(luids) / sizeof(luids[0]); i++) {
                struct res r = c_msg(h, id, TpLogonSessions, 0, 0, 0, luids[i]);
                TP_LOGON_REPLY lr;
                memcpy(&lr, c_expect_buffer(r, sizeof(lr)), sizeof(lr));
                c_free(r.buf);
                CHECK_ST(lr.Create, STATUS_SUCCESS);
                CHECK_ST(lr.CreateAgain, STATUS_LOGON_SESSION_COLLISION);
                CHECK_ST(lr.Delete, STATUS_SUCCESS);
                CHECK_ST(lr.DeleteAgain, STATUS_NO_SUCH_LOGON_SESSION);
                /* The one real delete told the package (LsaApLogonTerminated),
                 * with the session's LUID; the refused one did not. */
                CHECK_EQ(lr.Terminated, 1);
                CHECK_EQ(lr.TerminatedLuid.LowPart, (ULONG)luids[i]);
                CHECK_EQ((ULONG)lr.TerminatedLuid.HighPart, (ULONG)(luids[i] >> 32));
        }
}

static void test_host_protect_memory_and_logon_sessions(void **state)
{
        (void)state;
        expect_client_ok(child_table_members, NULL);
}

/*
 * A PLSA_CLIENT_REQUEST kept from a finished call is refused in any later
 * call (STATUS_INVALID_PARAMETER), on the same connection or another. Found
 * as a bug: the request was &call->self with the call on the host's stack,
 * so the next call down the same path had the same address and the stale
 * request resolved to it, reaching another client's buffers.
 */
static void child_stale_request(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE a = c_untrusted(), b = c_untrusted();
        ULONG id = c_lookup(a, TP_NAME_OK);
        TP_STALE_REPLY s[2];
        for (int other_conn = 0; other_conn < 2; other_conn++) {
                struct res r = c_msg(a, id, TpStaleRequest, 0, 0, 0, 0);
                c_expect_no_buffer(r, STATUS_SUCCESS, STATUS_SUCCESS);
                r = c_msg(other_conn ? b : a, id, TpStaleRequest, 1, 0, 0, 0);
                memcpy(&s[other_conn], c_expect_buffer(r, sizeof(s[0])), sizeof(s[0]));
                c_free(r.buf);
                if (s[other_conn].SameAsCurrent || s[other_conn].StaleAllocate != STATUS_INVALID_PARAMETER)
                        fprintf(stderr,
                                "child: a ClientRequest kept from a finished call, used in a call on %s "
                                "connection: %s the new call's; AllocateClientBuffer 0x%08X, "
                                "CopyToClientBuffer 0x%08X\n",
                                other_conn ? "another" : "the same",
                                s[other_conn].SameAsCurrent ? "equals" : "differs from",
                                (unsigned)s[other_conn].StaleAllocate, (unsigned)s[other_conn].StaleCopyTo);
        }
        for (int i = 0; i < 2; i++) {
                CHECK_ST(s[i].ForgedAllocate, STATUS_INVALID_PARAMETER);
                CHECK_ST(s[i].StaleAllocate, STATUS_INVALID_PARAMETER);
                CHECK(!s[i].StaleGotBuffer);
                CHECK_ST(s[i].StaleCopyTo, STATUS_INVALID_PARAMETER);
        }
}

static void test_host_stale_client_request_refused(void **state)
{
        (void)state;
        expect_client_ok(child_stale_request, NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_host_two_level_status, setup),
                cmocka_unit_test_setup(test_host_return_buffers_embedded_pointers_and_groups, setup),
                cmocka_unit_test_setup(test_host_client_buffers_released, setup),
                cmocka_unit_test_setup(test_host_frees_held_back, setup),
                cmocka_unit_test_setup(test_host_package_garbage_return_refused, setup),
                cmocka_unit_test_setup(test_host_copy_to_client_checked, setup),
                cmocka_unit_test_setup(test_host_copy_from_client_checked, setup),
                cmocka_unit_test_setup(test_host_package_to_package_calls, setup),
                cmocka_unit_test_setup(test_host_protect_memory_and_logon_sessions, setup),
                cmocka_unit_test_setup(test_host_stale_client_request_refused, setup),
        };
        if (!host_fixture_root("test-host-calls"))
                return 77;
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
