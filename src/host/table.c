/* SPDX-License-Identifier: MIT */
/*
 * The LSA_SECPKG_FUNCTION_TABLE every package gets, and the members that
 * need no connection or section: the LSA and private heaps, logon sessions,
 * LsaProtectMemory, the failure-reason ledger, the extended call flags and
 * GetClientInfoEx. Client buffers, package-to-package calls and client info
 * are calls.c's; the four shared-memory members are sections.c's.
 *
 * No slot is NULL: packages call members without checking them. Members
 * that need Windows tokens, SAM, the credential manager or LSA internals
 * answer STATUS_NOT_IMPLEMENTED and clear every out-parameter they have, so
 * that a package which ignores the status still reads zeros, not garbage:
 *   AddCredential GetCredentials DeleteCredential ImpersonateClient
 *   UnloadPackage DuplicateHandle SaveSupplementalCredentials
 *   CancelNotification MapBuffer CreateToken OpenSamUser GetUserCredentials
 *   GetUserAuthData CloseSamUser ConvertAuthDataToToken ClientCallback
 *   UpdateCredentials GetAuthDataForUser CrackSingleName AuditAccountLogon
 *   OpenTokenByLogonId ExpandAuthDataForDomain CreateTokenEx
 *   DuplicateTokenHandle GetServiceAccountPassword CheckProtectedUserByToken
 *   QueryClientRequest GetAppModeInfo SetAppModeInfo
 * CreateThread and RegisterNotification return NULL (no thread, no
 * notification); AuditLogon, AuditLogonEx and DummyFunction1-7 (the
 * credential-manager slots, of LsaProtectMemory's type) do nothing.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "host/host-internal.h"

/* ---- LSA heap and private heap ----
 *
 * Both are the C heap, zero-filled like HEAP_ZERO_MEMORY. They stay one heap
 * under two names because packages mix them up, and because
 * host_FreeReturnBuffer releases with plain free() whatever a called package
 * returned, LSA heap included: an in-band header or a separate allocator
 * would break both. */

/* A larger request is a length computed from underflowed arithmetic, not a
 * need: with overcommit it would succeed and fail later, when touched. */
#define HEAP_MAX ((SIZE_T)1 << 30)

static void *heap_alloc(SIZE_T length)
{
        if (length > HEAP_MAX)
                return NULL;
        /* Windows heaps return a block for 0 bytes, and packages take NULL
         * to mean "out of memory": a unique 1-byte block instead. */
        return calloc(1, length ? length : 1);
}

static void heap_free(void *p)
{
        if (!p)
                return;
        /* Blocks hold credentials and keys, and the next owner of the memory
         * may be any code in the process. The free has no length argument
         * and blocks carry no header, so ask the allocator: the usable size
         * covers every byte the package could have written. */
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
}

static LSA_ALLOCATE_LSA_HEAP table_AllocateLsaHeap;
static LSA_FREE_LSA_HEAP table_FreeLsaHeap;
static LSA_ALLOCATE_PRIVATE_HEAP table_AllocatePrivateHeap;
static LSA_FREE_PRIVATE_HEAP table_FreePrivateHeap;

static PVOID NTAPI table_AllocateLsaHeap(ULONG Length) { return heap_alloc(Length); }
static VOID NTAPI table_FreeLsaHeap(PVOID Base) { heap_free(Base); }
static PVOID NTAPI table_AllocatePrivateHeap(SIZE_T Length) { return heap_alloc(Length); }
static VOID NTAPI table_FreePrivateHeap(PVOID Base) { heap_free(Base); }

/* ---- logon sessions ----
 *
 * A set of LUIDs: open addressing with linear probing, at most half full,
 * deletion by backward shift (no tombstones to accumulate). Packages may
 * call from their own threads, hence the lock. */

#define SESSIONS_MAX 65536u
#define SESSIONS_MIN_SLOTS 64u

struct session_slot {
        uint64_t luid;
        bool used; /* every 64-bit value, 0 included, is a valid LUID */
};

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session_slot *sessions;
static size_t sessions_slots; /* a power of two, or 0 */
static size_t sessions_count;

static uint64_t luid_key(const LUID *luid)
{
        return (uint64_t)(uint32_t)luid->HighPart << 32 | luid->LowPart;
}

/* LUIDs are often sequential: mix them (splitmix64's finaliser) so that
 * neighbours do not form one long probe run. */
static size_t session_home(uint64_t k, size_t mask)
{
        k ^= k >> 30;
        k *= UINT64_C(0xbf58476d1ce4e5b9);
        k ^= k >> 27;
        k *= UINT64_C(0x94d049bb133111eb);
        k ^= k >> 31;
        return (size_t)k & mask;
}

/* The slot holding k, or the empty slot where it would go. */
static size_t session_probe(const struct session_slot *s, size_t slots, uint64_t k)
{
        size_t mask = slots - 1;
        size_t i = session_home(k, mask);
        while (s[i].used && s[i].luid != k)
                i = (i + 1) & mask;
        return i;
}

