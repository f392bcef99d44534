/* SPDX-License-Identifier: MIT */
/*
 * TestCrash: a package with a bug on demand (test-package-crash.h). It hands
 * clients secrets, in a client buffer and in a section of its own shared
 * read-only, and then crashes lsashmd when asked, from a real fault or from
 * abort(), inside CallPackageUntrusted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <lsashm/ntsecpkg.h>

#include "test-package-crash.h"

static WCHAR package_name[] = u"" TC_NAME;
static WCHAR package_comment[] = u"lsashm test package that crashes";
static PLSA_SECPKG_FUNCTION_TABLE lsa;
static PVOID section;
static ULONG secret_offset;

/* A page nobody may touch: a store to it is a real fault (SIGSEGV) in every
 * build, where a NULL store would be caught by UBSan before it faults. The
 * pointer is volatile so that the compiler keeps the store. */
static int *volatile nowhere;

static void fault(void)
{
        void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        nowhere = p == MAP_FAILED ? NULL : p;
        *nowhere = 1;
}

static NTSTATUS reply(PLSA_CLIENT_REQUEST req, const void *data, ULONG length, PVOID *ret, PULONG ret_len)
{
        PVOID cb = NULL;
        NTSTATUS st = lsa->AllocateClientBuffer(req, length, &cb);
        if (!NT_SUCCESS(st))
                return st;
        st = lsa->CopyToClientBuffer(req, length, cb, (PVOID)(uintptr_t)data);
        if (!NT_SUCCESS(st)) {
                lsa->FreeClientBuffer(req, cb);
                return st;
        }
        *ret = cb;
        *ret_len = length;
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI tc_CallPackageUntrusted(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                              PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                              PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                              PNTSTATUS ProtocolStatus)
{
        (void)ClientBufferBase;
        *ProtocolStatus = STATUS_SUCCESS;
        if (SubmitBufferLength < sizeof(TC_REQUEST))
                return STATUS_INVALID_PARAMETER;
        TC_REQUEST m;
        memcpy(&m, ProtocolSubmitBuffer, sizeof(m));
        switch (m.MessageType) {
        case TcSecret:
                return reply(ClientRequest, (PUCHAR)ProtocolSubmitBuffer + sizeof(m),
                             SubmitBufferLength - (ULONG)sizeof(m), ProtocolReturnBuffer, ReturnBufferLength);
        case TcSection: {
                TC_SECTION_REPLY r = { .MessageType = TcSection, .SecretOffset = secret_offset,
                                       .SectionId = LsashmSectionId(section) };
                return reply(ClientRequest, &r, sizeof(r), ProtocolReturnBuffer, ReturnBufferLength);
        }
        case TcCrash:
                if (m.Arg == TC_CRASH_FAULT)
                        fault();
                else if (m.Arg == TC_CRASH_ABORT)
                        abort();
                return STATUS_INVALID_PARAMETER;
        default: return STATUS_INVALID_PARAMETER;
        }
}

static NTSTATUS NTAPI tc_CallPackage(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                     PVOID ClientBufferBase, ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                     PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        return tc_CallPackageUntrusted(ClientRequest, ProtocolSubmitBuffer, ClientBufferBase, SubmitBufferLength,
                                       ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus);
}

static NTSTATUS NTAPI tc_SpInitialize(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                      PLSA_SECPKG_FUNCTION_TABLE FunctionTable)
{
        (void)PackageId;
        (void)Parameters;
        if (!FunctionTable)
                return STATUS_INVALID_PARAMETER;
        lsa = FunctionTable;
        section = lsa->CreateSharedMemory(64 * 1024, 64 * 1024);
        if (!section)
                return STATUS_NO_MEMORY;
        PUCHAR secret = lsa->AllocateSharedMemory(section, TC_SECRET_LENGTH);
        if (!secret)
                return STATUS_NO_MEMORY;
        memset(secret, TC_SECRET_BYTE, TC_SECRET_LENGTH);
        secret_offset = (ULONG)(secret - (PUCHAR)section);
        return LsashmShareSection(section, LSASHM_SHARE_READ);
}

static NTSTATUS NTAPI tc_Shutdown(VOID)
{
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI tc_GetInfo(PSecPkgInfo PackageInfo)
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
        table.CallPackage = tc_CallPackage;
        table.CallPackageUntrusted = tc_CallPackageUntrusted;
        table.Initialize = tc_SpInitialize;
        table.Shutdown = tc_Shutdown;
        table.GetInfo = tc_GetInfo;
        *PackageVersion = SECPKG_INTERFACE_VERSION_11;
        *ppTables = &table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}
