/* SPDX-License-Identifier: MIT */
/*
 * Package calls and the client buffers they use.
 *
 * A client's call runs the package's CallPackage or CallPackageUntrusted with
 * a private copy of the submit buffer. Client buffers live in the
 * connection's reply section, which the client maps read-only over a region
 * it reserved at connect time: AllocateClientBuffer can therefore return
 * the address the buffer will have in the client before the client has
 * mapped anything, and pointers a package embeds work there.
 *
 * Every client address a package hands back is checked against what this
 * call may touch: CopyToClientBuffer only inside a buffer allocated during
 * this call, CopyFromClientBuffer inside the submit buffer (read from our
 * copy) or any live buffer of the connection. Anything else is
 * STATUS_ACCESS_VIOLATION, never a wild write.
 *
 * Buffers allocated during one call form a group; the one the package
 * returns carries the group to the client, and LsaFreeReturnBuffer frees the
 * group. A call that returns no buffer (or fails, or returns one outside its
 * buffers) has its group freed when it ends.
 *
 * Threads: a client's call runs on a worker that owns its connection for
 * the call (host-base.h); the call context is thread-local, so each worker
 * (and each package-to-package call on it) sees its own. Changes to a
 * connection's buffer table and reply section are made under its lock, for
 * the status report, which reads them from the host's thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host/host-calls.h"
#include "section/section-ops.h"

static _Thread_local struct host_call *current_call;

struct host_call *host_call_current(void)
{
        return current_call;
}

uint64_t host_call_client_serial(void)
{
        struct host_call *call = current_call;
        while (call && !call->conn)
                call = call->outer;
        return call ? call->conn->serial : 0;
}

/* The call a PLSA_CLIENT_REQUEST names, if it is one in progress on this
 * thread; a stale or forged request finds nothing. */
static struct host_call *resolve(PLSA_CLIENT_REQUEST req)
{
        for (struct host_call *c = current_call; c; c = c->outer)
                if (req && req == c->request)
                        return c;
        return NULL;
}

/*
 * Requests are opaque to packages, but a package may keep one past its call
 * (a bug we must survive). The call's own address would come back for the
 * next call on the same stack, and a kept request would then reach another
 * client's buffers. So each call gets the next 8-byte slot of a reserved,
 * inaccessible region: a request recurs only after 2^27 calls, and a
 * package that dereferences one faults at once instead of reading
 * something.
 */
#define REQUEST_REGION (1ul << 30)
static uint8_t *request_region;
static uint64_t request_seq;
static pthread_once_t request_once = PTHREAD_ONCE_INIT;