static int sessions_grow(void)
{
        size_t slots = sessions_slots ? sessions_slots * 2 : SESSIONS_MIN_SLOTS;
        struct session_slot *s = calloc(slots, sizeof(*s));
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < sessions_slots; i++)
                if (sessions[i].used)
                        s[session_probe(s, slots, sessions[i].luid)] = sessions[i];
        free(sessions);
        sessions = s;
        sessions_slots = slots;
        return 0;
}

static void session_remove(size_t i)
{
        size_t mask = sessions_slots - 1;
        /* Pull back every later member of the probe run that may sit at i
         * (its home is not in (i, j]), so that lookups never meet a hole
         * before the key they look for. */
        for (size_t j = (i + 1) & mask; sessions[j].used; j = (j + 1) & mask) {
                size_t home = session_home(sessions[j].luid, mask);
                if (((j - home) & mask) >= ((j - i) & mask)) {
                        sessions[i] = sessions[j];
                        i = j;
                }
        }
        sessions[i].used = false;
}

static LSA_CREATE_LOGON_SESSION table_CreateLogonSession;
static LSA_DELETE_LOGON_SESSION table_DeleteLogonSession;

static NTSTATUS NTAPI table_CreateLogonSession(PLUID LogonId)
{
        if (!LogonId)
                return STATUS_INVALID_PARAMETER;
        uint64_t k = luid_key(LogonId);
        NTSTATUS st = STATUS_SUCCESS;
        pthread_mutex_lock(&sessions_lock);
        if (sessions_slots && sessions[session_probe(sessions, sessions_slots, k)].used) {
                st = STATUS_LOGON_SESSION_COLLISION;
        } else if (sessions_count >= SESSIONS_MAX) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else if ((sessions_count + 1) * 2 > sessions_slots && sessions_grow() < 0) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else {
                struct session_slot *s = &sessions[session_probe(sessions, sessions_slots, k)];
                s->luid = k;
                s->used = true;
                sessions_count++;
        }
        pthread_mutex_unlock(&sessions_lock);
        return st;
}

static NTSTATUS NTAPI table_DeleteLogonSession(PLUID LogonId)
{
        if (!LogonId)
                return STATUS_INVALID_PARAMETER;
        uint64_t k = luid_key(LogonId);
        NTSTATUS st = STATUS_NO_SUCH_LOGON_SESSION;
        pthread_mutex_lock(&sessions_lock);
        if (sessions_slots) {
                size_t i = session_probe(sessions, sessions_slots, k);
                if (sessions[i].used) {
                        session_remove(i);
                        sessions_count--;
                        st = STATUS_SUCCESS;
                }
        }
        pthread_mutex_unlock(&sessions_lock);
        return st;
}

void host_logon_sessions_clear(void)
{
        pthread_mutex_lock(&sessions_lock);
        free(sessions);
        sessions = NULL;
        sessions_slots = 0;
        sessions_count = 0;
        pthread_mutex_unlock(&sessions_lock);
}

/* ---- LsaProtectMemory / LsaUnprotectMemory ----
 *
 * A keyed, length-preserving permutation of the buffer, in place, under keys
 * drawn once per process. It keeps secrets a package holds for a long time
 * (passwords, keys) unreadable in a core dump, a swapped-out page, or memory
 * another process manages to read, unless the keys are read too: they live
 * in their own locked page, excluded from core dumps and read-only.
 * It is not encryption against anyone who can run code in this process, and
 * it is deterministic: equal buffers of equal size protect to equal bytes,
 * which reveals equality. No keystream is reused, though: buffers that
 * differ anywhere protect to bytes whose XOR says nothing of theirs.
 *
 * 17 bytes and more: a three-round unbalanced Feistel network over
 * L (the first 16 bytes) and R (the rest):
 *     R ^= XChaCha20(K1, nonce = L || length)
 *     L ^= BLAKE2b-128(K2, R)
 *     R ^= XChaCha20(K3, nonce = L || length)
 * Each round is its own inverse given the other half, so unprotecting runs
 * the same rounds in reverse order. The first round alone would reuse a
 * keystream for buffers sharing L; the second makes L depend on all of R and
 * the third uses the new L, so a change anywhere changes the whole output.
 * 1 to 16 bytes: too short to split as above, so a balanced Feistel network
 * of SMALL_ROUNDS rounds over nibbles: the two halves are 4n bits each
 * (an odd-length buffer splits inside its middle byte), the round function
 * a keyed BLAKE2b of the round number, the length and the other half. As in
 * NIST's FF1 format-preserving encryption, ten rounds. */

#define WIDE_HALF 16u
#define SMALL_ROUNDS 10u

struct protect_keys {
        uint8_t round1[crypto_stream_xchacha20_KEYBYTES];
        uint8_t round2[crypto_generichash_KEYBYTES];
        uint8_t round3[crypto_stream_xchacha20_KEYBYTES];
        uint8_t small[crypto_generichash_KEYBYTES];
};

