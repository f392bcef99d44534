/* SPDX-License-Identifier: MIT */
/*
 * A security package for testing the host, written only against
 * <lsashm/ntsecpkg.h> and libc, as any package would be. One source, built
 * as several MODULE variants (CMakeLists.txt) selected with -DTP_VARIANT_*:
 * the working package, a second copy under another name for
 * package-to-package calls, and packages the host must refuse to load.
 *
 * Each message (test-package-protocol.h) drives one path of the host: client
 * buffers and their groups, return buffers the host must refuse, copies in
 * and out of the client, who is calling, sections and their sharing, calls
 * to another package, the rest of the function table. The package checks
 * nothing about the host's answers itself: it hands every status back to the
 * test, which knows what each should be.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <lsashm/ntsecpkg.h>

#include "test-package-protocol.h"

#if defined(TP_VARIANT_PEER)
#define TP_NAME u"" TP_NAME_PEER
#elif defined(TP_VARIANT_NO_UNTRUSTED)
#define TP_NAME u"" TP_NAME_NO_UNTRUSTED
#elif defined(TP_VARIANT_V1)
#define TP_NAME u"" TP_NAME_V1
#elif defined(TP_VARIANT_INIT_FAILS)
#define TP_NAME u"TestInitFails"
#elif defined(TP_VARIANT_ONENAME)
#define TP_NAME u"" TP_NAME_ONENAME
#elif defined(TP_VARIANT_FOREIGN_NAME)
#define TP_NAME u"" TP_NAME_FOREIGN_NAME
#elif defined(TP_VARIANT_OK) || defined(TP_VARIANT_DUPNAME)
#define TP_NAME u"" TP_NAME_OK
#else
#define TP_NAME u"TestNeverLoads"
#endif

static WCHAR package_name[] = TP_NAME;
static WCHAR package_comment[] = u"lsashm test package";

/* Sections made by TpMakeSection, so that TpReadSection and TpDeleteSection
 * find them by id. */
#define MAX_MADE 256

static struct {
        PLSA_SECPKG_FUNCTION_TABLE lsa;
        ULONG terminated;       /* LogonTerminated calls */
        LUID terminated_luid;
        ULONG lsamode_calls;
        ULONG initpkg_calls;
        ULONG init_calls;
        ULONG getinfo_calls;
        ULONG lsa_version;
        ULONG_PTR package_id;
        ULONG initpkg_id;
        BOOLEAN params_nonnull;
        BOOLEAN table_nonnull;
        BOOLEAN initpkg_table_full;
        BOOLEAN domain_name_ok;
        PLSA_DISPATCH_TABLE initpkg_table;
        ULONG null_members;
        ULONG first_null;
        PVOID shared;           /* made in SpInitialize, shared read-only */
        ULONG shared_offset;
        NTSTATUS shared_status;
        PVOID private_section;  /* made in SpInitialize, not shared */
        ULONG private_offset;
        PVOID made[MAX_MADE];
        ULONG made_offset[MAX_MADE];
        PLSA_CLIENT_REQUEST kept_request;
} tp;

/* One line "EVENT NAME [ADDRESS]" appended to $TP_LOG, if set. */
static void tp_log(const char *event, const void *address)
{
        const char *path = getenv(TP_LOG_ENV);
        if (!path || !*path)
                return;
        FILE *f = fopen(path, "ae");
        if (!f)
                return;
        char name[64];
        size_t i = 0;
        for (; package_name[i] && i + 1 < sizeof(name); i++)
                name[i] = (char)package_name[i];
        name[i] = '\0';
        if (address)
                fprintf(f, "%s %s %p\n", event, name, address);
        else
                fprintf(f, "%s %s\n", event, name);
        fclose(f);
}

/* ---- sections ---- */

/* A section of TP_SECTION_SIZE bytes, all committed, with a pattern block. */
static PVOID make_section(UCHAR seed, ULONG *ret_offset)
{
        PVOID base = tp.lsa->CreateSharedMemory(TP_SECTION_SIZE, TP_SECTION_SIZE);
        if (!base)
                return NULL;
        PUCHAR block = tp.lsa->AllocateSharedMemory(base, TP_PATTERN_LENGTH);
        if (!block) {
                tp.lsa->DeleteSharedMemory(base);
                return NULL;
        }
        for (ULONG i = 0; i < TP_PATTERN_LENGTH; i++)
                block[i] = TP_PATTERN(seed, i);
        *ret_offset = (ULONG)(block - (PUCHAR)base);
        return base;
}

/* A live section of ours with that id, or NULL. */
static PVOID section_by_id(ULONGLONG id, int *ret_slot)
{
        if (id == 0)
                return NULL;
        *ret_slot = -1;
        if (tp.shared && LsashmSectionId(tp.shared) == id)
                return tp.shared;
        if (tp.private_section && LsashmSectionId(tp.private_section) == id)
                return tp.private_section;
        for (int i = 0; i < MAX_MADE; i++) {
                if (tp.made[i] && LsashmSectionId(tp.made[i]) == id) {
                        *ret_slot = i;
                        return tp.made[i];
                }
        }
        return NULL;
}

/* ---- replies ---- */

