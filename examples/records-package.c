/* SPDX-License-Identifier: MIT */
/*
 * lsashm.records: an example security package, written only against
 * <lsashm/ntsecpkg.h> and libc, as a Windows package would be against the
 * SDK's ntsecpkg.h. Clients find it as "LsashmRecords" (records-protocol.h
 * has the messages).
 *
 * It keeps an append-only table of key/value records and publishes it in one
 * section made with CreateSharedMemory and shared read-only with every
 * client (LsashmShareSection), so readers can list the table without a call
 * per record. Trusted callers (LsaRegisterLogonProcess) may add records;
 * anyone may look one up or ask where the table is.
 *
 * The section is an outbox, never an inbox: whatever a client with write
 * access did to it, the package decides from its own private copy of the
 * records, the count and the offsets, and only ever writes to the section.
 */
#include <pthread.h>
#include <string.h>

#include <lsashm/ntsecpkg.h>

#include "records-protocol.h"

#define RECORDS_SECTION_MAX     (1024u * 1024u)
#define RECORDS_SECTION_INITIAL (64u * 1024u)

/* SECPKG_ID_NONE of Windows' sspi.h: no RPC id. */
#define RECORDS_RPCID_NONE 0xFFFFu

/* The table must fit the initial size, so a client that maps the section
 * right away sees all of it. */
LSASHM_STATIC_ASSERT(sizeof(RECORDS_TABLE_HEADER) + RECORDS_CAPACITY * sizeof(RECORDS_RECORD) + 64 <=
                             RECORDS_SECTION_INITIAL,
                     "the table fits the section's initial size");

static WCHAR package_name[] = u"LsashmRecords";
static WCHAR package_comment[] = u"lsashm example: a shared table of key/value records";

/* Lookups and adds may come from several LSA threads at once. */
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
        PLSA_SECPKG_FUNCTION_TABLE lsa;
        PVOID section;
        ULONGLONG section_id;
        ULONG header_offset;
        ULONG records_offset;
        /* In the section: written, never read back. */
        RECORDS_TABLE_HEADER *header;
        RECORDS_RECORD *shared;
        /* Ours: every decision is made from these. */
        ULONG count;
        RECORDS_RECORD records[RECORDS_CAPACITY];
} state;

/* One call, as the dispatcher has checked it. */
struct records_call {
        PLSA_CLIENT_REQUEST request;
        const UCHAR *submit;     /* the host's local copy of the submit buffer */
        ULONG_PTR client_base;   /* where the submit buffer is in the client */
        ULONG length;
        PVOID *return_buffer;
        PULONG return_length;
        PNTSTATUS protocol_status;
};

/* ---- Helpers ---- */

/* The bytes of a counted string in a request. Its Buffer is a client
 * address: rebased through ClientBufferBase, it must fall inside the submit
 * buffer, else the request is refused. */
static BOOLEAN request_string(const struct records_call *c, const LSA_STRING *s, ULONG max,
                              const CHAR **ret)
{
        static const CHAR empty[1];
        if (s->Length > max)
                return FALSE;
        if (s->Length == 0) {
                *ret = empty;
                return TRUE;
        }
        ULONG_PTR addr = (ULONG_PTR)s->Buffer;
        if (addr < c->client_base)
                return FALSE;
        ULONG_PTR off = addr - c->client_base;
        if (off > c->length || s->Length > c->length - off)
                return FALSE;
        *ret = (const CHAR *)(c->submit + off);
        return TRUE;
}

/* Index of key in our records, or RECORDS_CAPACITY. Caller holds the lock. */
static ULONG records_find(const CHAR *key, ULONG length)
{
        for (ULONG i = 0; i < state.count; i++)
                if (state.records[i].KeyLength == length && memcmp(state.records[i].Key, key, length) == 0)
                        return i;
        return RECORDS_CAPACITY;
}

/* Give the client `local` (built for the client address `client`) as the
 * return buffer; on failure the client buffer is freed. */
static NTSTATUS reply_send(const struct records_call *c, PVOID client, PVOID local, ULONG size)
{
        NTSTATUS st = state.lsa->CopyToClientBuffer(c->request, size, client, local);
        if (!NT_SUCCESS(st)) {
                state.lsa->FreeClientBuffer(c->request, client);
                *c->protocol_status = st;
                return st;
        }
        *c->return_buffer = client;
        *c->return_length = size;
        *c->protocol_status = STATUS_SUCCESS;
        return STATUS_SUCCESS;
}