_Static_assert(crypto_stream_xchacha20_NONCEBYTES == WIDE_HALF + 8, "nonce is L and a 64-bit length");
_Static_assert(crypto_generichash_BYTES_MIN <= WIDE_HALF, "BLAKE2b gives 16 bytes");

static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static const struct protect_keys *keys;
static int keys_error;

static void keys_setup(void)
{
        if (sodium_init() < 0) {
                keys_error = -EIO;
                return;
        }
        /* Guard pages, mlock (when RLIMIT_MEMLOCK allows) and MADV_DONTDUMP.
         * Never freed: the keys are needed until the process ends. */
        struct protect_keys *k = sodium_malloc(sizeof(*k));
        if (!k) {
                keys_error = -ENOMEM;
                return;
        }
        randombytes_buf(k, sizeof(*k));
        sodium_mprotect_readonly(k);
        keys = k;
}

int host_protect_init(void)
{
        pthread_once(&keys_once, keys_setup);
        return keys ? 0 : keys_error;
}

static const struct protect_keys *keys_get(void)
{
        if (host_protect_init() < 0) {
                /* The host refuses to start without keys (host_create), so
                 * only a process that skipped it gets here. Returning the
                 * buffer unchanged would be a silent no-op on secrets. */
                fputs("lsashm: LsaProtectMemory: no keys (libsodium failed to initialise)\n", stderr);
                abort();
        }
        return keys;
}

static void wide_stream(uint8_t *buf, size_t n, const uint8_t *key)
{
        uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES];
        uint64_t len = n;
        memcpy(nonce, buf, WIDE_HALF);
        for (unsigned i = 0; i < 8; i++)
                nonce[WIDE_HALF + i] = (uint8_t)(len >> (8 * i));
        crypto_stream_xchacha20_xor(buf + WIDE_HALF, buf + WIDE_HALF, n - WIDE_HALF, nonce, key);
        sodium_memzero(nonce, sizeof(nonce));
}

static void wide_hash(uint8_t *buf, size_t n, const uint8_t *key)
{
        uint8_t h[WIDE_HALF];
        crypto_generichash(h, sizeof(h), buf + WIDE_HALF, n - WIDE_HALF, key, crypto_generichash_KEYBYTES);
        for (unsigned i = 0; i < WIDE_HALF; i++)
                buf[i] ^= h[i];
        sodium_memzero(h, sizeof(h));
}

static void wide_transform(uint8_t *buf, size_t n, bool protect)
{
        const struct protect_keys *k = keys_get();
        wide_stream(buf, n, protect ? k->round1 : k->round3);
        wide_hash(buf, n, k->round2);
        wide_stream(buf, n, protect ? k->round3 : k->round1);
}

/* count nibbles of buf from nibble first, as one number; nibble 0 is the
 * high nibble of byte 0. */
static uint64_t nibbles_get(const uint8_t *buf, unsigned first, unsigned count)
{
        uint64_t v = 0;
        for (unsigned i = first; i < first + count; i++)
                v = v << 4 | (uint64_t)((buf[i / 2] >> (i % 2 ? 0 : 4)) & 0xF);
        return v;
}

static void nibbles_put(uint8_t *buf, unsigned first, unsigned count, uint64_t v)
{
        for (unsigned i = first + count; i-- > first;) {
                unsigned shift = i % 2 ? 0 : 4;
                buf[i / 2] = (uint8_t)((buf[i / 2] & ~(0xFu << shift)) | (unsigned)(v & 0xF) << shift);
                v >>= 4;
        }
}

static uint64_t small_round(const struct protect_keys *k, unsigned round, unsigned n, uint64_t half,
                            uint64_t mask)
{
        uint8_t in[10], out[crypto_generichash_BYTES_MIN];
        in[0] = (uint8_t)round;
        in[1] = (uint8_t)n;
        for (unsigned i = 0; i < 8; i++)
                in[2 + i] = (uint8_t)(half >> (8 * i));
        crypto_generichash(out, sizeof(out), in, sizeof(in), k->small, sizeof(k->small));
        uint64_t f = 0;
        for (unsigned i = 0; i < 8; i++)
                f |= (uint64_t)out[i] << (8 * i);
        sodium_memzero(in, sizeof(in));
        sodium_memzero(out, sizeof(out));
        return f & mask;
}

static void small_transform(uint8_t *buf, unsigned n, bool protect)
{
        const struct protect_keys *k = keys_get();
        /* n nibbles a half: at most 64 bits, for n <= 16. */
        uint64_t mask = n == 16 ? UINT64_MAX : (UINT64_C(1) << (4 * n)) - 1;
        uint64_t half[2] = { nibbles_get(buf, 0, n), nibbles_get(buf, n, n) };
        for (unsigned i = 0; i < SMALL_ROUNDS; i++) {
                unsigned round = protect ? i : SMALL_ROUNDS - 1 - i;
                /* Even rounds change the left half, odd ones the right. */
                half[round % 2] ^= small_round(k, round, n, half[1 - round % 2], mask);
        }
        nibbles_put(buf, 0, n, half[0]);
        nibbles_put(buf, n, n, half[1]);
        sodium_memzero(half, sizeof(half));
}

