/* SPDX-License-Identifier: MIT */
/*
 * The package bench-host's slow-package figure calls: "BenchSlow". Its
 * CallPackage and CallPackageUntrusted take a ULONG: 0 answers at once with
 * a 16-byte client buffer; any other value sleeps that many milliseconds
 * first, as a package waiting on a directory or an OTP server would. Its
 * LogonUser takes a ULONG as authentication information, sleeps that many
 * milliseconds the same way, creates a logon session and returns Null token
 * information: the slow-LogonUser figure.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <lsashm/ntsecpkg.h>

static PLSA_SECPKG_FUNCTION_TABLE lsa;
static WCHAR package_name[] = u"BenchSlow";

static void sleep_ms(ULONG ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0)
                ;
}

static NTSTATUS NTAPI slow_initialize(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                      PLSA_SECPKG_FUNCTION_TABLE FunctionTable)
{
        (void)PackageId;
        (void)Parameters;
        lsa = FunctionTable;
        return FunctionTable ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

static NTSTATUS NTAPI slow_call(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                PVOID ClientBufferBase, ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        (void)ClientBufferBase;
        *ProtocolReturnBuffer = NULL;
        *ReturnBufferLength = 0;
        *ProtocolStatus = STATUS_SUCCESS;
        ULONG ms = 0;
        if (SubmitBufferLength >= sizeof(ms))
                memcpy(&ms, ProtocolSubmitBuffer, sizeof(ms));
        if (ms)
                sleep_ms(ms);
        UCHAR reply[16] = { 0 };
        memcpy(reply, &ms, sizeof(ms));
        PVOID cb = NULL;
        NTSTATUS st = lsa->AllocateClientBuffer(ClientRequest, sizeof(reply), &cb);
        if (NT_SUCCESS(st))
                st = lsa->CopyToClientBuffer(ClientRequest, sizeof(reply), cb, reply);
        if (!NT_SUCCESS(st))
                return st;
        *ProtocolReturnBuffer = cb;
        *ReturnBufferLength = sizeof(reply);
        return STATUS_SUCCESS;
}

static _Atomic ULONG next_logon = 1;

static NTSTATUS NTAPI slow_logon(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType,
                                 PVOID AuthenticationInformation, PVOID ClientAuthenticationBase,
                                 ULONG AuthenticationInformationLength, PVOID *ProfileBuffer,
                                 PULONG ProfileBufferLength, PLUID LogonId, PNTSTATUS SubStatus,
                                 PLSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID *TokenInformation,
                                 PLSA_UNICODE_STRING *AccountName, PLSA_UNICODE_STRING *AuthenticatingAuthority)
{
        (void)ClientRequest;
        (void)LogonType;
        (void)ClientAuthenticationBase;
        *ProfileBuffer = NULL;
        *ProfileBufferLength = 0;
        *SubStatus = STATUS_SUCCESS;
        *AccountName = NULL;
        *AuthenticatingAuthority = NULL;
        ULONG ms = 0;
        if (AuthenticationInformationLength >= sizeof(ms))
                memcpy(&ms, AuthenticationInformation, sizeof(ms));
        if (ms)
                sleep_ms(ms);
        LUID id = { .LowPart = atomic_fetch_add(&next_logon, 1), .HighPart = 0x5105 };
        NTSTATUS st = lsa->CreateLogonSession(&id);
        if (!NT_SUCCESS(st))
                return st;
        LSA_TOKEN_INFORMATION_NULL *t = lsa->AllocateLsaHeap(sizeof(*t));
        if (!t) {
                lsa->DeleteLogonSession(&id);
                return STATUS_NO_MEMORY;
        }
        memset(t, 0, sizeof(*t));
        t->ExpirationTime.QuadPart = INT64_MAX;
        *LogonId = id;
        *TokenInformationType = LsaTokenInformationNull;
        *TokenInformation = t;
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI slow_shutdown(VOID) { return STATUS_SUCCESS; }

static NTSTATUS NTAPI slow_get_info(PSecPkgInfo PackageInfo)
{
        if (!PackageInfo)
                return STATUS_INVALID_PARAMETER;
        memset(PackageInfo, 0, sizeof(*PackageInfo));
        PackageInfo->wVersion = 1;
        PackageInfo->Name = package_name;
        return STATUS_SUCCESS;
}

static SECPKG_FUNCTION_TABLE slow_table = {
        .CallPackage = slow_call,
        .CallPackageUntrusted = slow_call,
        .LogonUser = slow_logon,
        .Initialize = slow_initialize,
        .Shutdown = slow_shutdown,
        .GetInfo = slow_get_info,
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
        *ppTables = &slow_table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}
