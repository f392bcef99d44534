/* SPDX-License-Identifier: MIT */
/*
 * lsashm-nsscache.so: the user and group cache, a security package for
 * lsashmd written against <lsashm/ntsecpkg.h> and its extensions only.
 * Clients find it as NSSCACHE_PACKAGE_NAME; its messages and the epoch
 * section are in <lsashm/nsscache.h>, the tables in docs/nsscache-format.md.
 *
 * It never resolves a name through NSS (no getpwnam and the like): it
 * serves NSS, and lsashmd must not wait on itself. It never publishes a
 * password field: every table says "x".
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"

/* SECPKG_ID_NONE of Windows' sspi.h: no RPC id. */
#define NSSCACHE_RPCID_NONE 0xFFFFu
#define EPOCH_SECTION_SIZE  4096u

static WCHAR package_name[] = u"LsashmNssCache";
static WCHAR package_comment[] = u"lsashm: the user and group cache (passwd, group) for libnss_lsashm";

struct nsscache nsscache = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake_fd = -1 };

LSASHM_STATIC_ASSERT(sizeof(NSSCACHE_EPOCH) <= EPOCH_SECTION_SIZE, "the epoch fits its section");

/* ---- messages ---- */

struct call {
        PLSA_CLIENT_REQUEST request;
        PVOID *return_buffer;
        PULONG return_length;
        PNTSTATUS protocol_status;
};

static NTSTATUS reply(const struct call *c, void *data, ULONG size)
{
        PVOID client = NULL;
        NTSTATUS st = nsscache.lsa->AllocateClientBuffer(c->request, size, &client);
        if (NT_SUCCESS(st)) {
                st = nsscache.lsa->CopyToClientBuffer(c->request, size, client, data);
                if (!NT_SUCCESS(st))
                        nsscache.lsa->FreeClientBuffer(c->request, client);
        }
        if (!NT_SUCCESS(st)) {
                *c->protocol_status = st;
                return st;
        }
        *c->return_buffer = client;
        *c->return_length = size;
        *c->protocol_status = STATUS_SUCCESS;
        return STATUS_SUCCESS;
}

/* Under the lock: where the epoch and the current table are. */
static NTSTATUS reply_query_locked(const struct call *c, ULONG type)
{
        if (nsscache.ntables == 0) {
                *c->protocol_status = STATUS_DEVICE_NOT_READY;
                return STATUS_SUCCESS;
        }
        const struct nsscache_table *t = &nsscache.tables[nsscache.ntables - 1];
        NSSCACHE_QUERY_RESPONSE resp = {
                .MessageType = type,
                .EpochOffset = nsscache.epoch_offset,
                .EpochSectionId = nsscache.epoch_id,
                .TableSectionId = t->id,
                .Generation = t->generation,
        };
        return reply(c, &resp, sizeof(resp));
}

static NTSTATUS message_query(const struct call *c)
{
        pthread_mutex_lock(&nsscache.lock);
        NTSTATUS st = reply_query_locked(c, NssCacheQueryMessage);
        pthread_mutex_unlock(&nsscache.lock);
        return st;
}

static NTSTATUS message_reload(const struct call *c)
{
        pthread_mutex_lock(&nsscache.lock);
        int r = nsscache_publish_locked(&nsscache);
        NTSTATUS st;
        if (r < 0) {
                *c->protocol_status = r == -ENOMEM ? STATUS_NO_MEMORY
                        : r == -ENOENT             ? STATUS_OBJECT_NAME_NOT_FOUND
                        : r == -EACCES             ? STATUS_ACCESS_DENIED
                                                   : STATUS_UNSUCCESSFUL;
                st = STATUS_SUCCESS;
        } else {
                st = reply_query_locked(c, NssCacheReloadMessage);
        }
        pthread_mutex_unlock(&nsscache.lock);
        return st;
}