static void protect_transform(PVOID Buffer, ULONG BufferSize, bool protect)
{
        if (!Buffer || BufferSize == 0)
                return;
        if (BufferSize > WIDE_HALF)
                wide_transform(Buffer, BufferSize, protect);
        else
                small_transform(Buffer, BufferSize, protect);
}

static LSA_PROTECT_MEMORY table_LsaProtectMemory;
static LSA_PROTECT_MEMORY table_LsaUnprotectMemory;

static VOID NTAPI table_LsaProtectMemory(PVOID Buffer, ULONG BufferSize)
{
        protect_transform(Buffer, BufferSize, true);
}

static VOID NTAPI table_LsaUnprotectMemory(PVOID Buffer, ULONG BufferSize)
{
        protect_transform(Buffer, BufferSize, false);
}

/* ---- the failure-reason ledger ----
 *
 * Windows' contract (ntsecpkg.h): when Negotiate tries packages in turn, a
 * package that fails may record why with SetSecpkgFailureReason, and the
 * next one reads it with GetSecpkgFailureReason, naming the package that
 * failed. So a reason belongs to the package that set it (the one whose
 * entry point is running) and lives as long as the client call in which it
 * was set: a later call, even on the same thread, does not see it. Calls run
 * on one thread, so the ledger is per thread and needs no lock. */

struct ledger_entry {
        bool used;
        ULONG_PTR package;
        uint64_t conn_serial; /* the client call: its connection and ... */
        ULONG call_count;     /* ... its number there; 0 and 0 outside any */
        SECPKG_FAILURE_REASON reason;
};

static _Thread_local struct {
        struct ledger_entry e[HOST_MAX_PACKAGES];
        unsigned next_evict;
} ledger;

/* Which client call this thread is in: the outermost call of the chain
 * (package-to-package calls share their client's ledger). */
static void ledger_epoch(uint64_t *serial, ULONG *count)
{
        struct host_call *c = host_call_current();
        while (c && c->outer)
                c = c->outer;
        *serial = c && c->conn ? c->conn->serial : 0;
        *count = c && c->conn ? c->call_count : 0;
}

static bool ledger_current(const struct ledger_entry *e, uint64_t serial, ULONG count)
{
        return e->used && e->conn_serial == serial && e->call_count == count;
}

static LSA_GET_SECPKG_FAILURE_REASON table_GetSecpkgFailureReason;
static LSA_SET_SECPKG_FAILURE_REASON table_SetSecpkgFailureReason;

static NTSTATUS NTAPI table_SetSecpkgFailureReason(const SECPKG_FAILURE_REASON Reason)
{
        struct host_package *p = host_active_package;
        if (!p)
                return STATUS_NO_SUCH_PACKAGE; /* not called from a package's entry point */
        uint64_t serial;
        ULONG count;
        ledger_epoch(&serial, &count);
        struct ledger_entry *slot = NULL;
        for (unsigned i = 0; i < HOST_MAX_PACKAGES && !slot; i++)
                if (ledger.e[i].used && ledger.e[i].package == p->id)
                        slot = &ledger.e[i];
        for (unsigned i = 0; i < HOST_MAX_PACKAGES && !slot; i++)
                if (!ledger_current(&ledger.e[i], serial, count))
                        slot = &ledger.e[i];
        if (!slot) /* as many reasons in this call as packages: recycle */
                slot = &ledger.e[ledger.next_evict++ % HOST_MAX_PACKAGES];
        *slot = (struct ledger_entry){
                .used = true,
                .package = p->id,
                .conn_serial = serial,
                .call_count = count,
                .reason = Reason,
        };
        return STATUS_SUCCESS;
}

/* Nothing recorded: STATUS_NOT_FOUND, so a caller can tell it from a
 * recorded reason, and a zeroed *Reason for one that does not check. */
static NTSTATUS NTAPI table_GetSecpkgFailureReason(const ULONG_PTR PackageID, SECPKG_FAILURE_REASON *Reason)
{
        if (!Reason)
                return STATUS_INVALID_PARAMETER;
        memset(Reason, 0, sizeof(*Reason));
        uint64_t serial;
        ULONG count;
        ledger_epoch(&serial, &count);
        for (unsigned i = 0; i < HOST_MAX_PACKAGES; i++) {
                const struct ledger_entry *e = &ledger.e[i];
                if (ledger_current(e, serial, count) && e->package == PackageID) {
                        *Reason = e->reason;
                        return STATUS_SUCCESS;
                }
        }
        return STATUS_NOT_FOUND;
}

/* ---- the call in progress ---- */