/* ---- Messages ----
 * Each handler copies its request out of the submit buffer, checks it, then
 * acts. Its result is the call's: STATUS_SUCCESS whenever the request was
 * handled, with the outcome in *ProtocolStatus; an error only when no answer
 * could be given to the client at all (its buffer could not be made). */

static NTSTATUS records_add(const struct records_call *c)
{
        RECORDS_ADD_REQUEST req;
        const CHAR *key, *value;
        if (c->length < sizeof(req)) {
                *c->protocol_status = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
        memcpy(&req, c->submit, sizeof(req));
        if (req.Key.Length == 0 || !request_string(c, &req.Key, RECORDS_MAX_KEY, &key) ||
            !request_string(c, &req.Value, RECORDS_MAX_VALUE, &value)) {
                *c->protocol_status = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }

        pthread_mutex_lock(&records_lock);
        NTSTATUS st;
        if (records_find(key, req.Key.Length) < RECORDS_CAPACITY) {
                st = RECORDS_STATUS_KEY_EXISTS;
        } else if (state.count >= RECORDS_CAPACITY) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else {
                RECORDS_RECORD *r = &state.records[state.count];
                memset(r, 0, sizeof(*r));
                r->Flags = req.Flags;
                r->KeyLength = req.Key.Length;
                r->ValueLength = req.Value.Length;
                memcpy(r->Key, key, req.Key.Length);
                memcpy(r->Value, value, req.Value.Length);
                /* Readers trust records below Count: the record must be
                 * complete in the section before Count covers it. */
                memcpy(&state.shared[state.count], r, sizeof(*r));
                state.count++;
                __atomic_store_n(&state.header->Count, state.count, __ATOMIC_RELEASE);
                st = STATUS_SUCCESS;
        }
        pthread_mutex_unlock(&records_lock);
        *c->protocol_status = st;
        return STATUS_SUCCESS;
}

static NTSTATUS records_lookup(const struct records_call *c)
{
        RECORDS_LOOKUP_REQUEST req;
        const CHAR *key;
        if (c->length < sizeof(req)) {
                *c->protocol_status = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
        memcpy(&req, c->submit, sizeof(req));
        if (req.Reserved != 0 || req.Key.Length == 0 || !request_string(c, &req.Key, RECORDS_MAX_KEY, &key)) {
                *c->protocol_status = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }

        RECORDS_RECORD rec;
        pthread_mutex_lock(&records_lock);
        ULONG index = records_find(key, req.Key.Length);
        if (index < RECORDS_CAPACITY)
                rec = state.records[index];
        pthread_mutex_unlock(&records_lock);
        if (index >= RECORDS_CAPACITY) {
                *c->protocol_status = STATUS_NOT_FOUND;
                return STATUS_SUCCESS;
        }

        /* The response, then the key and the value, each with a NUL. */
        UCHAR local[sizeof(RECORDS_LOOKUP_RESPONSE) + RECORDS_MAX_KEY + 1 + RECORDS_MAX_VALUE + 1];
        ULONG key_off = sizeof(RECORDS_LOOKUP_RESPONSE);
        ULONG value_off = key_off + rec.KeyLength + 1;
        ULONG size = value_off + rec.ValueLength + 1;
        PVOID client = NULL;
        NTSTATUS st = state.lsa->AllocateClientBuffer(c->request, size, &client);
        if (!NT_SUCCESS(st)) {
                *c->protocol_status = st;
                return st;
        }
        /* Embedded pointers are client addresses, inside this same buffer. */
        ULONG_PTR base = (ULONG_PTR)client;
        RECORDS_LOOKUP_RESPONSE resp = {
                .MessageType = RecordsLookupMessage,
                .Flags = rec.Flags,
                .Index = index,
                .Key = { (USHORT)rec.KeyLength, (USHORT)(rec.KeyLength + 1), (PCHAR)(base + key_off) },
                .Value = { (USHORT)rec.ValueLength, (USHORT)(rec.ValueLength + 1), (PCHAR)(base + value_off) },
        };
        memset(local, 0, sizeof(local));
        memcpy(local, &resp, sizeof(resp));
        memcpy(local + key_off, rec.Key, rec.KeyLength);
        memcpy(local + value_off, rec.Value, rec.ValueLength);
        return reply_send(c, client, local, size);
}

static NTSTATUS records_get_table(const struct records_call *c)
{
        /* From our own copy: nothing here is read from the section. */
        RECORDS_GET_TABLE_RESPONSE resp = {
                .MessageType = RecordsGetTableMessage,
                .Version = RECORDS_TABLE_VERSION,
                .SectionId = state.section_id,
                .TableOffset = state.header_offset,
                .RecordsOffset = state.records_offset,
                .Capacity = RECORDS_CAPACITY,
                .RecordSize = sizeof(RECORDS_RECORD),
        };
        PVOID client = NULL;
        NTSTATUS st = state.lsa->AllocateClientBuffer(c->request, sizeof(resp), &client);
        if (!NT_SUCCESS(st)) {
                *c->protocol_status = st;
                return st;
        }
        return reply_send(c, client, &resp, sizeof(resp));
}

/* Which messages exist, and which an untrusted (LsaConnectUntrusted)
 * client may send. */
static const struct {
        ULONG type;
        BOOLEAN trusted_only;
        NTSTATUS (*handler)(const struct records_call *c);
} records_messages[] = {
        { RecordsAddMessage, TRUE, records_add },
        { RecordsLookupMessage, FALSE, records_lookup },
        { RecordsGetTableMessage, FALSE, records_get_table },
};

static NTSTATUS records_dispatch(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                 PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                 PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                 PNTSTATUS ProtocolStatus, BOOLEAN trusted)
{
        if (!ProtocolReturnBuffer || !ReturnBufferLength || !ProtocolStatus)
                return STATUS_INVALID_PARAMETER;
        *ProtocolReturnBuffer = NULL;
        *ReturnBufferLength = 0;
        /* Not even a message type: nothing to answer. */
        if (!ProtocolSubmitBuffer || SubmitBufferLength < sizeof(ULONG)) {
                *ProtocolStatus = STATUS_INVALID_PARAMETER;
                return STATUS_INVALID_PARAMETER;
        }
        if (!state.section) {
                *ProtocolStatus = STATUS_INTERNAL_ERROR;
                return STATUS_SUCCESS;
        }
        ULONG type;
        memcpy(&type, ProtocolSubmitBuffer, sizeof(type));
        const struct records_call c = {
                .request = ClientRequest,
                .submit = ProtocolSubmitBuffer,
                .client_base = (ULONG_PTR)ClientBufferBase,
                .length = SubmitBufferLength,
                .return_buffer = ProtocolReturnBuffer,
                .return_length = ReturnBufferLength,
                .protocol_status = ProtocolStatus,
        };
        for (size_t i = 0; i < sizeof(records_messages) / sizeof(records_messages[0]); i++) {
                if (records_messages[i].type != type)
                        continue;
                /* As Wine's Kerberos answers untrusted callers: the call
                 * went through, the package refused. */
                if (records_messages[i].trusted_only && !trusted) {
                        *ProtocolStatus = STATUS_ACCESS_DENIED;
                        return STATUS_SUCCESS;
                }
                return records_messages[i].handler(&c);
        }
        /* STATUS_NOT_SUPPORTED rather than STATUS_INVALID_PARAMETER: a
         * client built against a newer records-protocol.h can tell "this
         * package predates that message" from "my request is malformed".
         * The SECPKG_CALL_PACKAGE_MESSAGE_TYPE messages (1024 and up) that
         * any package may receive land here too. */
        *ProtocolStatus = STATUS_NOT_SUPPORTED;
        return STATUS_SUCCESS;
}

/* ---- Entry points ---- */

static NTSTATUS NTAPI records_call_package(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                           PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                           PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                           PNTSTATUS ProtocolStatus)
{
        return records_dispatch(ClientRequest, ProtocolSubmitBuffer, ClientBufferBase, SubmitBufferLength,
                                ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus, TRUE);
}

static NTSTATUS NTAPI records_call_package_untrusted(PLSA_CLIENT_REQUEST ClientRequest,
                                                     PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase,
                                                     ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                                     PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        return records_dispatch(ClientRequest, ProtocolSubmitBuffer, ClientBufferBase, SubmitBufferLength,
                                ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus, FALSE);
}

/* Offset of p from the section base, if it fits a ULONG. */
static BOOLEAN section_offset(PVOID section, PVOID p, ULONG *ret)
{
        ULONG_PTR base = (ULONG_PTR)section, addr = (ULONG_PTR)p;
        if (addr < base || addr - base > RECORDS_SECTION_MAX)
                return FALSE;
        *ret = (ULONG)(addr - base);
        return TRUE;
}

static NTSTATUS NTAPI records_initialize(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                         PLSA_SECPKG_FUNCTION_TABLE FunctionTable)
{
        (void)PackageId;
        (void)Parameters;
        if (!FunctionTable)
                return STATUS_INVALID_PARAMETER;
        /* The LSA calls SpInitialize once per process. */
        if (state.section)
                return STATUS_INTERNAL_ERROR;

        PVOID section = FunctionTable->CreateSharedMemory(RECORDS_SECTION_MAX, RECORDS_SECTION_INITIAL);
        if (!section)
                return STATUS_INSUFFICIENT_RESOURCES;
        NTSTATUS st = STATUS_INSUFFICIENT_RESOURCES;
        RECORDS_TABLE_HEADER *header = FunctionTable->AllocateSharedMemory(section, sizeof(*header));
        RECORDS_RECORD *shared =
                FunctionTable->AllocateSharedMemory(section, RECORDS_CAPACITY * sizeof(RECORDS_RECORD));
        ULONG header_offset, records_offset;
        if (!header || !shared)
                goto fail;
        st = STATUS_INTERNAL_ERROR;
        if (!section_offset(section, header, &header_offset) || !section_offset(section, shared, &records_offset))
                goto fail;
        ULONGLONG id = LsashmSectionId(section);
        if (id == 0)
                goto fail;

        /* Blocks come zero-filled: Count is 0 and every record empty. */
        header->Magic = RECORDS_TABLE_MAGIC;
        header->Version = RECORDS_TABLE_VERSION;
        header->Capacity = RECORDS_CAPACITY;
        header->RecordSize = sizeof(RECORDS_RECORD);
        header->RecordsOffset = records_offset;
        __atomic_store_n(&header->Count, 0, __ATOMIC_RELEASE);

        /* Only once the header is complete may anyone map it. */
        st = LsashmShareSection(section, LSASHM_SHARE_READ);
        if (!NT_SUCCESS(st))
                goto fail;

        pthread_mutex_lock(&records_lock);
        state.lsa = FunctionTable;
        state.section = section;
        state.section_id = id;
        state.header_offset = header_offset;
        state.records_offset = records_offset;
        state.header = header;
        state.shared = shared;
        state.count = 0;
        pthread_mutex_unlock(&records_lock);
        return STATUS_SUCCESS;

fail:
        FunctionTable->DeleteSharedMemory(section);
        return st;
}

static NTSTATUS NTAPI records_shutdown(VOID)
{
        pthread_mutex_lock(&records_lock);
        /* Clients' views outlive this: they read zeros from now on. */
        if (state.section)
                state.lsa->DeleteSharedMemory(state.section);
        memset(&state, 0, sizeof(state));
        pthread_mutex_unlock(&records_lock);
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI records_get_info(PSecPkgInfo PackageInfo)
{
        if (!PackageInfo)
                return STATUS_INVALID_PARAMETER;
        memset(PackageInfo, 0, sizeof(*PackageInfo));
        PackageInfo->fCapabilities = 0; /* no SSPI contexts: messages only */
        PackageInfo->wVersion = 1;
        PackageInfo->wRPCID = RECORDS_RPCID_NONE;
        PackageInfo->cbMaxToken = 0;
        PackageInfo->Name = package_name;
        PackageInfo->Comment = package_comment;
        return STATUS_SUCCESS;
}

static SECPKG_FUNCTION_TABLE records_table = {
        .CallPackage = records_call_package,
        .CallPackageUntrusted = records_call_package_untrusted,
        .Initialize = records_initialize,
        .Shutdown = records_shutdown,
        .GetInfo = records_get_info,
};

LSASHM_WINAPI_EXPORT NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                            PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables);

/* Any LsaVersion is accepted, as Windows' own packages do: the table we
 * return is SECPKG_INTERFACE_VERSION's, which every LSA understands. */
LSASHM_WINAPI_EXPORT NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                            PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables)
{
        (void)LsaVersion;
        if (!PackageVersion || !ppTables || !pcTables)
                return STATUS_INVALID_PARAMETER;
        *PackageVersion = SECPKG_INTERFACE_VERSION;
        *ppTables = &records_table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}