static NTSTATUS message_stats(const struct call *c)
{
        pthread_mutex_lock(&nsscache.lock);
        NSSCACHE_STATS_RESPONSE resp = nsscache.stats;
        pthread_mutex_unlock(&nsscache.lock);
        resp.MessageType = NssCacheStatsMessage;
        return reply(c, &resp, sizeof(resp));
}

static const struct {
        ULONG type;
        BOOLEAN trusted_only;
        NTSTATUS (*handler)(const struct call *c);
} messages[] = {
        { NssCacheQueryMessage, FALSE, message_query },
        { NssCacheReloadMessage, TRUE, message_reload },
        { NssCacheStatsMessage, FALSE, message_stats },
};

static NTSTATUS dispatch(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer, ULONG SubmitBufferLength,
                         PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus,
                         BOOLEAN trusted)
{
        if (!ProtocolReturnBuffer || !ReturnBufferLength || !ProtocolStatus)
                return STATUS_INVALID_PARAMETER;
        *ProtocolReturnBuffer = NULL;
        *ReturnBufferLength = 0;
        NSSCACHE_REQUEST req;
        if (!ProtocolSubmitBuffer || SubmitBufferLength < sizeof(req)) {
                *ProtocolStatus = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
        memcpy(&req, ProtocolSubmitBuffer, sizeof(req));
        if (req.Reserved != 0) {
                *ProtocolStatus = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
        const struct call c = { ClientRequest, ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus };
        for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
                if (messages[i].type != req.MessageType)
                        continue;
                if (messages[i].trusted_only && !trusted) {
                        *ProtocolStatus = STATUS_ACCESS_DENIED;
                        return STATUS_SUCCESS;
                }
                return messages[i].handler(&c);
        }
        *ProtocolStatus = STATUS_NOT_SUPPORTED;
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI nsscache_call_package(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                            PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                            PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                            PNTSTATUS ProtocolStatus)
{
        (void)ClientBufferBase;
        return dispatch(ClientRequest, ProtocolSubmitBuffer, SubmitBufferLength, ProtocolReturnBuffer,
                        ReturnBufferLength, ProtocolStatus, TRUE);
}

static NTSTATUS NTAPI nsscache_call_package_untrusted(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                                      PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                                      PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                                      PNTSTATUS ProtocolStatus)
{
        (void)ClientBufferBase;
        return dispatch(ClientRequest, ProtocolSubmitBuffer, SubmitBufferLength, ProtocolReturnBuffer,
                        ReturnBufferLength, ProtocolStatus, FALSE);
}

/* ---- load and unload ---- */

static NTSTATUS epoch_create(PLSA_SECPKG_FUNCTION_TABLE lsa)
{
        PVOID section = lsa->CreateSharedMemory(EPOCH_SECTION_SIZE, EPOCH_SECTION_SIZE);
        if (!section)
                return STATUS_INSUFFICIENT_RESOURCES;
        NSSCACHE_EPOCH *e = lsa->AllocateSharedMemory(section, sizeof(*e));
        ULONGLONG id = LsashmSectionId(section);
        ULONG_PTR off = (ULONG_PTR)e - (ULONG_PTR)section;
        if (!e || id == 0 || off % 64 || off > EPOCH_SECTION_SIZE - sizeof(*e)) {
                lsa->DeleteSharedMemory(section);
                return STATUS_INTERNAL_ERROR;
        }
        /* Zero-filled: Generation 0, "none yet". */
        e->Magic = NSSCACHE_EPOCH_MAGIC;
        e->Version = NSSCACHE_EPOCH_VERSION;
        NTSTATUS st = LsashmShareSection(section, LSASHM_SHARE_READ);
        if (!NT_SUCCESS(st)) {
                lsa->DeleteSharedMemory(section);
                return st;
        }
        nsscache.epoch_section = section;
        nsscache.epoch = e;
        nsscache.epoch_offset = (ULONG)off;
        nsscache.epoch_id = id;
        return STATUS_SUCCESS;
}

static void unload_locked(void)
{
        nsscache_tables_clear_locked(&nsscache);
        /* Deleting the epoch wipes it: every client reads generation 0 and
         * asks again, finding nobody. */
        if (nsscache.epoch_section)
                nsscache.lsa->DeleteSharedMemory(nsscache.epoch_section);
        nsscache.epoch_section = NULL;
        nsscache.epoch = NULL;
        nss_conf_free(&nsscache.conf);
        memset(&nsscache.stats, 0, sizeof(nsscache.stats));
}

static NTSTATUS NTAPI nsscache_initialize(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                          PLSA_SECPKG_FUNCTION_TABLE FunctionTable)
{
        (void)Parameters;
        if (!FunctionTable)
                return STATUS_INVALID_PARAMETER;
        if (nsscache.lsa)
                return STATUS_INTERNAL_ERROR; /* once per process */
        char error[512];
        struct nss_conf conf;
        int r = nss_conf_load(nss_conf_path(), &conf, error, sizeof(error));
        if (r < 0) {
                nsscache_log("%s: not loaded", r == -ENOMEM ? "out of memory" : error);
                return r == -ENOMEM ? STATUS_NO_MEMORY : STATUS_INVALID_PARAMETER;
        }
        pthread_mutex_lock(&nsscache.lock);
        nsscache.lsa = FunctionTable;
        nsscache.package_id = PackageId;
        nsscache.conf = conf;
        NTSTATUS st = epoch_create(FunctionTable);
        if (NT_SUCCESS(st)) {
                /* Watching first: a change while the sources are read is
                 * then published after. */
                r = nsscache_watch_start(&nsscache);
                if (r < 0) {
                        nsscache_log("cannot start its thread: %s", strerror(-r));
                        st = STATUS_INSUFFICIENT_RESOURCES;
                }
        }
        /* A source that cannot be read yet is not fatal: the first
         * generation comes when it appears (logged). */
        if (NT_SUCCESS(st))
                nsscache_publish_locked(&nsscache);
        if (!NT_SUCCESS(st)) {
                unload_locked();
                nsscache.lsa = NULL;
        }
        pthread_mutex_unlock(&nsscache.lock);
        return st;
}

static NTSTATUS NTAPI nsscache_shutdown(VOID)
{
        /* The thread first, without the lock: it may be waiting for it. */
        nsscache_watch_stop(&nsscache);
        pthread_mutex_lock(&nsscache.lock);
        if (nsscache.lsa) {
                LsashmSetPackageStatus(nsscache.package_id, NULL);
                unload_locked();
        }
        nsscache.lsa = NULL;
        pthread_mutex_unlock(&nsscache.lock);
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI nsscache_get_info(PSecPkgInfo PackageInfo)
{
        if (!PackageInfo)
                return STATUS_INVALID_PARAMETER;
        memset(PackageInfo, 0, sizeof(*PackageInfo));
        PackageInfo->wVersion = 1;
        PackageInfo->wRPCID = NSSCACHE_RPCID_NONE;
        PackageInfo->Name = package_name;
        PackageInfo->Comment = package_comment;
        return STATUS_SUCCESS;
}

static SECPKG_FUNCTION_TABLE nsscache_table = {
        .CallPackage = nsscache_call_package,
        .CallPackageUntrusted = nsscache_call_package_untrusted,
        .Initialize = nsscache_initialize,
        .Shutdown = nsscache_shutdown,
        .GetInfo = nsscache_get_info,
};

LSASHM_WINAPI_EXPORT NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                            PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables);

LSASHM_WINAPI_EXPORT NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                            PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables)
{
        (void)LsaVersion;
        if (!PackageVersion || !ppTables || !pcTables)
                return STATUS_INVALID_PARAMETER;
        *PackageVersion = SECPKG_INTERFACE_VERSION;
        *ppTables = &nsscache_table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}