/* Kerberos calls this unconditionally: outside any call the answer is 0. */
NTSTATUS NTAPI host_GetExtendedCallFlags(PULONG Flags)
{
        if (!Flags)
                return STATUS_INVALID_PARAMETER;
        struct host_call *c = host_call_current();
        *Flags = c ? c->attributes : 0;
        return STATUS_SUCCESS;
}

/* GetClientInfo's answer in the larger structure. lsashm has no
 * identification tokens: IdentificationLogonId and IdentificationToken are
 * zero. A StructSize smaller than the structure is a caller built against
 * some other layout: refused rather than guessed at. */
static LSA_GET_CLIENT_INFO_EX table_GetClientInfoEx;

static NTSTATUS NTAPI table_GetClientInfoEx(PSECPKG_CLIENT_INFO_EX ClientInfo, ULONG StructSize)
{
        if (!ClientInfo || StructSize < sizeof(*ClientInfo))
                return STATUS_INVALID_PARAMETER;
        SECPKG_CLIENT_INFO info;
        NTSTATUS st = host_GetClientInfo(&info);
        memset(ClientInfo, 0, sizeof(*ClientInfo));
        if (!NT_SUCCESS(st))
                return st;
        ClientInfo->LogonId = info.LogonId;
        ClientInfo->ProcessID = info.ProcessID;
        ClientInfo->ThreadID = info.ThreadID;
        ClientInfo->HasTcbPrivilege = info.HasTcbPrivilege;
        ClientInfo->Impersonating = info.Impersonating;
        ClientInfo->Restricted = info.Restricted;
        ClientInfo->ClientFlags = info.ClientFlags;
        ClientInfo->ImpersonationLevel = info.ImpersonationLevel;
        ClientInfo->ClientToken = info.ClientToken;
        return STATUS_SUCCESS;
}

/* ---- not implemented (see the list at the top) ----
 * Each is declared with its table typedef first, so the compiler checks the
 * prototype. Out-parameters are cleared; in/out ones are left alone. */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define NI STATUS_NOT_IMPLEMENTED
#define CLEAR(p) do { if (p) memset((p), 0, sizeof(*(p))); } while (0)

static LSA_ADD_CREDENTIAL table_AddCredential;
static LSA_GET_CREDENTIALS table_GetCredentials;
static LSA_DELETE_CREDENTIAL table_DeleteCredential;
static LSA_IMPERSONATE_CLIENT table_ImpersonateClient;
static LSA_UNLOAD_PACKAGE table_UnloadPackage;
static LSA_DUPLICATE_HANDLE table_DuplicateHandle;
static LSA_SAVE_SUPPLEMENTAL_CREDENTIALS table_SaveSupplementalCredentials;
static LSA_CREATE_THREAD table_CreateThread;
static LSA_REGISTER_NOTIFICATION table_RegisterNotification;
static LSA_CANCEL_NOTIFICATION table_CancelNotification;
static LSA_MAP_BUFFER table_MapBuffer;
static LSA_CREATE_TOKEN table_CreateToken;
static LSA_AUDIT_LOGON table_AuditLogon;
static LSA_OPEN_SAM_USER table_OpenSamUser;
static LSA_GET_USER_CREDENTIALS table_GetUserCredentials;
static LSA_GET_USER_AUTH_DATA table_GetUserAuthData;
static LSA_CLOSE_SAM_USER table_CloseSamUser;
static LSA_CONVERT_AUTH_DATA_TO_TOKEN table_ConvertAuthDataToToken;
static LSA_CLIENT_CALLBACK table_ClientCallback;
static LSA_UPDATE_PRIMARY_CREDENTIALS table_UpdateCredentials;
static LSA_GET_AUTH_DATA_FOR_USER table_GetAuthDataForUser;
static LSA_CRACK_SINGLE_NAME table_CrackSingleName;
static LSA_AUDIT_ACCOUNT_LOGON table_AuditAccountLogon;
static LSA_PROTECT_MEMORY table_DummyFunction;
static LSA_OPEN_TOKEN_BY_LOGON_ID table_OpenTokenByLogonId;
static LSA_EXPAND_AUTH_DATA_FOR_DOMAIN table_ExpandAuthDataForDomain;
static LSA_CREATE_TOKEN_EX table_CreateTokenEx;
static LSA_GET_SERVICE_ACCOUNT_PASSWORD table_GetServiceAccountPassword;
static LSA_AUDIT_LOGON_EX table_AuditLogonEx;
static LSA_CHECK_PROTECTED_USER_BY_TOKEN table_CheckProtectedUserByToken;
static LSA_QUERY_CLIENT_REQUEST table_QueryClientRequest;
static LSA_GET_APP_MODE_INFO table_GetAppModeInfo;
static LSA_SET_APP_MODE_INFO table_SetAppModeInfo;

static NTSTATUS NTAPI table_AddCredential(PLUID LogonId, ULONG AuthenticationPackage, PLSA_STRING PrimaryKeyValue,
                                          PLSA_STRING Credentials)
{ return NI; }