/* A client buffer holding a copy of data, as the return buffer. */
static NTSTATUS reply(PLSA_CLIENT_REQUEST req, const void *data, ULONG length, PVOID *ret, PULONG ret_len)
{
        PVOID cb = NULL;
        NTSTATUS st = tp.lsa->AllocateClientBuffer(req, length, &cb);
        if (!NT_SUCCESS(st))
                return st;
        st = tp.lsa->CopyToClientBuffer(req, length, cb, (PVOID)(uintptr_t)data);
        if (!NT_SUCCESS(st)) {
                tp.lsa->FreeClientBuffer(req, cb);
                return st;
        }
        *ret = cb;
        *ret_len = length;
        return STATUS_SUCCESS;
}

static void sleep_ms(ULONG ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0)
                ;
}

/* ---- messages ---- */

static NTSTATUS msg_embed(PLSA_CLIENT_REQUEST req, PVOID *ret, PULONG ret_len)
{
        static const char text[] = TP_EMBED_TEXT;
        const ULONG text_len = sizeof(text) - 1;
        const ULONG text_off = sizeof(TP_EMBED_REPLY);
        const ULONG nums_off = (text_off + text_len + 3) & ~3u;
        const ULONG total = nums_off + 4 * sizeof(ULONG);
        UCHAR local[256];
        PVOID cb = NULL;
        NTSTATUS st = tp.lsa->AllocateClientBuffer(req, total, &cb);
        if (!NT_SUCCESS(st))
                return st;
        memset(local, 0, sizeof(local));
        TP_EMBED_REPLY r = {
                .MessageType = TpEmbed,
                .Count = 4,
                .Self = cb,
                .Text = { (USHORT)text_len, (USHORT)text_len, (PCHAR)cb + text_off },
                .Numbers = (PULONG)(void *)((PUCHAR)cb + nums_off),
        };
        const ULONG nums[4] = { 1, 2, 3, 0xDEADBEEFu };
        memcpy(local, &r, sizeof(r));
        memcpy(local + text_off, text, text_len);
        memcpy(local + nums_off, nums, sizeof(nums));
        st = tp.lsa->CopyToClientBuffer(req, total, cb, local);
        if (!NT_SUCCESS(st))
                return st;
        *ret = cb;
        *ret_len = total;
        return STATUS_SUCCESS;
}

static NTSTATUS msg_multi(PLSA_CLIENT_REQUEST req, PVOID *ret, PULONG ret_len)
{
        static const char text[] = TP_MULTI_TEXT;
        PVOID other = NULL;
        NTSTATUS st = tp.lsa->AllocateClientBuffer(req, sizeof(text), &other);
        if (!NT_SUCCESS(st))
                return st;
        st = tp.lsa->CopyToClientBuffer(req, sizeof(text), other, (PVOID)(uintptr_t)text);
        if (!NT_SUCCESS(st))
                return st;
        TP_MULTI_REPLY r = { .MessageType = TpMulti, .OtherLength = sizeof(text), .Other = other };
        return reply(req, &r, sizeof(r), ret, ret_len);
}

static NTSTATUS msg_client_info(ULONG entry, PLSA_CLIENT_REQUEST req, PVOID *ret, PULONG ret_len)
{
        SECPKG_CLIENT_INFO ci;
        SECPKG_CALL_INFO call;
        memset(&ci, 0, sizeof(ci));
        memset(&call, 0, sizeof(call));
        TP_CLIENT_INFO_REPLY r = { .MessageType = TpClientInfo, .Entry = entry };
        r.ClientInfoStatus = tp.lsa->GetClientInfo(&ci);
        r.ProcessID = ci.ProcessID;
        r.ThreadID = ci.ThreadID;
        r.LogonIdLow = ci.LogonId.LowPart;
        r.HasTcbPrivilege = ci.HasTcbPrivilege;
        r.Restricted = ci.Restricted;
        r.CallInfoOk = tp.lsa->GetCallInfo(&call);
        r.CallProcessId = call.ProcessId;
        r.CallThreadId = call.ThreadId;
        r.CallAttributes = call.Attributes;
        r.CallCount = call.CallCount;
        return reply(req, &r, sizeof(r), ret, ret_len);
}

static NTSTATUS msg_section(ULONG type, PLSA_CLIENT_REQUEST req, PVOID base, ULONG offset, ULONG seed,
                            NTSTATUS share, PVOID *ret, PULONG ret_len)
{
        TP_SECTION_REPLY r = {
                .MessageType = type,
                .PatternOffset = offset,
                .SectionId = base ? LsashmSectionId(base) : 0,
                .HostBase = (ULONGLONG)(uintptr_t)base,
                .ShareStatus = share,
                .Seed = seed,
        };
        return reply(req, &r, sizeof(r), ret, ret_len);
}

static NTSTATUS msg_make_section(PLSA_CLIENT_REQUEST req, PVOID *ret, PULONG ret_len, PNTSTATUS proto)
{
        int slot = -1;
        for (int i = 0; i < MAX_MADE && slot < 0; i++)
                if (!tp.made[i])
                        slot = i;
        if (slot < 0) {
                *proto = STATUS_INSUFFICIENT_RESOURCES;
                return STATUS_SUCCESS;
        }
        ULONG offset = 0;
        PVOID base = make_section(TP_MADE_SEED, &offset);
        if (!base) {
                *proto = STATUS_NO_MEMORY;
                return STATUS_SUCCESS;
        }
        tp.made[slot] = base;
        tp.made_offset[slot] = offset;
        return msg_section(TpMakeSection, req, base, offset, TP_MADE_SEED, STATUS_SUCCESS, ret, ret_len);
}

