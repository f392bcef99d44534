/* SPDX-License-Identifier: MIT */
/*
 * TestSettings: reads its own settings through LsashmGetPackageSetting, in
 * SpInitialize and on each client's request (test-package-settings.h), and
 * tells the client exactly what the call returned.
 */
#include <stdint.h>
#include <string.h>

#include <lsashm/ntsecpkg.h>

#include "test-package-settings.h"

static WCHAR package_name[] = u"" TS_NAME;
static WCHAR package_comment[] = u"lsashm test package that reads its settings";
static PLSA_SECPKG_FUNCTION_TABLE lsa;
static TS_REPLY at_init;

static NTSTATUS reply(PLSA_CLIENT_REQUEST req, const TS_REPLY *r, PVOID *ret, PULONG ret_len)
{
        PVOID cb = NULL;
        NTSTATUS st = lsa->AllocateClientBuffer(req, sizeof(*r), &cb);
        if (!NT_SUCCESS(st))
                return st;
        st = lsa->CopyToClientBuffer(req, sizeof(*r), cb, (PVOID)(uintptr_t)r);
        if (!NT_SUCCESS(st)) {
                lsa->FreeClientBuffer(req, cb);
                return st;
        }
        *ret = cb;
        *ret_len = sizeof(*r);
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI ts_CallPackageUntrusted(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                              PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                              PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                              PNTSTATUS ProtocolStatus)
{
        (void)ClientBufferBase;
        *ProtocolStatus = STATUS_SUCCESS;
        TS_REQUEST m;
        if (SubmitBufferLength != sizeof(m))
                return STATUS_INVALID_PARAMETER;
        memcpy(&m, ProtocolSubmitBuffer, sizeof(m));
        m.Key[sizeof(m.Key) - 1] = '\0';
        if (m.MessageType == TsAtInit)
                return reply(ClientRequest, &at_init, ProtocolReturnBuffer, ReturnBufferLength);
        if (m.MessageType == TsLog) {
                LsashmLogMessage(m.Index, m.Key);
                TS_REPLY r;
                memset(&r, 0, sizeof(r));
                return reply(ClientRequest, &r, ProtocolReturnBuffer, ReturnBufferLength);
        }
        if (m.MessageType != TsGet || m.ValueSize > TS_MAX_VALUE)
                return STATUS_INVALID_PARAMETER;
        TS_REPLY r;
        memset(&r, 0, sizeof(r));
        r.Status = LsashmGetPackageSetting(m.Key, m.Index, m.ValueSize ? r.Value : NULL, m.ValueSize, &r.ValueLength);
        return reply(ClientRequest, &r, ProtocolReturnBuffer, ReturnBufferLength);
}

static NTSTATUS NTAPI ts_SpInitialize(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                      PLSA_SECPKG_FUNCTION_TABLE FunctionTable)
{
        (void)PackageId;
        (void)Parameters;
        if (!FunctionTable)
                return STATUS_INVALID_PARAMETER;
        lsa = FunctionTable;
        at_init.Status =
                LsashmGetPackageSetting("at-init", 0, at_init.Value, sizeof(at_init.Value), &at_init.ValueLength);
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI ts_Shutdown(VOID)
{
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI ts_GetInfo(PSecPkgInfo PackageInfo)
{
        if (!PackageInfo)
                return STATUS_INVALID_PARAMETER;
        memset(PackageInfo, 0, sizeof(*PackageInfo));
        PackageInfo->wVersion = 1;
        PackageInfo->wRPCID = 0xFFFF;
        PackageInfo->Name = package_name;
        PackageInfo->Comment = package_comment;
        return STATUS_SUCCESS;
}

LSASHM_WINAPI_EXPORT NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                            PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables);

NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion, PSECPKG_FUNCTION_TABLE *ppTables,
                                       PULONG pcTables)
{
        (void)LsaVersion;
        static SECPKG_FUNCTION_TABLE table;
        memset(&table, 0, sizeof(table));
        table.CallPackageUntrusted = ts_CallPackageUntrusted;
        table.Initialize = ts_SpInitialize;
        table.Shutdown = ts_Shutdown;
        table.GetInfo = ts_GetInfo;
        *PackageVersion = SECPKG_INTERFACE_VERSION_11;
        *ppTables = &table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}