/* PrimaryKeyValue is an output only when RetrieveAllCredentials is set;
 * QueryContext is the caller's enumeration cookie. */
static NTSTATUS NTAPI table_GetCredentials(PLUID LogonId, ULONG AuthenticationPackage, PULONG QueryContext,
                                           BOOLEAN RetrieveAllCredentials, PLSA_STRING PrimaryKeyValue,
                                           PULONG PrimaryKeyLength, PLSA_STRING Credentials)
{
        if (RetrieveAllCredentials)
                CLEAR(PrimaryKeyValue);
        CLEAR(PrimaryKeyLength);
        CLEAR(Credentials);
        return NI;
}

static NTSTATUS NTAPI table_DeleteCredential(PLUID LogonId, ULONG AuthenticationPackage, PLSA_STRING PrimaryKeyValue)
{ return NI; }

static NTSTATUS NTAPI table_ImpersonateClient(VOID) { return NI; }
static NTSTATUS NTAPI table_UnloadPackage(VOID) { return NI; }

static NTSTATUS NTAPI table_DuplicateHandle(HANDLE SourceHandle, PHANDLE DestionationHandle)
{ CLEAR(DestionationHandle); return NI; }

static NTSTATUS NTAPI table_SaveSupplementalCredentials(PLUID LogonId, ULONG SupplementalCredSize,
                                                        PVOID SupplementalCreds, BOOLEAN Synchronous)
{ return NI; }

static HANDLE NTAPI table_CreateThread(SEC_ATTRS SecurityAttributes, ULONG StackSize, SEC_THREAD_START StartFunction,
                                       PVOID ThreadParameter, ULONG CreationFlags, PULONG ThreadId)
{ CLEAR(ThreadId); return NULL; }

static HANDLE NTAPI table_RegisterNotification(SEC_THREAD_START StartFunction, PVOID Parameter,
                                               ULONG NotificationType, ULONG NotificationClass,
                                               ULONG NotificationFlags, ULONG IntervalMinutes, HANDLE WaitEvent)
{ return NULL; }

static NTSTATUS NTAPI table_CancelNotification(HANDLE NotifyHandle) { return NI; }

static NTSTATUS NTAPI table_MapBuffer(PSecBuffer InputBuffer, PSecBuffer OutputBuffer)
{ CLEAR(OutputBuffer); return NI; }

static NTSTATUS NTAPI table_CreateToken(PLUID LogonId, PTOKEN_SOURCE TokenSource, SECURITY_LOGON_TYPE LogonType,
                                        SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                        LSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID TokenInformation,
                                        PTOKEN_GROUPS TokenGroups, PUNICODE_STRING AccountName,
                                        PUNICODE_STRING AuthorityName, PUNICODE_STRING Workstation,
                                        PUNICODE_STRING ProfilePath, PHANDLE Token, PNTSTATUS SubStatus)
{ CLEAR(Token); CLEAR(SubStatus); return NI; }

static VOID NTAPI table_AuditLogon(NTSTATUS Status, NTSTATUS SubStatus, PUNICODE_STRING AccountName,
                                   PUNICODE_STRING AuthenticatingAuthority, PUNICODE_STRING WorkstationName,
                                   PSID UserSid, SECURITY_LOGON_TYPE LogonType, PTOKEN_SOURCE TokenSource,
                                   PLUID LogonId)
{ }

static NTSTATUS NTAPI table_OpenSamUser(PSECURITY_STRING Name, SECPKG_NAME_TYPE NameType, PSECURITY_STRING Prefix,
                                        BOOLEAN AllowGuest, ULONG Reserved, PVOID *UserHandle)
{ CLEAR(UserHandle); return NI; }

static NTSTATUS NTAPI table_GetUserCredentials(PVOID UserHandle, PVOID *PrimaryCreds, PULONG PrimaryCredsSize,
                                               PVOID *SupplementalCreds, PULONG SupplementalCredsSize)
{
        CLEAR(PrimaryCreds);
        CLEAR(PrimaryCredsSize);
        CLEAR(SupplementalCreds);
        CLEAR(SupplementalCredsSize);
        return NI;
}

static NTSTATUS NTAPI table_GetUserAuthData(PVOID UserHandle, PUCHAR *UserAuthData, PULONG UserAuthDataSize)
{ CLEAR(UserAuthData); CLEAR(UserAuthDataSize); return NI; }

static NTSTATUS NTAPI table_CloseSamUser(PVOID UserHandle) { return NI; }

static NTSTATUS NTAPI table_ConvertAuthDataToToken(PVOID UserAuthData, ULONG UserAuthDataSize,
                                                   SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                                   PTOKEN_SOURCE TokenSource, SECURITY_LOGON_TYPE LogonType,
                                                   PUNICODE_STRING AuthorityName, PHANDLE Token, PLUID LogonId,
                                                   PUNICODE_STRING AccountName, PNTSTATUS SubStatus)
{
        CLEAR(Token);
        CLEAR(LogonId);
        CLEAR(AccountName);
        CLEAR(SubStatus);
        return NI;
}