static NTSTATUS msg_call_peer(const TP_REQUEST *m, const UCHAR *data, ULONG data_len, PLSA_CLIENT_REQUEST req,
                              PVOID *ret, PULONG ret_len)
{
        WCHAR name[LSASHM_MAX_PACKAGE_NAME + 8];
        if (m->Arg > LSASHM_MAX_PACKAGE_NAME + 8 || m->Arg > data_len || m->Length > data_len - m->Arg)
                return STATUS_INVALID_PARAMETER;
        for (ULONG i = 0; i < m->Arg; i++)
                name[i] = data[i];
        UNICODE_STRING us = { (USHORT)(m->Arg * 2), (USHORT)(m->Arg * 2), name };
        /* The inner message in memory of our own, as a package would build it. */
        PVOID inner = malloc(m->Length ? m->Length : 1);
        if (!inner)
                return STATUS_NO_MEMORY;
        memcpy(inner, data + m->Arg, m->Length);
        PVOID out = NULL;
        ULONG out_len = 0;
        NTSTATUS proto = STATUS_SUCCESS;
        NTSTATUS st;
        if (m->Flags & TP_FLAG_PASSTHROUGH)
                st = tp.lsa->CallPackagePassthrough(&us, inner, inner, m->Length, &out, &out_len, &proto);
        else
                st = tp.lsa->CallPackage(&us, inner, m->Length, &out, &out_len, &proto);
        free(inner);
        UCHAR local[sizeof(TP_PEER_REPLY) + TP_PEER_MAX_RETURN];
        TP_PEER_REPLY r = { .MessageType = TpCallPeer, .CallStatus = st, .ProtocolStatus = proto,
                            .ReturnLength = out_len };
        ULONG copy = out && out_len ? (out_len < TP_PEER_MAX_RETURN ? out_len : TP_PEER_MAX_RETURN) : 0;
        memcpy(local, &r, sizeof(r));
        if (copy)
                memcpy(local + sizeof(r), out, copy);
        if (out)
                tp.lsa->FreeReturnBuffer(out);
        return reply(req, local, (ULONG)sizeof(r) + copy, ret, ret_len);
}