static void request_region_map(void)
{
        void *r = mmap(NULL, REQUEST_REGION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        request_region = r == MAP_FAILED ? NULL : r;
}

static PLSA_CLIENT_REQUEST next_request(void)
{
        pthread_once(&request_once, request_region_map);
        if (!request_region)
                return NULL; /* no request: every client-buffer call is refused */
        uint64_t seq = __atomic_add_fetch(&request_seq, 1, __ATOMIC_RELAXED);
        return (PLSA_CLIENT_REQUEST)(void *)(request_region + (seq % (REQUEST_REGION / 8)) * 8);
}

void host_call_enter(struct host_call *call, struct host_package *p)
{
        call->request = next_request();
        call->outer = current_call;
        call->caller = host_active_package;
        current_call = call;
        host_active_package = p;
}

void host_call_leave(struct host_call *call)
{
        current_call = call->outer;
        host_active_package = call->caller;
}

/* ---- the connection's client buffers ---- */

static struct client_buffer *find_block(struct host_conn *c, uint64_t offset, uint64_t len, int64_t group)
{
        for (unsigned i = 0; i < c->nbuffers; i++) {
                struct client_buffer *b = &c->buffers[i];
                if (group >= 0 && b->group != (uint64_t)group)
                        continue;
                if (offset >= b->offset && len <= b->length && offset - b->offset <= b->length - len)
                        return b;
        }
        return NULL;
}

/* Under c->lock. */
static void remove_block(struct host_conn *c, unsigned i)
{
        void *p = lsashm_section_ptr(c->reply, c->buffers[i].offset, 1);
        if (p)
                lsashm_section_free(c->reply, p); /* the section wipes it */
        c->buffers[i] = c->buffers[--c->nbuffers];
}

static void free_group(struct host_conn *c, uint64_t group)
{
        pthread_mutex_lock(&c->lock);
        for (unsigned i = c->nbuffers; i-- > 0;)
                if (c->buffers[i].group == group)
                        remove_block(c, i);
        pthread_mutex_unlock(&c->lock);
}

NTSTATUS host_free_return_buffer(struct host_conn *c, uint64_t offset)
{
        for (unsigned i = 0; i < c->nbuffers; i++) {
                struct client_buffer *b = &c->buffers[i];
                if (b->head && b->return_offset == offset) {
                        free_group(c, b->group);
                        return STATUS_SUCCESS;
                }
        }
        return STATUS_INVALID_PARAMETER;
}

void host_conn_release_buffers(struct host_conn *c)
{
        pthread_mutex_lock(&c->lock);
        if (c->reply)
                lsashm_section_delete(c->reply); /* wiped: secrets do not outlive the connection */
        c->reply = NULL;
        free(c->buffers);
        c->buffers = NULL;
        c->nbuffers = 0;
        pthread_mutex_unlock(&c->lock);
}

int host_reply_section_fd(struct host_conn *c, int *ret_fd, uint64_t *ret_size)
{
        uint64_t id;
        int r = section_identity(c->reply, &id);
        if (r < 0)
                return r;
        struct section_share sh;
        r = section_share(c->reply, id, false, &sh);
        if (r < 0)
                return r;
        *ret_fd = sh.fd;
        *ret_size = c->reply_size;
        return 0;
}

static NTSTATUS reply_section_ready(struct host_conn *c)
{
        if (c->reply)
                return STATUS_SUCCESS;
        if (!c->buffers) {
                c->buffers = calloc(HOST_MAX_CLIENT_BUFFERS, sizeof(*c->buffers));
                if (!c->buffers)
                        return STATUS_NO_MEMORY;
        }
        /* Readers-only: after this, only our own mapping can write to it. */
        struct lsashm_section_config cfg = {
                .max_size = c->reply_size,
                .initial_size = c->reply_size < 65536 ? c->reply_size : 65536,
                .flags = LSASHM_SECTION_READERS_ONLY,
                .name = "lsashm-reply",
        };
        lsashm_section_t *reply;
        int r = lsashm_section_create(&cfg, &reply);
        if (r == 0) {
                pthread_mutex_lock(&c->lock);
                c->reply = reply;
                pthread_mutex_unlock(&c->lock);
        }
        if (r < 0)
                return lsa_status_from_errno(r, STATUS_INSUFFICIENT_RESOURCES);
        return STATUS_SUCCESS;
}

NTSTATUS NTAPI host_AllocateClientBuffer(PLSA_CLIENT_REQUEST ClientRequest, ULONG LengthRequired,
                                         PVOID *ClientBaseAddress)
{
        struct host_call *call = resolve(ClientRequest);
        if (!call || !ClientBaseAddress)
                return STATUS_INVALID_PARAMETER;
        *ClientBaseAddress = NULL;
        ULONG len = LengthRequired ? LengthRequired : 1;
        if (!call->conn) {
                /* Package to package: the "client" is in this process, and
                 * its buffers are LSA heap (the caller frees the one
                 * returned with FreeReturnBuffer). */
                if (call->nheap >= HOST_CALL_HEAP_BLOCKS)
                        return STATUS_INSUFFICIENT_RESOURCES;
                void *p = calloc(1, len);
                if (!p)
                        return STATUS_NO_MEMORY;
                call->heap[call->nheap] = p;
                call->heap_len[call->nheap++] = len;
                *ClientBaseAddress = p;
                return STATUS_SUCCESS;
        }
        struct host_conn *c = call->conn;
        NTSTATUS st = reply_section_ready(c);
        if (st != STATUS_SUCCESS)
                return st;
        if (c->nbuffers >= HOST_MAX_CLIENT_BUFFERS || len > c->reply_size)
                return STATUS_NO_MEMORY;
        void *p;
        pthread_mutex_lock(&c->lock);
        if (lsashm_section_alloc(c->reply, len, &p) < 0) {
                pthread_mutex_unlock(&c->lock);
                return STATUS_NO_MEMORY; /* the client's quota: its reply section is full */
        }
        uint64_t off;
        lsashm_section_offset(c->reply, p, &off);
        c->buffers[c->nbuffers++] = (struct client_buffer){ .offset = off, .length = len, .group = call->group };
        pthread_mutex_unlock(&c->lock);
        *ClientBaseAddress = (PVOID)(uintptr_t)(c->reply_base + off);
        return STATUS_SUCCESS;
}

/* A client address as an offset into the reply region; false if outside. */
static bool reply_offset(const struct host_conn *c, const void *addr, uint64_t len, uint64_t *ret)
{
        uint64_t a = (uint64_t)(uintptr_t)addr;
        if (a < c->reply_base || a - c->reply_base > c->reply_size || len > c->reply_size - (a - c->reply_base))
                return false;
        *ret = a - c->reply_base;
        return true;
}

/* Package to package: is [addr, addr+len) inside a buffer this call
 * allocated? Its index, or -1. Nothing else in this process is the
 * caller's to hand out: an address a client chose, forwarded as
 * ClientBufferBase, must not become a read or write anywhere in lsashmd. */
static int heap_block(const struct host_call *call, const void *addr, uint64_t len)
{
        uintptr_t a = (uintptr_t)addr;
        for (unsigned i = 0; i < call->nheap; i++) {
                uintptr_t b = (uintptr_t)call->heap[i];
                if (a >= b && len <= call->heap_len[i] && a - b <= call->heap_len[i] - len)
                        return (int)i;
        }
        return -1;
}

/* The submit buffer, as the client (or calling package) addresses it. */
static const uint8_t *submit_range(const struct host_call *call, const void *addr, uint64_t len)
{
        uint64_t a = (uint64_t)(uintptr_t)addr;
        if (call->submit && a >= call->submit_base && a - call->submit_base <= call->submit_len &&
            len <= call->submit_len - (a - call->submit_base))
                return call->submit + (a - call->submit_base);
        return NULL;
}

NTSTATUS NTAPI host_FreeClientBuffer(PLSA_CLIENT_REQUEST ClientRequest, PVOID ClientBaseAddress)
{
        struct host_call *call = resolve(ClientRequest);
        if (!call)
                return STATUS_INVALID_PARAMETER;
        if (!ClientBaseAddress)
                return STATUS_SUCCESS;
        if (!call->conn) {
                int i = heap_block(call, ClientBaseAddress, 0);
                if (i < 0 || call->heap[i] != ClientBaseAddress)
                        return STATUS_INVALID_PARAMETER;
                host_heap_free(call->heap[i]);
                call->heap[i] = call->heap[--call->nheap];
                call->heap_len[i] = call->heap_len[call->nheap];
                return STATUS_SUCCESS;
        }
        struct host_conn *c = call->conn;
        uint64_t off;
        if (!reply_offset(c, ClientBaseAddress, 0, &off))
                return STATUS_INVALID_PARAMETER;
        for (unsigned i = 0; i < c->nbuffers; i++) {
                /* Only this call's own buffers: returned ones are the client's. */
                if (c->buffers[i].offset == off && c->buffers[i].group == call->group) {
                        pthread_mutex_lock(&c->lock);
                        remove_block(c, i);
                        pthread_mutex_unlock(&c->lock);
                        return STATUS_SUCCESS;
                }
        }
        return STATUS_INVALID_PARAMETER;
}

/* What both copies check first: a call in progress, something to copy, a
 * buffer of ours. NULL with *st the answer (success for 0 bytes). */
static struct host_call *copy_call(PLSA_CLIENT_REQUEST req, ULONG length, const void *ours, NTSTATUS *st)
{
        struct host_call *call = resolve(req);
        *st = !call || (length && !ours) ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
        return *st == STATUS_SUCCESS && length ? call : NULL;
}

NTSTATUS NTAPI host_CopyToClientBuffer(PLSA_CLIENT_REQUEST ClientRequest, ULONG Length,
                                       PVOID ClientBaseAddress, PVOID BufferToCopy)
{
        NTSTATUS st;
        struct host_call *call = copy_call(ClientRequest, Length, BufferToCopy, &st);
        if (!call)
                return st;
        if (!call->conn) {
                if (heap_block(call, ClientBaseAddress, Length) < 0)
                        return STATUS_ACCESS_VIOLATION;
                memmove(ClientBaseAddress, BufferToCopy, Length);
                return STATUS_SUCCESS;
        }
        struct host_conn *c = call->conn;
        uint64_t off;
        if (!c->reply || !reply_offset(c, ClientBaseAddress, Length, &off) ||
            !find_block(c, off, Length, (int64_t)call->group))
                return STATUS_ACCESS_VIOLATION;
        void *dst = lsashm_section_ptr(c->reply, off, Length);
        if (!dst)
                return STATUS_ACCESS_VIOLATION;
        memmove(dst, BufferToCopy, Length);
        return STATUS_SUCCESS;
}

NTSTATUS NTAPI host_CopyFromClientBuffer(PLSA_CLIENT_REQUEST ClientRequest, ULONG Length,
                                         PVOID BufferToCopy, PVOID ClientBaseAddress)
{
        NTSTATUS st;
        struct host_call *call = copy_call(ClientRequest, Length, BufferToCopy, &st);
        if (!call)
                return st;
        /* The submit buffer, from the copy we took when the call arrived:
         * the client cannot change it under the package. */
        const uint8_t *in_submit = submit_range(call, ClientBaseAddress, Length);
        if (in_submit) {
                memmove(BufferToCopy, in_submit, Length);
                return STATUS_SUCCESS;
        }
        if (!call->conn) {
                if (heap_block(call, ClientBaseAddress, Length) < 0)
                        return STATUS_ACCESS_VIOLATION;
                memmove(BufferToCopy, ClientBaseAddress, Length);
                return STATUS_SUCCESS;
        }
        struct host_conn *c = call->conn;
        uint64_t off;
        if (c->reply && reply_offset(c, ClientBaseAddress, Length, &off) && find_block(c, off, Length, -1)) {
                const void *src = lsashm_section_ptr(c->reply, off, Length);
                if (src) {
                        memcpy(BufferToCopy, src, Length);
                        return STATUS_SUCCESS;
                }
        }
        return STATUS_ACCESS_VIOLATION;
}

/* ---- who is calling ---- */

NTSTATUS NTAPI host_GetClientInfo(PSECPKG_CLIENT_INFO ClientInfo)
{
        if (!ClientInfo)
                return STATUS_INVALID_PARAMETER;
        memset(ClientInfo, 0, sizeof(*ClientInfo));
        /* Through package-to-package calls, to the client being served. */
        struct host_call *call = current_call;
        while (call && !call->conn)
                call = call->outer;
        ClientInfo->ImpersonationLevel = SecurityImpersonation;
        if (!current_call && (!host_active_package || host_package_thread)) {
                /* A package's own thread: no client, and no reason to
                 * answer as a privileged one. */
                ClientInfo->ProcessID = (ULONG)getpid();
                ClientInfo->ThreadID = (ULONG)gettid();
                ClientInfo->Restricted = TRUE;
                return STATUS_SUCCESS;
        }
        if (call && call->conn) {
                /* Linux has no logon session per process: one LUID per uid
                 * (luid.c), so a package can tell users apart. */
                NTSTATUS st = host_luid_of_uid(call->conn->peer.uid, &ClientInfo->LogonId);
                if (!NT_SUCCESS(st))
                        return st;
                ClientInfo->ProcessID = (ULONG)call->conn->peer.pid;
                ClientInfo->ThreadID = call->thread_id;
                ClientInfo->HasTcbPrivilege = call->trusted;
                ClientInfo->Restricted = !call->trusted;
        } else {
                /* The host itself: a package-to-package call not made for
                 * a client, or an entry point like SpInitialize. */
                NTSTATUS st = host_luid_of_uid(geteuid(), &ClientInfo->LogonId);
                if (!NT_SUCCESS(st))
                        return st;
                ClientInfo->ProcessID = (ULONG)getpid();
                ClientInfo->ThreadID = (ULONG)gettid();
                ClientInfo->HasTcbPrivilege = TRUE;
        }
        return STATUS_SUCCESS;
}

BOOLEAN NTAPI host_GetCallInfo(PSECPKG_CALL_INFO Info)
{
        struct host_call *call = current_call;
        if (!Info || !call)
                return FALSE;
        memset(Info, 0, sizeof(*Info));
        /* The process is the client being served, as GetClientInfo says;
         * the attributes are this call's own (IN_PROC, RECURSIVE). */
        const struct host_call *client = call;
        while (client && !client->conn)
                client = client->outer;
        Info->ProcessId = client ? (ULONG)client->conn->peer.pid : (ULONG)getpid();
        Info->ThreadId = client ? client->thread_id : (ULONG)gettid();
        Info->Attributes = call->attributes;
        Info->CallCount = call->call_count;
        return TRUE;
}

/* ---- a client's call ---- */

void host_call_from_client(struct host *h, struct host_conn *c, struct host_package *p,
                           uint32_t thread_id, uint64_t submit_base, struct host_submit *submit,
                           struct lsa_wire_call_reply *reply)
{
        memset(reply, 0, sizeof(*reply));
        bool trusted = c->mode == LSA_WIRE_MODE_LOGON;
        PLSA_AP_CALL_PACKAGE fn = trusted ? p->table.CallPackage : p->table.CallPackageUntrusted;
        uint64_t conn_calls = __atomic_add_fetch(&c->calls, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&p->calls, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&h->calls, 1, __ATOMIC_RELAXED);
        if (!fn) {
                reply->status = STATUS_NOT_SUPPORTED;
                reply->protocol_status = STATUS_NOT_SUPPORTED;
                return;
        }
        /* The package gets a private buffer (host_submit_take): it may keep
         * pointers into it for the call, write to it, and the client cannot
         * change it meanwhile. */
        uint8_t *copy = submit->data;
        uint32_t submit_len = submit->length;
        struct host_call call = {
                .conn = c,
                .group = ++c->next_group,
                .submit_base = submit_base,
                .submit_len = submit_len,
                .submit = copy,
                .thread_id = thread_id,
                .trusted = trusted,
                .attributes = trusted ? SECPKG_CALL_IS_TCB : 0,
                .call_count = (ULONG)conn_calls,
        };
        PVOID ret = NULL;
        ULONG ret_len = 0;
        NTSTATUS proto = STATUS_SUCCESS;
        const char *outer_entry = host_active_entry;
        host_active_entry = trusted ? "CallPackage" : "CallPackageUntrusted";
        host_call_enter(&call, p);
        NTSTATUS st = fn(call.request, copy, (PVOID)(uintptr_t)submit_base, submit_len, &ret, &ret_len, &proto);
        host_call_leave(&call);
        host_active_entry = outer_entry;

        reply->status = st;
        reply->protocol_status = proto;
        if (!NT_SUCCESS(st))
                __atomic_add_fetch(&p->failed_calls, 1, __ATOMIC_RELAXED);
        uint64_t off = 0;
        int kept = host_call_keep_buffer(c, &call, ret, ret_len, NT_SUCCESS(st), &off);
        if (kept < 0) {
                host_logf(h, HOST_LOG_WARNING "package %s returned a buffer outside its client buffers "
                             "(length %u); call refused", p->name, (unsigned)ret_len);
                reply->status = STATUS_INTERNAL_ERROR;
                reply->protocol_status = STATUS_INTERNAL_ERROR;
                __atomic_add_fetch(&p->failed_calls, 1, __ATOMIC_RELAXED);
        }
        if (kept > 0) {
                reply->flags |= LSA_WIRE_REPLY_HAS_BUFFER;
                reply->return_offset = off;
                reply->return_length = ret_len;
        }
}

int host_call_keep_buffer(struct host_conn *c, const struct host_call *call, const void *ret, ULONG ret_len,
                          bool succeeded, uint64_t *ret_offset)
{
        uint64_t off = 0;
        struct client_buffer *b = NULL;
        int r = 0;
        if (ret && succeeded && ret_len > 0) {
                if (c->reply && reply_offset(c, ret, ret_len, &off))
                        b = find_block(c, off, ret_len, (int64_t)call->group);
                if (!b)
                        r = -1;
        }
        if (!b) {
                free_group(c, call->group);
                return r;
        }
        b->head = true;
        b->return_offset = off;
        *ret_offset = off;
        return 1;
}

NTSTATUS host_conn_return_buffer(struct host_conn *c, uint32_t len, void **ours, uint64_t *client_addr,
                                 uint64_t *ret_offset)
{
        NTSTATUS st = reply_section_ready(c);
        if (st != STATUS_SUCCESS)
                return st;
        if (!len || c->nbuffers >= HOST_MAX_CLIENT_BUFFERS || len > c->reply_size)
                return STATUS_NO_MEMORY;
        void *p;
        if (lsashm_section_alloc(c->reply, len, &p) < 0)
                return STATUS_NO_MEMORY;
        uint64_t off;
        lsashm_section_offset(c->reply, p, &off);
        c->buffers[c->nbuffers++] = (struct client_buffer){
                .offset = off, .length = len, .group = ++c->next_group, .return_offset = off, .head = true
        };
        *ours = p;
        *client_addr = c->reply_base + off;
        *ret_offset = off;
        return STATUS_SUCCESS;
}

/* ---- package to package ---- */

enum pkg_entry { ENTRY_CALL, ENTRY_PASSTHROUGH };

static NTSTATUS call_package(enum pkg_entry entry, PUNICODE_STRING name, PVOID client_base, PVOID submit,
                             ULONG submit_len, PVOID *ret, PULONG ret_len, PNTSTATUS proto)
{
        if (!ret || !ret_len || !proto || (submit_len && !submit))
                return STATUS_INVALID_PARAMETER;
        *ret = NULL;
        *ret_len = 0;
        struct host *h = host_global;
        struct host_package *p = h ? host_find_package_utf16(h, name) : NULL;
        if (!p)
                return STATUS_NO_SUCH_PACKAGE;
        unsigned depth = 0;
        for (struct host_call *c = current_call; c; c = c->outer)
                depth++;
        if (depth >= HOST_MAX_CALL_DEPTH)
                return STATUS_INSUFFICIENT_RESOURCES;
        PLSA_AP_CALL_PACKAGE fn = entry == ENTRY_CALL ? p->table.CallPackage : p->table.CallPackagePassthrough;
        if (!fn)
                return STATUS_NOT_SUPPORTED;
        struct host_call call = {
                .conn = NULL,
                .submit_base = (uint64_t)(uintptr_t)client_base,
                .submit_len = submit_len,
                .submit = submit,
                .trusted = true,
                .attributes = SECPKG_CALL_IN_PROC | SECPKG_CALL_IS_TCB |
                              (current_call ? SECPKG_CALL_RECURSIVE : 0),
                .call_count = 1,
        };
        __atomic_add_fetch(&p->calls, 1, __ATOMIC_RELAXED);
        const char *outer_entry = host_active_entry;
        host_active_entry = entry == ENTRY_CALL ? "CallPackage" : "CallPackagePassthrough";
        host_call_enter(&call, p);
        NTSTATUS st = fn(call.request, submit, client_base, submit_len, ret, ret_len, proto);
        host_call_leave(&call);
        host_active_entry = outer_entry;
        /* The rule of the client path, in process: a return buffer is one the
         * callee allocated in this call (the caller frees it with
         * FreeReturnBuffer, which must never meet the callee's own memory),
         * and a failed call or one without a buffer leaves none behind.
         * Other buffers of a successful call stay the caller's: the return
         * buffer may point into them. */
        int kept = -1;
        if (*ret) {
                for (unsigned i = 0; i < call.nheap; i++)
                        if (call.heap[i] == *ret)
                                kept = (int)i;
                if (kept < 0 || *ret_len > call.heap_len[kept]) {
                        host_logf(h,
                                  HOST_LOG_WARNING
                                  "package %s returned a buffer that is not its client buffer; call refused",
                                  p->name);
                        st = STATUS_INTERNAL_ERROR;
                        *proto = STATUS_INTERNAL_ERROR;
                }
        }
        /* The caller owns them now: LSA heap, which FreeReturnBuffer and
         * FreeLsaHeap check before they free. */
        for (unsigned i = 0; NT_SUCCESS(st) && kept >= 0 && i < call.nheap; i++) {
                if (host_heap_adopt(call.heap[i], call.heap_len[i]) < 0) {
                        st = STATUS_NO_MEMORY;
                        *proto = STATUS_NO_MEMORY;
                }
        }
        if (!NT_SUCCESS(st) || kept < 0) {
                for (unsigned i = 0; i < call.nheap; i++)
                        host_heap_free(call.heap[i]);
                *ret = NULL;
                *ret_len = 0;
        }
        if (!NT_SUCCESS(st))
                __atomic_add_fetch(&p->failed_calls, 1, __ATOMIC_RELAXED);
        return st;
}

NTSTATUS NTAPI host_CallPackage(PUNICODE_STRING AuthenticationPackage, PVOID ProtocolSubmitBuffer,
                                ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        return call_package(ENTRY_CALL, AuthenticationPackage, ProtocolSubmitBuffer, ProtocolSubmitBuffer,
                            SubmitBufferLength, ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus);
}

NTSTATUS NTAPI host_CallPackageEx(PUNICODE_STRING AuthenticationPackage, PVOID ClientBufferBase,
                                  PVOID ProtocolSubmitBuffer, ULONG SubmitBufferLength,
                                  PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                  PNTSTATUS ProtocolStatus)
{
        return call_package(ENTRY_CALL, AuthenticationPackage, ClientBufferBase, ProtocolSubmitBuffer,
                            SubmitBufferLength, ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus);
}

NTSTATUS NTAPI host_CallPackagePassthrough(PUNICODE_STRING AuthenticationPackage, PVOID ClientBufferBase,
                                           PVOID ProtocolSubmitBuffer, ULONG SubmitBufferLength,
                                           PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                           PNTSTATUS ProtocolStatus)
{
        return call_package(ENTRY_PASSTHROUGH, AuthenticationPackage, ClientBufferBase, ProtocolSubmitBuffer,
                            SubmitBufferLength, ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus);
}

/* Return buffers of package-to-package calls are LSA heap (adopted when the
 * call returned): checked, wiped, freed; anything else is refused. */
VOID NTAPI host_FreeReturnBuffer(PVOID Base)
{
        host_heap_free_checked(Base, "FreeReturnBuffer");
}