static NTSTATUS NTAPI table_ClientCallback(PCHAR Callback, ULONG_PTR Argument1, ULONG_PTR Argument2,
                                           PSecBuffer Input, PSecBuffer Output)
{ CLEAR(Output); return NI; }

static NTSTATUS NTAPI table_UpdateCredentials(PSECPKG_PRIMARY_CRED PrimaryCredentials,
                                              PSECPKG_SUPPLEMENTAL_CRED_ARRAY Credentials)
{ return NI; }

static NTSTATUS NTAPI table_GetAuthDataForUser(PSECURITY_STRING Name, SECPKG_NAME_TYPE NameType,
                                               PSECURITY_STRING Prefix, PUCHAR *UserAuthData,
                                               PULONG UserAuthDataSize, PUNICODE_STRING UserFlatName)
{ CLEAR(UserAuthData); CLEAR(UserAuthDataSize); CLEAR(UserFlatName); return NI; }

static NTSTATUS NTAPI table_CrackSingleName(ULONG FormatOffered, BOOLEAN PerformAtGC, PUNICODE_STRING NameInput,
                                            PUNICODE_STRING Prefix, ULONG RequestedFormat,
                                            PUNICODE_STRING CrackedName, PUNICODE_STRING DnsDomainName,
                                            PULONG SubStatus)
{ CLEAR(CrackedName); CLEAR(DnsDomainName); CLEAR(SubStatus); return NI; }

static NTSTATUS NTAPI table_AuditAccountLogon(ULONG AuditId, BOOLEAN Success, PUNICODE_STRING Source,
                                              PUNICODE_STRING ClientName, PUNICODE_STRING MappedName,
                                              NTSTATUS Status)
{ return NI; }

/* DummyFunction1-7: the credential-manager slots (CrediRead...) that a
 * package sees only when it includes wincred.h. */
static VOID NTAPI table_DummyFunction(PVOID Buffer, ULONG BufferSize) { }

static NTSTATUS NTAPI table_OpenTokenByLogonId(PLUID LogonId, HANDLE *RetTokenHandle)
{ CLEAR(RetTokenHandle); return NI; }

static NTSTATUS NTAPI table_ExpandAuthDataForDomain(PUCHAR UserAuthData, ULONG UserAuthDataSize, PVOID Reserved,
                                                    PUCHAR *ExpandedAuthData, PULONG ExpandedAuthDataSize)
{ CLEAR(ExpandedAuthData); CLEAR(ExpandedAuthDataSize); return NI; }

static NTSTATUS NTAPI table_CreateTokenEx(PLUID LogonId, PTOKEN_SOURCE TokenSource, SECURITY_LOGON_TYPE LogonType,
                                          SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                          LSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID TokenInformation,
                                          PTOKEN_GROUPS TokenGroups, PUNICODE_STRING Workstation,
                                          PUNICODE_STRING ProfilePath, PVOID SessionInformation,
                                          SECPKG_SESSIONINFO_TYPE SessionInformationType, PHANDLE Token,
                                          PNTSTATUS SubStatus)
{ CLEAR(Token); CLEAR(SubStatus); return NI; }

static NTSTATUS NTAPI table_GetServiceAccountPassword(PUNICODE_STRING AccountName, PUNICODE_STRING DomainName,
                                                      CRED_FETCH CredFetch, FILETIME *FileTimeExpiry,
                                                      PUNICODE_STRING CurrentPassword,
                                                      PUNICODE_STRING PreviousPassword,
                                                      FILETIME *FileTimeCurrPwdValidForOutbound)
{
        CLEAR(FileTimeExpiry);
        CLEAR(CurrentPassword);
        CLEAR(PreviousPassword);
        CLEAR(FileTimeCurrPwdValidForOutbound);
        return NI;
}

static VOID NTAPI table_AuditLogonEx(NTSTATUS Status, NTSTATUS SubStatus, PUNICODE_STRING AccountName,
                                     PUNICODE_STRING AuthenticatingAuthority, PUNICODE_STRING WorkstationName,
                                     PSID UserSid, SECURITY_LOGON_TYPE LogonType,
                                     SECURITY_IMPERSONATION_LEVEL ImpersonationLevel, PTOKEN_SOURCE TokenSource,
                                     PLUID LogonId)
{ }

static NTSTATUS NTAPI table_CheckProtectedUserByToken(HANDLE UserToken, PBOOLEAN ProtectedUser)
{ CLEAR(ProtectedUser); return NI; }

static NTSTATUS NTAPI table_QueryClientRequest(PLSA_CLIENT_REQUEST ClientRequest, ULONG QueryType,
                                               PVOID *ReplyBuffer)
{ CLEAR(ReplyBuffer); return NI; }