static NTSTATUS msg_protect(const TP_REQUEST *m, PNTSTATUS proto)
{
        ULONG n = m->Length;
        if (n == 0 || n > 65536) {
                *proto = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
        PUCHAR buf = malloc(n), orig = malloc(n);
        if (!buf || !orig) {
                free(buf);
                free(orig);
                return STATUS_NO_MEMORY;
        }
        for (ULONG i = 0; i < n; i++)
                buf[i] = orig[i] = (UCHAR)(i * 31u + 7u);
        tp.lsa->LsaProtectMemory(buf, n);
        /* A 1-byte permutation may map a byte to itself; from 8 bytes on,
         * an unchanged buffer means nothing was done. */
        int unchanged = memcmp(buf, orig, n) == 0;
        tp.lsa->LsaUnprotectMemory(buf, n);
        int same = memcmp(buf, orig, n) == 0;
        *proto = !same ? TP_STATUS_MISMATCH : unchanged && n >= 8 ? TP_STATUS_UNCHANGED : STATUS_SUCCESS;
        free(buf);
        free(orig);
        return STATUS_SUCCESS;
}

/* LogonTerminated's count: the host calls it from whichever thread ends a
 * session (a worker closing a client's token, the host's thread closing a
 * connection). */
static pthread_mutex_t terminated_lock = PTHREAD_MUTEX_INITIALIZER;

static NTSTATUS msg_logon_sessions(PLSA_CLIENT_REQUEST req, ULONGLONG v, PVOID *ret, PULONG ret_len)
{
        LUID luid = { .LowPart = (ULONG)v, .HighPart = (LONG)(v >> 32) };
        TP_LOGON_REPLY r = { .MessageType = TpLogonSessions };
        r.Create = tp.lsa->CreateLogonSession(&luid);
        r.CreateAgain = tp.lsa->CreateLogonSession(&luid);
        pthread_mutex_lock(&terminated_lock);
        ULONG before = tp.terminated;
        pthread_mutex_unlock(&terminated_lock);
        r.Delete = tp.lsa->DeleteLogonSession(&luid);
        r.DeleteAgain = tp.lsa->DeleteLogonSession(&luid);
        pthread_mutex_lock(&terminated_lock);
        r.Terminated = tp.terminated - before;
        r.TerminatedLuid = tp.terminated_luid;
        pthread_mutex_unlock(&terminated_lock);
        return reply(req, &r, sizeof(r), ret, ret_len);
}

static NTSTATUS msg_probe_logon_sessions(const TP_REQUEST *m, PLSA_CLIENT_REQUEST req, PVOID *ret,
                                         PULONG ret_len, PNTSTATUS proto)
{
        if (m->Length > TP_PROBE_MAX) {
                *proto = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
        TP_PROBE_REPLY r = { .MessageType = TpProbeLogonSessions };
        for (ULONG i = 0; i < m->Length; i++) {
                ULONGLONG v = m->Addr + i;
                LUID luid = { .LowPart = (ULONG)v, .HighPart = (LONG)(v >> 32) };
                NTSTATUS st = tp.lsa->CreateLogonSession(&luid);
                if (st == STATUS_LOGON_SESSION_COLLISION) {
                        r.Found++;
                        if ((m->Flags & TP_FLAG_END_FOUND) && NT_SUCCESS(tp.lsa->DeleteLogonSession(&luid)))
                                r.Ended++;
                } else if (NT_SUCCESS(st)) {
                        /* It was not there: leave the table as it was. */
                        st = tp.lsa->DeleteLogonSession(&luid);
                }
                if (!NT_SUCCESS(st) && st != STATUS_LOGON_SESSION_COLLISION && !r.Unexpected)
                        r.Unexpected = st;
        }
        return reply(req, &r, sizeof(r), ret, ret_len);
}

static NTSTATUS msg_stale(const TP_REQUEST *m, PLSA_CLIENT_REQUEST req, PVOID *ret, PULONG ret_len)
{
        if (m->Arg == 0) {
                tp.kept_request = req;
                return STATUS_SUCCESS;
        }
        TP_STALE_REPLY r = { .MessageType = TpStaleRequest };
        PVOID cb = NULL;
        NTSTATUS st = tp.lsa->AllocateClientBuffer(req, sizeof(r), &cb);
        if (!NT_SUCCESS(st))
                return st;
        PLSA_CLIENT_REQUEST stale = tp.kept_request;
        PVOID q = NULL;
        r.SameAsCurrent = stale == req;
        r.StaleAllocate = tp.lsa->AllocateClientBuffer(stale, 16, &q);
        r.StaleGotBuffer = q != NULL;
        ULONG marker = 0x57A1E;
        r.StaleCopyTo = tp.lsa->CopyToClientBuffer(stale, sizeof(marker), cb, &marker);
        PVOID forged_self = NULL;
        PVOID q2 = NULL;
        r.ForgedAllocate = tp.lsa->AllocateClientBuffer((PLSA_CLIENT_REQUEST)&forged_self, 16, &q2);
        st = tp.lsa->CopyToClientBuffer(req, sizeof(r), cb, &r);
        if (!NT_SUCCESS(st))
                return st;
        *ret = cb;
        *ret_len = sizeof(r);
        return STATUS_SUCCESS;
}

static NTSTATUS msg_alloc_until_full(const TP_REQUEST *m, PLSA_CLIENT_REQUEST req, PVOID *ret, PULONG ret_len)
{
        TP_ALLOC_REPLY r = { .MessageType = TpAllocUntilFull };
        PVOID cb = NULL;
        NTSTATUS st = tp.lsa->AllocateClientBuffer(req, sizeof(r), &cb);
        if (!NT_SUCCESS(st))
                return st;
        size_t cap = 1024, n = 0;
        PVOID *chunks = malloc(cap * sizeof(*chunks));
        if (!chunks)
                return STATUS_NO_MEMORY;
        for (;;) {
                if (n == cap) {
                        PVOID *more = n < 1000000 ? realloc(chunks, 2 * cap * sizeof(*chunks)) : NULL;
                        if (!more) {
                                r.Final = STATUS_SUCCESS; /* never refused: the test sees Final 0 */
                                break;
                        }
                        chunks = more;
                        cap *= 2;
                }
                PVOID p = NULL;
                st = tp.lsa->AllocateClientBuffer(req, m->Length, &p);
                if (!NT_SUCCESS(st)) {
                        r.Final = st;
                        break;
                }
                chunks[n++] = p;
        }
        r.Count = (ULONG)n;
        if (m->Flags & TP_FLAG_FREE_CHUNKS)
                for (size_t i = 0; i < n; i++)
                        r.FreeFailures += !NT_SUCCESS(tp.lsa->FreeClientBuffer(req, chunks[i]));
        free(chunks);
        st = tp.lsa->CopyToClientBuffer(req, sizeof(r), cb, &r);
        if (!NT_SUCCESS(st))
                return st;
        *ret = cb;
        *ret_len = sizeof(r);
        return STATUS_SUCCESS;
}

static NTSTATUS msg_info(PLSA_CLIENT_REQUEST req, PVOID *ret, PULONG ret_len)
{
        TP_INFO_REPLY r = {
                .MessageType = TpInfo,
                .LsaModeInitCalls = tp.lsamode_calls,
                .InitializePackageCalls = tp.initpkg_calls,
                .SpInitializeCalls = tp.init_calls,
                .GetInfoCalls = tp.getinfo_calls,
                .LsaVersion = tp.lsa_version,
                .PackageId = tp.package_id,
                .InitPackageId = tp.initpkg_id,
                .ParametersNonNull = tp.params_nonnull,
                .TableNonNull = tp.table_nonnull,
                .InitPackageTableIsFull = tp.initpkg_table_full,
                .DomainNameOk = tp.domain_name_ok,
                .NullMembers = tp.null_members,
                .FirstNullMember = tp.first_null,
                .SharedHostBase = (ULONGLONG)(uintptr_t)tp.shared,
                .PrivateHostBase = (ULONGLONG)(uintptr_t)tp.private_section,
                .SharedId = LsashmSectionId(tp.shared),
                .PrivateId = LsashmSectionId(tp.private_section),
        };
        return reply(req, &r, sizeof(r), ret, ret_len);
}

/* ---- wrong frees of the LSA and private heaps ---- */

static BOOLEAN all_bytes(const UCHAR *p, size_t n, UCHAR v)
{
        for (size_t i = 0; i < n; i++)
                if (p[i] != v)
                        return FALSE;
        return TRUE;
}

/* Free an address inside a live block with both members; the block is
 * untouched, and then freed rightly. */
static BOOLEAN heap_interior(void)
{
        PUCHAR p = tp.lsa->AllocateLsaHeap(64);
        if (!p)
                return FALSE;
        memset(p, 0x5A, 64);
        tp.lsa->FreeLsaHeap(p + 16);
        tp.lsa->FreePrivateHeap(p + 1);
        BOOLEAN intact = all_bytes(p, 64, 0x5A);
        tp.lsa->FreeLsaHeap(p);
        return intact;
}

static void *heap_thread(void *arg)
{
        *(BOOLEAN *)arg = heap_interior();
        return NULL;
}

static NTSTATUS msg_heap_misuse(PLSA_CLIENT_REQUEST req, ULONG misuse, PVOID *ret, PULONG ret_len)
{
        static UCHAR static_memory[64];
        TP_HEAP_REPLY r = { .MessageType = TpHeapMisuse, .Misuse = misuse, .FreeClientBuffer = STATUS_SUCCESS };
        UCHAR stack_memory[64];
        PVOID cb = NULL, a, b;
        pthread_t thread;
        switch (misuse) {
        case TP_HEAP_INTERIOR:
                r.Intact = heap_interior();
                break;
        case TP_HEAP_STACK:
                memset(stack_memory, 0xA5, sizeof(stack_memory));
                tp.lsa->FreeLsaHeap(stack_memory);
                tp.lsa->FreePrivateHeap(stack_memory);
                r.Intact = all_bytes(stack_memory, sizeof(stack_memory), 0xA5);
                break;
        case TP_HEAP_STATIC:
                memset(static_memory, 0x3C, sizeof(static_memory));
                tp.lsa->FreeLsaHeap(static_memory);
                tp.lsa->FreePrivateHeap(static_memory);
                r.Intact = all_bytes(static_memory, sizeof(static_memory), 0x3C);
                break;
        case TP_HEAP_CLIENT_BUFFER:
                r.FreeClientBuffer = tp.lsa->AllocateClientBuffer(req, 64, &cb);
                if (!NT_SUCCESS(r.FreeClientBuffer))
                        break;
                tp.lsa->FreeLsaHeap(cb);
                tp.lsa->FreePrivateHeap(cb);
                r.FreeClientBuffer = tp.lsa->FreeClientBuffer(req, cb);
                r.Intact = TRUE;
                break;
        case TP_HEAP_DOUBLE:
                a = tp.lsa->AllocateLsaHeap(48);
                if (!a)
                        return STATUS_NO_MEMORY;
                tp.lsa->FreeLsaHeap(a);
                tp.lsa->FreeLsaHeap(a);
                a = tp.lsa->AllocateLsaHeap(48);
                b = tp.lsa->AllocateLsaHeap(48);
                r.Distinct = a && b && a != b;
                r.Intact = TRUE;
                tp.lsa->FreeLsaHeap(a);
                if (b != a)
                        tp.lsa->FreeLsaHeap(b);
                break;
        case TP_HEAP_NULL:
                tp.lsa->FreeLsaHeap(NULL);
                tp.lsa->FreePrivateHeap(NULL);
                r.Intact = TRUE;
                break;
        case TP_HEAP_CROSS:
                a = tp.lsa->AllocateLsaHeap(32);
                b = tp.lsa->AllocatePrivateHeap(32);
                if (!a || !b)
                        return STATUS_NO_MEMORY;
                tp.lsa->FreePrivateHeap(a);
                tp.lsa->FreeLsaHeap(a);
                tp.lsa->FreeLsaHeap(b);
                r.Intact = TRUE;
                break;
        case TP_HEAP_RETURN_BUFFER:
                memset(stack_memory, 0x5A, sizeof(stack_memory));
                tp.lsa->FreeReturnBuffer(stack_memory);
                a = tp.lsa->AllocateLsaHeap(64);
                if (!a)
                        return STATUS_NO_MEMORY;
                memset(a, 0x77, 64);
                tp.lsa->FreeReturnBuffer((PUCHAR)a + 16);
                r.Intact = all_bytes(stack_memory, sizeof(stack_memory), 0x5A) && all_bytes(a, 64, 0x77);
                tp.lsa->FreeLsaHeap(a);
                break;
        case TP_HEAP_THREAD:
                if (pthread_create(&thread, NULL, heap_thread, &r.Intact) != 0)
                        return STATUS_NO_MEMORY;
                pthread_join(thread, NULL);
                break;
        default:
                return STATUS_INVALID_PARAMETER;
        }
        return reply(req, &r, sizeof(r), ret, ret_len);
}

static NTSTATUS dispatch(ULONG entry, PLSA_CLIENT_REQUEST req, PVOID submit, PVOID client_base, ULONG len,
                         PVOID *ret, PULONG ret_len, PNTSTATUS proto)
{
        static UCHAR package_memory[64];
        TP_REQUEST m;
        memset(&m, 0, sizeof(m));
        *ret = NULL;
        *ret_len = 0;
        *proto = STATUS_SUCCESS;
        if (len < sizeof(ULONG)) {
                *proto = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
        memcpy(&m, submit, len < sizeof(m) ? len : sizeof(m));
        const UCHAR *data = (const UCHAR *)submit + sizeof(m);
        ULONG data_len = len > sizeof(m) ? len - (ULONG)sizeof(m) : 0;
        PVOID cb = NULL;
        NTSTATUS st;
        int slot;

        switch (m.MessageType) {
        case TpEcho:
                return reply(req, submit, len, ret, ret_len);
        case TpEmbed:
                return msg_embed(req, ret, ret_len);
        case TpMulti:
                return msg_multi(req, ret, ret_len);
        case TpReturnAddress:
                st = tp.lsa->AllocateClientBuffer(req, 32, &cb);
                if (!NT_SUCCESS(st))
                        return st;
                *ret = m.Addr ? (PVOID)(uintptr_t)m.Addr : package_memory;
                *ret_len = m.Length;
                return STATUS_SUCCESS;
        case TpReturnHuge:
                st = tp.lsa->AllocateClientBuffer(req, 64, &cb);
                if (!NT_SUCCESS(st))
                        return st;
                *ret = cb;
                *ret_len = m.Length;
                return STATUS_SUCCESS;
        case TpCopyToOutside: {
                UCHAR bytes[4096];
                memset(bytes, 0xAB, sizeof(bytes));
                st = tp.lsa->AllocateClientBuffer(req, 16, &cb);
                if (!NT_SUCCESS(st))
                        return st;
                ULONG n = m.Length <= sizeof(bytes) ? m.Length : sizeof(bytes);
                PVOID target = m.Addr ? (PVOID)(uintptr_t)m.Addr : (PUCHAR)cb + 8;
                *proto = tp.lsa->CopyToClientBuffer(req, n, target, bytes);
                return STATUS_SUCCESS;
        }
        case TpCopyFromSubmit: {
                PUCHAR local = malloc(m.Length ? m.Length : 1);
                if (!local)
                        return STATUS_NO_MEMORY;
                PVOID src = m.Addr ? (PVOID)(uintptr_t)m.Addr : (PUCHAR)client_base + m.Arg;
                *proto = tp.lsa->CopyFromClientBuffer(req, m.Length, local, src);
                st = NT_SUCCESS(*proto) && m.Length ? reply(req, local, m.Length, ret, ret_len) : STATUS_SUCCESS;
                free(local);
                return st;
        }
        case TpClientInfo:
                return msg_client_info(entry, req, ret, ret_len);
        case TpMakeSection:
                return msg_make_section(req, ret, ret_len, proto);
        case TpShareSection:
                return msg_section(TpShareSection, req, tp.shared, tp.shared_offset, TP_SHARED_SEED,
                                   tp.shared_status, ret, ret_len);
        case TpPrivateSection:
                return msg_section(TpPrivateSection, req, tp.private_section, tp.private_offset,
                                   TP_PRIVATE_SEED, STATUS_SUCCESS, ret, ret_len);
        case TpDeleteSection: {
                PVOID base = section_by_id(m.Addr, &slot);
                if (!base) {
                        *proto = STATUS_NOT_FOUND;
                        return STATUS_SUCCESS;
                }
                /* Directly: the exported call behind the host's back, as a
                 * package ported carelessly might. */
                BOOLEAN done = m.Flags & TP_FLAG_DIRECT ? LsaDeleteSharedMemory(base)
                                                        : tp.lsa->DeleteSharedMemory(base);
                *proto = done ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
                if (slot >= 0)
                        tp.made[slot] = NULL;
                else if (base == tp.shared)
                        tp.shared = NULL;
                else
                        tp.private_section = NULL;
                return STATUS_SUCCESS;
        }
        case TpReadSection: {
                PVOID base = section_by_id(m.Addr, &slot);
                if (!base) {
                        *proto = STATUS_NOT_FOUND;
                        return STATUS_SUCCESS;
                }
                if (m.Length == 0 || m.Arg > TP_SECTION_SIZE || m.Length > TP_SECTION_SIZE - m.Arg) {
                        *proto = STATUS_INVALID_PARAMETER;
                        return STATUS_SUCCESS;
                }
                return reply(req, (PUCHAR)base + m.Arg, m.Length, ret, ret_len);
        }
        case TpCallPeer:
                return msg_call_peer(&m, data, data_len, req, ret, ret_len);
        case TpProtect:
                return msg_protect(&m, proto);
        case TpLogonSessions:
                return msg_logon_sessions(req, m.Addr, ret, ret_len);
        case TpDigest: {
                TP_DIGEST_REPLY d = { .MessageType = TpDigest, .Length = len, .Digest = tp_digest(submit, len) };
                volatile UCHAR *last = (volatile UCHAR *)submit + len - 1;
                UCHAR flipped = (UCHAR)(*last ^ 0xFFu);
                *last = flipped;
                d.Writable = *last == flipped;
                return reply(req, &d, sizeof(d), ret, ret_len);
        }
        case TpSleep:
                st = reply(req, &m, sizeof(m), ret, ret_len);
                /* Tells a test that the call is under way: it may now kill
                 * the client. */
                tp_log("sleeping", NULL);
                sleep_ms(m.Arg);
                return st;
        case TpFailureStatus:
                st = reply(req, &m, sizeof(m), ret, ret_len);
                if (!NT_SUCCESS(st))
                        return st;
                *proto = (NTSTATUS)m.Arg;
                return m.Flags & TP_FLAG_PROTOCOL_ONLY ? STATUS_SUCCESS : (NTSTATUS)m.Arg;
        case TpStaleRequest:
                return msg_stale(&m, req, ret, ret_len);
        case TpAllocUntilFull:
                return msg_alloc_until_full(&m, req, ret, ret_len);
        case TpInfo:
                return msg_info(req, ret, ret_len);
        case TpShareBase:
                *proto = LsashmShareSection((PVOID)(uintptr_t)m.Addr, m.Arg);
                return STATUS_SUCCESS;
        case TpHeapMisuse:
                return msg_heap_misuse(req, m.Arg, ret, ret_len);
        case TpKeepLogonSession:
        case TpEndLogonSession: {
                LUID luid = { .LowPart = (ULONG)m.Addr, .HighPart = (LONG)(m.Addr >> 32) };
                TP_LOGON_REPLY r = { .MessageType = m.MessageType };
                if (m.MessageType == TpKeepLogonSession)
                        r.Create = tp.lsa->CreateLogonSession(&luid);
                else
                        r.Delete = tp.lsa->DeleteLogonSession(&luid);
                return reply(req, &r, sizeof(r), ret, ret_len);
        }
        case TpProbeLogonSessions:
                return msg_probe_logon_sessions(&m, req, ret, ret_len, proto);
        default:
                *proto = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
}

static NTSTATUS NTAPI tp_CallPackage(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                     PVOID ClientBufferBase, ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                     PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        return dispatch(TP_ENTRY_CALL, ClientRequest, ProtocolSubmitBuffer, ClientBufferBase, SubmitBufferLength,
                        ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus);
}

#if !defined(TP_VARIANT_NO_UNTRUSTED)
static NTSTATUS NTAPI tp_CallPackageUntrusted(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                              PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                              PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                              PNTSTATUS ProtocolStatus)
{
        return dispatch(TP_ENTRY_UNTRUSTED, ClientRequest, ProtocolSubmitBuffer, ClientBufferBase,
                        SubmitBufferLength, ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus);
}
#endif

static NTSTATUS NTAPI tp_CallPackagePassthrough(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                                PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                                PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                                PNTSTATUS ProtocolStatus)
{
        return dispatch(TP_ENTRY_PASSTHROUGH, ClientRequest, ProtocolSubmitBuffer, ClientBufferBase,
                        SubmitBufferLength, ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus);
}

/* ---- bring-up ---- */

static NTSTATUS NTAPI tp_InitializePackage(ULONG AuthenticationPackageId, PLSA_DISPATCH_TABLE LsaDispatchTable,
                                           PLSA_STRING Database, PLSA_STRING Confidentiality,
                                           PLSA_STRING *AuthenticationPackageName)
{
        (void)Database;
        (void)Confidentiality;
        tp.initpkg_calls++;
        tp.initpkg_id = AuthenticationPackageId;
        tp.initpkg_table = LsaDispatchTable;
        /* The host frees this with FreeLsaHeap when the package goes. */
#if defined(TP_VARIANT_ONENAME)
        /* One block: the LSA_STRING, then its characters. */
        if (AuthenticationPackageName && LsaDispatchTable && LsaDispatchTable->AllocateLsaHeap) {
                PLSA_STRING s = LsaDispatchTable->AllocateLsaHeap(sizeof(*s) + 8);
                if (s) {
                        PCHAR b = (PCHAR)(s + 1);
                        memcpy(b, "OneAP", 5);
                        *s = (LSA_STRING){ 5, 8, b };
                        *AuthenticationPackageName = s;
                }
        }
#elif defined(TP_VARIANT_FOREIGN_NAME)
        /* Not heap at all: a package bug the host must survive. */
        static CHAR foreign_chars[] = "ForeignAP";
        static LSA_STRING foreign = { 9, 10, foreign_chars };
        if (AuthenticationPackageName)
                *AuthenticationPackageName = &foreign;
#else
        if (AuthenticationPackageName && LsaDispatchTable && LsaDispatchTable->AllocateLsaHeap) {
                PLSA_STRING s = LsaDispatchTable->AllocateLsaHeap(sizeof(*s));
                PCHAR b = LsaDispatchTable->AllocateLsaHeap(8);
                if (s && b) {
                        memcpy(b, "TestAP", 6);
                        *s = (LSA_STRING){ 6, 8, b };
                        *AuthenticationPackageName = s;
                } else {
                        if (s)
                                LsaDispatchTable->FreeLsaHeap(s);
                        if (b)
                                LsaDispatchTable->FreeLsaHeap(b);
                }
        }
#endif
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI tp_SpInitialize(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                      PLSA_SECPKG_FUNCTION_TABLE FunctionTable)
{
        tp.init_calls++;
        tp.package_id = PackageId;
        tp.params_nonnull = Parameters != NULL;
        tp.table_nonnull = FunctionTable != NULL;
        tp.initpkg_table_full = (void *)tp.initpkg_table == (void *)FunctionTable;
        tp.domain_name_ok = Parameters && Parameters->DomainName.Buffer && Parameters->DomainName.Length % 2 == 0;
        if (!FunctionTable)
                return STATUS_INVALID_PARAMETER;
        tp.lsa = FunctionTable;
        const size_t members = sizeof(*FunctionTable) / sizeof(void *);
        for (size_t i = 0; i < members; i++) {
                void *slot;
                memcpy(&slot, (const char *)FunctionTable + i * sizeof(void *), sizeof(slot));
                if (!slot) {
                        tp.null_members++;
                        if (!tp.first_null)
                                tp.first_null = (ULONG)i + 1;
                }
        }
        if (tp.null_members)
                return STATUS_SUCCESS; /* the test reports it; calling through NULL would only crash */
#if defined(TP_VARIANT_INIT_FAILS)
        /* Something to clean up: the host must delete it although we failed. */
        ULONG off;
        PVOID s = make_section(TP_PRIVATE_SEED, &off);
        tp_log("initfail-section", s);
        return STATUS_UNSUCCESSFUL;
#else
        tp.shared = make_section(TP_SHARED_SEED, &tp.shared_offset);
        tp.shared_status = tp.shared ? LsashmShareSection(tp.shared, LSASHM_SHARE_READ) : STATUS_NO_MEMORY;
        tp.private_section = make_section(TP_PRIVATE_SEED, &tp.private_offset);
        return tp.shared && tp.private_section ? STATUS_SUCCESS : STATUS_NO_MEMORY;
#endif
}

static VOID NTAPI tp_LogonTerminated(PLUID LogonId)
{
        pthread_mutex_lock(&terminated_lock);
        tp.terminated++;
        tp.terminated_luid = *LogonId;
        pthread_mutex_unlock(&terminated_lock);
}

static NTSTATUS NTAPI tp_Shutdown(VOID)
{
        tp_log("shutdown", NULL);
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI tp_GetInfo(PSecPkgInfo PackageInfo)
{
        tp.getinfo_calls++;
        if (!PackageInfo)
                return STATUS_INVALID_PARAMETER;
        PackageInfo->fCapabilities = 0;
        PackageInfo->wVersion = 1;
        PackageInfo->wRPCID = 0xFFFF;
        PackageInfo->cbMaxToken = 0;
        PackageInfo->Name = package_name;
        PackageInfo->Comment = package_comment;
        return STATUS_SUCCESS;
}

static void fill_table(PSECPKG_FUNCTION_TABLE t)
{
        t->InitializePackage = tp_InitializePackage;
        t->CallPackage = tp_CallPackage;
#if !defined(TP_VARIANT_NO_UNTRUSTED)
        t->CallPackageUntrusted = tp_CallPackageUntrusted;
#endif
        t->CallPackagePassthrough = tp_CallPackagePassthrough;
        t->Initialize = tp_SpInitialize;
        t->Shutdown = tp_Shutdown;
        t->LogonTerminated = tp_LogonTerminated;
        t->GetInfo = tp_GetInfo;
}

#if defined(TP_VARIANT_V1)
/* A table exactly as long as version 1 defines it (27 members), ending at a
 * page the package cannot read: a host that copies past it faults. */
#define V1_MEMBERS 27u
static void *v1_pages;
static size_t v1_pages_size;

static PSECPKG_FUNCTION_TABLE v1_table(void)
{
        if (v1_pages)
                return (PSECPKG_FUNCTION_TABLE)(void *)((char *)v1_pages + v1_pages_size / 2 -
                                                        V1_MEMBERS * sizeof(void *));
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        void *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return NULL;
        if (mprotect((char *)p + page, page, PROT_NONE) < 0) {
                munmap(p, 2 * page);
                return NULL;
        }
        v1_pages = p;
        v1_pages_size = 2 * page;
        PSECPKG_FUNCTION_TABLE t = (PSECPKG_FUNCTION_TABLE)(void *)((char *)p + page - V1_MEMBERS * sizeof(void *));
        /* Only members 1-27 exist: set them one by one, never the struct. */
        fill_table(t);
        return t;
}

__attribute__((destructor)) static void v1_unmap(void)
{
        if (v1_pages)
                munmap(v1_pages, v1_pages_size);
}
#endif

#if defined(TP_VARIANT_NOINIT_SYMBOL)
/* Hidden (the build uses -fvisibility=hidden): the host finds no entry point. */
NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion, PSECPKG_FUNCTION_TABLE *ppTables,
                                       PULONG pcTables);
#else
LSASHM_WINAPI_EXPORT NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                            PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables);
#endif

NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion, PSECPKG_FUNCTION_TABLE *ppTables,
                                       PULONG pcTables)
{
        static SECPKG_FUNCTION_TABLE table;
        tp.lsamode_calls++;
        tp.lsa_version = LsaVersion;
#if defined(TP_VARIANT_LSAMODE_FAILS)
        /* A complete table, and a failure: the host must not use the table. */
        memset(&table, 0, sizeof(table));
        fill_table(&table);
        *PackageVersion = SECPKG_INTERFACE_VERSION_11;
        *ppTables = &table;
        *pcTables = 1;
        return STATUS_UNSUCCESSFUL;
#elif defined(TP_VARIANT_V1)
        (void)table;
        PSECPKG_FUNCTION_TABLE t = v1_table();
        if (!t)
                return STATUS_NO_MEMORY;
        *PackageVersion = SECPKG_INTERFACE_VERSION;
        *ppTables = t;
        *pcTables = 1;
        return STATUS_SUCCESS;
#else
        memset(&table, 0, sizeof(table));
        fill_table(&table);
#if defined(TP_VARIANT_BAD_VERSION)
        *PackageVersion = 0;
#else
        *PackageVersion = SECPKG_INTERFACE_VERSION_11;
#endif
        *ppTables = &table;
        *pcTables = 1;
        return STATUS_SUCCESS;
#endif
}