static NTSTATUS NTAPI table_GetAppModeInfo(PULONG UserFunction, PULONG_PTR Argument1, PULONG_PTR Argument2,
                                           PSecBuffer UserData, PBOOLEAN ReturnToLsa)
{
        CLEAR(UserFunction);
        CLEAR(Argument1);
        CLEAR(Argument2);
        CLEAR(UserData);
        CLEAR(ReturnToLsa);
        return NI;
}

static NTSTATUS NTAPI table_SetAppModeInfo(ULONG UserFunction, ULONG_PTR Argument1, ULONG_PTR Argument2,
                                           PSecBuffer UserData, BOOLEAN ReturnToLsa)
{ return NI; }

#undef CLEAR
#undef NI
#pragma GCC diagnostic pop

/* ---- the table ---- */

void host_table_fill(LSA_SECPKG_FUNCTION_TABLE *t)
{
        /* A compound literal: a member added to the struct but forgotten
         * here would be NULL, which the test catches. */
        *t = (LSA_SECPKG_FUNCTION_TABLE){
                .CreateLogonSession = table_CreateLogonSession,
                .DeleteLogonSession = table_DeleteLogonSession,
                .AddCredential = table_AddCredential,
                .GetCredentials = table_GetCredentials,
                .DeleteCredential = table_DeleteCredential,
                .AllocateLsaHeap = table_AllocateLsaHeap,
                .FreeLsaHeap = table_FreeLsaHeap,
                .AllocateClientBuffer = host_AllocateClientBuffer,
                .FreeClientBuffer = host_FreeClientBuffer,
                .CopyToClientBuffer = host_CopyToClientBuffer,
                .CopyFromClientBuffer = host_CopyFromClientBuffer,
                .ImpersonateClient = table_ImpersonateClient,
                .UnloadPackage = table_UnloadPackage,
                .DuplicateHandle = table_DuplicateHandle,
                .SaveSupplementalCredentials = table_SaveSupplementalCredentials,
                .CreateThread = table_CreateThread,
                .GetClientInfo = host_GetClientInfo,
                .RegisterNotification = table_RegisterNotification,
                .CancelNotification = table_CancelNotification,
                .MapBuffer = table_MapBuffer,
                .CreateToken = table_CreateToken,
                .AuditLogon = table_AuditLogon,
                .CallPackage = host_CallPackage,
                .FreeReturnBuffer = host_FreeReturnBuffer,
                .GetCallInfo = host_GetCallInfo,
                .CallPackageEx = host_CallPackageEx,
                .CreateSharedMemory = host_CreateSharedMemory,
                .AllocateSharedMemory = host_AllocateSharedMemory,
                .FreeSharedMemory = host_FreeSharedMemory,
                .DeleteSharedMemory = host_DeleteSharedMemory,
                .OpenSamUser = table_OpenSamUser,
                .GetUserCredentials = table_GetUserCredentials,
                .GetUserAuthData = table_GetUserAuthData,
                .CloseSamUser = table_CloseSamUser,
                .ConvertAuthDataToToken = table_ConvertAuthDataToToken,
                .ClientCallback = table_ClientCallback,
                .UpdateCredentials = table_UpdateCredentials,
                .GetAuthDataForUser = table_GetAuthDataForUser,
                .CrackSingleName = table_CrackSingleName,
                .AuditAccountLogon = table_AuditAccountLogon,
                .CallPackagePassthrough = host_CallPackagePassthrough,
                .DummyFunction1 = table_DummyFunction,
                .DummyFunction2 = table_DummyFunction,
                .DummyFunction3 = table_DummyFunction,
                .LsaProtectMemory = table_LsaProtectMemory,
                .LsaUnprotectMemory = table_LsaUnprotectMemory,
                .OpenTokenByLogonId = table_OpenTokenByLogonId,
                .ExpandAuthDataForDomain = table_ExpandAuthDataForDomain,
                .AllocatePrivateHeap = table_AllocatePrivateHeap,
                .FreePrivateHeap = table_FreePrivateHeap,
                .CreateTokenEx = table_CreateTokenEx,
                .DummyFunction4 = table_DummyFunction,
                .DummyFunction5 = table_DummyFunction,
                .DummyFunction6 = table_DummyFunction,
                .GetExtendedCallFlags = host_GetExtendedCallFlags,
                .DuplicateTokenHandle = table_DuplicateHandle,
                .GetServiceAccountPassword = table_GetServiceAccountPassword,
                .DummyFunction7 = table_DummyFunction,
                .AuditLogonEx = table_AuditLogonEx,
                .CheckProtectedUserByToken = table_CheckProtectedUserByToken,
                .QueryClientRequest = table_QueryClientRequest,
                .GetAppModeInfo = table_GetAppModeInfo,
                .SetAppModeInfo = table_SetAppModeInfo,
                .GetClientInfoEx = table_GetClientInfoEx,
                .GetSecpkgFailureReason = table_GetSecpkgFailureReason,
                .SetSecpkgFailureReason = table_SetSecpkgFailureReason,
        };
}
